//! New-device alerts and "This wasn't me". When an account signs in from a browser it has not used
//! before (`known_devices::is_new`), its address gets "New sign-in to your account" with the device, the
//! network address and the time, and a link to `/secure-account`. There, "Secure my account" takes the
//! account back from whoever signed in:
//!
//! - every session ends, and every sign-in halfway (a second step, a passkey ceremony);
//! - every mailed link dies, and the password is retired: a reset link goes to the owner's address;
//! - every remembered device is forgotten (each is a stranger again, with a stranger's limits);
//! - a passkey added, or two-factor turned on, since that sign-in is removed: whoever signed in could
//!   otherwise keep a way in, or lock the owner out with their own authenticator app.
//!
//! The link is single-use and expires (`LINK_VALID_FOR`); a password change does not void it
//! (`email_tokens::revoke_all`), so whoever signed in cannot disarm it. Opening it changes nothing: mail
//! scanners open links.

use super::activity::{self, Event, Kind};
use super::email_tokens::{self, Purpose};
use super::{known_devices, passwords, two_factor, users};
use crate::error::AppError;
use crate::routes::paths;
use crate::server::mail::messages::{self, NewSignIn};
use crate::server::platform::clock::UnixTime;
use crate::server::sessions::{self, user_agents, ClientInfo};
use crate::server::{AppState, Error};
use std::time::Duration;

/// How long "This wasn't me" works.
pub const LINK_VALID_FOR: Duration = Duration::from_secs(7 * 86_400);

/// Mails the alert for a sign-in from a new device (`at`: the sign-in's time), once the sign-in is
/// committed, after the answer: nothing of it may hold up the sign-in, nor hold a second database
/// connection while the sign-in's transaction holds one. Past the account's allowance of alerts
/// (`RateLimits::new_device_alert`) none is sent: one link secures the account from every browser.
pub(super) fn alert_new_device(app: &AppState, user_id: &str, client: &ClientInfo, at: UnixTime) {
    let (app, user_id, client) = (app.clone(), user_id.to_owned(), client.clone());
    let task = app.clone();
    task.in_background("new-device alert", async move {
        if app.limits.new_device_alert(&user_id).await.is_err() {
            tracing::info!(target: "audit", user_id, "new-device alert not sent: too many this hour");
            return Ok(());
        }
        let Some(user) = users::get(app.db.reads(), &user_id).await? else { return Ok(()) };
        let link = email_tokens::issue(
            app.db.writes(),
            &app.secret_key,
            at,
            &user_id,
            Purpose::SecureAccount,
            &user.email,
            LINK_VALID_FOR,
        )
        .await?;
        let secure_link = app.link(paths::SECURE_ACCOUNT, &[("token", &link.token)]);
        let device = user_agents::describe(client.user_agent.as_deref());
        let ip = client.ip.as_deref().unwrap_or("unknown");
        let at = crate::time_format::exact_utc(at);
        let sign_in = NewSignIn { device: &device, ip, at: &at };
        app.mailer
            .send(messages::new_sign_in(&user.email, user.name_for_mail(), &sign_in, &secure_link, LINK_VALID_FOR))
            .await
    });
}

/// Whether a "This wasn't me" link still works, without using it.
pub async fn link_is_usable(app: &AppState, token: &str) -> Result<bool, Error> {
    Ok(email_tokens::peek(app.db.reads(), app.now(), token, &[Purpose::SecureAccount]).await?.is_some())
}

/// "Secure my account" (see the module's comment). Returns the account's id.
pub async fn secure(app: &AppState, token: &str, client: &ClientInfo) -> Result<String, Error> {
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    let (link, user) = email_tokens::redeem_for_account(&mut tx, now, token, &[Purpose::SecureAccount])
        .await?
        .ok_or(AppError::InvalidLink)?;
    users::set_password(&mut *tx, &user.id, now, &passwords::unusable_hash()).await?;
    let ended = sessions::end_all_for_user(&mut *tx, &user.id).await?;
    email_tokens::revoke_all(&mut *tx, &user.id).await?;
    known_devices::forget_all_but(&mut *tx, &user.id, None).await?;
    let removed = remove_methods_added_since(&mut tx, &user.id, link.issued_at).await?;
    let detail = removed.to_string();
    activity::record(&mut *tx, now, Event::new(Kind::AccountSecured, &user.id, client).detail(&detail)).await?;
    let ttl = app.settings.tokens.reset_password_ttl;
    let reset =
        email_tokens::issue(&mut *tx, &app.secret_key, now, &user.id, Purpose::ResetPassword, &user.email, ttl).await?;
    let reset_link = app.link(paths::RESET_PASSWORD, &[("token", &reset.token)]);
    let mail = app.mailer.prepare(messages::account_secured(&user.email, user.name_for_mail(), &reset_link, ttl))?;
    tx.commit().await?;
    app.sessions_changed(&user.id).await;
    tracing::info!(target: "audit", user_id = %user.id, sessions_ended = ended, methods_removed = removed, "account secured");
    app.mailer.deliver(mail).await?;
    Ok(user.id)
}

/// Removes the passkeys added since `since`, and two-factor if it was turned on since then, with every
/// sign-in halfway; how many sign-in methods went.
async fn remove_methods_added_since(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    since: UnixTime,
) -> Result<u64, sqlx::Error> {
    let passkeys = sqlx::query("DELETE FROM passkeys WHERE user_id = $1 AND created_at >= $2")
        .bind(user_id)
        .bind(since)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    let two_factor = two_factor::turn_off_if_on_since(tx, user_id, since).await?;
    // A passkey ceremony halfway needs a session, and every session ends.
    sqlx::query("DELETE FROM two_factor_challenges WHERE user_id = $1").bind(user_id).execute(&mut **tx).await?;
    Ok(passkeys + u64::from(two_factor))
}
