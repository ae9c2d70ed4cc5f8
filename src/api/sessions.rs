//! The signed-in user's sessions: list them, end one, end all but this one.

use super::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One signed-in device, as the session list shows it. Addressed by an opaque id; never carries a token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceSession {
    pub id: String,
    /// "Firefox on Windows".
    pub device: String,
    pub ip: Option<String>,
    pub started_at: i64,
    pub last_active_at: i64,
    /// The session making this request: "This device".
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    /// The server's clock when the list was made, so relative times ("2 minutes ago") read the same in
    /// the server's HTML and in the hydrated page.
    pub now: i64,
    pub sessions: Vec<DeviceSession>,
}

impl SessionList {
    pub fn others(&self) -> usize {
        self.sessions.iter().filter(|s| !s.current).count()
    }
}

#[server(endpoint = "sessions")]
pub async fn list_sessions() -> Result<SessionList, AppError> {
    use super::request::RequestContext;
    use crate::server::{devices, sessions};

    let req = RequestContext::get();
    let current = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    let now = req.app.now();
    let records = match sessions::list_for_user(&req.app.db, now, &req.app.settings.sessions, &current.user_id).await {
        Ok(records) => records,
        Err(e) => return req.fail(crate::server::Error::from(e)),
    };
    let sessions = records
        .into_iter()
        .map(|r| DeviceSession {
            current: r.id == current.session_id,
            device: devices::describe(r.user_agent.as_deref()),
            id: r.id,
            ip: r.ip,
            started_at: r.created_at,
            last_active_at: r.last_seen_at,
        })
        .collect();
    Ok(SessionList { now, sessions })
}

/// Signs out one of the user's other devices.
#[server(endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    use super::request::RequestContext;
    use crate::server::{audit, sessions};

    let req = RequestContext::get();
    let current = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    match sessions::end_for_user(&req.app.db, &current.user_id, &id, &current.session_id).await {
        Ok(ended) => {
            if ended {
                audit::event("session_revoked", &current.user_id);
            }
            // Already gone (signed out elsewhere, expired, or never ours): the list simply no longer shows it.
            req.redirect_html_form(crate::routes::paths::PROFILE);
            Ok(())
        }
        Err(e) => req.fail(crate::server::Error::from(e)),
    }
}

/// Signs out every device but this one (Altogic's `signOutAllExceptCurrent`). Returns how many ended.
#[server(endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    use super::request::RequestContext;
    use crate::server::{audit, sessions};

    let req = RequestContext::get();
    let current = match req.session() {
        Ok(session) => session,
        Err(e) => return req.fail(e),
    };
    match sessions::end_all_except(req.app.db.writes(), &current.user_id, &current.session_id).await {
        Ok(ended) => {
            audit::event("other_sessions_revoked", &current.user_id);
            req.redirect_html_form(crate::routes::paths::PROFILE);
            Ok(ended)
        }
        Err(e) => req.fail(crate::server::Error::from(e)),
    }
}
