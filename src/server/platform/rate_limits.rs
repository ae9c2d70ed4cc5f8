//! Throttling of everything one request can make the server or someone's inbox pay for: guessing
//! passwords, sending mail, checking password strength, decoding pictures.
//!
//! Counts that strangers share with an account's owner must not become a way to lock the owner out:
//! - A browser that has signed in to the account before (`http::cookies::device`, `known_devices`) has
//!   its own allowance of sign-ins and mail, and is not held to its network's.
//! - Mail to an address is counted per (address, client network): one network using up its share stops
//!   only itself. Past a larger allowance for the address from everywhere together, requests get the
//!   usual answer and no mail is sent ("quietly"): a refusal would meet the owner too.
//! - Password guessing from browsers the account does not know is limited per account (NIST's ≤ 100 an
//!   hour), as it must be: an owner on a brand-new device can be held back by strangers' failures until
//!   the hour is up, and signs in meanwhile from a known browser or with a mailed link.
//!
//! Every count is the generic cell rate algorithm (GCRA): a key's "theoretical arrival time" moves one
//! emission interval (an hour ÷ the allowance) on per hit, and a hit is refused when that would put it
//! more than an hour ahead. With PostgreSQL the counts live in the database every app server shares, so
//! a fleet of any size enforces each limit exactly; with the embedded SQLite default (one server) they
//! live in this process's memory, in a bounded cache. Both read the app's clock, so tests move time
//! instead of sleeping.

use super::clock::{Clock, UnixTime};
use super::db::Db;
use super::settings::LimitSettings;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// What a limited request may do.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Answer as if it were done, and do nothing: the address's allowance from everywhere is used up.
    Quietly,
    /// Refused: 429, one more is allowed after this long.
    Wait(Duration),
    /// The counts could not be read (the database is away): refused as the rest of the request would be.
    Unavailable,
}

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Wait(Duration),
    Unavailable,
}

impl Refused {
    /// What a code typed past its limit gets: the answer a wrong code gets, so a guesser learns nothing.
    pub fn as_wrong_code(self) -> crate::error::AppError {
        match self {
            Refused::Wait(_) => crate::error::AppError::InvalidCode,
            Refused::Unavailable => crate::error::AppError::Unavailable,
        }
    }
}

/// Passkey ceremonies a client network may start, per password sign-in it is allowed.
const PASSKEY_CEREMONIES_PER_SIGN_IN: u32 = 10;

/// Downloads of an account's data an hour: more than anyone needs, few enough that a script with a
/// session cannot keep the server reading a long history.
const EXPORTS_PER_HOUR: u32 = 10;

/// Mail to one address from everywhere together may reach this many times the allowance of one network.
const ADDRESS_ALLOWANCE_FROM_EVERYWHERE: u32 = 10;

/// One count and its allowance per hour. Each is kept per key (an address, a client network, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bucket {
    /// Password sign-ins from one client network, from browsers the account does not know.
    SignInPerNetwork,
    /// Password sign-ins for an address, from browsers the account does not know.
    SignInPerAccount,
    /// Password sign-ins from one of the account's own browsers, per browser.
    SignInPerDevice,
    /// Checks of the current password by a signed-in session (changing the password or address).
    ReauthPerSession,
    SignUpPerNetwork,
    /// Requests for mail from one client network, whatever the address.
    MailPerNetwork,
    /// Mail to one address asked for from one client network, or by one account (an address change).
    MailPerAddressAndAsker,
    /// Mail to one address from everywhere together.
    MailPerAddress,
    /// Mail to an account's address asked for from one of its own browsers, per browser.
    MailPerDevice,
    PasswordChecksPerNetwork,
    AvatarUploadsPerAccount,
    /// One-time codes typed for one account, right or wrong.
    CodeAttemptsPerAccount,
    /// Passkey ceremonies started from one client network: each makes a challenge and seals it.
    PasskeyCeremoniesPerNetwork,
    /// "New sign-in to your account" mails to one account.
    NewDeviceAlertsPerAccount,
    /// Downloads of one account's data: each reads all of it.
    ExportsPerAccount,
    /// "Cancel deletion" links mailed again to an account being deleted (`deletion::mail_cancel_link_again`).
    CancelLinksPerAccount,
}

impl Bucket {
    fn per_hour(self, limits: &LimitSettings) -> u32 {
        match self {
            Bucket::SignInPerNetwork => limits.sign_in_per_ip.get(),
            Bucket::SignInPerAccount | Bucket::SignInPerDevice | Bucket::ReauthPerSession => {
                limits.sign_in_per_account.get()
            }
            Bucket::SignUpPerNetwork => limits.sign_up_per_ip.get(),
            Bucket::MailPerNetwork => limits.mail_per_ip.get(),
            Bucket::MailPerAddressAndAsker
            | Bucket::MailPerDevice
            | Bucket::NewDeviceAlertsPerAccount
            | Bucket::CancelLinksPerAccount => limits.mail_per_account.get(),
            Bucket::MailPerAddress => limits.mail_per_account.get().saturating_mul(ADDRESS_ALLOWANCE_FROM_EVERYWHERE),
            Bucket::PasswordChecksPerNetwork => limits.password_checks_per_ip.get(),
            Bucket::AvatarUploadsPerAccount => limits.avatar_uploads_per_account.get(),
            Bucket::CodeAttemptsPerAccount => limits.code_attempts_per_account.get(),
            Bucket::ExportsPerAccount => EXPORTS_PER_HOUR,
            // Every view of the login page in a browser starts one (for the autofill): many more than
            // sign-ins, still bounded.
            Bucket::PasskeyCeremoniesPerNetwork => {
                limits.sign_in_per_ip.get().saturating_mul(PASSKEY_CEREMONIES_PER_SIGN_IN)
            }
        }
    }

    /// A fixed-size key for this bucket and `parts`, whatever their length: a client cannot grow the
    /// counts' memory by sending long values (a 64 KB "email").
    fn key(self, parts: &[&[u8]]) -> [u8; 16] {
        let mut hash = Sha256::new();
        hash.update([self as u8]);
        for part in parts {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        let digest = hash.finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        key
    }
}

/// The part of a client's address that identifies it: the whole IPv4 address, or an IPv6 address's /64
/// network, which one subscriber usually holds whole (keying by the full address would let them use 2^64
/// addresses to get 2^64 allowances).
fn client_key(ip: IpAddr) -> Vec<u8> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets()[..8].to_vec(),
    }
}

/// The window every allowance is counted over.
const HOUR_MS: i64 = 3_600_000;

/// The time one hit adds to a key, in ms: at least 1, so even an allowance beyond one per millisecond
/// (3.6 million an hour) still counts.
fn emission_interval(per_hour: u32) -> i64 {
    (HOUR_MS / i64::from(per_hour.max(1))).max(1)
}

/// One hit by GCRA: the key's new theoretical arrival time, or how long until a hit is allowed.
/// `tat` is the key's (none for a new key); all times in ms.
fn gcra(tat: Option<i64>, now_ms: i64, per_hour: u32) -> Result<i64, Duration> {
    let interval = emission_interval(per_hour);
    let next = tat.unwrap_or(now_ms).max(now_ms) + interval;
    if next - now_ms <= HOUR_MS {
        Ok(next)
    } else {
        Err(Duration::from_millis(u64::try_from(next - now_ms - HOUR_MS).unwrap_or(0).max(1000)))
    }
}

pub struct RateLimits {
    limits: LimitSettings,
    clock: Arc<dyn Clock>,
    store: Store,
}

enum Store {
    /// Keys and their theoretical arrival times. Bounded: past `MEMORY_KEYS`, the least used are
    /// forgotten first (a key being hammered stays), and a key unused for an hour has fully recovered.
    Memory(moka::sync::Cache<[u8; 16], i64>),
    Database(Db),
}

/// Keys the in-memory counts hold at most (about 100 bytes each).
const MEMORY_KEYS: u64 = 500_000;

impl RateLimits {
    /// Counts in the database when it is shared by app servers (PostgreSQL), in memory otherwise.
    pub fn new(limits: &LimitSettings, clock: Arc<dyn Clock>, db: &Db, shared_database: bool) -> Self {
        let store = if shared_database {
            Store::Database(db.clone())
        } else {
            Store::Memory(
                moka::sync::Cache::builder()
                    .max_capacity(MEMORY_KEYS)
                    .time_to_idle(Duration::from_millis(HOUR_MS as u64))
                    .build(),
            )
        };
        Self { limits: limits.clone(), clock, store }
    }

    /// A password sign-in for `address` (as typed, if it parses as an address). `known_device`: the hash
    /// that the account of `address` keeps of this browser's device token, if it knows the browser.
    pub async fn sign_in(
        &self,
        ip: Option<IpAddr>,
        address: Option<&str>,
        known_device: Option<&str>,
    ) -> Result<(), Refused> {
        if let (Some(address), Some(device)) = (address, known_device) {
            return self.hit(Bucket::SignInPerDevice, &[address.as_bytes(), device.as_bytes()]).await;
        }
        self.per_network(Bucket::SignInPerNetwork, ip).await?;
        match address {
            Some(address) => self.hit(Bucket::SignInPerAccount, &[address.as_bytes()]).await,
            None => Ok(()),
        }
    }

    /// A signed-in session checking its account's current password (to change the password or address):
    /// counted per session, so a stranger's failed sign-ins never stop the owner doing this.
    pub async fn reauthenticate(&self, session_id: &str) -> Result<(), Refused> {
        self.hit(Bucket::ReauthPerSession, &[session_id.as_bytes()]).await
    }

    /// A sign-up: it mails the address, so the address's mail allowances count it too.
    pub async fn sign_up(&self, ip: Option<IpAddr>, address: &str) -> Verdict {
        match self.per_network(Bucket::SignUpPerNetwork, ip).await {
            Ok(()) => self.mail_to_address(ip, address, None).await,
            Err(refused) => refused.into(),
        }
    }

    /// A request that mails a link to `address` (magic link, reset, resend). `known_device` as for
    /// `sign_in`.
    pub async fn mail(&self, ip: Option<IpAddr>, address: &str, known_device: Option<&str>) -> Verdict {
        if known_device.is_none() {
            if let Err(refused) = self.per_network(Bucket::MailPerNetwork, ip).await {
                return refused.into();
            }
        }
        self.mail_to_address(ip, address, known_device).await
    }

    /// A signed-in account asking to move to `address`, which then gets mail: counted per (address,
    /// account) and against the address's allowance from everywhere, and refused outright (the one asking
    /// is the one sending too much).
    pub async fn mail_to_new_address(&self, account_id: &str, address: &str) -> Result<(), Refused> {
        self.hit(Bucket::MailPerAddressAndAsker, &[address.as_bytes(), account_id.as_bytes()]).await?;
        self.hit(Bucket::MailPerAddress, &[address.as_bytes()]).await
    }

    /// The live strength hint of a new-password field.
    pub async fn password_check(&self, ip: Option<IpAddr>) -> Result<(), Refused> {
        self.per_network(Bucket::PasswordChecksPerNetwork, ip).await
    }

    pub async fn export(&self, user_id: &str) -> Result<(), Refused> {
        self.hit(Bucket::ExportsPerAccount, &[user_id.as_bytes()]).await
    }

    pub async fn cancel_link_again(&self, user_id: &str) -> Result<(), Refused> {
        self.hit(Bucket::CancelLinksPerAccount, &[user_id.as_bytes()]).await
    }

    pub async fn avatar_upload(&self, user_id: &str) -> Result<(), Refused> {
        self.hit(Bucket::AvatarUploadsPerAccount, &[user_id.as_bytes()]).await
    }

    /// A one-time code typed for the account of `account` (its address, for a code from a mail, so that
    /// an address without an account is counted the same; its id otherwise). Strangers can use this up
    /// for the owner, who still has the mail's link.
    pub async fn code_attempt(&self, account: &str) -> Result<(), Refused> {
        self.hit(Bucket::CodeAttemptsPerAccount, &[account.as_bytes()]).await
    }

    /// A code typed for the second step of a sign-in, or to turn two-factor on, for the account `user_id`:
    /// only someone who had the first factor (or a session) can use this up, apart from codes from mail,
    /// so strangers cannot lock the owner out of it.
    pub async fn second_factor_attempt(&self, user_id: &str) -> Result<(), Refused> {
        self.hit(Bucket::CodeAttemptsPerAccount, &[b"second factor ", user_id.as_bytes()]).await
    }

    /// A "New sign-in to your account" mail to the account `user_id`. Past the limit the sign-in goes on
    /// without one: each alert's link secures the account from every device at once, so a mailbox is
    /// not flooded by someone who signs in again and again.
    pub async fn new_device_alert(&self, user_id: &str) -> Result<(), Refused> {
        self.hit(Bucket::NewDeviceAlertsPerAccount, &[user_id.as_bytes()]).await
    }

    /// A passkey ceremony started: it writes nothing but this count, but answering one checks a signature.
    pub async fn passkey_ceremony(&self, ip: Option<IpAddr>) -> Result<(), Refused> {
        self.per_network(Bucket::PasskeyCeremoniesPerNetwork, ip).await
    }

    async fn mail_to_address(&self, ip: Option<IpAddr>, address: &str, known_device: Option<&str>) -> Verdict {
        if let Some(device) = known_device {
            // The device's own allowance: telling its owner to wait denies nobody else anything.
            return match self.hit(Bucket::MailPerDevice, &[address.as_bytes(), device.as_bytes()]).await {
                Ok(()) => Verdict::Go,
                Err(refused) => refused.into(),
            };
        }
        let network = ip.map(client_key).unwrap_or_default();
        let counted = match self.hit(Bucket::MailPerAddressAndAsker, &[address.as_bytes(), &network]).await {
            Ok(()) => self.hit(Bucket::MailPerAddress, &[address.as_bytes()]).await,
            refused => refused,
        };
        match counted {
            Ok(()) => Verdict::Go,
            Err(Refused::Unavailable) => Verdict::Unavailable,
            Err(Refused::Wait(_)) => {
                tracing::warn!(target: "audit", event = "mail_dropped", "an address's mail allowance is used up");
                Verdict::Quietly
            }
        }
    }

    async fn per_network(&self, bucket: Bucket, ip: Option<IpAddr>) -> Result<(), Refused> {
        match ip {
            Some(ip) => self.hit(bucket, &[&client_key(ip)]).await,
            None => Ok(()),
        }
    }

    async fn hit(&self, bucket: Bucket, parts: &[&[u8]]) -> Result<(), Refused> {
        let key = bucket.key(parts);
        let (now_ms, per_hour) = (self.clock.now().saturating_mul(1000), bucket.per_hour(&self.limits));
        let result = match &self.store {
            Store::Memory(counts) => memory_hit(counts, key, now_ms, per_hour).map_err(Refused::Wait),
            Store::Database(db) => match database_hit(db, key, now_ms, per_hour).await {
                Ok(counted) => counted.map_err(Refused::Wait),
                // Refused, not let through: a database too busy to count must not open the door to guessing.
                Err(e) => {
                    tracing::error!(error = %e, "could not count an attempt");
                    Err(Refused::Unavailable)
                }
            },
        };
        if let Err(Refused::Wait(wait)) = &result {
            tracing::warn!(target: "audit", event = "rate_limited", bucket = ?bucket, retry_after = ?wait, "account event");
        }
        result
    }

    /// How many keys are counted now (memory entries or table rows): for tests and operators watching
    /// the counts' size.
    pub async fn keys_held(&self) -> u64 {
        match &self.store {
            Store::Memory(counts) => {
                counts.run_pending_tasks();
                counts.entry_count()
            }
            Store::Database(db) => {
                let rows: Result<i64, _> =
                    sqlx::query_scalar("SELECT COUNT(*) FROM rate_limits").fetch_one(db.reads()).await;
                rows.map_or(0, |n| u64::try_from(n).unwrap_or(0))
            }
        }
    }

    /// Forgets counts that have fully recovered, so the table does not grow with every key seen (the
    /// memory store forgets them by itself).
    pub async fn forget_recovered(&self, now: UnixTime) {
        if let Store::Database(db) = &self.store {
            let now_ms = now.saturating_mul(1000);
            if let Err(e) =
                sqlx::query("DELETE FROM rate_limits WHERE tat < $1").bind(now_ms).execute(db.writes()).await
            {
                tracing::warn!(error = %e, "could not forget recovered rate limits");
            }
        }
    }
}

impl From<Refused> for Verdict {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Wait(wait) => Verdict::Wait(wait),
            Refused::Unavailable => Verdict::Unavailable,
        }
    }
}

/// One hit on a key in memory: the key's lock is held while it is read and written, so hits on one key
/// from many requests are counted one after the other.
fn memory_hit(
    counts: &moka::sync::Cache<[u8; 16], i64>,
    key: [u8; 16],
    now_ms: i64,
    per_hour: u32,
) -> Result<(), Duration> {
    use moka::ops::compute::Op;
    let mut refused = None;
    counts.entry(key).and_compute_with(|entry| match gcra(entry.map(|e| e.into_value()), now_ms, per_hour) {
        Ok(next) => Op::Put(next),
        Err(wait) => {
            refused = Some(wait);
            Op::Nop
        }
    });
    refused.map_or(Ok(()), Err)
}

/// One hit on a key in the database: GCRA in one statement, so app servers hitting the same key at once
/// are counted one after the other.
async fn database_hit(db: &Db, key: [u8; 16], now_ms: i64, per_hour: u32) -> Result<Result<(), Duration>, sqlx::Error> {
    let interval = emission_interval(per_hour);
    let key = hex::encode(key);
    let counted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3) \
         ON CONFLICT (key) DO UPDATE \
         SET tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
         WHERE (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 - $2 <= $4 \
         RETURNING tat",
    )
    .bind(&key)
    .bind(now_ms)
    .bind(interval)
    .bind(HOUR_MS)
    .fetch_optional(db.writes())
    .await?;
    if counted.is_some() {
        return Ok(Ok(()));
    }
    let tat: Option<i64> =
        sqlx::query_scalar("SELECT tat FROM rate_limits WHERE key = $1").bind(&key).fetch_optional(db.writes()).await?;
    Ok(gcra(tat, now_ms, per_hour).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_bit_network_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), client_key("192.0.2.7".parse().unwrap()));
    }

    #[test]
    fn keys_have_one_size_whatever_was_typed_and_differ_by_bucket() {
        let long = "a".repeat(65_536);
        let k1 = Bucket::SignInPerAccount.key(&[long.as_bytes()]);
        let k2 = Bucket::SignInPerAccount.key(&[b"ada@example.com"]);
        assert_ne!(k1, k2);
        assert_ne!(k2, Bucket::MailPerAddress.key(&[b"ada@example.com"]));
        // Parts are length-prefixed: ("ab", "c") and ("a", "bc") are different keys.
        assert_ne!(Bucket::SignInPerDevice.key(&[b"ab", b"c"]), Bucket::SignInPerDevice.key(&[b"a", b"bc"]));
    }

    #[test]
    fn gcra_allows_the_allowance_at_once_then_one_per_interval() {
        let mut tat = None;
        for _ in 0..4 {
            tat = Some(gcra(tat, 0, 4).expect("within the allowance"));
        }
        let wait = gcra(tat, 0, 4).expect_err("the fifth at once");
        assert_eq!(wait, Duration::from_secs(900));
        assert!(gcra(tat, 900_000, 4).is_ok(), "a quarter of an hour later, one more");
    }

    #[test]
    fn the_memory_counts_are_bounded_and_keep_counting_a_key_being_hammered() {
        let counts = moka::sync::Cache::builder().max_capacity(100).build();
        let hammered = [7u8; 16];
        for n in 0..10_000u32 {
            let mut key = [0u8; 16];
            key[..4].copy_from_slice(&n.to_le_bytes());
            let _ = memory_hit(&counts, key, 0, 5);
            let _ = memory_hit(&counts, hammered, 0, 5);
        }
        counts.run_pending_tasks();
        assert!(counts.entry_count() <= 100, "{}", counts.entry_count());
        assert!(memory_hit(&counts, hammered, 0, 5).is_err(), "the hammered key is still counted");
    }
}
