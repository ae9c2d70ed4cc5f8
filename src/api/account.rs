//! The signed-in user's own account.

use super::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the profile page shows about its user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub email: String,
    /// The uploaded picture, or a default drawn from the initials.
    pub avatar_url: String,
    /// Uploads above this are refused; shown as a hint and checked in the browser before uploading.
    pub avatar_max_bytes: u64,
}

/// After a name change: the name as stored (trimmed) and the avatar, whose default shows the initials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NameChanged {
    pub name: String,
    pub avatar_url: String,
}

#[server(endpoint = "profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    use super::request::RequestContext;

    let req = RequestContext::get();
    let session = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    Ok(Profile {
        name: session.name.clone(),
        email: session.email.clone(),
        avatar_url: avatar_url_of(&session.name, &session.user_id, session.avatar_key.as_deref()),
        avatar_max_bytes: req.app.settings.storage.avatar_max_bytes,
    })
}

#[cfg(feature = "ssr")]
fn avatar_url_of(name: &str, user_id: &str, avatar_key: Option<&str>) -> String {
    use crate::server::avatars::{avatar_url, default_avatar};
    avatar_key.map(avatar_url).unwrap_or_else(|| default_avatar(name, user_id))
}

/// Changes the signed-in user's own name; there is no user id to pass, so nobody else's can be targeted.
#[server(endpoint = "update_name")]
pub async fn update_name(name: String) -> Result<NameChanged, AppError> {
    use super::request::RequestContext;
    use crate::domain::DisplayName;
    use crate::routes::{encode_query_value, paths};
    use crate::server::{audit, users};
    use leptos::server_fn::ServerFn as _;

    let req = RequestContext::get();
    let session = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    // Without JavaScript, a refused name comes back in the editor as typed.
    let back = format!("{}?edit=name&name={}", paths::PROFILE, encode_query_value(&name));
    let name = match DisplayName::parse(&name) {
        Ok(name) => name,
        Err(e) => return req.fail_back_to(&back, UpdateName::PATH, e),
    };
    if let Err(e) = users::update_name(&req.app.db, &session.user_id, req.app.now(), &name).await {
        return req.fail_back_to(&back, UpdateName::PATH, crate::server::Error::from(e));
    }
    audit::event("name_changed", &session.user_id);
    req.redirect_html_form(paths::PROFILE);
    Ok(NameChanged {
        name: name.as_str().to_owned(),
        avatar_url: avatar_url_of(name.as_str(), &session.user_id, session.avatar_key.as_deref()),
    })
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
    // The current password can be guessed here too: counted per session, so strangers failing to sign
    // in elsewhere never stop the owner.
    if let Err(e) = req.limit_reauthentication(&session).await {
        return req.fail(e);
    }
    match account::change_password(&req.app, &session, &current_password, &password, &req.browser()).await {
        Ok(session_token) => {
            // A new token for this browser: a copy of the old cookie, wherever it went, is now worthless.
            req.start_session(session_token).await;
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
    use crate::routes::{encode_query_value, paths, Notice};
    use crate::server::account;
    use leptos::server_fn::ServerFn as _;

    let req = RequestContext::get();
    let session = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    // Without JavaScript, a refused change comes back with the typed address.
    let back = format!("{}?new_email={}", paths::PROFILE, encode_query_value(&new_email));
    let new_email = match Email::parse(&new_email) {
        Ok(email) => email,
        Err(e) => return req.fail_back_to(&back, ChangeEmail::PATH, e.on(Field::NewEmail)),
    };
    if let Err(e) = req.limit_reauthentication(&session).await {
        return req.fail_back_to(&back, ChangeEmail::PATH, e);
    }
    // The new address gets mail: counted against its allowance, so nobody can flood a stranger's inbox
    // from their own account.
    if let Err(e) = req.limit_mail_to_new_address(&new_email).await {
        return req.fail_back_to(&back, ChangeEmail::PATH, e);
    }
    match account::request_email_change(&req.app, &session, &current_password, &new_email).await {
        Ok(()) => {
            req.redirect_html_form(&Notice::EmailChangeRequested.on(paths::PROFILE));
            Ok(())
        }
        Err(e) => req.fail_back_to(&back, ChangeEmail::PATH, e),
    }
}

/// What `/confirm-email-change` shows before anything is used: whether the link still works, which
/// change it makes, and whether this browser is signed in as the account that asked for it (then the
/// hydrated page may confirm by itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmailChangePreview {
    pub usable: bool,
    /// The account's current address, masked: "a•••@example.com".
    pub from: Option<String>,
    /// The new address, the one the link was mailed to.
    pub to: Option<String>,
    pub automatic: bool,
}

/// Looks at an email change link without using it.
#[server(endpoint = "preview_email_change")]
pub async fn preview_email_change(token: String) -> Result<EmailChangePreview, AppError> {
    use super::request::RequestContext;
    use crate::server::account;

    let req = RequestContext::get();
    match account::preview_email_change(&req.app, &token).await {
        Ok(Some(change)) => Ok(EmailChangePreview {
            usable: true,
            // Only where the requester is signed in: anyone else who opens the mailed link (its reader,
            // a mail scanner) must not move somebody's account onto this address without a click.
            automatic: req.session_if_active().is_some_and(|s| s.user_id == change.user_id),
            from: Some(change.current),
            to: Some(change.new_email),
        }),
        Ok(None) => Ok(EmailChangePreview { usable: false, from: None, to: None, automatic: false }),
        Err(e) => req.fail(e),
    }
}

/// Applies an email change from the link in the mail to the new address.
#[server(endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::routes::{link_error_url, paths, Notice};
    use crate::server::account;

    let req = RequestContext::get();
    match account::confirm_email_change(&req.app, &token).await {
        Ok(user_id) => {
            // The link may be opened where nobody, or somebody else, is signed in.
            let own_session = req.session_if_active().is_some_and(|s| s.user_id == user_id);
            let page = if own_session { paths::PROFILE } else { paths::LOGIN };
            leptos_axum::redirect(&Notice::EmailChanged.on(page));
            Ok(())
        }
        Err(e) => {
            let e = AppError::from(e);
            leptos_axum::redirect(&link_error_url(paths::CONFIRM_EMAIL_CHANGE, &e));
            req.fail(e)
        }
    }
}

/// How guessable a new password is, for the hint under the field while the user types. `None`: fine.
/// The same check as on submit; the password is only looked at, never stored or logged. Anyone may ask,
/// so it is limited per client, refused when the server's CPU work queue is long, and takes fields only
/// of the sizes the forms allow.
#[server(endpoint = "password_feedback")]
pub async fn password_feedback(password: String, name: String, email: String) -> Result<Option<String>, AppError> {
    use super::request::RequestContext;
    use crate::domain::{DisplayName, Email, Field, InputError, Password};
    use crate::server::cpu_work::Admission;

    let req = RequestContext::get();
    // Bytes, generously: each field's own rule counts characters, at most 4 bytes each.
    let too_long = if name.len() > DisplayName::MAX_GRAPHEMES * DisplayName::MAX_CHARS_PER_GRAPHEME * 4 {
        Some(Field::Name)
    } else if email.len() > Email::MAX_LEN {
        Some(Field::Email)
    } else if password.len() > Password::MAX_CHARS * 4 {
        Some(Field::Password)
    } else {
        None
    };
    if let Some(field) = too_long {
        return req.fail(InputError::new(field, "That is longer than this field takes."));
    }
    if let Err(e) = req.limit_password_check().await {
        return req.fail(e);
    }
    let password = match Password::parse(&password) {
        Ok(password) => password,
        Err(e) => return Ok(Some(e.message)),
    };
    match req.app.passwords.check_strength(Admission::StrengthHint, &password, &[&name, &email]).await {
        Ok(verdict) => Ok(verdict.err().map(|e| e.message)),
        Err(e) => req.fail(e),
    }
}
