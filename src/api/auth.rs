//! Signing up, verifying, signing in (by password or mailed link), signing out, resetting a forgotten
//! password.
//!
//! On success each function redirects (`leptos_axum::redirect`): a plain form post gets a 302, and the
//! hydrated page gets a header it follows (`hydrate()` in lib.rs), so both end on the same page.

use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn as _;
use serde::{Deserialize, Serialize};

#[server(endpoint = "register")]
pub async fn register(name: String, email: String, password: String) -> Result<(), AppError> {
    use crate::domain::{DisplayName, Email, Password};
    use crate::routes::{check_email_url, paths, with_query, MailSent};
    use crate::server::accounts::{self, SignUpOutcome};
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    // Without JavaScript, a refused form comes back with what was typed (never the password).
    let back = with_query(paths::REGISTER, &[("name", &name), ("email", &email)]);
    req.form(&back, Register::PATH, async {
        let (name, email, password) = (DisplayName::parse(&name)?, Email::parse(&email)?, Password::parse(&password)?);
        // Counted per client and per address, whether or not the address has an account.
        let go = req.limit_sign_up(&email).await?;
        let check_email = check_email_url(email.as_str(), MailSent::Verification, false);
        // When the address's mail is used up, the answer is the usual one and nothing happens.
        if go {
            let signed_up = accounts::sign_up(&req.app, name, email.clone(), password, &req.browser()).await?;
            if let SignUpOutcome::SignedIn { session_token } = signed_up {
                req.start_session(session_token).await;
                leptos_axum::redirect(paths::PROFILE);
                return Ok(());
            }
        }
        req.keep_sign_up_secret();
        req.mark_mail_requested(&email);
        leptos_axum::redirect(&check_email);
        Ok(())
    })
    .await
}

#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::domain::{Field, InputError};
    use crate::routes::{paths, with_query};
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let back = with_query(paths::LOGIN, &[("email", email.trim())]);
    req.form(&back, Login::PATH, async {
        // A field left empty is not a bad credential: say which one to fill in (this reveals nothing).
        if email.trim().is_empty() {
            return Err(InputError::new(Field::Email, "Enter your email address.").into());
        }
        if password.is_empty() {
            return Err(InputError::new(Field::Password, "Enter your password.").into());
        }
        // Counted before the password is checked: while an account is throttled even the right password
        // gets the same answer, so guessing gains nothing. The account's own devices are counted apart.
        req.limit_sign_in(&email).await?;
        match accounts::sign_in(&req.app, &email, &password, &req.browser()).await? {
            accounts::SignedIn::Session(token) => {
                req.start_session(token).await;
                leptos_axum::redirect(paths::PROFILE);
            }
            accounts::SignedIn::SecondFactor(challenge) => req.await_second_factor(challenge),
        }
        Ok(())
    })
    .await
}

/// What `/auth-redirect` shows before anything is used: whether the link still works, whose account it
/// signs in to, and whether this browser asked for it (then the hydrated page may continue by itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkPreview {
    pub usable: bool,
    /// "ada@example.com", non-ASCII letters as code points (`Email::shown`): whoever holds the link can
    /// sign in and read it anyway, and the whole address tells a look-alike apart.
    pub account: Option<String>,
    pub automatic: bool,
}

#[server(endpoint = "preview_link")]
pub async fn preview_link(access_token: String) -> Result<LinkPreview, AppError> {
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let address = accounts::preview_link(&req.app, &access_token).await?;
    Ok(LinkPreview {
        usable: address.is_some(),
        // Only where this browser asked for mail to this very address: a link someone else sent, for their
        // own account, waits for a click under its address.
        automatic: address.as_ref().is_some_and(|a| req.mail_requested_for(a.as_str())),
        account: address.map(|a| a.shown()),
    })
}

/// Signs in with the link from a verification or magic-link mail (Altogic's `getAuthGrant`).
#[server(endpoint = "sign_in_with_link")]
pub async fn sign_in_with_link(access_token: String) -> Result<(), AppError> {
    use crate::routes::{link_error_url, paths};
    use crate::server::accounts::{self, FromMail};
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let signed_in = accounts::sign_in_with_link(&req.app, FromMail::Link(&access_token), &req.browser()).await;
    match signed_in.map_err(AppError::from) {
        Ok(signed_in) => {
            continue_from_mail(&req, signed_in).await;
            Ok(())
        }
        Err(e) => {
            // Back to the page's error state, without the used or bad token in the address.
            leptos_axum::redirect(&link_error_url(paths::AUTH_REDIRECT, &e));
            Err(e)
        }
    }
}

/// Does what the link does, with the 6-digit code from the same mail, on the "Check your email…" page
/// that asked for it (`sent`: which mail it waits for).
#[server(endpoint = "sign_in_with_code")]
pub async fn sign_in_with_code(email: String, code: String, sent: String) -> Result<(), AppError> {
    use crate::domain::Email;
    use crate::routes::{check_email_url, MailSent};
    use crate::server::accounts::{self, FromMail};
    use crate::server::http::request_context::RequestContext;
    use crate::server::platform::secrets::typed_code;

    let req = RequestContext::get();
    let back = check_email_url(email.trim(), MailSent::from_query(&sent), false);
    req.form(&back, SignInWithCode::PATH, async {
        let email = Email::parse(&email)?;
        // Counted by address before anything is looked up, so an address without an account is
        // counted, and answered, the same.
        req.limit_code_attempt(email.as_str()).await?;
        let code = typed_code(&code).ok_or(AppError::InvalidCode)?;
        let from_mail = FromMail::Code { email: &email, code: &code };
        let signed_in = accounts::sign_in_with_link(&req.app, from_mail, &req.browser()).await?;
        continue_from_mail(&req, signed_in).await;
        Ok(())
    })
    .await
}

/// Where a link or code from a mail leads: the profile, with a new session, or choosing a password.
#[cfg(feature = "ssr")]
async fn continue_from_mail(
    req: &crate::server::http::request_context::RequestContext,
    signed_in: crate::server::accounts::SignedInWithLink,
) {
    use crate::routes::paths;
    use crate::server::accounts::SignedInWithLink;

    req.clear_mail_requested();
    match signed_in {
        SignedInWithLink::SignedIn { session_token } => {
            req.start_session(session_token).await;
            leptos_axum::redirect(paths::PROFILE);
        }
        SignedInWithLink::ChoosePassword { reset_path } => leptos_axum::redirect(&reset_path),
        SignedInWithLink::SecondFactor { challenge } => req.await_second_factor(challenge),
    }
}

#[server(endpoint = "resend_verification")]
pub async fn resend_verification(email: String) -> Result<(), AppError> {
    use crate::domain::Email;
    use crate::routes::{check_email_url, paths, with_query, MailSent};
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    // Without JavaScript a refused address comes back in the field, as typed.
    let back =
        with_query(paths::CHECK_EMAIL, &[("purpose", MailSent::Verification.as_query()), ("typed", email.trim())]);
    req.form(&back, ResendVerification::PATH, async {
        let email = Email::parse(&email)?;
        let go = req.limit_mail(&email).await?;
        leptos_axum::redirect(&check_email_url(email.as_str(), MailSent::Verification, true));
        req.mark_mail_requested(&email);
        if go {
            accounts::resend_verification(&req.app, email);
        }
        Ok(())
    })
    .await
}

/// Altogic's `sendMagicLinkEmail`: always "Check your email…", whether or not the address has an account.
#[server(endpoint = "send_magic_link")]
pub async fn send_magic_link(email: String) -> Result<(), AppError> {
    mail_link(email, crate::server::accounts::MailedLink::MagicLink, SendMagicLink::PATH).await
}

/// "Forgot password?": always the same answer, whether or not the address has an account.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    mail_link(email, crate::server::accounts::MailedLink::PasswordReset, RequestPasswordReset::PATH).await
}

/// The two requests for a mailed link: the same checks, the same answer for every address.
#[cfg(feature = "ssr")]
async fn mail_link(
    email: String,
    link: crate::server::accounts::MailedLink,
    server_fn_path: &str,
) -> Result<(), AppError> {
    use crate::domain::Email;
    use crate::routes::{check_email_url, paths, with_query, MailSent};
    use crate::server::accounts::{self, MailedLink};
    use crate::server::http::request_context::RequestContext;

    let (page, sent) = match link {
        MailedLink::MagicLink => (paths::MAGIC_LINK, MailSent::MagicLink),
        MailedLink::PasswordReset => (paths::FORGOT_PASSWORD, MailSent::PasswordReset),
    };
    let req = RequestContext::get();
    let back = with_query(page, &[("email", email.trim())]);
    req.form(&back, server_fn_path, async {
        let email = Email::parse(&email)?;
        let go = req.limit_mail(&email).await?;
        leptos_axum::redirect(&check_email_url(email.as_str(), sent, false));
        req.mark_mail_requested(&email);
        if go {
            accounts::mail_link(&req.app, email, link);
        }
        Ok(())
    })
    .await
}

/// Whether a reset link still works, so the page can say so before the user types a new password.
#[server(endpoint = "check_reset_link")]
pub async fn check_reset_link(token: String) -> Result<bool, AppError> {
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    Ok(accounts::reset_link_is_usable(&req.app, &token).await?)
}

#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, new_password: String, new_password_confirm: String) -> Result<(), AppError> {
    use crate::domain::Password;
    use crate::routes::{link_error_url, paths, with_query, Notice};
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let page = with_query(paths::RESET_PASSWORD, &[("token", &token)]);
    let password = match Password::parse_new(&new_password, &new_password_confirm) {
        Ok(password) => password,
        Err(e) => return req.fail_back_to(&page, ResetPassword::PATH, e),
    };
    match accounts::reset_password(&req.app, &token, &password, &req.browser()).await.map_err(AppError::from) {
        Ok(()) => {
            // Every session ended, this browser's too.
            req.clear_session_cookie();
            leptos_axum::redirect(&Notice::PasswordReset.login_url());
            Ok(())
        }
        Err(AppError::InvalidLink) => {
            leptos_axum::redirect(&link_error_url(paths::RESET_PASSWORD, &AppError::InvalidLink));
            Err(AppError::InvalidLink)
        }
        Err(e) => req.fail_back_to(&page, ResetPassword::PATH, e),
    }
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::routes::Notice;
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    // Already signed out (another tab, expired): the outcome the user wanted anyway.
    if let Some(session) = req.session_if_active() {
        accounts::sign_out(&req.app, &session, &req.client).await?;
    }
    req.clear_session_cookie();
    leptos_axum::redirect(&Notice::SignedOut.login_url());
    Ok(())
}
