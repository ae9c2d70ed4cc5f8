//! Sessions: one row per signed-in device. The browser holds a random 256-bit token in a cookie; the
//! database holds its SHA-256, so the table alone cannot be used to sign in.
//!
//! A session ends when signed out, when unused for the idle limit, or at the absolute limit after sign-in.

use crate::server::platform::clock::{secs, UnixTime};
use crate::server::platform::db::Db;
use crate::server::platform::secrets::{hash_token, is_well_formed, new_id, new_token};
use crate::server::platform::settings::SessionSettings;
use sqlx::{Any, Transaction};
use std::sync::Arc;

/// `last_seen_at` is written at most this often per session: most requests only read.
pub const LAST_SEEN_RESOLUTION_SECS: i64 = 60;

/// Who is making a request, as far as the network tells: recorded on the session for the device list.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The signed-in session behind a request, with the user it belongs to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CurrentSession {
    pub session_id: String,
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub avatar_key: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// What the session cookie of a request amounts to.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// No cookie, or one we never issued.
    Guest,
    Active(Arc<CurrentSession>),
    /// The cookie named a session that has since expired or been signed out.
    Ended,
}

impl Lookup {
    pub fn active(&self) -> Option<&Arc<CurrentSession>> {
        match self {
            Lookup::Active(s) => Some(s),
            _ => None,
        }
    }
}

/// A session just started.
pub struct Started {
    pub id: String,
    /// The raw token, for the cookie.
    pub token: String,
}

/// Starts a session in the caller's transaction.
///
/// The caller has already written the user's row in that transaction (`users::record_sign_in`), which
/// locks it until the commit: a password reset or change, which writes the same row first and then
/// ends every session, either finishes before (and the sign-in sees its effect) or waits for this
/// session to exist (and ends it). Always the user's row first, then their sessions and links, so
/// that two such transactions never wait on each other in a circle on PostgreSQL.
pub async fn start(
    tx: &mut Transaction<'_, Any>,
    now: UnixTime,
    lifetimes: &SessionSettings,
    user_id: &str,
    client: &ClientInfo,
) -> Result<Started, sqlx::Error> {
    let (id, token) = (new_id(), new_token());
    sqlx::query(
        "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(hash_token(&token))
    .bind(now)
    .bind(now.saturating_add(secs(lifetimes.absolute_timeout)))
    .bind(client.ip.as_deref())
    .bind(client.user_agent.as_deref().map(|ua| truncate(ua, 512)))
    .execute(&mut **tx)
    .await?;
    Ok(Started { id, token })
}

/// Finds the session for a cookie value, ending it if it has run out, and notes activity.
pub async fn lookup(db: &Db, now: UnixTime, lifetimes: &SessionSettings, token: &str) -> Result<Lookup, sqlx::Error> {
    if !is_well_formed(token) {
        return Ok(Lookup::Guest);
    }
    let found: Option<CurrentSession> = sqlx::query_as(
        "SELECT s.id AS session_id, s.user_id, u.name, u.email, u.avatar_key, \
                s.created_at, s.last_seen_at, s.expires_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(db.reads())
    .await?;
    let Some(mut session) = found else {
        // Signed out or purged: the cookie was ours once, so tell the user their session ended.
        return Ok(Lookup::Ended);
    };
    let idle_deadline = session.last_seen_at.saturating_add(secs(lifetimes.idle_timeout));
    if now >= session.expires_at || now >= idle_deadline {
        end(db.writes(), &session.session_id).await?;
        return Ok(Lookup::Ended);
    }
    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION_SECS {
        // Every list of this user's sessions shows when this one was last active. Only the session's own
        // row is written, so this takes no lock a sign-in or password change also waits for.
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(&session.session_id)
            .bind(now)
            .execute(db.writes())
            .await?;
        session.last_seen_at = now;
    }
    Ok(Lookup::Active(Arc::new(session)))
}

/// A session as the owner's device list shows it. Never the token or its hash.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The user's live sessions, newest first. Sessions past either limit are left out even before the
/// background purge removes them.
pub async fn list_for_user<'e>(
    db: impl sqlx::Executor<'e, Database = Any>,
    now: UnixTime,
    lifetimes: &SessionSettings,
    user_id: &str,
) -> Result<Vec<SessionRecord>, sqlx::Error> {
    let idle_since = now.saturating_sub(secs(lifetimes.idle_timeout));
    sqlx::query_as(
        "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM sessions \
         WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 \
         ORDER BY created_at DESC, id DESC",
    )
    .bind(user_id)
    .bind(now)
    .bind(idle_since)
    .fetch_all(db)
    .await
}

/// Ends one of the user's own sessions, never the one making the request (that is what logging out is
/// for), and returns what it was: `Some(user agent)`. A session id of another user matches nothing, so
/// the answer reveals nothing about it.
pub async fn end_for_user<'e>(
    db: impl sqlx::Executor<'e, Database = Any>,
    user_id: &str,
    session_id: &str,
    current: &str,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let ended: Option<(Option<String>,)> =
        sqlx::query_as("DELETE FROM sessions WHERE id = $1 AND user_id = $2 AND id <> $3 RETURNING user_agent")
            .bind(session_id)
            .bind(user_id)
            .bind(current)
            .fetch_optional(db)
            .await?;
    Ok(ended.map(|(user_agent,)| user_agent))
}

/// Ends every session of the user but `keep` (Altogic's `signOutAllExceptCurrent`).
pub async fn end_all_except<'e>(
    db: impl sqlx::Executor<'e, Database = Any>,
    user_id: &str,
    keep: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Ends every session of the user, e.g. after a password reset.
pub async fn end_all_for_user<'e>(
    db: impl sqlx::Executor<'e, Database = Any>,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(db).await?;
    Ok(done.rows_affected())
}

/// Whether the session is still there (not signed out, not ended by a password reset).
pub async fn exists<'e>(db: impl sqlx::Executor<'e, Database = Any>, session_id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT id FROM sessions WHERE id = $1").bind(session_id).fetch_optional(db).await?;
    Ok(found.is_some())
}

/// Ends the session; whether it was there to end.
pub async fn end<'e>(db: impl sqlx::Executor<'e, Database = Any>, session_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1").bind(session_id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes sessions past either limit; run periodically in the background.
pub async fn purge_expired(db: &Db, now: UnixTime, lifetimes: &SessionSettings) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now.saturating_sub(secs(lifetimes.idle_timeout)))
        .execute(db.writes())
        .await?;
    Ok(done.rows_affected())
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
