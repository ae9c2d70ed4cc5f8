//! The signed-in user's sessions: list them, end one, end all but this one.

use crate::error::AppError;
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

/// The signed-in user's devices, as the profile lists them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceList {
    /// The server's clock when the list was made, so relative times ("2 minutes ago") read the same in
    /// the server's HTML and in the hydrated page.
    pub now: i64,
    pub sessions: Vec<DeviceSession>,
}

impl DeviceList {
    pub fn others(&self) -> usize {
        self.sessions.iter().filter(|s| !s.current).count()
    }
}

#[server(endpoint = "sessions")]
pub async fn list_sessions() -> Result<DeviceList, AppError> {
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let current = req.session()?;
    read_device_list(req.app.db.reads(), &req.app, &current).await
}

/// The signed-in user's devices, read through `db` (a pool, or the connection a page reads the rest with).
#[cfg(feature = "ssr")]
pub(crate) async fn read_device_list<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    app: &crate::server::AppState,
    current: &crate::server::sessions::CurrentSession,
) -> Result<DeviceList, AppError> {
    use crate::server::sessions::{self, user_agents};

    let now = app.now();
    let records = sessions::list_for_user(db, now, &app.settings.sessions, &current.user_id).await?;
    let sessions = records
        .into_iter()
        .map(|r| DeviceSession {
            current: r.id == current.session_id,
            device: user_agents::describe(r.user_agent.as_deref()),
            id: r.id,
            ip: r.ip,
            started_at: r.created_at,
            last_active_at: r.last_seen_at,
        })
        .collect();
    Ok(DeviceList { now, sessions })
}

/// Signs out one of the user's other devices.
#[server(endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let current = req.session()?;
    // Already gone (signed out elsewhere, expired, or never ours): the list simply no longer shows it.
    accounts::sign_out_device(&req.app, &current, &req.client, &id).await?;
    req.redirect_html_form(crate::routes::paths::PROFILE);
    Ok(())
}

/// Signs out every device but this one (Altogic's `signOutAllExceptCurrent`). Returns how many ended.
#[server(endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    use crate::server::accounts;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let current = req.session()?;
    let ended = accounts::sign_out_other_devices(&req.app, &current, &req.client).await?;
    req.redirect_html_form(crate::routes::paths::PROFILE);
    Ok(ended)
}
