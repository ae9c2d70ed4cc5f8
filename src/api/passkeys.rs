//! Passkeys: the two requests of each WebAuthn ceremony (the browser's part is
//! `components::passkeys`), and renaming or removing one from the profile. The how is in
//! `server::accounts::passkeys`.

use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn as _;
use serde::{Deserialize, Serialize};

/// One of the account's passkeys, as the profile lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[cfg(feature = "ssr")]
impl From<crate::server::accounts::passkeys::Listed> for PasskeyView {
    fn from(p: crate::server::accounts::passkeys::Listed) -> Self {
        Self { id: p.id, name: p.name, created_at: p.created_at, last_used_at: p.last_used_at }
    }
}

/// The options for `navigator.credentials.get` (JSON, as WebAuthn's `parseRequestOptionsFromJSON` reads
/// them) for signing in with any passkey of this site.
#[server(endpoint = "start_passkey_sign_in")]
pub async fn start_passkey_sign_in() -> Result<String, AppError> {
    use crate::server::accounts::passkeys;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    req.limit_passkey_ceremony().await?;
    let (options, ceremony) = passkeys::start_sign_in(&req.app).await?;
    req.hold_passkey_ceremony(ceremony);
    Ok(options)
}

/// Signs in with the browser's answer (`credential`: the `PublicKeyCredential` as JSON).
#[server(endpoint = "finish_passkey_sign_in")]
pub async fn finish_passkey_sign_in(credential: String) -> Result<(), AppError> {
    use crate::routes::paths;
    use crate::server::accounts::passkeys;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let ceremony = req.take_passkey_ceremony();
    let session_token = passkeys::finish_sign_in(&req.app, ceremony.as_deref(), &credential, &req.browser()).await?;
    req.start_session(session_token).await;
    leptos_axum::redirect(paths::PROFILE);
    Ok(())
}

/// The options for `navigator.credentials.create`, to add a passkey to the signed-in account; the
/// current password first.
#[server(endpoint = "start_passkey_registration")]
pub async fn start_passkey_registration(current_password: String) -> Result<String, AppError> {
    use crate::server::accounts::passkeys;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    req.limit_reauthentication(&session).await?;
    req.limit_passkey_ceremony().await?;
    let (options, ceremony) = passkeys::start_registration(&req.app, &session, &current_password).await?;
    req.hold_passkey_ceremony(ceremony);
    Ok(options)
}

#[server(endpoint = "finish_passkey_registration")]
pub async fn finish_passkey_registration(credential: String) -> Result<PasskeyView, AppError> {
    use crate::server::accounts::passkeys;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    let ceremony = req.take_passkey_ceremony();
    let added =
        passkeys::finish_registration(&req.app, &session, ceremony.as_deref(), &credential, &req.client).await?;
    Ok(added.into())
}

#[server(endpoint = "rename_passkey")]
/// The name as kept.
pub async fn rename_passkey(id: String, name: String) -> Result<String, AppError> {
    use crate::routes::paths;
    use crate::server::accounts::passkeys;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    req.form(paths::PROFILE, RenamePasskey::PATH, async {
        let name = passkeys::rename(&req.app, &session, &id, &name).await?;
        req.redirect_html_form(paths::PROFILE);
        Ok(name)
    })
    .await
}

#[server(endpoint = "remove_passkey")]
pub async fn remove_passkey(id: String, current_password: String) -> Result<(), AppError> {
    use crate::routes::paths;
    use crate::server::accounts::passkeys;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    req.form(paths::PROFILE, RemovePasskey::PATH, async {
        req.limit_reauthentication(&session).await?;
        passkeys::remove(&req.app, &session, &req.client, &id, &current_password).await?;
        req.redirect_html_form(paths::PROFILE);
        Ok(())
    })
    .await
}
