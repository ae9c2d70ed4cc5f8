//! Managing an account's credentials: reset a forgotten password by email, change the password, change
//! the email address (confirmed from the new address).

use super::audit;
use super::auth::in_background;
use super::email_tokens::{self, Purpose};
use super::emails;
use super::error::Error;
use super::sessions::{self, CurrentSession};
use super::state::AppState;
use super::users::{self, Created, User};
use crate::api::AppError;
use crate::domain::{Email, Field, InputError, Password};
use crate::routes::paths;

/// Mails a reset link if the address has an account. Same answer and timing for every address.
pub fn request_password_reset(app: &AppState, email: Email) {
    let app = app.clone();
    in_background("password reset", async move {
        if let Some(user) = users::find_by_email(&app.db, &email).await? {
            let ttl = app.settings.tokens.reset_password_ttl;
            let token =
                email_tokens::issue(&app.db, app.now(), &user.id, Purpose::ResetPassword, &user.email, ttl).await?;
            let link = app.link(paths::RESET_PASSWORD, &[("token", &token)]);
            app.mailer.send(emails::reset_password(&user.email, &user.name, &link, ttl)).await?;
            audit::event("password_reset_requested", &user.id);
        }
        Ok(())
    });
}

/// Whether a reset link can still be used, without using it.
pub async fn reset_link_is_usable(app: &AppState, token: &str) -> Result<bool, Error> {
    Ok(email_tokens::is_usable(&app.db, app.now(), token, Purpose::ResetPassword).await?)
}

/// Sets a new password from a reset link. Every session of the account ends: whoever had the old password
/// may have signed in with it. The user then logs in with the new password.
pub async fn reset_password(app: &AppState, token: &str, password: &Password) -> Result<(), Error> {
    // Hash before using the link, so a failure here leaves the link usable.
    let password_hash = app.passwords.hash(password).await?;
    let now = app.now();
    let redeemed =
        email_tokens::redeem(&app.db, now, token, &[Purpose::ResetPassword]).await?.ok_or(AppError::InvalidLink)?;
    let user = users::get(&app.db, &redeemed.user_id).await?.ok_or(AppError::InvalidLink)?;
    if user.email != redeemed.sent_to {
        return Err(AppError::InvalidLink.into());
    }
    users::set_password(&app.db, &user.id, now, &password_hash).await?;
    // The link proved the mailbox, as a verification link would have.
    users::mark_email_verified(&app.db, &user.id, now).await?;
    let ended = sessions::end_all_for_user(&app.db, &user.id).await?;
    audit::event("password_reset", &user.id);
    tracing::info!(target: "audit", user_id = %user.id, sessions_ended = ended, "sessions ended by password reset");
    let reset = app.link(paths::FORGOT_PASSWORD, &[]);
    app.mailer.send(emails::password_changed(&user.email, &user.name, &reset)).await
}

/// Changes the password of the signed-in user, who proves it is them with the current one. Their other
/// sessions end; this one stays.
pub async fn change_password(
    app: &AppState,
    session: &CurrentSession,
    current: &str,
    new: &Password,
) -> Result<(), Error> {
    let user = check_current_password(app, session, current).await?;
    if current == new.expose() {
        return Err(
            InputError::new(Field::NewPassword, "Choose a new password that differs from the current one.").into()
        );
    }
    let password_hash = app.passwords.hash(new).await?;
    users::set_password(&app.db, &user.id, app.now(), &password_hash).await?;
    let ended = sessions::end_all_except(&app.db, &user.id, &session.session_id).await?;
    audit::event("password_changed", &user.id);
    tracing::info!(target: "audit", user_id = %user.id, sessions_ended = ended, "sessions ended by password change");
    let reset = app.link(paths::FORGOT_PASSWORD, &[]);
    app.mailer.send(emails::password_changed(&user.email, &user.name, &reset)).await
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
    if users::find_by_email(&app.db, new_email).await?.is_some() {
        app.mailer.send(emails::email_in_use(new_email.as_str())).await?;
    } else {
        let ttl = app.settings.tokens.change_email_ttl;
        let token =
            email_tokens::issue(&app.db, app.now(), &user.id, Purpose::ChangeEmail, new_email.as_str(), ttl).await?;
        let link = app.link(paths::CONFIRM_EMAIL_CHANGE, &[("token", &token)]);
        app.mailer.send(emails::confirm_email_change(new_email.as_str(), &user.name, &link, ttl)).await?;
    }
    let reset = app.link(paths::FORGOT_PASSWORD, &[]);
    app.mailer.send(emails::email_change_requested(&user.email, &user.name, new_email.as_str(), &reset)).await?;
    audit::event("email_change_requested", &user.id);
    Ok(())
}

/// Applies an email change from the link mailed to the new address. Returns the new address.
pub async fn confirm_email_change(app: &AppState, token: &str) -> Result<String, Error> {
    let now = app.now();
    let redeemed =
        email_tokens::redeem(&app.db, now, token, &[Purpose::ChangeEmail]).await?.ok_or(AppError::InvalidLink)?;
    match users::change_email(&app.db, &redeemed.user_id, now, &redeemed.sent_to).await? {
        Created::User(user) => {
            audit::event("email_changed", &user.id);
            Ok(user.email)
        }
        // Someone registered the address between the request and the click.
        Created::EmailTaken => Err(AppError::InvalidLink.into()),
    }
}

async fn check_current_password(app: &AppState, session: &CurrentSession, password: &str) -> Result<User, Error> {
    let user = users::get(&app.db, &session.user_id).await?.ok_or(AppError::SessionEnded)?;
    if password.chars().count() > Password::MAX_CHARS
        || !app.passwords.verify(password, Some(&user.password_hash)).await?
    {
        audit::event("current_password_wrong", &user.id);
        return Err(InputError::new(Field::CurrentPassword, "That is not your current password.").into());
    }
    Ok(user)
}
