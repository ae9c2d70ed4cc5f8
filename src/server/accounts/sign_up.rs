//! Signing up (Altogic's `signUpWithEmail`), and mailing a new verification link.

use super::activity::{self, Event, Kind, SignInMethod};
use super::audit;
use super::email_tokens::{self, Purpose};
use super::sign_in::{finish_sign_in, Browser};
use super::users::{self, AddressClaim, User};
use crate::domain::{DisplayName, Email, Password};
use crate::error::AppError;
use crate::routes::paths;
use crate::server::mail::messages;
use crate::server::mail::transport::PreparedMail;
use crate::server::platform::cpu_work::Admission;
use crate::server::{AppState, Error};

pub enum SignUpOutcome {
    /// A link was mailed; the account is usable once it is opened.
    CheckEmail,
    /// Verification is switched off: signed in at once with this session token.
    SignedIn { session_token: String },
}

/// Signs up. The account keeps `browser.sign_up_proof`, so that what was typed here takes effect only if
/// the address is confirmed in this browser (`users::confirm_address`).
pub async fn sign_up(
    app: &AppState,
    name: DisplayName,
    email: Email,
    password: Password,
    browser: &Browser<'_>,
) -> Result<SignUpOutcome, Error> {
    app.passwords.check_strength(Admission::Hash, &password, &[name.as_str(), email.as_str()]).await??;
    // Hash first, whatever happens next, so a taken address answers as slowly as a new one.
    let password_hash = app.passwords.hash(&password).await?;
    let now = app.now();
    let verification = app.settings.app.email_verification;
    let mut tx = app.db.writes().begin().await?;
    let proof = verification.then_some(browser.sign_up_proof);
    match users::create(&mut tx, now, &email, &name, &password_hash, proof).await? {
        AddressClaim::Claimed(user) if verification => {
            activity::record(&mut *tx, now, Event::new(Kind::AccountCreated, &user.id, browser.client)).await?;
            // The mail is built before the account is kept: an address it cannot be sent to leaves nothing.
            let mail = verification_mail(app, &mut tx, &user).await?;
            tx.commit().await?;
            app.mailer.deliver(mail).await?;
            Ok(SignUpOutcome::CheckEmail)
        }
        AddressClaim::Claimed(user) => {
            activity::record(&mut *tx, now, Event::new(Kind::AccountCreated, &user.id, browser.client)).await?;
            let session_token = finish_sign_in(app, tx, &user.id, browser, SignInMethod::SignUp, None).await?;
            Ok(SignUpOutcome::SignedIn { session_token })
        }
        // Without verification there is no mail to hide behind, and the user must be told.
        AddressClaim::Taken if !verification => Err(AppError::EmailTaken.into()),
        AddressClaim::Taken => {
            tx.rollback().await?;
            let Some(existing) = users::find_by_email(app.db.reads(), &email).await? else {
                return Err(Error::Internal("email reported taken but no user found".into()));
            };
            if existing.is_verified() {
                let login = app.link(paths::LOGIN, &[]);
                app.mailer.send(messages::account_exists(&existing.email, existing.name_for_mail(), &login)).await?;
                audit::event("sign_up_existing_verified", &existing.id);
                return Ok(SignUpOutcome::CheckEmail);
            }
            // Someone signed up with this address and nobody has confirmed it. The same browser again
            // (a typo in the name, a forgotten password) may replace what it typed. Anyone else gets a
            // new link mailed, and nothing of theirs is kept: what a sign-up typed only ever takes effect
            // when the address is confirmed in the browser that typed it (`users::confirm_address`), so
            // whichever sign-up is a stranger's, the owner's click cannot hand the account to them.
            let proof = browser.sign_up_proof;
            let same_browser = existing.signed_up_in(proof)
                && users::update_sign_up(&app.db, &existing.id, now, proof, &name, &password_hash).await?;
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

/// Mails a fresh verification link if the address belongs to an unverified account.
pub fn resend_verification(app: &AppState, email: Email) {
    if !app.settings.app.email_verification {
        return;
    }
    let task = app.clone();
    app.in_background("resend verification", async move {
        match users::find_by_email(task.db.reads(), &email).await? {
            Some(user) if !user.is_verified() => mail_verification(&task, &user).await,
            _ => Ok(()),
        }
    });
}

/// Mails the unverified account `user` a fresh verification link, and waits until the mail is handed
/// over.
pub async fn mail_verification(app: &AppState, user: &User) -> Result<(), Error> {
    let mut tx = app.db.writes().begin().await?;
    let mail = verification_mail(app, &mut tx, user).await?;
    tx.commit().await?;
    app.mailer.deliver(mail).await?;
    audit::event("verification_resent", &user.id);
    Ok(())
}

/// A new verification link for `user`, issued in `tx`, and its mail, built (not yet sent).
async fn verification_mail(
    app: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
) -> Result<PreparedMail, Error> {
    let ttl = app.settings.tokens.verify_email_ttl;
    let (key, now) = (&app.secret_key, app.now());
    let issued = email_tokens::issue(&mut **tx, key, now, &user.id, Purpose::VerifyEmail, &user.email, ttl).await?;
    let link = app.link(paths::AUTH_REDIRECT, &[("access_token", &issued.token)]);
    let mail = messages::verify_email(&user.email, user.name_for_mail(), &link, issued.code.as_deref(), ttl);
    app.mailer.prepare(mail)
}
