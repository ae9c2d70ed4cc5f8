//! Signing in: with a password, or with a link from a mail (verification or magic link) or its code, and
//! how every way in ends (`finish_sign_in`); signing out, here or another device.
//! The names follow the Altogic client the tutorial used (`signInWithEmail`, `getAuthGrant`, `signOut`).

use super::activity::{self, Event, Kind, SecondFactor, SignInMethod};
use super::email_tokens::{self, Purpose};
use super::{audit, deletion, known_devices, secure_account, two_factor, users};
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::routes::paths;
use crate::server::sessions::{self, user_agents, ClientInfo, CurrentSession};
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
        Ok(email) => users::find_by_email(app.db.reads(), &email).await?,
        Err(_) => None,
    };
    // Unknown addresses are checked against a dummy hash so they take as long as a wrong password.
    let matches = app.passwords.verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let user = match user {
        Some(user) if matches => user,
        Some(user) => {
            let failed = Event::new(Kind::SignInFailed, &user.id, browser.client).detail(activity::WRONG_PASSWORD);
            activity::record_failed_sign_in(&mut *app.db.writes().acquire().await?, app.now(), failed).await?;
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
    // Said only after the right password; before any second step, which would be asked for nothing.
    if let Some(refusal) = user.sign_in_refusal() {
        return Err(refuse(app, &user.id, refusal));
    }
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    if !users::hold(&mut *tx, &user.id, Some(&user.password_hash)).await? {
        // The password changed while it was being checked (a reset): the old one no longer signs in.
        audit::event("sign_in_failed_password_changed", &user.id);
        return Err(AppError::InvalidCredentials.into());
    }
    if two_factor::is_on(&mut *tx, &user.id).await? {
        let challenge =
            two_factor::challenge(&mut tx, now, &user.id, Some(&user.password_hash), SignInMethod::Password).await?;
        tx.commit().await?;
        audit::event("sign_in_second_factor_asked", &user.id);
        return Ok(SignedIn::SecondFactor(challenge));
    }
    let token = finish_sign_in(app, tx, &user.id, browser, SignInMethod::Password, None).await?;
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
    let by_code = matches!(from_mail, FromMail::Code { .. });
    let (redeemed, user) = match from_mail {
        FromMail::Link(token) => {
            email_tokens::redeem_for_account(&mut tx, now, token, &PURPOSES).await?.ok_or(AppError::InvalidLink)?
        }
        FromMail::Code { email, code } => {
            let used =
                email_tokens::redeem_code_for_account(&mut tx, &app.secret_key, now, email, code, &PURPOSES).await?;
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
    // Refused before anything is used or asked for: the link (or code) still works once unlocked (or the
    // deletion cancelled).
    if let Some(refusal) = user.sign_in_refusal() {
        return Err(refuse(app, &user.id, refusal));
    }
    if !user.is_verified() {
        let in_sign_up_browser = user.signed_up_in(browser.sign_up_proof);
        users::confirm_address(&mut *tx, &user, now, in_sign_up_browser).await?;
        // The address is proved: a verification link still in the mailbox must not sign in for another day.
        email_tokens::revoke(&mut *tx, &user.id, &[Purpose::VerifyEmail]).await?;
        activity::record(&mut *tx, now, Event::new(Kind::EmailConfirmed, &user.id, browser.client)).await?;
        if !in_sign_up_browser {
            audit::event("email_verified_elsewhere", &user.id);
            let ttl = app.settings.tokens.reset_password_ttl;
            let reset =
                email_tokens::issue(&mut *tx, &app.secret_key, now, &user.id, Purpose::ResetPassword, &user.email, ttl)
                    .await?;
            tx.commit().await?;
            let reset_path = format!("{}?token={}&welcome=1", paths::RESET_PASSWORD, reset.token);
            return Ok(SignedInWithLink::ChoosePassword { reset_path });
        }
    }
    let method = match redeemed.purpose {
        _ if by_code => SignInMethod::EmailCode,
        Purpose::VerifyEmail => SignInMethod::ConfirmationLink,
        _ => SignInMethod::MagicLink,
    };
    if two_factor::is_on(&mut *tx, &user.id).await? {
        let challenge = two_factor::challenge(&mut tx, now, &user.id, None, method).await?;
        tx.commit().await?;
        audit::event("sign_in_second_factor_asked", &user.id);
        return Ok(SignedInWithLink::SecondFactor { challenge });
    }
    let session_token = finish_sign_in(app, tx, &user.id, browser, method, None).await?;
    Ok(SignedInWithLink::SignedIn { session_token })
}

/// The address a sign-in link was mailed to, if the link still works; uses nothing.
pub async fn preview_link(app: &AppState, access_token: &str) -> Result<Option<Email>, Error> {
    let found =
        email_tokens::peek(app.db.reads(), app.now(), access_token, &[Purpose::VerifyEmail, Purpose::MagicLink])
            .await?;
    Ok(found.and_then(|t| Email::parse(&t.sent_to).ok()))
}

pub async fn sign_out(app: &AppState, session: &CurrentSession, client: &ClientInfo) -> Result<(), Error> {
    let mut tx = app.db.writes().begin().await?;
    if sessions::end(&mut *tx, &session.session_id).await? {
        activity::record(&mut *tx, app.now(), Event::of_session(Kind::SignedOut, session, client)).await?;
    }
    tx.commit().await?;
    app.sessions_changed(&session.user_id).await;
    Ok(())
}

/// Signs out one of the account's other devices (`sessions::end_for_user`); whether there was one to end.
pub async fn sign_out_device(
    app: &AppState,
    session: &CurrentSession,
    client: &ClientInfo,
    session_id: &str,
) -> Result<bool, Error> {
    let mut tx = app.db.writes().begin().await?;
    let Some(its_browser) = sessions::end_for_user(&mut *tx, &session.user_id, session_id, &session.session_id).await?
    else {
        return Ok(false);
    };
    let device = user_agents::describe(its_browser.as_deref());
    let event = Event::of_session(Kind::SignedOutDevice, session, client).detail(&device);
    activity::record(&mut *tx, app.now(), event).await?;
    tx.commit().await?;
    app.sessions_changed(&session.user_id).await;
    Ok(true)
}

/// Signs out every device of the account but this one (Altogic's `signOutAllExceptCurrent`); how many.
pub async fn sign_out_other_devices(
    app: &AppState,
    session: &CurrentSession,
    client: &ClientInfo,
) -> Result<u64, Error> {
    let mut tx = app.db.writes().begin().await?;
    let ended = sessions::end_all_except(&mut *tx, &session.user_id, &session.session_id).await?;
    let count = ended.to_string();
    let event = Event::of_session(Kind::SignedOutOtherDevices, session, client).detail(&count);
    activity::record(&mut *tx, app.now(), event).await?;
    tx.commit().await?;
    app.sessions_changed(&session.user_id).await;
    Ok(ended)
}

/// Finishes a sign-in whose every factor was right, in `tx`, where the caller has taken the account's
/// row first (`users::hold`, a sign-up's insert): notes it, starts the session, records the event and
/// commits; from a browser new to the account, mails an alert (`secure_account`). Returns the session's
/// token.
pub(super) async fn finish_sign_in(
    app: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    browser: &Browser<'_>,
    method: SignInMethod,
    second_factor: Option<SecondFactor>,
) -> Result<String, Error> {
    let now = app.now();
    if !users::record_sign_in(&mut *tx, user_id, now).await? {
        let refusal = users::get(&mut *tx, user_id).await?.and_then(|user| user.sign_in_refusal());
        return Err(refuse(app, user_id, refusal.unwrap_or(AppError::InvalidCredentials)));
    }
    let new_device = known_devices::is_new(&mut *tx, user_id, browser.device, now).await?;
    let session = start_session(app, &mut tx, user_id, browser).await?;
    let detail = activity::sign_in_detail(method, second_factor);
    let event = Event::new(Kind::SignedIn, user_id, browser.client).detail(&detail).by_session(&session.id);
    activity::record(&mut *tx, now, event).await?;
    tx.commit().await?;
    app.sessions_changed(user_id).await;
    if new_device {
        secure_account::alert_new_device(app, user_id, browser.client, now);
    }
    Ok(session.token)
}

/// The answer to right credentials for an account nobody may sign in to now (`User::sign_in_refusal`). An
/// account being deleted also gets its "Cancel deletion" link mailed again: its owner may have lost the
/// first mail, and only the owner's mailbox gets it.
fn refuse(app: &AppState, user_id: &str, refusal: AppError) -> Error {
    audit::event("sign_in_refused", user_id);
    if refusal == AppError::AccountBeingDeleted {
        deletion::mail_cancel_link_again(app, user_id);
    }
    refusal.into()
}

/// Starts a session for `user_id` in `tx`, after the caller has written the user's row there
/// (`users::record_sign_in`, or the insert of a sign-up), and remembers the browser as one of the
/// account's devices.
pub(super) async fn start_session(
    app: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    browser: &Browser<'_>,
) -> Result<sessions::Started, Error> {
    let now = app.now();
    let started = sessions::start(tx, now, &app.settings.sessions, user_id, browser.client).await?;
    known_devices::remember(&mut **tx, user_id, browser.device, now).await?;
    Ok(started)
}
