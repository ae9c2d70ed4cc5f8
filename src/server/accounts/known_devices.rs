//! Browsers that have signed in to an account (`http::cookies::device`), remembered per account. A known
//! device has its own allowance of sign-in failures and mail (`platform::rate_limits`), so strangers
//! failing or asking for mail elsewhere never lock it out.
//!
//! What an account keeps of a browser is the hash of its device token together with the account's id:
//! the same browser's rows under two accounts cannot be matched up, and the table alone identifies no
//! browser.

use super::users;
use crate::domain::Email;
use crate::server::platform::clock::{secs, UnixTime};
use crate::server::platform::db::Db;
use crate::server::platform::secrets::hash_token;
use std::time::Duration;

/// How long a device stays known without signing in again: as long as its cookie lives.
pub const REMEMBERED_FOR: Duration = crate::server::http::cookies::device::LIFETIME;

/// What account `user_id` keeps of the browser with `device_token`.
fn kept_of(user_id: &str, device_token: &str) -> String {
    hash_token(&format!("{user_id}\n{device_token}"))
}

/// Remembers that the browser with `device_token` signed in to the account, in the sign-in's transaction.
pub async fn remember<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    device_token: &str,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO known_devices (user_id, token_hash, created_at, last_seen_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (user_id, token_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at",
    )
    .bind(user_id)
    .bind(kept_of(user_id, device_token))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether a sign-in with `device_token` comes from a browser new to the account: it knows others, but
/// not this one. An account that knows none (its first sign-in, or every device forgotten by a password
/// reset) has nothing to tell a new one from.
pub async fn is_new<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    device_token: &str,
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let (known, this_one): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(CASE WHEN token_hash = $2 THEN 1 END) FROM known_devices \
         WHERE user_id = $1 AND last_seen_at > $3",
    )
    .bind(user_id)
    .bind(kept_of(user_id, device_token))
    .bind(now.saturating_sub(secs(REMEMBERED_FOR)))
    .fetch_one(db)
    .await?;
    Ok(known > 0 && this_one == 0)
}

/// What the account of `address` keeps of this browser, if it knows the browser (an unknown address
/// knows nothing).
pub async fn known_for_address(
    db: &Db,
    address: &Email,
    device_token: Option<&str>,
    now: UnixTime,
) -> Result<Option<String>, sqlx::Error> {
    let Some(token) = device_token else { return Ok(None) };
    let Some(user) = users::find_by_email(db.reads(), address).await? else { return Ok(None) };
    let kept = kept_of(&user.id, token);
    let known: Option<(i64,)> = sqlx::query_as(
        "SELECT last_seen_at FROM known_devices WHERE user_id = $1 AND token_hash = $2 AND last_seen_at > $3",
    )
    .bind(&user.id)
    .bind(&kept)
    .bind(now.saturating_sub(secs(REMEMBERED_FOR)))
    .fetch_optional(db.reads())
    .await?;
    Ok(known.map(|_| kept))
}

/// Forgets the account's devices but the one with `keep` (a token), in the caller's transaction: after a
/// password reset or change, a browser that signed in with the old password is a stranger again.
pub async fn forget_all_but<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    keep: Option<&str>,
) -> Result<(), sqlx::Error> {
    let kept = keep.map(|token| kept_of(user_id, token));
    sqlx::query("DELETE FROM known_devices WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)")
        .bind(user_id)
        .bind(kept)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets devices that have not signed in for `REMEMBERED_FOR`.
pub async fn purge_forgotten(db: &Db, now: UnixTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM known_devices WHERE last_seen_at <= $1")
        .bind(now.saturating_sub(secs(REMEMBERED_FOR)))
        .execute(db.writes())
        .await?;
    Ok(done.rows_affected())
}
