//! What the profile's "Sign-in methods" section lists: the account's passkeys and its two-factor state.

use crate::api::passkeys::PasskeyView;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the profile's "Sign-in methods" section shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInMethods {
    /// The server's clock, for "added 2 days ago" (as `DeviceList::now`).
    pub now: i64,
    pub passkeys: Vec<PasskeyView>,
    /// `None`: two-factor is off. `Some(n)`: on, with `n` recovery codes left.
    pub two_factor: Option<u32>,
}

#[server(endpoint = "sign_in_methods")]
pub async fn get_sign_in_methods() -> Result<SignInMethods, AppError> {
    use crate::server::accounts::passkeys;
    use crate::server::accounts::two_factor::{self, Status};
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    let two_factor = match two_factor::status(&req.app.db, &session.user_id).await? {
        Status::Off => None,
        Status::On { recovery_codes_left } => Some(recovery_codes_left),
    };
    let passkeys = passkeys::list(&req.app.db, &session.user_id).await?.into_iter().map(PasskeyView::from).collect();
    Ok(SignInMethods { now: req.app.now(), passkeys, two_factor })
}
