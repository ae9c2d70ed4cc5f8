//! Browsers that have signed in to an account (`cookies::device`), remembered per account by the hash of
//! their device token. A known device has its own allowance of sign-in failures and mail
//! (`rate_limits`), so strangers failing or asking for mail elsewhere never lock it out.

use crate::domain::Email;
use crate::server::platform::clock::UnixTime;
use crate::server::platform::db::Db;
use crate::server::platform::secrets::hash_token;
use std::time::Duration;

/// How long a device stays known without signing in again: as long as its cookie lives.
pub const REMEMBERED_FOR: Duration = crate::server::http::cookies::device::LIFETIME;

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
    .bind(hash_token(device_token))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The hash of `device_token` if the account of `address` knows it (an unknown address knows nothing).
/// One indexed read whether or not the address has an account.
pub async fn known_for_address(
    db: &Db,
    address: &Email,
    device_token: Option<&str>,
    now: UnixTime,
) -> Result<Option<String>, sqlx::Error> {
    let Some(token) = device_token else { return Ok(None) };
    let hash = hash_token(token);
    let forgotten_before = now.saturating_sub(crate::server::platform::clock::secs(REMEMBERED_FOR));
    let known: Option<(i64,)> = sqlx::query_as(
        "SELECT d.last_seen_at FROM known_devices d JOIN users u ON u.id = d.user_id \
         WHERE u.email = $1 AND d.token_hash = $2 AND d.last_seen_at > $3",
    )
    .bind(address.as_str())
    .bind(&hash)
    .bind(forgotten_before)
    .fetch_optional(db.reads())
    .await?;
    Ok(known.map(|_| hash))
}

/// Forgets devices that have not signed in for `REMEMBERED_FOR`.
pub async fn purge_forgotten(db: &Db, now: UnixTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM known_devices WHERE last_seen_at <= $1")
        .bind(now.saturating_sub(crate::server::platform::clock::secs(REMEMBERED_FOR)))
        .execute(db.writes())
        .await?;
    Ok(done.rows_affected())
}
