//! Deleting an account, with a grace period in which its owner can change their mind:
//!
//! - "Delete account" (after the password), or `authkit admin schedule-deletion`, ends every session and
//!   everything halfway (`lifecycle::end_sessions_and_everything_halfway`, as a lock does) and records in
//!   `account_deletions` when the account is to be erased: `app.deletion_grace` from now. From then on
//!   nobody signs in (`users::record_sign_in`), and a right password is told why
//!   (`AppError::AccountBeingDeleted`).
//! - The owner is mailed the erase date and a "Cancel deletion" link, single-use and good until that
//!   date; the row keeps only its hash. Using it removes the row: the account is as it was, less its
//!   sessions.
//! - Once the date has passed, `erase_due` (each app server's housekeeping) or `authkit admin erase-now`
//!   claims one account at a time, deletes its stored files, then every row in one transaction (every
//!   table refers to users with ON DELETE CASCADE). A claim is a lease (`ERASE_LEASE`): of several app
//!   servers one erases; a claim left by a crash runs out and the account is claimed again, its files
//!   deleted again (a missing file is no error) and its rows in one go, so no account is left half
//!   erased. A claimed account can no longer be cancelled.

use super::activity::{self, Event, Kind};
use super::credentials::begin_with_current_password;
use super::lifecycle::{end_sessions_and_everything_halfway, OPERATOR};
use super::users::{self, User};
use crate::error::AppError;
use crate::routes::paths;
use crate::server::mail::messages;
use crate::server::mail::transport::OutgoingMail;
use crate::server::platform::clock::{secs, UnixTime};
use crate::server::platform::secrets::{hash_token, is_well_formed, new_id, new_token};
use crate::server::sessions::{ClientInfo, CurrentSession};
use crate::server::{AppState, Error};
use crate::time_format::exact_utc;
use std::time::Duration;

/// How long an eraser's claim on an account holds before another app server may take it: far longer than
/// erasing one takes (a file deleted and one transaction).
pub const ERASE_LEASE: Duration = Duration::from_secs(15 * 60);

/// The tables that hold an account's rows, counted for the log when it is erased. The erase itself does
/// not depend on this list: deleting the user's row cascades to every table that refers to it.
const ACCOUNT_TABLES: [&str; 10] = [
    "sessions",
    "email_tokens",
    "known_devices",
    "two_factor",
    "recovery_codes",
    "two_factor_challenges",
    "passkeys",
    "passkey_registrations",
    "security_events",
    "account_deletions",
];

/// "Delete account": the signed-in owner, after the current password. Returns when it will be erased.
pub async fn delete_own_account(
    app: &AppState,
    session: &CurrentSession,
    current_password: &str,
    client: &ClientInfo,
) -> Result<UnixTime, Error> {
    let (user, tx) = begin_with_current_password(app, session, current_password).await?;
    // Deleted twice at once: the first ended this session, so the second finds it gone.
    schedule_in(app, tx, &user, client).await?.ok_or_else(|| AppError::SessionEnded.into())
}

/// `authkit admin schedule-deletion`: as if the owner had deleted the account, mail included. `None` if its
/// deletion was scheduled already.
pub async fn schedule_by_operator(app: &AppState, user_id: &str) -> Result<Option<UnixTime>, Error> {
    let mut tx = app.db.writes().begin().await?;
    if !users::hold(&mut *tx, user_id, None).await? {
        return Err(Error::Internal(format!("no account {user_id}")));
    }
    let user = users::get(&mut *tx, user_id).await?.ok_or_else(|| Error::Internal(format!("no account {user_id}")))?;
    schedule_in(app, tx, &user, &OPERATOR).await
}

/// Schedules the erasure in `tx`, where the caller holds the account's row, commits and mails the owner.
/// `None` if it was scheduled already.
async fn schedule_in(
    app: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
    client: &ClientInfo,
) -> Result<Option<UnixTime>, Error> {
    let now = app.now();
    let erase_after = now.saturating_add(secs(app.settings.app.deletion_grace));
    let token = new_token();
    let scheduled = sqlx::query(
        "INSERT INTO account_deletions (user_id, requested_at, erase_after, cancel_token_hash) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(&user.id)
    .bind(now)
    .bind(erase_after)
    .bind(hash_token(&token))
    .execute(&mut *tx)
    .await?;
    if scheduled.rows_affected() == 0 {
        return Ok(None);
    }
    let ended = end_sessions_and_everything_halfway(&mut tx, &user.id).await?;
    activity::record(&mut *tx, now, Event::new(Kind::DeletionScheduled, &user.id, client)).await?;
    let mail = app.mailer.prepare(cancel_mail(app, user, &token, erase_after))?;
    tx.commit().await?;
    app.sessions_changed(&user.id).await;
    tracing::info!(target: "audit", user_id = %user.id, sessions_ended = ended, erase_after, "account deletion scheduled");
    // The deletion stands if the mail cannot go: signing in with the password mails a new link
    // (`mail_cancel_link_again`), and the operator can cancel (`authkit admin cancel-deletion`).
    if let Err(e) = app.mailer.deliver(mail).await {
        tracing::error!(user_id = %user.id, error = %e, "the deletion's mail could not be sent");
    }
    Ok(Some(erase_after))
}

/// Mails the "Cancel deletion" link of an account being deleted again, as a new link (the older one stops
/// working), after right credentials for it: its owner may have lost the first mail. In the background,
/// within the account's allowance of such mail; nothing if an eraser has claimed it.
pub(super) fn mail_cancel_link_again(app: &AppState, user_id: &str) {
    let (app, user_id) = (app.clone(), user_id.to_owned());
    let task = app.clone();
    task.in_background("cancel-deletion link again", async move {
        if app.limits.cancel_link_again(&user_id).await.is_err() {
            return Ok(());
        }
        let token = new_token();
        let erase_after: Option<UnixTime> = sqlx::query_scalar(
            "UPDATE account_deletions SET cancel_token_hash = $2 \
             WHERE user_id = $1 AND eraser IS NULL AND erase_after > $3 RETURNING erase_after",
        )
        .bind(&user_id)
        .bind(hash_token(&token))
        .bind(app.now())
        .fetch_optional(app.db.writes())
        .await?;
        let (Some(erase_after), Some(user)) = (erase_after, users::get(app.db.reads(), &user_id).await?) else {
            return Ok(());
        };
        app.mailer.send(cancel_mail(&app, &user, &token, erase_after)).await
    });
}

/// "Your account will be deleted": the erase date and the "Cancel deletion" link of `token`.
fn cancel_mail(app: &AppState, user: &User, token: &str, erase_after: UnixTime) -> OutgoingMail {
    let cancel_link = app.link(paths::CANCEL_DELETION, &[("token", token)]);
    messages::deletion_scheduled(&user.email, user.name_for_mail(), &exact_utc(erase_after), &cancel_link)
}

/// Whether a "Cancel deletion" link still works, without using it.
pub async fn cancel_link_is_usable(app: &AppState, token: &str) -> Result<bool, Error> {
    Ok(cancellable_by_link(app.db.reads(), app.now(), token).await?.is_some())
}

/// The account whose deletion this link cancels, if it still can: before the erase date, and before an
/// eraser has claimed it.
async fn cancellable_by_link<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    now: UnixTime,
    token: &str,
) -> Result<Option<String>, sqlx::Error> {
    if !is_well_formed(token) {
        return Ok(None);
    }
    sqlx::query_scalar(
        "SELECT user_id FROM account_deletions WHERE cancel_token_hash = $1 AND erase_after > $2 AND eraser IS NULL",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(db)
    .await
}

/// "Cancel deletion", from the mailed link: the account is kept, as it was. Returns its id.
pub async fn cancel_with_link(app: &AppState, token: &str, client: &ClientInfo) -> Result<String, Error> {
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    let user_id = cancellable_by_link(&mut *tx, now, token).await?.ok_or(AppError::InvalidLink)?;
    // The account's row first, as every change to an account takes it; then the deletion, if it still
    // can be cancelled (an eraser may have claimed it meanwhile).
    if !users::hold(&mut *tx, &user_id, None).await? {
        return Err(AppError::InvalidLink.into());
    }
    let cancelled = sqlx::query(
        "DELETE FROM account_deletions WHERE user_id = $1 AND cancel_token_hash = $2 AND erase_after > $3 \
         AND eraser IS NULL",
    )
    .bind(&user_id)
    .bind(hash_token(token))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if cancelled.rows_affected() == 0 {
        return Err(AppError::InvalidLink.into());
    }
    finish_cancel(app, tx, &user_id, client).await?;
    Ok(user_id)
}

/// What `authkit admin cancel-deletion` did.
pub enum OperatorCancel {
    Cancelled,
    NotScheduled,
    /// An eraser has claimed it: too late.
    BeingErased,
}

/// `authkit admin cancel-deletion`: as the owner's link would, whenever the link was lost.
pub async fn cancel_by_operator(app: &AppState, user_id: &str) -> Result<OperatorCancel, Error> {
    let mut tx = app.db.writes().begin().await?;
    if !users::hold(&mut *tx, user_id, None).await? {
        return Ok(OperatorCancel::NotScheduled);
    }
    let eraser: Option<Option<String>> = sqlx::query_scalar("SELECT eraser FROM account_deletions WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    match eraser {
        None => return Ok(OperatorCancel::NotScheduled),
        Some(Some(_)) => return Ok(OperatorCancel::BeingErased),
        Some(None) => {}
    }
    // An eraser's claim does not take the account's row: the condition is checked again by the DELETE,
    // which on PostgreSQL waits for a claim being made and then sees it.
    let cancelled = sqlx::query("DELETE FROM account_deletions WHERE user_id = $1 AND eraser IS NULL")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if cancelled.rows_affected() == 0 {
        return Ok(OperatorCancel::BeingErased);
    }
    finish_cancel(app, tx, user_id, &OPERATOR).await?;
    Ok(OperatorCancel::Cancelled)
}

async fn finish_cancel(
    app: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    client: &ClientInfo,
) -> Result<(), Error> {
    let user = users::get(&mut *tx, user_id).await?.ok_or(AppError::InvalidLink)?;
    activity::record(&mut *tx, app.now(), Event::new(Kind::DeletionCancelled, user_id, client)).await?;
    let login_link = app.link(paths::LOGIN, &[]);
    let mail = app.mailer.prepare(messages::deletion_cancelled(&user.email, user.name_for_mail(), &login_link))?;
    tx.commit().await?;
    tracing::info!(target: "audit", user_id, "account deletion cancelled");
    app.mailer.deliver(mail).await?;
    Ok(())
}

/// An app server's claim on an account to erase.
struct Claim {
    user_id: String,
    eraser: String,
}

/// Erases every account whose grace period is over, one at a time, as this app server's claims allow;
/// how many. Run by each server's housekeeping.
pub async fn erase_due(app: &AppState) -> Result<u64, Error> {
    let mut erased = 0;
    // Each claim takes an account no other claim holds, so this ends; one that fails (its bucket is
    // away, say) stays claimed until its lease runs out and is tried again then, by any server.
    while let Some(claim) = claim_one(app, None).await? {
        match erase_claimed(app, &claim).await {
            Ok(true) => erased += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(user_id = %claim.user_id, error = %e, "could not erase an account; tried again later")
            }
        }
    }
    Ok(erased)
}

/// What `erase_now` did.
pub enum EraseNow {
    Erased,
    /// Another app server (or a crashed one, whose claim has not run out yet) is erasing it.
    ClaimedElsewhere {
        until: UnixTime,
    },
}

/// `authkit admin erase-now`: erases the account at once, scheduled for deletion or not; no mail (there is
/// nobody left to read one).
pub async fn erase_now(app: &AppState, user_id: &str) -> Result<EraseNow, Error> {
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    if !users::hold(&mut *tx, user_id, None).await? {
        return Ok(EraseNow::Erased);
    }
    // Due now; a cancel link already mailed stops working with it (`cancellable_by_link`).
    sqlx::query(
        "INSERT INTO account_deletions (user_id, requested_at, erase_after, cancel_token_hash) \
         VALUES ($1, $2, $2, $3) ON CONFLICT (user_id) DO UPDATE SET erase_after = $2",
    )
    .bind(user_id)
    .bind(now)
    .bind(hash_token(&new_token()))
    .execute(&mut *tx)
    .await?;
    end_sessions_and_everything_halfway(&mut tx, user_id).await?;
    tx.commit().await?;
    app.sessions_changed(user_id).await;
    match claim_one(app, Some(user_id)).await? {
        Some(claim) => match erase_claimed(app, &claim).await? {
            true => Ok(EraseNow::Erased),
            false => Err(Error::Internal("another app server took the account over while it was being erased".into())),
        },
        None => {
            let until: Option<Option<i64>> =
                sqlx::query_scalar("SELECT erasing_until FROM account_deletions WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(app.db.reads())
                    .await?;
            match until {
                // Erased meanwhile by whoever held the claim.
                None => Ok(EraseNow::Erased),
                Some(until) => Ok(EraseNow::ClaimedElsewhere { until: until.unwrap_or(now) }),
            }
        }
    }
}

/// Claims the account due for erasure the longest (or `only` that one, if it is due) for this server, for
/// `ERASE_LEASE`. One statement: of several servers claiming at once, one gets each account (PostgreSQL
/// checks the conditions again on the row it waited for; SQLite has one writer at a time).
async fn claim_one(app: &AppState, only: Option<&str>) -> Result<Option<Claim>, Error> {
    let now = app.now();
    let eraser = new_id();
    const DUE: &str = "erase_after <= $3 AND (erasing_until IS NULL OR erasing_until <= $3)";
    let user_id: Option<String> = sqlx::query_scalar(&format!(
        "UPDATE account_deletions SET eraser = $1, erasing_until = $2 \
         WHERE user_id = (SELECT user_id FROM account_deletions WHERE {DUE} AND ($4 IS NULL OR user_id = $4) \
                          ORDER BY erase_after, user_id LIMIT 1) \
         AND {DUE} RETURNING user_id"
    ))
    .bind(&eraser)
    .bind(now.saturating_add(secs(ERASE_LEASE)))
    .bind(now)
    .bind(only)
    .fetch_optional(app.db.writes())
    .await?;
    Ok(user_id.map(|user_id| Claim { user_id, eraser }))
}

/// Erases a claimed account: its files, then its rows in one transaction, if the claim is still this
/// server's (a claim whose lease ran out may have been taken over; a claimed account is never cancelled,
/// so deleting its files first loses nothing). Logs what went, as ids and counts.
async fn erase_claimed(app: &AppState, claim: &Claim) -> Result<bool, Error> {
    let user_id = claim.user_id.as_str();
    let mut files = 0;
    let avatar = users::get(app.db.writes(), user_id).await?.and_then(|user| user.avatar_key);
    if let Some(avatar) = &avatar {
        app.storage.delete_avatar(avatar).await?;
        files += 1;
    }
    let mut tx = app.db.writes().begin().await?;
    if !users::hold(&mut *tx, user_id, None).await? {
        return Ok(false);
    }
    // An upload that passed its session check before the deletion may have landed since.
    let newer =
        users::get(&mut *tx, user_id).await?.and_then(|user| user.avatar_key).filter(|a| Some(a) != avatar.as_ref());
    if let Some(newer) = newer {
        app.storage.delete_avatar(&newer).await?;
        files += 1;
    }
    let still_ours: Option<String> =
        sqlx::query_scalar("SELECT user_id FROM account_deletions WHERE user_id = $1 AND eraser = $2")
            .bind(user_id)
            .bind(&claim.eraser)
            .fetch_optional(&mut *tx)
            .await?;
    if still_ours.is_none() {
        tracing::warn!(user_id, "erasing an account took longer than its claim: left to the server that took it");
        return Ok(false);
    }
    let mut counts = Vec::with_capacity(ACCOUNT_TABLES.len());
    for table in ACCOUNT_TABLES {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1"))
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        if count > 0 {
            counts.push(format!("{table}={count}"));
        }
    }
    sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
    tx.commit().await?;
    tracing::info!(target: "audit", user_id, files, rows = %counts.join(" "), "account erased");
    Ok(true)
}
