//! The signed-in user's own account.

use super::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the profile page shows about its user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub email: String,
}

#[server(endpoint = "profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    use super::request::RequestContext;

    let req = RequestContext::get();
    let session = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    Ok(Profile { name: session.name.clone(), email: session.email.clone() })
}

/// Changes the password; the current one is required. Other devices are signed out.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    new_password_confirm: String,
) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::Password;
    use crate::routes::{paths, Notice};
    use crate::server::account;

    let req = RequestContext::get();
    let session = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    let password = match Password::parse_new(&new_password, &new_password_confirm) {
        Ok(password) => password,
        Err(e) => return req.fail(e),
    };
    match account::change_password(&req.app, &session, &current_password, &password).await {
        Ok(()) => {
            req.redirect_html_form(&Notice::PasswordChanged.on(paths::PROFILE));
            Ok(())
        }
        Err(e) => req.fail(e),
    }
}

/// Starts an email change; the current password is required. The change happens when the link sent to
/// the new address is opened.
#[server(endpoint = "change_email")]
pub async fn change_email(new_email: String, current_password: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::domain::{Email, Field};
    use crate::routes::{paths, Notice};
    use crate::server::account;

    let req = RequestContext::get();
    let session = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    let new_email = match Email::parse(&new_email) {
        Ok(email) => email,
        Err(e) => return req.fail(e.on(Field::NewEmail)),
    };
    match account::request_email_change(&req.app, &session, &current_password, &new_email).await {
        Ok(()) => {
            req.redirect_html_form(&Notice::EmailChangeRequested.on(paths::PROFILE));
            Ok(())
        }
        Err(e) => req.fail(e),
    }
}

/// Applies an email change from the link in the mail to the new address.
#[server(endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::routes::{paths, Notice};
    use crate::server::account;

    let req = RequestContext::get();
    match account::confirm_email_change(&req.app, &token).await {
        Ok(_) => {
            // The link may be opened on a device that is not signed in.
            let page = if req.session_if_active().is_some() { paths::PROFILE } else { paths::LOGIN };
            leptos_axum::redirect(&Notice::EmailChanged.on(page));
            Ok(())
        }
        Err(e) => {
            leptos_axum::redirect(&format!("{}?error=invalid_link", paths::CONFIRM_EMAIL_CHANGE));
            req.fail(e)
        }
    }
}
