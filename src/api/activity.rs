//! The account's security activity, as `/profile/activity` lists it.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One event as its owner sees it: words only, never an internal id or a token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityEvent {
    /// "Signed in with a password".
    pub what: String,
    pub at: i64,
    /// "Firefox on Windows".
    pub device: String,
    pub ip: Option<String>,
    /// Done by (or started) the session reading the list: "This device".
    pub this_device: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityPage {
    /// The server's clock, for "2 minutes ago" (as `DeviceList::now`).
    pub now: i64,
    pub events: Vec<ActivityEvent>,
    /// This page's number, from 1.
    pub page: u32,
    /// Whether older events follow.
    pub older: bool,
}

/// The highest page number asked for is cut to this: a year of events fits well within it.
pub const MAX_PAGE: u32 = 10_000;

#[server(endpoint = "security_activity")]
pub async fn get_security_activity(page: u32) -> Result<ActivityPage, AppError> {
    use crate::server::accounts::activity;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    let page = page.clamp(1, MAX_PAGE);
    let (events, older) = activity::page_for(&req.app.db, &session.user_id, &session.session_id, page).await?;
    let events = events
        .into_iter()
        .map(|e| ActivityEvent { what: e.what, at: e.at, device: e.device, ip: e.ip, this_device: e.this_session })
        .collect();
    Ok(ActivityPage { now: req.app.now(), events, page, older })
}
