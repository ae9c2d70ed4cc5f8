//! The signed-in user's own account.

use crate::api::sessions::DeviceList;
use crate::api::sign_in_methods::SignInMethods;
use crate::error::AppError;
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
    /// How long a deleted account waits before it is erased: "14 days".
    pub deletion_grace: String,
}

/// After a name change: the name as stored (trimmed) and the avatar, whose default shows the initials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NameChanged {
    pub name: String,
    pub avatar_url: String,
}

/// Everything `/profile` shows. The sessions and the sign-in methods are read apart, and either can fail
/// alone (the page says so in that section); without a database connection at all, the page fails.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProfileData {
    pub profile: Profile,
    pub sessions: Result<DeviceList, AppError>,
    pub methods: Result<SignInMethods, AppError>,
}

/// What `/profile` shows, read on one database connection: sqlx checks every connection handed back to
/// the pool with a round trip of its own, and this page is the one most viewed.
#[server(endpoint = "profile_page")]
pub async fn get_profile_page() -> Result<ProfileData, AppError> {
    use crate::api::sessions::read_device_list;
    use crate::api::sign_in_methods::read_sign_in_methods;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    let mut conn = req.app.db.reads().acquire().await?;
    let sessions = read_device_list(&mut *conn, &req.app, &session).await;
    let methods = read_sign_in_methods(&mut conn, req.app.now(), &session.user_id).await;
    Ok(ProfileData { profile: profile_of(&req.app, &session), sessions, methods })
}

#[cfg(feature = "ssr")]
fn profile_of(app: &crate::server::AppState, session: &crate::server::sessions::CurrentSession) -> Profile {
    Profile {
        name: session.name.clone(),
        email: session.email.clone(),
        avatar_url: avatar_url_of(&session.name, &session.user_id, session.avatar_key.as_deref()),
        avatar_max_bytes: app.settings.storage.avatar_max_bytes(),
        deletion_grace: crate::time_format::exact_length(app.settings.app.deletion_grace),
    }
}

#[cfg(feature = "ssr")]
fn avatar_url_of(name: &str, user_id: &str, avatar_key: Option<&str>) -> String {
    use crate::server::storage::avatars::{avatar_url, default_avatar};
    avatar_key.map(avatar_url).unwrap_or_else(|| default_avatar(name, user_id))
}

/// Changes the signed-in user's own name; there is no user id to pass, so nobody else's can be targeted.
#[server(endpoint = "update_name")]
pub async fn update_name(name: String) -> Result<NameChanged, AppError> {
    use crate::domain::DisplayName;
    use crate::routes::{paths, with_query};
    use crate::server::accounts::{audit, users};
    use crate::server::http::request_context::RequestContext;
    use leptos::server_fn::ServerFn as _;

    let req = RequestContext::get();
    let session = req.session()?;
    // Without JavaScript, a refused name comes back in the editor as typed.
    let back = with_query(paths::PROFILE, &[("edit", "name"), ("name", &name)]);
    req.form(&back, UpdateName::PATH, async {
        let name = DisplayName::parse(&name)?;
        users::update_name(&req.app.db, &session.user_id, req.app.now(), &name).await?;
        audit::event("name_changed", &session.user_id);
        req.redirect_html_form(paths::PROFILE);
        Ok(NameChanged {
            name: name.as_str().to_owned(),
            avatar_url: avatar_url_of(name.as_str(), &session.user_id, session.avatar_key.as_deref()),
        })
    })
    .await
}

/// Changes the password; the current one is required. Other devices are signed out.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    new_password_confirm: String,
) -> Result<(), AppError> {
    use crate::domain::Password;
    use crate::routes::{paths, Notice};
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    let password = Password::parse_new(&new_password, &new_password_confirm)?;
    // The current password can be guessed here too: counted per session, so strangers failing to sign
    // in elsewhere never stop the owner.
    req.limit_reauthentication(&session).await?;
    let session_token =
        accounts::change_password(&req.app, &session, &current_password, &password, &req.browser()).await?;
    // A new token for this browser: a copy of the old cookie, wherever it went, is now worthless.
    req.start_session(session_token).await;
    req.redirect_html_form(&Notice::PasswordChanged.on(paths::PROFILE));
    Ok(())
}

/// Starts an email change; the current password is required. The change happens when the link sent to
/// the new address is opened.
#[server(endpoint = "change_email")]
pub async fn change_email(new_email: String, current_password: String) -> Result<(), AppError> {
    use crate::domain::{Email, Field};
    use crate::routes::{paths, with_query, Notice};
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;
    use leptos::server_fn::ServerFn as _;

    let req = RequestContext::get();
    let session = req.session()?;
    // Without JavaScript, a refused change comes back with the typed address.
    let back = with_query(paths::PROFILE, &[("new_email", &new_email)]);
    req.form(&back, ChangeEmail::PATH, async {
        let new_email = Email::parse(&new_email).map_err(|e| e.on(Field::NewEmail))?;
        req.limit_reauthentication(&session).await?;
        // The new address gets mail: counted against its allowance, so nobody can flood a stranger's
        // inbox from their own account.
        req.limit_mail_to_new_address(&session, &new_email).await?;
        accounts::request_email_change(&req.app, &session, &current_password, &new_email).await?;
        req.redirect_html_form(&Notice::EmailChangeRequested.on(paths::PROFILE));
        Ok(())
    })
    .await
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
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    Ok(match accounts::preview_email_change(&req.app, &token).await? {
        Some(change) => EmailChangePreview {
            usable: true,
            // Only where the requester is signed in: anyone else who opens the mailed link (its reader,
            // a mail scanner) must not move somebody's account onto this address without a click.
            automatic: req.session_if_active().is_some_and(|s| s.user_id == change.user_id),
            from: Some(change.current),
            to: Some(change.new_email),
        },
        None => EmailChangePreview { usable: false, from: None, to: None, automatic: false },
    })
}

/// Applies an email change from the link in the mail to the new address.
#[server(endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    use crate::routes::{link_error_url, paths, Notice};
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    match accounts::confirm_email_change(&req.app, &token, &req.client).await.map_err(AppError::from) {
        Ok(user_id) => {
            // The link may be opened where nobody, or somebody else, is signed in.
            let own_session = req.session_if_active().is_some_and(|s| s.user_id == user_id);
            let page = if own_session { paths::PROFILE } else { paths::LOGIN };
            leptos_axum::redirect(&Notice::EmailChanged.on(page));
            Ok(())
        }
        Err(e) => {
            leptos_axum::redirect(&link_error_url(paths::CONFIRM_EMAIL_CHANGE, &e));
            Err(e)
        }
    }
}

/// How guessable a new password is, for the hint under the field while the user types. `None`: fine.
/// The same check as on submit; the password is only looked at, never stored or logged. Anyone may ask,
/// so it is limited per client, refused when the server's CPU work queue is long, and takes fields only
/// of the sizes the forms allow.
#[server(endpoint = "password_feedback")]
pub async fn password_feedback(password: String, name: String, email: String) -> Result<Option<String>, AppError> {
    use crate::domain::{DisplayName, Email, Field, InputError, Password};
    use crate::server::http::request_context::RequestContext;
    use crate::server::platform::cpu_work::Admission;

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
        return Err(InputError::new(field, "That is longer than this field takes.").into());
    }
    req.limit_password_check().await?;
    let password = match Password::parse(&password) {
        Ok(password) => password,
        Err(e) => return Ok(Some(e.message)),
    };
    let verdict = req.app.passwords.check_strength(Admission::StrengthHint, &password, &[&name, &email]).await?;
    Ok(verdict.err().map(|e| e.message))
}
