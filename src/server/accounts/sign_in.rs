//! Signing in: with a password, or with a link from a mail (verification or magic link); signing out.
//! The names follow the Altogic client the tutorial used (`signInWithEmail`, `getAuthGrant`, `signOut`).

use super::email_tokens::{self, Purpose};
use super::{audit, known_devices, two_factor, users};
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::routes::paths;
use crate::server::sessions::{self, ClientInfo, CurrentSession};
use crate::server::{AppState, Error};

/// The browser a request comes from, as far as signing in is concerned.
pub struct Browser<'a> {
    pub client: &'a ClientInfo,
    /// Its device token (`cookies::device`): the one it has, or the one it gets if this signs it in.
    pub device: &'a str,
    /// What an account signed up here keeps of the browser's sign-up secret (`cookies::sign_up`): the one it
    /// brought, or the one a sign-up here gives it (which no account keeps yet).
    pub sign_up_proof: &'a str,
}

/// Where a right first factor leads.
pub enum SignedIn {
    /// A session started: its token.
    Session(String),
    /// The account has two-factor on: no session yet, but the second step, for this browser's cookie
    /// (`two_factor::challenge`).
    SecondFactor(String),
}

/// Signs in with email and password. Every failure looks the same.
pub async fn sign_in(app: &AppState, email: &str, password: &str, browser: &Browser<'_>) -> Result<SignedIn, Error> {
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
    let mut tx = app.db.writes().begin().await?;
    if !users::hold(&mut *tx, &user.id, Some(&user.password_hash)).await? {
        // The password changed while it was being checked (a reset): the old one no longer signs in.
        audit::event("sign_in_failed_password_changed", &user.id);
        return Err(AppError::InvalidCredentials.into());
    }
    if two_factor::is_on(&mut *tx, &user.id).await? {
        let challenge = two_factor::challenge(&mut tx, now, &user.id, Some(&user.password_hash)).await?;
        tx.commit().await?;
        audit::event("sign_in_second_factor_asked", &user.id);
        return Ok(SignedIn::SecondFactor(challenge));
    }
    users::record_sign_in(&mut *tx, &user.id, now, None).await?;
    let token = start_session(app, &mut tx, &user.id, browser).await?;
    tx.commit().await?;
    audit::event("sign_in", &user.id);
    Ok(SignedIn::Session(token))
}

/// What using a verification or magic link did.
pub enum SignedInWithLink {
    SignedIn {
        session_token: String,
    },
    /// The link confirmed the address in a browser that did not sign up, so the sign-up's password was
    /// not kept: the owner chooses one at this address (a reset link, valid as one).
    ChoosePassword {
        reset_path: String,
    },
    /// The account has two-factor on: a mailed link is one factor (see `SignedIn::SecondFactor`).
    SecondFactor {
        challenge: String,
    },
}

/// What a reader brings from a verification or magic-link mail.
pub enum FromMail<'a> {
    /// The token of the link.
    Link(&'a str),
    /// The code beside it, typed for the address the mail went to.
    Code { email: &'a Email, code: &'a str },
}

/// Signs in with a link from a verification or magic-link mail (Altogic's `getAuthGrant`), or with its
/// code: the address is now confirmed, and a session starts (or, see `SignedInWithLink::ChoosePassword`,
/// a password is chosen first). A code that does not work is `AppError::InvalidCode`, a link
/// `AppError::InvalidLink`.
pub async fn sign_in_with_link(
    app: &AppState,
    from_mail: FromMail<'_>,
    browser: &Browser<'_>,
) -> Result<SignedInWithLink, Error> {
    let now = app.now();
    const PURPOSES: [Purpose; 2] = [Purpose::VerifyEmail, Purpose::MagicLink];
    let mut tx = app.db.writes().begin().await?;
    let (redeemed, user) = match from_mail {
        FromMail::Link(token) => email_tokens::redeem_for_account(&app.db, &mut tx, now, token, &PURPOSES)
            .await?
            .ok_or(AppError::InvalidLink)?,
        FromMail::Code { email, code } => {
            let used =
                email_tokens::redeem_code_for_account(&app.db, &mut tx, &app.secret_key, now, email, code, &PURPOSES)
                    .await?;
            match used {
                Some(used) => used,
                None => {
                    // The wrong try is counted.
                    tx.commit().await?;
                    return Err(AppError::InvalidCode.into());
                }
            }
        }
    };
    // A link only vouches for the address it was sent to.
    if user.email != redeemed.sent_to {
        return Err(AppError::InvalidLink.into());
    }
    if !user.is_verified() {
        let in_sign_up_browser = user.signed_up_in(browser.sign_up_proof);
        users::confirm_address(&mut *tx, &user, now, in_sign_up_browser).await?;
        // The address is proved: a verification link still in the mailbox must not sign in for another day.
        email_tokens::revoke(&mut *tx, &user.id, &[Purpose::VerifyEmail]).await?;
        audit::event(if in_sign_up_browser { "email_verified" } else { "email_verified_elsewhere" }, &user.id);
        if !in_sign_up_browser {
            let ttl = app.settings.tokens.reset_password_ttl;
            let reset =
                email_tokens::issue(&mut *tx, &app.secret_key, now, &user.id, Purpose::ResetPassword, &user.email, ttl)
                    .await?;
            tx.commit().await?;
            let reset_path = format!("{}?token={}&welcome=1", paths::RESET_PASSWORD, reset.token);
            return Ok(SignedInWithLink::ChoosePassword { reset_path });
        }
    }
    if two_factor::is_on(&mut *tx, &user.id).await? {
        let challenge = two_factor::challenge(&mut tx, now, &user.id, None).await?;
        tx.commit().await?;
        audit::event("sign_in_second_factor_asked", &user.id);
        return Ok(SignedInWithLink::SecondFactor { challenge });
    }
    users::record_sign_in(&mut *tx, &user.id, now, None).await?;
    let session_token = start_session(app, &mut tx, &user.id, browser).await?;
    tx.commit().await?;
    audit::event("sign_in", &user.id);
    Ok(SignedInWithLink::SignedIn { session_token })
}

/// The address a sign-in link was mailed to, if the link still works; uses nothing.
pub async fn preview_link(app: &AppState, access_token: &str) -> Result<Option<Email>, Error> {
    let found =
        email_tokens::peek(&app.db, app.now(), access_token, &[Purpose::VerifyEmail, Purpose::MagicLink]).await?;
    Ok(found.and_then(|t| Email::parse(&t.sent_to).ok()))
}

pub async fn sign_out(app: &AppState, session: &CurrentSession) -> Result<(), Error> {
    sessions::end(&app.db, &session.session_id).await?;
    audit::event("sign_out", &session.user_id);
    Ok(())
}

/// Starts a session for `user_id` in `tx`, after the caller has written the user's row there
/// (`users::record_sign_in`, or the insert of a sign-up), and remembers the browser as one of the
/// account's devices.
pub(super) async fn start_session(
    app: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    browser: &Browser<'_>,
) -> Result<String, Error> {
    let now = app.now();
    let token = sessions::start(tx, now, &app.settings.sessions, user_id, browser.client).await?;
    known_devices::remember(&mut **tx, user_id, browser.device, now).await?;
    Ok(token)
}
