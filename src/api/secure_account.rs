//! "This wasn't me", from a new-sign-in alert: `/secure-account?token=…`.

use crate::error::AppError;
use leptos::prelude::*;

/// Whether a "This wasn't me" link still works, so the page can say so before anyone presses the button.
#[server(endpoint = "check_secure_link")]
pub async fn check_secure_link(token: String) -> Result<bool, AppError> {
    use crate::server::accounts::secure_account;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    Ok(secure_account::link_is_usable(&req.app, &token).await?)
}

/// "Secure my account" (`accounts::secure_account::secure`): then to `/login`, where a reset link is
/// waiting in the mailbox.
#[server(endpoint = "secure_account")]
pub async fn secure_account(token: String) -> Result<(), AppError> {
    use crate::routes::{link_error_url, paths, Notice};
    use crate::server::accounts::secure_account;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    match secure_account::secure(&req.app, &token, &req.client).await.map_err(AppError::from) {
        Ok(user_id) => {
            // This browser's session, if it was the account's, ended with the others.
            if req.session_if_active().is_some_and(|s| s.user_id == user_id) {
                req.clear_session_cookie();
            }
            leptos_axum::redirect(&Notice::AccountSecured.login_url());
            Ok(())
        }
        Err(e) => {
            leptos_axum::redirect(&link_error_url(paths::SECURE_ACCOUNT, &e));
            Err(e)
        }
    }
}
