//! Signing up, verifying, signing in (by password or magic link), signing out, resetting a forgotten
//! password.
//!
//! On success each function redirects (`leptos_axum::redirect`): a plain form post gets a 302, and the
//! hydrated page gets a header its router follows, so both end on the same page.

use super::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn as _;
use serde::{Deserialize, Serialize};

#[server(endpoint = "register")]
pub async fn register(name: String, email: String, password: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::{DisplayName, Email, Password};
    use crate::routes::{check_email_url, encode_query_value, paths, MailSent};
    use crate::server::auth::{self, SignUpOutcome};

    let req = RequestContext::get();
    // Without JavaScript, a refused form comes back with what was typed (never the password).
    let back = format!("{}?name={}&email={}", paths::REGISTER, encode_query_value(&name), encode_query_value(&email));
    let parsed =
        DisplayName::parse(&name).and_then(|name| Ok((name, Email::parse(&email)?, Password::parse(&password)?)));
    let (name, email, password) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return req.fail_back_to(&back, Register::PATH, e),
    };
    // Counted per client and per address, whether or not the address has an account. When strangers
    // have used up the address's mail, the answer is the usual one and nothing happens.
    let go = match req.limit_sign_up(&email).await {
        Ok(go) => go,
        Err(e) => return req.fail_back_to(&back, Register::PATH, e),
    };
    let check_email = check_email_url(email.as_str(), MailSent::Verification, false);
    let new_proof = req.start_sign_up();
    if !go {
        req.mark_mail_requested(&email);
        leptos_axum::redirect(&check_email);
        return Ok(());
    }
    match auth::sign_up(&req.app, name, email.clone(), password, &req.browser(), &new_proof).await {
        Ok(SignUpOutcome::CheckEmail) => {
            req.mark_mail_requested(&email);
            leptos_axum::redirect(&check_email)
        }
        Ok(SignUpOutcome::SignedIn { session_token }) => {
            req.start_session(session_token).await;
            leptos_axum::redirect(paths::PROFILE);
        }
        Err(e) => return req.fail_back_to(&back, Register::PATH, e),
    }
    Ok(())
}

#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::{Field, InputError};
    use crate::routes::{encode_query_value, paths};
    use crate::server::auth;

    let req = RequestContext::get();
    let back = format!("{}?email={}", paths::LOGIN, encode_query_value(email.trim()));
    // A field left empty is not a bad credential: say which one to fill in (this reveals nothing).
    let missing = if email.trim().is_empty() {
        Some(InputError::new(Field::Email, "Enter your email address."))
    } else if password.is_empty() {
        Some(InputError::new(Field::Password, "Enter your password."))
    } else {
        None
    };
    if let Some(e) = missing {
        return req.fail_back_to(&back, Login::PATH, e);
    }
    // Counted before the password is checked: while an account is throttled even the right password gets
    // the same answer, so guessing gains nothing. The account's own devices are counted apart.
    if let Err(e) = req.limit_sign_in(&email).await {
        return req.fail_back_to(&back, Login::PATH, e);
    }
    match auth::sign_in(&req.app, &email, &password, &req.browser()).await {
        Ok(session_token) => {
            req.start_session(session_token).await;
            leptos_axum::redirect(paths::PROFILE);
            Ok(())
        }
        Err(e) => req.fail_back_to(&back, Login::PATH, e),
    }
}

/// What `/auth-redirect` shows before anything is used: whether the link still works, whose account it
/// signs in to, and whether this browser asked for it (then the hydrated page may continue by itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkPreview {
    pub usable: bool,
    /// "a•••@example.com".
    pub account: Option<String>,
    pub automatic: bool,
}

#[server(endpoint = "preview_link")]
pub async fn preview_link(access_token: String) -> Result<LinkPreview, AppError> {
    use super::request::RequestContext;
    use crate::server::auth;

    let req = RequestContext::get();
    match auth::preview_link(&req.app, &access_token).await {
        Ok(address) => Ok(LinkPreview {
            usable: address.is_some(),
            // Only where this browser asked for mail to this very address: a link someone else sent, for
            // their own account, waits for a click under its address.
            automatic: address.as_ref().is_some_and(|a| req.mail_requested_for(a.as_str())),
            account: address.map(|a| a.masked()),
        }),
        Err(e) => req.fail(e),
    }
}

/// Redeems the token from a verification or magic-link mail (Altogic's `getAuthGrant`).
#[server(endpoint = "grant")]
pub async fn grant(access_token: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::routes::{link_error_url, paths};
    use crate::server::auth::{self, Granted};

    let req = RequestContext::get();
    match auth::grant(&req.app, &access_token, &req.browser()).await {
        Ok(Granted::SignedIn { session_token }) => {
            req.start_session(session_token).await;
            req.clear_mail_requested();
            req.clear_sign_up();
            leptos_axum::redirect(paths::PROFILE);
            Ok(())
        }
        Ok(Granted::ChoosePassword { reset_path }) => {
            req.clear_mail_requested();
            leptos_axum::redirect(&reset_path);
            Ok(())
        }
        Err(e) => {
            // Back to the page's error state, without the used or bad token in the address.
            let e = AppError::from(e);
            leptos_axum::redirect(&link_error_url(paths::AUTH_REDIRECT, &e));
            req.fail(e)
        }
    }
}

#[server(endpoint = "resend_verification")]
pub async fn resend_verification(email: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::Email;
    use crate::routes::{check_email_url, encode_query_value, paths, MailSent};
    use crate::server::auth;

    let req = RequestContext::get();
    // Without JavaScript a refused address comes back in the field, as typed.
    let back = format!(
        "{}?purpose={}&typed={}",
        paths::CHECK_EMAIL,
        MailSent::Verification.as_query(),
        encode_query_value(email.trim())
    );
    let email = match Email::parse(&email) {
        Ok(email) => email,
        Err(e) => return req.fail_back_to(&back, ResendVerification::PATH, e),
    };
    let go = match req.limit_mail(&email).await {
        Ok(go) => go,
        Err(e) => return req.fail_back_to(&back, ResendVerification::PATH, e),
    };
    leptos_axum::redirect(&check_email_url(email.as_str(), MailSent::Verification, true));
    req.mark_mail_requested(&email);
    if go {
        auth::resend_verification(&req.app, email);
    }
    Ok(())
}

/// Altogic's `sendMagicLinkEmail`: always "Check your email…", whether or not the address has an account.
#[server(endpoint = "send_magic_link")]
pub async fn send_magic_link(email: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::Email;
    use crate::routes::{check_email_url, encode_query_value, paths, MailSent};
    use crate::server::auth;

    let req = RequestContext::get();
    let email = match Email::parse(&email) {
        Ok(email) => email,
        Err(e) => {
            let back = format!("{}?email={}", paths::MAGIC_LINK, encode_query_value(&email));
            return req.fail_back_to(&back, SendMagicLink::PATH, e);
        }
    };
    let go = match req.limit_mail(&email).await {
        Ok(go) => go,
        Err(e) => {
            let back = format!("{}?email={}", paths::MAGIC_LINK, encode_query_value(email.as_str()));
            return req.fail_back_to(&back, SendMagicLink::PATH, e);
        }
    };
    leptos_axum::redirect(&check_email_url(email.as_str(), MailSent::MagicLink, false));
    req.mark_mail_requested(&email);
    if go {
        auth::send_magic_link(&req.app, email);
    }
    Ok(())
}

/// "Forgot password?": always the same answer, whether or not the address has an account.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::Email;
    use crate::routes::{check_email_url, encode_query_value, paths, MailSent};
    use crate::server::account;

    let req = RequestContext::get();
    let email = match Email::parse(&email) {
        Ok(email) => email,
        Err(e) => {
            let back = format!("{}?email={}", paths::FORGOT_PASSWORD, encode_query_value(&email));
            return req.fail_back_to(&back, RequestPasswordReset::PATH, e);
        }
    };
    let go = match req.limit_mail(&email).await {
        Ok(go) => go,
        Err(e) => {
            let back = format!("{}?email={}", paths::FORGOT_PASSWORD, encode_query_value(email.as_str()));
            return req.fail_back_to(&back, RequestPasswordReset::PATH, e);
        }
    };
    leptos_axum::redirect(&check_email_url(email.as_str(), MailSent::PasswordReset, false));
    req.mark_mail_requested(&email);
    if go {
        account::request_password_reset(&req.app, email);
    }
    Ok(())
}

/// Whether a reset link still works, so the page can say so before the user types a new password.
#[server(endpoint = "check_reset_link")]
pub async fn check_reset_link(token: String) -> Result<bool, AppError> {
    use super::request::RequestContext;
    use crate::server::account;

    let req = RequestContext::get();
    match account::reset_link_is_usable(&req.app, &token).await {
        Ok(usable) => Ok(usable),
        Err(e) => req.fail(e),
    }
}

#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, new_password: String, new_password_confirm: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::Password;
    use crate::routes::{encode_query_value, link_error_url, paths, Notice};
    use crate::server::account;

    let req = RequestContext::get();
    let page = format!("{}?token={}", paths::RESET_PASSWORD, encode_query_value(&token));
    let password = match Password::parse_new(&new_password, &new_password_confirm) {
        Ok(password) => password,
        Err(e) => return req.fail_back_to(&page, ResetPassword::PATH, e),
    };
    match account::reset_password(&req.app, &token, &password, req.browser().sign_up_proof).await {
        Ok(()) => {
            // Every session ended, this browser's too.
            req.clear_session_cookie();
            req.clear_sign_up();
            leptos_axum::redirect(&Notice::PasswordReset.login_url());
            Ok(())
        }
        Err(crate::server::Error::User(AppError::InvalidLink)) => {
            leptos_axum::redirect(&link_error_url(paths::RESET_PASSWORD, &AppError::InvalidLink));
            req.fail(AppError::InvalidLink)
        }
        Err(e) => req.fail_back_to(&page, ResetPassword::PATH, e),
    }
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::routes::Notice;
    use crate::server::auth;

    let req = RequestContext::get();
    // Already signed out (another tab, expired): the outcome the user wanted anyway.
    if let Ok(session) = req.session() {
        if let Err(e) = auth::sign_out(&req.app, &session).await {
            return req.fail(e);
        }
    }
    req.clear_session_cookie();
    leptos_axum::redirect(&Notice::SignedOut.login_url());
    Ok(())
}
