//! The account's security activity: what happened to it, when, and from which device and network. Its
//! owner reads it at `/profile/activity`; it is kept for `app.activity_kept_for`, then purged.
//!
//! An event is written in the transaction of the change it records (`record`), so the list never shows
//! a change that was rolled back, nor misses one that was made. Each is also logged under the `audit`
//! target (`audit::event`), for operators.

use super::audit;
use crate::server::platform::clock::{secs, UnixTime};
use crate::server::platform::db::Db;
use crate::server::platform::secrets::random_bytes;
use crate::server::sessions::{user_agents, ClientInfo, CurrentSession};
use sqlx::{Any, AnyConnection, Executor};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What happened. Stored by name (`as_str`): renaming a variant keeps its stored name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    AccountCreated,
    EmailConfirmed,
    /// `detail`: the `SignInMethod`.
    SignedIn,
    /// A wrong password for the account, or a wrong code at its second step. `detail`: which.
    SignInFailed,
    SignedOut,
    /// One of the account's other devices was signed out from this one. `detail`: that device.
    SignedOutDevice,
    /// Every other device was signed out from this one. `detail`: how many.
    SignedOutOtherDevices,
    PasswordChanged,
    PasswordReset,
    EmailChanged,
    /// `detail`: the passkey's name.
    PasskeyAdded,
    /// `detail`: the passkey's name.
    PasskeyRemoved,
    TwoFactorOn,
    TwoFactorOff,
    RecoveryCodeUsed,
    RecoveryCodesRenewed,
    /// "Secure my account". `detail`: how many sign-in methods added since the alert were removed.
    AccountSecured,
    /// By the site's operator (`server::operator`).
    AccountLocked,
    AccountUnlocked,
    /// Every session ended by the site's operator. `detail`: how many.
    SignedOutByOperator,
    /// "Download your data". `detail`: `OPERATOR` when the site's operator exported it.
    DataExported,
    /// "Delete account" (or the operator's `schedule-deletion`).
    DeletionScheduled,
    DeletionCancelled,
}

impl Kind {
    const ALL: [Kind; 23] = [
        Kind::AccountCreated,
        Kind::EmailConfirmed,
        Kind::SignedIn,
        Kind::SignInFailed,
        Kind::SignedOut,
        Kind::SignedOutDevice,
        Kind::SignedOutOtherDevices,
        Kind::PasswordChanged,
        Kind::PasswordReset,
        Kind::EmailChanged,
        Kind::PasskeyAdded,
        Kind::PasskeyRemoved,
        Kind::TwoFactorOn,
        Kind::TwoFactorOff,
        Kind::RecoveryCodeUsed,
        Kind::RecoveryCodesRenewed,
        Kind::AccountSecured,
        Kind::AccountLocked,
        Kind::AccountUnlocked,
        Kind::SignedOutByOperator,
        Kind::DataExported,
        Kind::DeletionScheduled,
        Kind::DeletionCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AccountCreated => "account_created",
            Kind::EmailConfirmed => "email_confirmed",
            Kind::SignedIn => "signed_in",
            Kind::SignInFailed => "sign_in_failed",
            Kind::SignedOut => "signed_out",
            Kind::SignedOutDevice => "signed_out_device",
            Kind::SignedOutOtherDevices => "signed_out_other_devices",
            Kind::PasswordChanged => "password_changed",
            Kind::PasswordReset => "password_reset",
            Kind::EmailChanged => "email_changed",
            Kind::PasskeyAdded => "passkey_added",
            Kind::PasskeyRemoved => "passkey_removed",
            Kind::TwoFactorOn => "two_factor_on",
            Kind::TwoFactorOff => "two_factor_off",
            Kind::RecoveryCodeUsed => "recovery_code_used",
            Kind::RecoveryCodesRenewed => "recovery_codes_renewed",
            Kind::AccountSecured => "account_secured",
            Kind::AccountLocked => "account_locked",
            Kind::AccountUnlocked => "account_unlocked",
            Kind::SignedOutByOperator => "signed_out_by_operator",
            Kind::DataExported => "data_exported",
            Kind::DeletionScheduled => "deletion_scheduled",
            Kind::DeletionCancelled => "deletion_cancelled",
        }
    }

    fn parse(stored: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == stored)
    }
}

/// How a sign-in proved who it was: the first factor, and the second if the account has two-factor on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInMethod {
    Password,
    MagicLink,
    /// The link of a verification mail (it signs in as it confirms the address).
    ConfirmationLink,
    /// The 6-digit code of a verification or magic-link mail.
    EmailCode,
    Passkey,
    /// Signed in by signing up (with verification off).
    SignUp,
}

impl SignInMethod {
    const ALL: [SignInMethod; 6] = [
        SignInMethod::Password,
        SignInMethod::MagicLink,
        SignInMethod::ConfirmationLink,
        SignInMethod::EmailCode,
        SignInMethod::Passkey,
        SignInMethod::SignUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::MagicLink => "magic_link",
            SignInMethod::ConfirmationLink => "confirmation_link",
            SignInMethod::EmailCode => "email_code",
            SignInMethod::Passkey => "passkey",
            SignInMethod::SignUp => "sign_up",
        }
    }

    pub fn parse(stored: &str) -> Option<SignInMethod> {
        SignInMethod::ALL.into_iter().find(|m| m.as_str() == stored)
    }

    fn words(self) -> &'static str {
        match self {
            SignInMethod::Password => "with a password",
            SignInMethod::MagicLink => "with a magic link",
            SignInMethod::ConfirmationLink => "with the link confirming the email address",
            SignInMethod::EmailCode => "with a code from email",
            SignInMethod::Passkey => "with a passkey",
            SignInMethod::SignUp => "on signing up",
        }
    }
}

/// The second factor a sign-in gave, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    AppCode,
    RecoveryCode,
}

/// The `detail` of a `Kind::SignedIn` event: "password", "password+app_code", "magic_link+recovery_code".
pub fn sign_in_detail(method: SignInMethod, second: Option<SecondFactor>) -> String {
    match second {
        None => method.as_str().to_owned(),
        Some(SecondFactor::AppCode) => format!("{}+app_code", method.as_str()),
        Some(SecondFactor::RecoveryCode) => format!("{}+recovery_code", method.as_str()),
    }
}

/// The `detail` of a `Kind::SignInFailed` event.
pub const WRONG_PASSWORD: &str = "password";
pub const WRONG_SECOND_FACTOR: &str = "second_factor";

/// The `detail` of an event the site's operator caused on the account's behalf (`Kind::DataExported`).
pub const BY_OPERATOR: &str = "operator";

/// One event, as the code that made the change describes it.
pub struct Event<'a> {
    pub kind: Kind,
    pub user_id: &'a str,
    pub detail: Option<&'a str>,
    /// The session that did it, or that it started (a sign-in).
    pub session_id: Option<&'a str>,
    /// The request's network address and browser.
    pub client: &'a ClientInfo,
}

impl<'a> Event<'a> {
    pub fn new(kind: Kind, user_id: &'a str, client: &'a ClientInfo) -> Self {
        Self { kind, user_id, detail: None, session_id: None, client }
    }

    /// Done by a signed-in session.
    pub fn of_session(kind: Kind, session: &'a CurrentSession, client: &'a ClientInfo) -> Self {
        Self::new(kind, &session.user_id, client).by_session(&session.session_id)
    }

    pub fn detail(self, detail: &'a str) -> Self {
        Self { detail: Some(detail), ..self }
    }

    pub fn by_session(self, session_id: &'a str) -> Self {
        Self { session_id: Some(session_id), ..self }
    }
}

/// Writes `event` in the caller's transaction (or on its own, for a failed sign-in, which changes
/// nothing else), and logs it.
pub async fn record<'e>(
    db: impl Executor<'e, Database = Any>,
    now: UnixTime,
    event: Event<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO security_events (id, user_id, kind, detail, session_id, ip, user_agent, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_event_id())
    .bind(event.user_id)
    .bind(event.kind.as_str())
    .bind(event.detail)
    .bind(event.session_id)
    .bind(event.client.ip.as_deref())
    .bind(stored_user_agent(event.client))
    .bind(now)
    .execute(db)
    .await?;
    audit::event(event.kind.as_str(), event.user_id);
    Ok(())
}

/// How long after a failed sign-in the same failure adds to its row (`record_failed_sign_in`).
const FAILURES_FOLDED_FOR: UnixTime = 3_600;

/// Records a failed sign-in (`Kind::SignInFailed`): a repeat of the account's newest event, the same
/// failure from the same network and browser within the hour after it, adds to that row's count and
/// moves its `last_at` (the list shows when the latest happened), so
/// someone guessing at an account adds at most one row an hour per kind of failure, network and browser.
/// Anything else in between (a sign-in, a failure from elsewhere) starts a new row, so no failure is shown
/// under another's device. (Two app servers racing may each add a row: still bounded.) Every failure is
/// logged.
pub async fn record_failed_sign_in(
    conn: &mut AnyConnection,
    now: UnixTime,
    event: Event<'_>,
) -> Result<(), sqlx::Error> {
    debug_assert_eq!(event.kind, Kind::SignInFailed);
    let folded = sqlx::query(
        "UPDATE security_events SET repeats = repeats + 1, last_at = $7 \
         WHERE id = (SELECT id FROM security_events WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1) \
         AND kind = $2 AND detail = $3 AND created_at > $4 \
         AND COALESCE(ip, '') = $5 AND COALESCE(user_agent, '') = $6",
    )
    .bind(event.user_id)
    .bind(event.kind.as_str())
    .bind(event.detail)
    .bind(now - FAILURES_FOLDED_FOR)
    .bind(event.client.ip.as_deref().unwrap_or_default())
    .bind(stored_user_agent(event.client).unwrap_or_default())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if folded.rows_affected() == 0 {
        return record(conn, now, event).await;
    }
    audit::event(event.kind.as_str(), event.user_id);
    Ok(())
}

/// A request's user agent as an event keeps it: its first 512 characters.
fn stored_user_agent(client: &ClientInfo) -> Option<String> {
    client.user_agent.as_deref().map(|ua| ua.chars().take(512).collect())
}

/// An id that sorts as the events were made: the real clock's microseconds (strictly increasing within
/// this process, whatever the clock does), then random bits, unique across app servers.
fn new_event_id() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let previous = LAST.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| Some(now.max(last + 1)));
    let micros = now.max(previous.unwrap_or(0) + 1);
    format!("{micros:016x}{}", hex::encode(random_bytes::<8>()))
}

/// One event as its owner's list shows it: words, never an internal id or a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// "Signed in with a password", "Passkey added: Chrome on Android".
    pub what: String,
    pub at: UnixTime,
    /// "Firefox on Windows".
    pub device: String,
    pub ip: Option<String>,
    /// Done by (or started) the session that is reading the list.
    pub this_session: bool,
}

/// An event as stored.
#[derive(sqlx::FromRow)]
struct Stored {
    kind: String,
    detail: Option<String>,
    session_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: i64,
    repeats: i32,
    /// The latest of the `repeats` (`None` while there is one).
    last_at: Option<i64>,
}

/// How many events a page of the list shows.
pub const PAGE_SIZE: u32 = 25;

/// A page of the account's events, newest first (`page` counts from 1), and whether older ones follow.
pub async fn page_for(db: &Db, user_id: &str, session_id: &str, page: u32) -> Result<(Vec<Shown>, bool), sqlx::Error> {
    let offset = i64::from(page.max(1) - 1) * i64::from(PAGE_SIZE);
    let rows: Vec<Stored> = sqlx::query_as(
        "SELECT kind, detail, session_id, ip, user_agent, created_at, repeats, last_at FROM security_events WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(user_id)
    .bind(i64::from(PAGE_SIZE) + 1)
    .bind(offset)
    .fetch_all(db.reads())
    .await?;
    let more = rows.len() > PAGE_SIZE as usize;
    let shown = rows
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|row| Shown {
            what: row.describe(),
            at: row.latest(),
            device: user_agents::describe(row.user_agent.as_deref()),
            this_session: row.session_id.as_deref() == Some(session_id),
            ip: row.ip,
        })
        .collect();
    Ok((shown, more))
}

impl Stored {
    /// "Sign-in failed: wrong password", "…, 5 times in 40 minutes" (from the first to the last).
    fn describe(&self) -> String {
        let what = describe(&self.kind, self.detail.as_deref());
        match (self.repeats, self.last_at) {
            (1, _) => what,
            (n, Some(last)) => format!("{what}, {n} times {}", within(last - self.created_at)),
            // Folded before the latest time was kept.
            (n, None) => format!("{what}, {n} times within the hour"),
        }
    }

    /// When it last happened: a folded row is listed at its latest failure.
    fn latest(&self) -> UnixTime {
        self.last_at.unwrap_or(self.created_at).max(self.created_at)
    }
}

/// "within a minute", "in 40 minutes": how long repeats took, from the first to the last.
fn within(secs: i64) -> String {
    if secs < 60 {
        return "within a minute".to_owned();
    }
    format!("in {}", crate::time_format::span(secs))
}

/// One event as a download of the account's data holds it (`accounts::export`).
pub struct Exported {
    pub kind: String,
    /// In words, as the owner's list shows it.
    pub what: String,
    pub at: UnixTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub repeats: i32,
    /// The latest of the repeats, when several were folded into the event (and the time was kept).
    pub last_at: Option<UnixTime>,
}

/// Where a page of `page_for_export` ended: the last event's time and id.
pub type ExportCursor = (UnixTime, String);

/// Up to `limit` of the account's events older than `after` (all, from the newest, without it), newest
/// first, and where the next page starts: pages by position, so a long history is read a page at a time
/// and never skips or repeats an event.
pub async fn page_for_export(
    db: &Db,
    user_id: &str,
    after: Option<&ExportCursor>,
    limit: u32,
) -> Result<(Vec<Exported>, Option<ExportCursor>), sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        #[sqlx(flatten)]
        stored: Stored,
    }
    let (before_at, before_id) = after.map_or((None, None), |(at, id)| (Some(*at), Some(id.as_str())));
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, kind, detail, session_id, ip, user_agent, created_at, repeats, last_at FROM security_events \
         WHERE user_id = $1 AND ($2 IS NULL OR created_at < $2 OR (created_at = $2 AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(user_id)
    .bind(before_at)
    .bind(before_id)
    .bind(i64::from(limit))
    .fetch_all(db.reads())
    .await?;
    let next =
        (rows.len() == limit as usize).then(|| rows.last().map(|r| (r.stored.created_at, r.id.clone()))).flatten();
    let events = rows
        .into_iter()
        .map(|Row { stored, .. }| Exported {
            what: stored.describe(),
            last_at: stored.last_at.is_some().then(|| stored.latest()),
            kind: stored.kind,
            at: stored.created_at,
            ip: stored.ip,
            user_agent: stored.user_agent,
            repeats: stored.repeats,
        })
        .collect();
    Ok((events, next))
}

/// An event in words.
fn describe(kind: &str, detail: Option<&str>) -> String {
    let detail = detail.unwrap_or_default();
    let Some(kind) = Kind::parse(kind) else { return "Account changed".into() };
    match kind {
        Kind::AccountCreated => "Account created".into(),
        Kind::EmailConfirmed => "Email address confirmed".into(),
        Kind::SignedIn => {
            let (first, second) = detail.split_once('+').unwrap_or((detail, ""));
            let first = SignInMethod::parse(first).map(SignInMethod::words).unwrap_or("");
            let second = match second {
                "app_code" => " and an authenticator app",
                "recovery_code" => " and a recovery code",
                _ => "",
            };
            format!("Signed in {first}{second}").trim_end().to_owned()
        }
        Kind::SignInFailed if detail == WRONG_SECOND_FACTOR => "Sign-in failed: wrong two-factor code".into(),
        Kind::SignInFailed => "Sign-in failed: wrong password".into(),
        Kind::SignedOut => "Signed out".into(),
        Kind::SignedOutDevice => format!("Signed out another device: {detail}"),
        Kind::SignedOutOtherDevices => format!("Signed out all other devices ({detail})"),
        Kind::PasswordChanged => "Password changed".into(),
        Kind::PasswordReset => "Password reset with an emailed link".into(),
        Kind::EmailChanged => "Email address changed".into(),
        Kind::PasskeyAdded => format!("Passkey added: {detail}"),
        Kind::PasskeyRemoved => format!("Passkey removed: {detail}"),
        Kind::TwoFactorOn => "Two-factor authentication turned on".into(),
        Kind::TwoFactorOff => "Two-factor authentication turned off".into(),
        Kind::RecoveryCodeUsed => "Recovery code used".into(),
        Kind::RecoveryCodesRenewed => "New recovery codes made".into(),
        Kind::AccountSecured => match detail {
            "" | "0" => "Account secured: signed out everywhere".into(),
            "1" => "Account secured: signed out everywhere, 1 new sign-in method removed".into(),
            n => format!("Account secured: signed out everywhere, {n} new sign-in methods removed"),
        },
        Kind::AccountLocked => "Account locked by the site's operator".into(),
        Kind::AccountUnlocked => "Account unlocked by the site's operator".into(),
        Kind::SignedOutByOperator => format!("Signed out everywhere by the site's operator ({detail})"),
        Kind::DataExported if detail == BY_OPERATOR => "Data downloaded by the site's operator".into(),
        Kind::DataExported => "Data downloaded".into(),
        Kind::DeletionScheduled => "Account deleted: to be erased after the grace period".into(),
        Kind::DeletionCancelled => "Account deletion cancelled".into(),
    }
}

/// Removes events older than `kept_for`.
pub async fn purge_old(db: &Db, now: UnixTime, kept_for: Duration) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM security_events WHERE created_at <= $1")
        .bind(now.saturating_sub(secs(kept_for)))
        .execute(db.writes())
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folded_row_says_how_long_its_repeats_took_and_is_listed_at_the_last() {
        let row = |repeats, last_at| Stored {
            kind: "sign_in_failed".into(),
            detail: None,
            session_id: None,
            ip: None,
            user_agent: None,
            created_at: 1_000,
            repeats,
            last_at,
        };
        assert_eq!(row(1, None).describe(), "Sign-in failed: wrong password");
        assert_eq!(row(3, Some(1_030)).describe(), "Sign-in failed: wrong password, 3 times within a minute");
        assert_eq!(row(2, Some(1_060)).describe(), "Sign-in failed: wrong password, 2 times in 1 minute");
        assert_eq!(row(5, Some(3_400)).describe(), "Sign-in failed: wrong password, 5 times in 40 minutes");
        assert_eq!(row(5, Some(3_400)).latest(), 3_400);
        // Folded before the time of the last was kept: as it was said then, listed at the first.
        assert_eq!(row(12, None).describe(), "Sign-in failed: wrong password, 12 times within the hour");
        assert_eq!(row(12, None).latest(), 1_000);
    }

    #[test]
    fn every_kind_and_method_reads_back_from_its_stored_name() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        for method in SignInMethod::ALL {
            assert_eq!(SignInMethod::parse(method.as_str()), Some(method));
        }
    }

    #[test]
    fn sign_ins_say_how() {
        let said = |method, second| describe("signed_in", Some(&sign_in_detail(method, second)));
        assert_eq!(said(SignInMethod::Password, None), "Signed in with a password");
        assert_eq!(
            said(SignInMethod::MagicLink, Some(SecondFactor::AppCode)),
            "Signed in with a magic link and an authenticator app"
        );
        assert_eq!(said(SignInMethod::Passkey, None), "Signed in with a passkey");
        assert_eq!(describe("sign_in_failed", Some(WRONG_SECOND_FACTOR)), "Sign-in failed: wrong two-factor code");
        assert_eq!(describe("something_newer", None), "Account changed");
    }
}
