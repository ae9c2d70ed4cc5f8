//! Throttling of everything one request can make the server or someone's inbox pay for: guessing
//! passwords, sending mail, checking password strength, decoding pictures.
//!
//! Two rules keep the limits from becoming a weapon against the people they protect:
//! - Counts that strangers share with an account's owner (the failures and mail for one address) never
//!   refuse the owner's own devices: a browser that has signed in to the account (`cookies::device`)
//!   has an allowance of its own.
//! - When strangers have used up the mail allowance of an address, the next request gets the usual
//!   answer and no mail is sent ("quietly"), rather than a refusal that would also meet its owner.
//!
//! Where the counts live: with PostgreSQL, in the database every app server shares, so a fleet of any
//! size enforces each limit exactly; with the embedded SQLite default (one server), in memory with
//! `governor`. Both implement the same generic cell rate algorithm, in the app's clock, so tests move
//! time instead of sleeping.

use crate::server::platform::clock::Clock;
use crate::server::platform::db::Db;
use crate::server::platform::settings::LimitSettings;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// What a limited request may do.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Answer as if it were done, and do nothing: the shared allowance of an address is used up.
    Quietly,
    /// Refuse with 429; one more is allowed after this long.
    Wait(Duration),
}

/// One count and its allowance per hour. Each is kept per key (an address, a client, an account…).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bucket {
    SignInPerIp,
    /// Password sign-ins for an address from anywhere but the account's own devices.
    SignInPerAccount,
    /// Password sign-ins from one of the account's own devices, counted per device.
    SignInPerDevice,
    /// Checks of the current password by a signed-in session (changing the password or address).
    ReauthPerSession,
    SignUpPerIp,
    MailPerIp,
    /// Mail to one address asked for from anywhere but its account's own devices.
    MailPerAddress,
    /// Mail to an account's address asked for from one of its own devices, per device.
    MailPerDevice,
    PasswordChecksPerIp,
    AvatarUploadsPerAccount,
}

impl Bucket {
    const ALL: [Bucket; 10] = [
        Bucket::SignInPerIp,
        Bucket::SignInPerAccount,
        Bucket::SignInPerDevice,
        Bucket::ReauthPerSession,
        Bucket::SignUpPerIp,
        Bucket::MailPerIp,
        Bucket::MailPerAddress,
        Bucket::MailPerDevice,
        Bucket::PasswordChecksPerIp,
        Bucket::AvatarUploadsPerAccount,
    ];

    fn per_hour(self, limits: &LimitSettings) -> NonZeroU32 {
        match self {
            Bucket::SignInPerIp => limits.sign_in_per_ip,
            Bucket::SignInPerAccount | Bucket::SignInPerDevice | Bucket::ReauthPerSession => limits.sign_in_per_account,
            Bucket::SignUpPerIp => limits.sign_up_per_ip,
            Bucket::MailPerIp => limits.mail_per_ip,
            Bucket::MailPerAddress | Bucket::MailPerDevice => limits.mail_per_account,
            Bucket::PasswordChecksPerIp => limits.password_checks_per_ip,
            Bucket::AvatarUploadsPerAccount => limits.avatar_uploads_per_account,
        }
    }

    /// A fixed-size key for this bucket and `parts`, whatever their length: a client cannot grow the
    /// counters' memory by sending long values (a 64 KB "email").
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

pub struct RateLimits {
    limits: LimitSettings,
    store: Store,
}

enum Store {
    Memory(MemoryCounts),
    Database { db: Db, clock: Arc<dyn Clock> },
}

impl RateLimits {
    /// Counts in the database when it is shared by app servers (PostgreSQL), in memory otherwise.
    pub fn new(limits: &LimitSettings, clock: Arc<dyn Clock>, db: &Db, shared_database: bool) -> Self {
        let store = if shared_database {
            Store::Database { db: db.clone(), clock }
        } else {
            Store::Memory(MemoryCounts::new(limits, clock))
        };
        Self { limits: limits.clone(), store }
    }

    /// A password sign-in for `address` (as typed, if it parses as an address). `known_device`: the
    /// browser's device token hash, when the account of `address` knows it.
    pub async fn sign_in(
        &self,
        ip: Option<IpAddr>,
        address: Option<&str>,
        known_device: Option<&str>,
    ) -> Result<(), Duration> {
        self.per_ip(Bucket::SignInPerIp, ip).await?;
        match (address, known_device) {
            (Some(address), Some(device)) => {
                self.hit(Bucket::SignInPerDevice, &[address.as_bytes(), device.as_bytes()]).await
            }
            (Some(address), None) => self.hit(Bucket::SignInPerAccount, &[address.as_bytes()]).await,
            (None, _) => Ok(()),
        }
    }

    /// A signed-in session checking its account's current password (to change the password or address):
    /// counted per session, so a stranger's failed sign-ins never stop the owner doing this.
    pub async fn reauthenticate(&self, session_id: &str) -> Result<(), Duration> {
        self.hit(Bucket::ReauthPerSession, &[session_id.as_bytes()]).await
    }

    /// A sign-up: it mails the address, so the address's mail allowance counts it too.
    pub async fn sign_up(&self, ip: Option<IpAddr>, address: &str) -> Verdict {
        if let Err(wait) = self.per_ip(Bucket::SignUpPerIp, ip).await {
            return Verdict::Wait(wait);
        }
        self.mail_to_address(address, None).await
    }

    /// A request that mails a link to `address` (magic link, reset, resend).
    pub async fn mail(&self, ip: Option<IpAddr>, address: &str, known_device: Option<&str>) -> Verdict {
        if let Err(wait) = self.per_ip(Bucket::MailPerIp, ip).await {
            return Verdict::Wait(wait);
        }
        self.mail_to_address(address, known_device).await
    }

    /// A signed-in account asking to move to `address`, which then gets mail: counted against that
    /// address's allowance, and refused outright (the one asking is the one sending too much).
    pub async fn mail_to_new_address(&self, address: &str) -> Result<(), Duration> {
        self.hit(Bucket::MailPerAddress, &[address.as_bytes()]).await
    }

    /// The live strength hint of a new-password field.
    pub async fn password_check(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        self.per_ip(Bucket::PasswordChecksPerIp, ip).await
    }

    pub async fn avatar_upload(&self, user_id: &str) -> Result<(), Duration> {
        self.hit(Bucket::AvatarUploadsPerAccount, &[user_id.as_bytes()]).await
    }

    async fn mail_to_address(&self, address: &str, known_device: Option<&str>) -> Verdict {
        let counted = match known_device {
            Some(device) => self.hit(Bucket::MailPerDevice, &[address.as_bytes(), device.as_bytes()]).await,
            None => self.hit(Bucket::MailPerAddress, &[address.as_bytes()]).await,
        };
        match (counted, known_device) {
            (Ok(()), _) => Verdict::Go,
            // The device's own allowance: telling its owner to wait denies nobody else anything.
            (Err(wait), Some(_)) => Verdict::Wait(wait),
            (Err(_), None) => {
                tracing::warn!(target: "audit", event = "mail_dropped", "an address's mail allowance is used up");
                Verdict::Quietly
            }
        }
    }

    async fn per_ip(&self, bucket: Bucket, ip: Option<IpAddr>) -> Result<(), Duration> {
        match ip {
            Some(ip) => self.hit(bucket, &[&client_key(ip)]).await,
            None => Ok(()),
        }
    }

    async fn hit(&self, bucket: Bucket, parts: &[&[u8]]) -> Result<(), Duration> {
        let key = bucket.key(parts);
        let result = match &self.store {
            Store::Memory(counts) => counts.hit(bucket, key),
            Store::Database { db, clock } => {
                database_hit(db, clock.now(), bucket.per_hour(&self.limits), &key).await.unwrap_or_else(|e| {
                    // Failing open for one request is better than refusing everyone while the database
                    // hiccups; the request itself will most likely fail on the same database anyway.
                    tracing::error!(error = %e, "could not count an attempt");
                    Ok(())
                })
            }
        };
        if let Err(wait) = result {
            tracing::warn!(target: "audit", event = "rate_limited", bucket = ?bucket, retry_after = ?wait, "account event");
        }
        result
    }

    /// How many keys are counted now (memory entries or table rows): for tests and operators watching
    /// the counters' size.
    pub async fn keys_held(&self) -> usize {
        match &self.store {
            Store::Memory(counts) => counts.buckets.iter().map(|(_, limiter)| limiter.len()).sum(),
            Store::Database { db, .. } => {
                let rows: Result<i64, _> =
                    sqlx::query_scalar("SELECT COUNT(*) FROM rate_limits").fetch_one(db.reads()).await;
                rows.map_or(0, |n| usize::try_from(n).unwrap_or(0))
            }
        }
    }

    /// Forgets counts that have fully recovered, so memory and the table do not grow with every key seen.
    pub async fn forget_recovered(&self) {
        match &self.store {
            Store::Memory(counts) => counts.forget_recovered(),
            Store::Database { db, clock } => {
                let now_ms = clock.now().saturating_mul(1000);
                if let Err(e) =
                    sqlx::query("DELETE FROM rate_limits WHERE tat < $1").bind(now_ms).execute(db.writes()).await
                {
                    tracing::warn!(error = %e, "could not forget recovered rate limits");
                }
            }
        }
    }
}

/// One hit on a key in the database, by the generic cell rate algorithm in one statement, so that app
/// servers hitting the same key at once are counted one after the other. `tat` (the theoretical arrival
/// time, in ms) moves one emission interval on per hit and is refused past one hour ahead of now.
async fn database_hit(
    db: &Db,
    now: crate::server::platform::clock::UnixTime,
    per_hour: NonZeroU32,
    key: &[u8; 16],
) -> Result<Result<(), Duration>, sqlx::Error> {
    const WINDOW_MS: i64 = 3_600_000;
    let now_ms = now.saturating_mul(1000);
    let interval_ms = WINDOW_MS / i64::from(per_hour.get());
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
    .bind(interval_ms)
    .bind(WINDOW_MS.max(interval_ms))
    .fetch_optional(db.writes())
    .await?;
    if counted.is_some() {
        return Ok(Ok(()));
    }
    let tat: Option<(i64,)> =
        sqlx::query_as("SELECT tat FROM rate_limits WHERE key = $1").bind(&key).fetch_optional(db.writes()).await?;
    let wait_ms = tat.map_or(0, |(tat,)| tat + interval_ms - WINDOW_MS.max(interval_ms) - now_ms);
    Ok(Err(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0).max(1000))))
}

#[derive(Clone)]
struct AppClock(Arc<dyn Clock>);

impl GovernorClock for AppClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(Duration::from_secs(u64::try_from(self.0.now()).unwrap_or(0)))
    }
}

type Keyed = RateLimiter<[u8; 16], DashMapStateStore<[u8; 16]>, AppClock, NoOpMiddleware<Nanos>>;

/// Keys one bucket may hold in memory (about 100 bytes each). Reached only when a flood of distinct keys
/// comes within an hour: then recovered keys are forgotten at once, and if that is not enough, new keys
/// are refused until some recover, rather than the server's memory growing without end.
const MAX_KEYS_PER_BUCKET: usize = 200_000;

struct MemoryCounts {
    clock: AppClock,
    buckets: Vec<(Bucket, Keyed)>,
}

impl MemoryCounts {
    fn new(limits: &LimitSettings, clock: Arc<dyn Clock>) -> Self {
        let clock = AppClock(clock);
        let buckets = Bucket::ALL
            .into_iter()
            .map(|bucket| {
                let quota = Quota::per_hour(bucket.per_hour(limits));
                (bucket, RateLimiter::dashmap_with_clock(quota, clock.clone()))
            })
            .collect();
        Self { clock, buckets }
    }

    fn hit(&self, bucket: Bucket, key: [u8; 16]) -> Result<(), Duration> {
        let Some((_, limiter)) = self.buckets.iter().find(|(b, _)| *b == bucket) else { return Ok(()) };
        if limiter.len() >= MAX_KEYS_PER_BUCKET {
            limiter.retain_recent();
            limiter.shrink_to_fit();
            if limiter.len() >= MAX_KEYS_PER_BUCKET {
                tracing::error!(bucket = ?bucket, "too many distinct keys within the hour; refusing until some recover");
                return Err(Duration::from_secs(60));
            }
        }
        let now = self.clock.now();
        limiter.check_key(&key).map_err(|not_until| not_until.wait_time_from(now))
    }

    fn forget_recovered(&self) {
        for (_, limiter) in &self.buckets {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
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
}
