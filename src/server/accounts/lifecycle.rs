//! An account's standing apart from its credentials: an operator may lock it (nobody signs in, and it has
//! no sessions) and unlock it, or sign it out everywhere (`server::operator`). Every way into a session
//! checks the lock where it notes the sign-in (`users::record_sign_in`), so no way in is missed.

use super::activity::{self, Event, Kind};
use super::{email_tokens, users};
use crate::server::sessions::{self, ClientInfo};
use crate::server::{AppState, Error};

/// What an operator's change is recorded as coming from: no network, no browser.
pub const OPERATOR: ClientInfo = ClientInfo { ip: None, user_agent: None };

/// Locks the account: its sessions end, and so does everything halfway that could act for it later
/// (`end_sessions_and_everything_halfway`).
/// `None` if it was locked already; else how many sessions ended.
pub async fn lock(app: &AppState, user_id: &str) -> Result<Option<u64>, Error> {
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    if !users::set_locked(&mut *tx, user_id, Some(now)).await? {
        return Ok(None);
    }
    let ended = end_sessions_and_everything_halfway(&mut tx, user_id).await?;
    activity::record(&mut *tx, now, Event::new(Kind::AccountLocked, user_id, &OPERATOR)).await?;
    tx.commit().await?;
    app.sessions_changed(user_id).await;
    Ok(Some(ended))
}

/// Unlocks the account; false if it was not locked.
pub async fn unlock(app: &AppState, user_id: &str) -> Result<bool, Error> {
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    if !users::set_locked(&mut *tx, user_id, None).await? {
        return Ok(false);
    }
    activity::record(&mut *tx, now, Event::new(Kind::AccountUnlocked, user_id, &OPERATOR)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends every session of the account (its owner can sign in again); how many ended.
pub async fn sign_out_everywhere(app: &AppState, user_id: &str) -> Result<u64, Error> {
    let mut tx = app.db.writes().begin().await?;
    // The user's row first, as every change to an account's sessions takes it (`users::hold`).
    if !users::hold(&mut *tx, user_id, None).await? {
        return Ok(0);
    }
    let ended = sessions::end_all_for_user(&mut *tx, user_id).await?;
    let detail = ended.to_string();
    let event = Event::new(Kind::SignedOutByOperator, user_id, &OPERATOR).detail(&detail);
    activity::record(&mut *tx, app.now(), event).await?;
    tx.commit().await?;
    app.sessions_changed(user_id).await;
    Ok(ended)
}

/// Ends the account's sessions, in the caller's transaction, and everything halfway that could act for it
/// later: mailed links (such as a pending email change), sign-ins waiting for a second step, passkeys
/// being added. How many sessions ended. For an account nobody may use from now on (locked, deleted).
pub(super) async fn end_sessions_and_everything_halfway(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let ended = sessions::end_all_for_user(&mut **tx, user_id).await?;
    email_tokens::revoke_all(&mut **tx, user_id).await?;
    for halfway in ["two_factor_challenges", "passkey_registrations"] {
        sqlx::query(&format!("DELETE FROM {halfway} WHERE user_id = $1")).bind(user_id).execute(&mut **tx).await?;
    }
    Ok(ended)
}
