//! "Your data" on the profile: delete the account (the download is a plain link, `accounts::export`), and
//! cancel a deletion from the mailed link (`/cancel-deletion?token=…`).

use crate::error::AppError;
use leptos::prelude::*;

/// "Delete account", after the current password: signed out everywhere, then to `/login`, which says what
/// happens next. The hydrated page follows the same redirect.
#[server(endpoint = "delete_account")]
pub async fn delete_account(current_password: String) -> Result<(), AppError> {
    use crate::routes::{paths, Notice};
    use crate::server::accounts::deletion;
    use crate::server::http::request_context::RequestContext;
    use leptos::server_fn::ServerFn as _;

    let req = RequestContext::get();
    let session = req.session()?;
    req.form(paths::PROFILE, DeleteAccount::PATH, async {
        req.limit_reauthentication(&session).await?;
        deletion::delete_own_account(&req.app, &session, &current_password, &req.client).await?;
        req.clear_session_cookie();
        leptos_axum::redirect(&Notice::AccountDeleted.login_url());
        Ok(())
    })
    .await
}

/// Whether a "Cancel deletion" link still works, so the page can say so before anyone presses the button.
#[server(endpoint = "check_cancel_deletion_link")]
pub async fn check_cancel_deletion_link(token: String) -> Result<bool, AppError> {
    use crate::server::accounts::deletion;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    Ok(deletion::cancel_link_is_usable(&req.app, &token).await?)
}

/// "Cancel deletion": the account is kept; then to `/login`.
#[server(endpoint = "cancel_deletion")]
pub async fn cancel_deletion(token: String) -> Result<(), AppError> {
    use crate::routes::{link_error_url, paths, Notice};
    use crate::server::accounts::deletion;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    match deletion::cancel_with_link(&req.app, &token, &req.client).await.map_err(AppError::from) {
        Ok(_) => {
            leptos_axum::redirect(&Notice::DeletionCancelled.login_url());
            Ok(())
        }
        Err(e) => {
            leptos_axum::redirect(&link_error_url(paths::CANCEL_DELETION, &e));
            Err(e)
        }
    }
}
