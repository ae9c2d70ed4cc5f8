//! Signing up, verifying, signing in and out.
//!
//! On success each function redirects (`leptos_axum::redirect`): a plain form post gets a 302, and the
//! hydrated page gets a header its router follows, so both end on the same page.

use super::AppError;
use leptos::prelude::*;

#[server(endpoint = "register")]
pub async fn register(name: String, email: String, password: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::{DisplayName, Email, Password};
    use crate::routes::paths;
    use crate::server::auth::{self, SignUpOutcome};

    let req = RequestContext::get();
    let parsed =
        DisplayName::parse(&name).and_then(|name| Ok((name, Email::parse(&email)?, Password::parse(&password)?)));
    let (name, email, password) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return req.fail(e),
    };
    match auth::sign_up(&req.app, name, email.clone(), password, &req.client).await {
        Ok(SignUpOutcome::CheckEmail) => leptos_axum::redirect(&check_email_url(email.as_str(), false)),
        Ok(SignUpOutcome::SignedIn { session_token }) => {
            req.start_session(session_token).await;
            leptos_axum::redirect(paths::PROFILE);
        }
        Err(e) => return req.fail(e),
    }
    Ok(())
}

#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::routes::paths;
    use crate::server::auth;

    let req = RequestContext::get();
    match auth::sign_in(&req.app, &email, &password, &req.client).await {
        Ok(session_token) => {
            req.start_session(session_token).await;
            leptos_axum::redirect(paths::PROFILE);
            Ok(())
        }
        Err(e) => req.fail(e),
    }
}

/// Redeems the token from a verification or magic-link mail (Altogic's `getAuthGrant`).
#[server(endpoint = "grant")]
pub async fn grant(access_token: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::routes::paths;
    use crate::server::auth;

    let req = RequestContext::get();
    match auth::grant(&req.app, &access_token, &req.client).await {
        Ok(session_token) => {
            req.start_session(session_token).await;
            leptos_axum::redirect(paths::PROFILE);
            Ok(())
        }
        Err(e) => {
            // The confirm page is served with `Referrer-Policy: no-referrer`, so there is no referer to send
            // a plain form back to; send it to the page's error state instead, without the token.
            leptos_axum::redirect(&format!("{}?error=invalid_link", paths::AUTH_REDIRECT));
            req.fail(e)
        }
    }
}

#[server(endpoint = "resend_verification")]
pub async fn resend_verification(email: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::Email;
    use crate::server::auth;

    let req = RequestContext::get();
    let email = match Email::parse(&email) {
        Ok(email) => email,
        Err(e) => return req.fail(e),
    };
    match auth::resend_verification(&req.app, &email).await {
        Ok(()) => {
            leptos_axum::redirect(&check_email_url(email.as_str(), true));
            Ok(())
        }
        Err(e) => req.fail(e),
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

/// `/check-email?email=…`, the page that says a link is on its way.
pub fn check_email_url(email: &str, resent: bool) -> String {
    let mut url = format!("{}?email={}", crate::routes::paths::CHECK_EMAIL, encode_query_value(email));
    if resent {
        url.push_str("&resent=1");
    }
    url
}

/// Percent-encodes everything but unreserved characters, so the result is always a valid header value.
pub fn encode_query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
