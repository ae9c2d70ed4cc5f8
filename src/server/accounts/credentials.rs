//! Managing an account's credentials: reset a forgotten password by email, change the password, change
//! the email address (confirmed from the new address).

use super::activity::{self, Event, Kind};
use super::audit;
use super::email_tokens::{self, Purpose};
use super::known_devices;
use super::sign_in::{start_session, Browser};
use super::users::{self, AddressClaim, User};
use crate::domain::{Email, Field, InputError, Password};
use crate::error::AppError;
use crate::routes::paths;
use crate::server::mail::messages;
use crate::server::platform::cpu_work::Admission;
use crate::server::sessions::{self, ClientInfo, CurrentSession};
use crate::server::{AppState, Error};

/// Whether a reset link can still be used, without using it.
pub async fn reset_link_is_usable(app: &AppState, token: &str) -> Result<bool, Error> {
    Ok(email_tokens::peek(app.db.reads(), app.now(), token, &[Purpose::ResetPassword]).await?.is_some())
}

/// Sets a new password from a reset link. Every session of the account ends (whoever had the old password
/// may have signed in with it) and every other mailed link dies; the user then logs in with the new
/// password. All of it happens in one transaction: a failure halfway leaves the link usable.
/// `browser`: the reset page's; its sign-up proof counts for an address not yet confirmed.
pub async fn reset_password(
    app: &AppState,
    token: &str,
    password: &Password,
    browser: &Browser<'_>,
) -> Result<(), Error> {
    let link = email_tokens::peek(app.db.reads(), app.now(), token, &[Purpose::ResetPassword])
        .await?
        .ok_or(AppError::InvalidLink)?;
    let owner = users::get(app.db.reads(), &link.user_id).await?.ok_or(AppError::InvalidLink)?;
    app.passwords
        .check_strength(Admission::Hash, password, &[&owner.name, &owner.email])
        .await?
        .map_err(|e| e.on(Field::NewPassword))?;
    let password_hash = app.passwords.hash(password).await?;
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    let (_, user) = email_tokens::redeem_for_account(&mut tx, now, token, &[Purpose::ResetPassword])
        .await?
        .ok_or(AppError::InvalidLink)?;
    // The link proved the mailbox, as a verification link would have.
    users::confirm_address(&mut *tx, &user, now, user.signed_up_in(browser.sign_up_proof)).await?;
    users::set_password(&mut *tx, &user.id, now, &password_hash).await?;
    let ended = sessions::end_all_for_user(&mut *tx, &user.id).await?;
    email_tokens::revoke_all(&mut *tx, &user.id).await?;
    known_devices::forget_all_but(&mut *tx, &user.id, None).await?;
    activity::record(&mut *tx, now, Event::new(Kind::PasswordReset, &user.id, browser.client)).await?;
    tx.commit().await?;
    app.sessions_changed(&user.id).await;
    tracing::info!(target: "audit", user_id = %user.id, sessions_ended = ended, "sessions ended by password reset");
    notify_password_changed(app, &user);
    Ok(())
}

/// Changes the password of the signed-in user, who proves it is them with the current one. Every session
/// of the account ends and pending mailed links die; this browser continues in a new session, whose token
/// is returned (a copy of the old cookie, wherever it went, is worthless).
pub async fn change_password(
    app: &AppState,
    session: &CurrentSession,
    current: &str,
    new: &Password,
    browser: &Browser<'_>,
) -> Result<String, Error> {
    let user = check_current_password(app, session, current).await?;
    if current == new.expose() {
        return Err(
            InputError::new(Field::NewPassword, "Choose a new password that differs from the current one.").into()
        );
    }
    app.passwords
        .check_strength(Admission::Hash, new, &[&user.name, &user.email])
        .await?
        .map_err(|e| e.on(Field::NewPassword))?;
    let password_hash = app.passwords.hash(new).await?;
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    // The account's row first (see `users::hold`), and only if nothing changed since the current password
    // was checked: a reset meanwhile has set another password and ended this session.
    still_as_checked(&mut tx, &user, session).await?;
    users::set_password(&mut *tx, &user.id, now, &password_hash).await?;
    let ended = sessions::end_all_for_user(&mut *tx, &user.id).await?;
    email_tokens::revoke_all(&mut *tx, &user.id).await?;
    known_devices::forget_all_but(&mut *tx, &user.id, Some(browser.device)).await?;
    let continued = start_session(app, &mut tx, &user.id, browser).await?;
    let event = Event::new(Kind::PasswordChanged, &user.id, browser.client).by_session(&continued.id);
    activity::record(&mut *tx, now, event).await?;
    tx.commit().await?;
    app.sessions_changed(&user.id).await;
    tracing::info!(target: "audit", user_id = %user.id, sessions_ended = ended.saturating_sub(1), "sessions ended by password change");
    notify_password_changed(app, &user);
    Ok(continued.token)
}

/// The change is done whatever happens to this mail, so it goes in the background: a mail server that
/// is down must not turn a saved change into an error page.
fn notify_password_changed(app: &AppState, user: &User) {
    let reset = app.link(paths::FORGOT_PASSWORD, &[]);
    let mail = messages::password_changed(&user.email, user.name_for_mail(), &reset);
    let mailer = app.mailer.clone();
    app.in_background("password change notice", async move { mailer.send(mail).await });
}

/// Starts moving the account to a new address: a confirm link goes to the new address, a notice to the
/// current one, and nothing changes until the link is used. If the new address belongs to another
/// account, that address gets a notice instead, and the answer here is the same.
pub async fn request_email_change(
    app: &AppState,
    session: &CurrentSession,
    current_password: &str,
    new_email: &Email,
) -> Result<(), Error> {
    let user = check_current_password(app, session, current_password).await?;
    if new_email.as_str() == user.email {
        return Err(InputError::new(Field::NewEmail, "That is already your email address.").into());
    }
    if users::find_by_email(app.db.reads(), new_email).await?.is_some() {
        app.mailer.send(messages::email_in_use(new_email.as_str())).await?;
    } else {
        let ttl = app.settings.tokens.change_email_ttl;
        let mut tx = app.db.writes().begin().await?;
        still_as_checked(&mut tx, &user, session).await?;
        let (key, now) = (&app.secret_key, app.now());
        let issued =
            email_tokens::issue(&mut *tx, key, now, &user.id, Purpose::ChangeEmail, new_email.as_str(), ttl).await?;
        tx.commit().await?;
        let link = app.link(paths::CONFIRM_EMAIL_CHANGE, &[("token", &issued.token)]);
        app.mailer.send(messages::confirm_email_change(new_email.as_str(), &link, ttl)).await?;
    }
    let reset = app.link(paths::FORGOT_PASSWORD, &[]);
    let notice = messages::email_change_requested(&user.email, user.name_for_mail(), new_email.as_str(), &reset);
    let mailer = app.mailer.clone();
    app.in_background("email change notice", async move { mailer.send(notice).await });
    audit::event("email_change_requested", &user.id);
    Ok(())
}

/// An email change a link would make, told before anything is used.
pub struct PendingEmailChange {
    /// The account that asked for the change.
    pub user_id: String,
    /// Its current address, masked ("a•••@example.com"): enough to recognise one's own account by, not
    /// the address itself, which the reader of the new address's mail need not learn.
    pub current: String,
    /// The address the link was mailed to, which its reader already knows.
    pub new_email: String,
}

/// What a change link would do, if it still works; uses nothing. A link whose new address has meanwhile
/// been taken by another account counts as unusable, as confirming it would fail.
pub async fn preview_email_change(app: &AppState, token: &str) -> Result<Option<PendingEmailChange>, Error> {
    let Some(link) = email_tokens::peek(app.db.reads(), app.now(), token, &[Purpose::ChangeEmail]).await? else {
        return Ok(None);
    };
    let Some(user) = users::get(app.db.reads(), &link.user_id).await? else { return Ok(None) };
    let Ok(new_email) = Email::parse(&link.sent_to) else { return Ok(None) };
    if users::find_by_email(app.db.reads(), &new_email).await?.is_some() {
        return Ok(None);
    }
    let current = Email::parse(&user.email).map(|e| e.masked()).unwrap_or_default();
    Ok(Some(PendingEmailChange { user_id: user.id, current, new_email: new_email.as_str().to_owned() }))
}

/// Applies an email change from the link mailed to the new address, in one transaction; the old address
/// is told. Returns the id of the account that changed.
pub async fn confirm_email_change(app: &AppState, token: &str, client: &ClientInfo) -> Result<String, Error> {
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    let (redeemed, before) = email_tokens::redeem_for_account(&mut tx, now, token, &[Purpose::ChangeEmail])
        .await?
        .ok_or(AppError::InvalidLink)?;
    let user = match users::change_email(&mut tx, &redeemed.user_id, now, &redeemed.sent_to).await? {
        AddressClaim::Claimed(user) => user,
        // Someone registered the address between the request and the click. The transaction is spent;
        // dropping it rolls it back.
        AddressClaim::Taken => return Err(AppError::InvalidLink.into()),
    };
    // Links mailed to the old address must not sign in to the account any more.
    email_tokens::revoke_all(&mut *tx, &user.id).await?;
    activity::record(&mut *tx, now, Event::new(Kind::EmailChanged, &user.id, client)).await?;
    tx.commit().await?;
    let reset = app.link(paths::FORGOT_PASSWORD, &[]);
    let notice = messages::email_changed(&before.email, user.name_for_mail(), &user.email, &reset);
    let mailer = app.mailer.clone();
    app.in_background("email changed notice", async move { mailer.send(notice).await });
    Ok(user.id)
}

/// Holds the account's row (`users::hold`) and checks, in `tx`, that its password is still the one just
/// checked and `session` still exists: otherwise a password reset has come in between, and whoever is
/// using this session may no longer act for the account.
pub(super) async fn still_as_checked(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
    session: &CurrentSession,
) -> Result<(), Error> {
    let unchanged = users::hold(&mut **tx, &user.id, Some(&user.password_hash)).await?;
    if !unchanged || !sessions::exists(&mut **tx, &session.session_id).await? {
        return Err(AppError::SessionEnded.into());
    }
    Ok(())
}

/// Starts a change that needs the current password: checks it, then opens the change's transaction with
/// the account held and still as checked (`still_as_checked`).
pub(super) async fn begin_with_current_password(
    app: &AppState,
    session: &CurrentSession,
    password: &str,
) -> Result<(User, sqlx::Transaction<'static, sqlx::Any>), Error> {
    let user = check_current_password(app, session, password).await?;
    let mut tx = app.db.writes().begin().await?;
    still_as_checked(&mut tx, &user, session).await?;
    Ok((user, tx))
}

pub(super) async fn check_current_password(
    app: &AppState,
    session: &CurrentSession,
    password: &str,
) -> Result<User, Error> {
    let user = users::get(app.db.reads(), &session.user_id).await?.ok_or(AppError::SessionEnded)?;
    if password.chars().count() > Password::MAX_CHARS
        || !app.passwords.verify(password, Some(&user.password_hash)).await?
    {
        audit::event("current_password_wrong", &user.id);
        return Err(InputError::new(Field::CurrentPassword, "That is not your current password.").into());
    }
    Ok(user)
}
