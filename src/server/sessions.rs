//! Sessions: one row per signed-in device. The browser holds a random 256-bit token in a cookie; the
//! database holds its SHA-256, so the table alone cannot be used to sign in.
//!
//! A session ends when signed out, when unused for the idle limit, or at the absolute limit after sign-in.
//!
//! Every write here adds one to the owner's `revision` in the same transaction (`users::bump_revision`):
//! their session list is on pages shown again while it stays the same (`server::page_cache`).

use super::clock::{secs, UnixTime};
use super::db::Db;
use super::secrets::{hash_token, is_well_formed, new_id, new_token};
use super::settings::SessionSettings;
use super::users;
use rusqlite::OptionalExtension;
use sqlx::{Any, Transaction};
use std::sync::Arc;

/// `last_seen_at` is written at most this often per session, so page views stay read-only.
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
    /// The user's `revision` when this was read, in the same row as the name, email and avatar: what a
    /// page rendered for this request is kept under (`server::page_cache`).
    pub revision: i64,
}

impl CurrentSession {
    /// The in-place read's twin of the derived `FromRow`, by the same column names.
    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            session_id: row.get("session_id")?,
            user_id: row.get("user_id")?,
            name: row.get("name")?,
            email: row.get("email")?,
            avatar_key: row.get("avatar_key")?,
            created_at: row.get("created_at")?,
            last_seen_at: row.get("last_seen_at")?,
            expires_at: row.get("expires_at")?,
            revision: row.get("revision")?,
        })
    }
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

/// Starts a session and returns the raw token for the cookie.
pub async fn start(
    db: &Db,
    now: UnixTime,
    limits: &SessionSettings,
    user_id: &str,
    client: &ClientInfo,
) -> Result<String, sqlx::Error> {
    insert(db, now, limits, user_id, client, None).await?.ok_or(sqlx::Error::RowNotFound)
}

/// Starts a session only if the user's password is still the one just verified. A password reset that
/// lands between the check and this insert ends every session, and this one must not slip past it.
pub async fn start_if_password_is(
    db: &Db,
    now: UnixTime,
    limits: &SessionSettings,
    user_id: &str,
    client: &ClientInfo,
    password_hash: &str,
) -> Result<Option<String>, sqlx::Error> {
    insert(db, now, limits, user_id, client, Some(password_hash)).await
}

async fn insert(
    db: &Db,
    now: UnixTime,
    limits: &SessionSettings,
    user_id: &str,
    client: &ClientInfo,
    password_hash: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    let token = new_token();
    let mut tx = db.writes().begin().await?;
    let done = sqlx::query(
        "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent) \
         SELECT $1, id, $3, $4, $4, $5, $6, $7 FROM users \
         WHERE id = $2 AND ($8 IS NULL OR password_hash = $8)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(hash_token(&token))
    .bind(now)
    .bind(now.saturating_add(secs(limits.absolute_timeout)))
    .bind(client.ip.as_deref())
    .bind(client.user_agent.as_deref().map(|ua| truncate(ua, 512)))
    .bind(password_hash)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(None);
    }
    users::bump_revision(&mut *tx, user_id).await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// Finds the session for a cookie value, ending it if it has run out, and notes activity.
pub async fn lookup(db: &Db, now: UnixTime, limits: &SessionSettings, token: &str) -> Result<Lookup, sqlx::Error> {
    if !is_well_formed(token) {
        return Ok(Lookup::Guest);
    }
    const FIND: &str = "SELECT s.id AS session_id, s.user_id, u.name, u.email, u.avatar_key, \
                               s.created_at, s.last_seen_at, s.expires_at, u.revision \
                        FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1";
    let token_hash = hash_token(token);
    let in_place = db.read_in_place(|conn| {
        conn.prepare_cached(FIND)?.query_row([&token_hash], CurrentSession::from_sqlite_row).optional()
    });
    let found = match in_place {
        Some(found) => found?,
        None => sqlx::query_as(FIND).bind(&token_hash).fetch_optional(db.reads()).await?,
    };
    let Some(mut session) = found else {
        // Signed out or purged: the cookie was ours once, so tell the user their session ended.
        return Ok(Lookup::Ended);
    };
    let idle_deadline = session.last_seen_at.saturating_add(secs(limits.idle_timeout));
    if now >= session.expires_at || now >= idle_deadline {
        end(db, &session.session_id).await?;
        return Ok(Lookup::Ended);
    }
    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION_SECS {
        // Every list of this user's sessions shows when this one was last active.
        let mut tx = db.writes().begin().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(&session.session_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        users::bump_revision(&mut *tx, &session.user_id).await?;
        tx.commit().await?;
        session.last_seen_at = now;
        // This request's own page must not be one kept before the write. At least one more than read,
        // and everything it renders is read after the write, or here with the write applied; should
        // another change have come in between, the revision is higher still, and a page kept under
        // this one is never shown.
        session.revision += 1;
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

impl SessionRecord {
    /// The in-place read's twin of the derived `FromRow`, by the same column names.
    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            created_at: row.get("created_at")?,
            last_seen_at: row.get("last_seen_at")?,
            expires_at: row.get("expires_at")?,
            ip: row.get("ip")?,
            user_agent: row.get("user_agent")?,
        })
    }

    /// When this session runs out, by whichever limit comes first.
    pub fn ends_at(&self, limits: &SessionSettings) -> UnixTime {
        self.expires_at.min(self.last_seen_at.saturating_add(secs(limits.idle_timeout)))
    }
}

/// The user's live sessions, newest first. Sessions past either limit are left out even before the
/// background purge removes them.
pub async fn list_for_user(
    db: &Db,
    now: UnixTime,
    limits: &SessionSettings,
    user_id: &str,
) -> Result<Vec<SessionRecord>, sqlx::Error> {
    // Read in place like the session check, for the same reason (`Db::read_in_place`): `/profile` makes
    // both queries on every view. Measured against the list through sqlx, alternating, 64 connections:
    // +21 to 27% pages/s, p99 unchanged, server CPU per page 359 -> 254 µs (bench/NOTES.md). The rows are
    // one user's live sessions, found through the `sessions_by_user` index.
    const LIST: &str = "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM sessions \
                        WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 \
                        ORDER BY created_at DESC, id DESC";
    let idle_since = now.saturating_sub(secs(limits.idle_timeout));
    let in_place = db.read_in_place(|conn| {
        conn.prepare_cached(LIST)?
            .query_map(rusqlite::params![user_id, now, idle_since], SessionRecord::from_sqlite_row)?
            .collect()
    });
    match in_place {
        Some(records) => records,
        None => sqlx::query_as(LIST).bind(user_id).bind(now).bind(idle_since).fetch_all(db.reads()).await,
    }
}

/// Ends one of the user's own sessions, never the one making the request (that is what logging out is
/// for). A session id of another user matches nothing, so the answer reveals nothing about it.
pub async fn end_for_user(db: &Db, user_id: &str, session_id: &str, current: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.writes().begin().await?;
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2 AND id <> $3")
        .bind(session_id)
        .bind(user_id)
        .bind(current)
        .execute(&mut *tx)
        .await?;
    let ended = done.rows_affected() > 0;
    if ended {
        users::bump_revision(&mut *tx, user_id).await?;
        tx.commit().await?;
    }
    Ok(ended)
}

/// Ends every session of the user but `keep` (Altogic's `signOutAllExceptCurrent`), in the caller's
/// transaction, which must commit for it to count.
pub async fn end_all_except(tx: &mut Transaction<'_, Any>, user_id: &str, keep: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(&mut **tx)
        .await?;
    users::bump_revision(&mut **tx, user_id).await?;
    Ok(done.rows_affected())
}

/// Ends every session of the user, e.g. after a password reset, in the caller's transaction.
pub async fn end_all_for_user(tx: &mut Transaction<'_, Any>, user_id: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut **tx).await?;
    users::bump_revision(&mut **tx, user_id).await?;
    Ok(done.rows_affected())
}

pub async fn end(db: &Db, session_id: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.writes().begin().await?;
    let ended: Option<(String,)> = sqlx::query_as("DELETE FROM sessions WHERE id = $1 RETURNING user_id")
        .bind(session_id)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some((user_id,)) = ended {
        users::bump_revision(&mut *tx, &user_id).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Deletes sessions past either limit; run periodically in the background. No user's revision changes:
/// these rows were already left out of every list (`list_for_user`), and a page kept while they were
/// shown went stale when they ran out (`SessionRecord::ends_at`).
pub async fn purge_expired(db: &Db, now: UnixTime, limits: &SessionSettings) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now.saturating_sub(secs(limits.idle_timeout)))
        .execute(db.writes())
        .await?;
    Ok(done.rows_affected())
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
