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
