//! Accounts: sign up, verify, sign in, sign out. The names follow the Altogic client the tutorial used
//! (`signUpWithEmail`, `signInWithEmail`, `getAuthGrant`, `signOut`).
//!
//! Every function takes parsed input and returns either a result or an `Error`; the server functions in
//! `src/api` turn those into cookies, redirects and messages.

use super::audit;
use super::cpu_work::Admission;
use super::email_tokens::{self, Purpose};
use super::emails;
use super::error::Error;
use super::known_devices;
use super::sessions::{self, ClientInfo, CurrentSession};
use super::state::AppState;
use super::users::{self, Created, User};
use crate::api::AppError;
use crate::domain::{DisplayName, Email, Password};
use crate::routes::paths;

/// The browser a request comes from, as far as signing in is concerned.
pub struct Browser<'a> {
    pub client: &'a ClientInfo,
    /// Its device token (`cookies::device`): the one it has, or the one it gets if this signs it in.
    pub device: &'a str,
    /// What an account would keep of its sign-up secret (`cookies::sign_up`), if it has one.
    pub sign_up_proof: Option<&'a str>,
}

pub enum SignUpOutcome {
    /// A link was mailed; the account is usable once it is opened.
    CheckEmail,
    /// Verification is switched off: signed in at once with this session token.
    SignedIn { session_token: String },
}

/// Signs up. `new_proof` is what the account keeps of the secret this browser is being given
/// (`cookies::sign_up::start`); `browser.sign_up_proof` is the one it had before, if any.
pub async fn sign_up(
    app: &AppState,
    name: DisplayName,
    email: Email,
    password: Password,
    browser: &Browser<'_>,
    new_proof: &str,
) -> Result<SignUpOutcome, Error> {
    app.passwords.check_strength(Admission::Hash, &password, &[name.as_str(), email.as_str()]).await??;
    // Hash first, whatever happens next, so a taken address answers as slowly as a new one.
    let password_hash = app.passwords.hash(&password).await?;
    let now = app.now();
    let verification = app.settings.app.email_verification;
    let mut tx = app.db.writes().begin().await?;
    let proof = verification.then_some(new_proof);
    match users::create(&mut tx, now, &email, &name, &password_hash, proof).await? {
        Created::User(user) if verification => {
            // The mail is built before the account is kept: an address it cannot be sent to leaves nothing.
            let mail = verification_mail(app, &mut tx, &user).await?;
            tx.commit().await?;
            audit::event("sign_up", &user.id);
            app.mailer.deliver(mail).await?;
            Ok(SignUpOutcome::CheckEmail)
        }
        Created::User(user) => {
            users::record_sign_in(&mut *tx, &user.id, now, None).await?;
            let session_token = start_session(app, &mut tx, &user.id, browser).await?;
            tx.commit().await?;
            audit::event("sign_up", &user.id);
            audit::event("sign_in", &user.id);
            Ok(SignUpOutcome::SignedIn { session_token })
        }
        // Without verification there is no mail to hide behind, and the user must be told.
        Created::EmailTaken if !verification => Err(AppError::EmailTaken.into()),
        Created::EmailTaken => {
            tx.rollback().await?;
            let Some(existing) = users::find_by_email(&app.db, &email).await? else {
                return Err(Error::Internal("email reported taken but no user found".into()));
            };
            if existing.is_verified() {
                let login = app.link(paths::LOGIN, &[]);
                app.mailer.send(emails::account_exists(&existing.email, existing.name_for_mail(), &login)).await?;
                audit::event("sign_up_existing_verified", &existing.id);
                return Ok(SignUpOutcome::CheckEmail);
            }
            // Someone signed up with this address and nobody has confirmed it. The same browser again
            // (a typo in the name, a forgotten password) may replace what it typed. Anyone else gets a
            // new link mailed, and nothing of theirs is kept: what a sign-up typed only ever takes effect
            // when the address is confirmed in the browser that typed it (`users::confirm_address`), so
            // whichever sign-up is a stranger's, the owner's click cannot hand the account to them.
            let same_browser = match browser.sign_up_proof {
                Some(previous) if existing.signed_up_in(Some(previous)) => {
                    users::update_sign_up(&app.db, &existing.id, now, previous, new_proof, &name, &password_hash)
                        .await?
                }
                _ => false,
            };
            let mut tx = app.db.writes().begin().await?;
            let mail = verification_mail(app, &mut tx, &existing).await?;
            tx.commit().await?;
            app.mailer.deliver(mail).await?;
            let event = if same_browser { "sign_up_repeated" } else { "sign_up_existing_unverified" };
            audit::event(event, &existing.id);
            Ok(SignUpOutcome::CheckEmail)
        }
    }
}

/// Signs in with email and password and returns the new session token. Every failure looks the same.
pub async fn sign_in(app: &AppState, email: &str, password: &str, browser: &Browser<'_>) -> Result<String, Error> {
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
    if !users::record_sign_in(&mut *tx, &user.id, now, Some(&user.password_hash)).await? {
        // The password changed while it was being checked (a reset): the old one no longer signs in.
        audit::event("sign_in_failed_password_changed", &user.id);
        return Err(AppError::InvalidCredentials.into());
    }
    let token = start_session(app, &mut tx, &user.id, browser).await?;
    tx.commit().await?;
    audit::event("sign_in", &user.id);
    Ok(token)
}

/// What using a verification or magic link did.
pub enum Granted {
    SignedIn {
        session_token: String,
    },
    /// The link confirmed the address in a browser that did not sign up, so the sign-up's password was
    /// not kept: the owner chooses one at this address (a reset link, valid as one).
    ChoosePassword {
        reset_path: String,
    },
}

/// Redeems a link from a verification or magic-link mail (Altogic's `getAuthGrant`): the address is
/// now confirmed, and a session starts (or, see `Granted::ChoosePassword`, a password is chosen first).
pub async fn grant(app: &AppState, access_token: &str, browser: &Browser<'_>) -> Result<Granted, Error> {
    let now = app.now();
    const PURPOSES: [Purpose; 2] = [Purpose::VerifyEmail, Purpose::MagicLink];
    let link = email_tokens::peek(&app.db, now, access_token, &PURPOSES).await?.ok_or(AppError::InvalidLink)?;
    let mut tx = app.db.writes().begin().await?;
    // The account's row first, then its link (see `sessions::start`).
    if !users::record_sign_in(&mut *tx, &link.user_id, now, None).await? {
        return Err(AppError::InvalidLink.into());
    }
    let redeemed = email_tokens::redeem(&mut *tx, now, access_token, &PURPOSES).await?.ok_or(AppError::InvalidLink)?;
    let user = users::get(&mut *tx, &redeemed.user_id).await?.ok_or(AppError::InvalidLink)?;
    // A link only vouches for the address it was sent to.
    if user.email != redeemed.sent_to || user.id != link.user_id {
        return Err(AppError::InvalidLink.into());
    }
    if !user.is_verified() {
        let in_sign_up_browser = user.signed_up_in(browser.sign_up_proof);
        users::confirm_address(&mut *tx, &user, now, in_sign_up_browser).await?;
        // The address is proved: a verification link still in the mailbox must not sign in for another day.
        email_tokens::revoke(&mut *tx, &user.id, &[Purpose::VerifyEmail]).await?;
        audit::event(if in_sign_up_browser { "email_verified" } else { "email_verified_elsewhere" }, &user.id);
        if !in_sign_up_browser && redeemed.purpose == Purpose::VerifyEmail {
            let ttl = app.settings.tokens.reset_password_ttl;
            let token =
                email_tokens::issue_in(&mut *tx, now, &user.id, Purpose::ResetPassword, &user.email, ttl).await?;
            tx.commit().await?;
            let reset_path = format!("{}?token={token}&welcome=1", paths::RESET_PASSWORD);
            return Ok(Granted::ChoosePassword { reset_path });
        }
    }
    let session_token = start_session(app, &mut tx, &user.id, browser).await?;
    tx.commit().await?;
    audit::event("sign_in", &user.id);
    Ok(Granted::SignedIn { session_token })
}

/// The address a sign-in link was mailed to, if the link still works; uses nothing.
pub async fn preview_link(app: &AppState, access_token: &str) -> Result<Option<Email>, Error> {
    let found =
        email_tokens::peek(&app.db, app.now(), access_token, &[Purpose::VerifyEmail, Purpose::MagicLink]).await?;
    Ok(found.and_then(|t| Email::parse(&t.sent_to).ok()))
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
                let mut tx = app.db.writes().begin().await?;
                let mail = verification_mail(&app, &mut tx, &user).await?;
                tx.commit().await?;
                app.mailer.deliver(mail).await?;
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

/// A new verification link for `user`, issued in `tx`, and its mail, built (not yet sent).
async fn verification_mail(
    app: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
) -> Result<super::mail::PreparedMail, Error> {
    let ttl = app.settings.tokens.verify_email_ttl;
    let token = email_tokens::issue_in(&mut **tx, app.now(), &user.id, Purpose::VerifyEmail, &user.email, ttl).await?;
    let link = app.link(paths::AUTH_REDIRECT, &[("access_token", &token)]);
    app.mailer.prepare(emails::verify_email(&user.email, user.name_for_mail(), &link, ttl))
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
