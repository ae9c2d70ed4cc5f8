//! Accounts: sign up, verify, sign in, sign out. The names follow the Altogic client the tutorial used
//! (`signUpWithEmail`, `signInWithEmail`, `getAuthGrant`, `signOut`).
//!
//! Every function takes parsed input and returns either a result or an `Error`; the server functions in
//! `src/api` turn those into cookies, redirects and messages.

use super::audit;
use super::email_tokens::{self, Purpose};
use super::emails;
use super::error::Error;
use super::passwords;
use super::sessions::{self, ClientInfo, CurrentSession};
use super::state::AppState;
use super::users::{self, Created, User};
use crate::api::AppError;
use crate::domain::{DisplayName, Email, Password};
use crate::routes::paths;

pub enum SignUpOutcome {
    /// A link was mailed; the account is usable once it is opened.
    CheckEmail,
    /// Verification is switched off: signed in at once with this session token.
    SignedIn { session_token: String },
}

pub async fn sign_up(
    app: &AppState,
    name: DisplayName,
    email: Email,
    password: Password,
    client: &ClientInfo,
) -> Result<SignUpOutcome, Error> {
    passwords::check_strength(&password, &[name.as_str(), email.as_str()])?;
    // Hash first, whatever happens next, so a taken address answers as slowly as a new one.
    let password_hash = app.passwords.hash(&password).await?;
    let now = app.now();
    let verification = app.settings.app.email_verification;
    match users::create(&app.db, now, &email, &name, &password_hash).await? {
        Created::User(user) => {
            audit::event("sign_up", &user.id);
            if verification {
                send_verification(app, &user).await?;
                Ok(SignUpOutcome::CheckEmail)
            } else {
                let session_token = start_session(app, &user, client).await?;
                Ok(SignUpOutcome::SignedIn { session_token })
            }
        }
        // Without verification there is no mail to hide behind, and the user must be told.
        Created::EmailTaken if !verification => Err(AppError::EmailTaken.into()),
        Created::EmailTaken => {
            let Some(existing) = users::find_by_email(&app.db, &email).await? else {
                return Err(Error::Internal("email reported taken but no user found".into()));
            };
            if existing.is_verified() {
                let login = app.link(paths::LOGIN, &[]);
                app.mailer.send(emails::account_exists(&existing.email, existing.name_for_mail(), &login)).await?;
                audit::event("sign_up_existing_verified", &existing.id);
            } else {
                // Nobody has proved they own this address yet, and now two sign-ups claim it: the first may
                // be its owner's and this one an attacker's, or the first someone "pre-registering" the
                // address and this one its owner. Whichever password were kept, the owner's click on the
                // link would hand the account to whoever chose it. So neither is kept, earlier links die,
                // and the owner chooses a password from the link mailed now, which also confirms the address.
                users::replace_unverified(&app.db, &existing.id, now, &name, &passwords::unusable_hash()).await?;
                email_tokens::revoke_all(app.db.writes(), &existing.id).await?;
                let existing = User { name: name.as_str().to_owned(), ..existing };
                // Valid as long as a verification link would be: it stands in for one.
                let ttl = app.settings.tokens.verify_email_ttl;
                let link = super::account::reset_link(app, &existing, ttl).await?;
                app.mailer.send(emails::signed_up_again(&existing.email, existing.name_for_mail(), &link, ttl)).await?;
                audit::event("sign_up_existing_unverified", &existing.id);
            }
            Ok(SignUpOutcome::CheckEmail)
        }
    }
}

/// Signs in with email and password and returns the new session token. Every failure looks the same.
pub async fn sign_in(app: &AppState, email: &str, password: &str, client: &ClientInfo) -> Result<String, Error> {
    // Over-long passwords are refused before hashing: hashing megabytes would be a cheap denial of service.
    if password.chars().count() > Password::MAX_CHARS {
        return Err(AppError::InvalidCredentials.into());
    }
    let user = match Email::parse(email) {
        Ok(email) => users::find_by_email(&app.db, &email).await?,
        Err(_) => None,
    };
    // Unknown addresses are checked against a dummy hash so they take as long as a wrong password.
    let matches = app.passwords.verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let user = match user {
        Some(user) if matches => user,
        Some(user) => {
            audit::event("sign_in_failed", &user.id);
            return Err(AppError::InvalidCredentials.into());
        }
        None => {
            audit::unknown_account("sign_in_failed_unknown_email");
            return Err(AppError::InvalidCredentials.into());
        }
    };
    if app.settings.app.email_verification && !user.is_verified() {
        audit::event("sign_in_unverified", &user.id);
        return Err(AppError::EmailNotVerified.into());
    }
    let now = app.now();
    let limits = &app.settings.sessions;
    let Some(token) =
        sessions::start_if_password_is(&app.db, now, limits, &user.id, client, &user.password_hash).await?
    else {
        // The password changed while it was being checked (a reset): the old one no longer signs in.
        audit::event("sign_in_failed_password_changed", &user.id);
        return Err(AppError::InvalidCredentials.into());
    };
    signed_in(app, &user.id, now).await?;
    Ok(token)
}

/// Redeems a link from a verification or magic-link mail: the address is now verified, and a session
/// starts. Returns the session token.
pub async fn grant(app: &AppState, access_token: &str, client: &ClientInfo) -> Result<String, Error> {
    let now = app.now();
    let redeemed =
        email_tokens::redeem(app.db.writes(), now, access_token, &[Purpose::VerifyEmail, Purpose::MagicLink])
            .await?
            .ok_or(AppError::InvalidLink)?;
    let user = users::get(app.db.reads(), &redeemed.user_id).await?.ok_or(AppError::InvalidLink)?;
    // A link only vouches for the address it was sent to.
    if user.email != redeemed.sent_to {
        return Err(AppError::InvalidLink.into());
    }
    if !user.is_verified() {
        if redeemed.purpose == Purpose::MagicLink {
            // Whoever registered this address never proved it was theirs, so the password they chose may
            // be someone else's (an attacker "pre-registering" it). The mailbox owner is proving it now:
            // that password goes. They can choose their own with "Forgot password?".
            users::set_password(app.db.writes(), &user.id, now, &passwords::unusable_hash()).await?;
            audit::event("unverified_password_discarded", &user.id);
        }
        users::mark_email_verified(app.db.writes(), &user.id, now).await?;
        // The address is proved: a verification link still in the mailbox must not sign in for another day.
        email_tokens::revoke(app.db.writes(), &user.id, &[Purpose::VerifyEmail]).await?;
        audit::event("email_verified", &user.id);
    }
    start_session(app, &user, client).await
}

/// The masked address of the account a sign-in link is for, if the link still works; uses nothing.
pub async fn preview_link(app: &AppState, access_token: &str) -> Result<Option<String>, Error> {
    let found =
        email_tokens::peek(&app.db, app.now(), access_token, &[Purpose::VerifyEmail, Purpose::MagicLink]).await?;
    Ok(found.and_then(|t| Email::parse(&t.sent_to).ok()).map(|e| e.masked()))
}

/// Mails a fresh verification link if the address belongs to an unverified account.
pub fn resend_verification(app: &AppState, email: Email) {
    if !app.settings.app.email_verification {
        return;
    }
    let app = app.clone();
    in_background("resend verification", async move {
        if let Some(user) = users::find_by_email(&app.db, &email).await? {
            if !user.is_verified() {
                send_verification(&app, &user).await?;
                audit::event("verification_resent", &user.id);
            }
        }
        Ok(())
    });
}

/// Mails a sign-in link if the address has an account (Altogic's `sendMagicLinkEmail`). Opening it is
/// `grant`; it also verifies the address.
pub fn send_magic_link(app: &AppState, email: Email) {
    let app = app.clone();
    in_background("magic link", async move {
        if let Some(user) = users::find_by_email(&app.db, &email).await? {
            let ttl = app.settings.tokens.magic_link_ttl;
            let token = email_tokens::issue(&app.db, app.now(), &user.id, Purpose::MagicLink, &user.email, ttl).await?;
            let link = app.link(paths::AUTH_REDIRECT, &[("access_token", &token)]);
            app.mailer.send(emails::magic_link(&user.email, user.name_for_mail(), &link, ttl)).await?;
            audit::event("magic_link_sent", &user.id);
        }
        Ok(())
    });
}

/// Requests that reveal nothing about who has an account (magic link, password reset, resend) answer
/// at once and do their work here, so the answer and its timing are the same for every address.
pub(super) fn in_background(
    what: &'static str,
    work: impl std::future::Future<Output = Result<(), Error>> + Send + 'static,
) {
    tokio::spawn(async move {
        if let Err(e) = work.await {
            tracing::error!(task = what, error = %e, "background task failed");
        }
    });
}

pub async fn sign_out(app: &AppState, session: &CurrentSession) -> Result<(), Error> {
    sessions::end(&app.db, &session.session_id).await?;
    audit::event("sign_out", &session.user_id);
    Ok(())
}

async fn send_verification(app: &AppState, user: &User) -> Result<(), Error> {
    let ttl = app.settings.tokens.verify_email_ttl;
    let token = email_tokens::issue(&app.db, app.now(), &user.id, Purpose::VerifyEmail, &user.email, ttl).await?;
    let link = app.link(paths::AUTH_REDIRECT, &[("access_token", &token)]);
    app.mailer.send(emails::verify_email(&user.email, user.name_for_mail(), &link, ttl)).await
}

async fn start_session(app: &AppState, user: &User, client: &ClientInfo) -> Result<String, Error> {
    let now = app.now();
    let token = sessions::start(&app.db, now, &app.settings.sessions, &user.id, client).await?;
    signed_in(app, &user.id, now).await?;
    Ok(token)
}

async fn signed_in(app: &AppState, user_id: &str, now: super::clock::UnixTime) -> Result<(), Error> {
    users::record_login(&app.db, user_id, now).await?;
    audit::event("sign_in", user_id);
    Ok(())
}
