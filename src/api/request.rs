//! What a server function knows about the request it serves: the app, the session, the cookies, the
//! client. The session was already looked up by `server::middleware::resolve_session`.

use super::AppError;
use crate::routes::Notice;
use crate::server::middleware::{link_cookie, session_cookie};
use crate::server::page_cache::ShownUntil;
use crate::server::rate_limits::Attempt;
use crate::server::sessions::{ClientInfo, CurrentSession, Lookup};
use crate::server::AppState;
use axum::http::{header, request::Parts, StatusCode};
use leptos::prelude::{expect_context, use_context};
use leptos::server_fn::error::ServerFnUrlError;
use leptos_axum::ResponseOptions;
use std::sync::Arc;
use tower_cookies::Cookies;

pub struct RequestContext {
    pub app: AppState,
    pub client: ClientInfo,
    lookup: Lookup,
    cookies: Option<Cookies>,
    /// A plain HTML form post (JavaScript off) rather than a call from the hydrated page.
    from_html_form: bool,
    /// Set while a page that may be shown again renders (`server::page_cache`).
    shown_until: Option<ShownUntil>,
}

impl RequestContext {
    pub fn get() -> Self {
        let parts = use_context::<Parts>();
        let ext = |parts: &Parts| {
            (
                parts.extensions.get::<Lookup>().cloned(),
                parts.extensions.get::<ClientInfo>().cloned(),
                parts.extensions.get::<Cookies>().cloned(),
                parts.extensions.get::<ShownUntil>().cloned(),
            )
        };
        let (lookup, client, cookies, shown_until) = parts.as_ref().map(ext).unwrap_or_default();
        let from_html_form = parts
            .as_ref()
            .and_then(|p| p.headers.get(header::ACCEPT))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        Self {
            app: expect_context::<AppState>(),
            client: client.unwrap_or_default(),
            lookup: lookup.unwrap_or(Lookup::Guest),
            cookies,
            from_html_form,
            shown_until,
        }
    }

    /// What was just read for the page reads differently from `until` on, by the clock alone. A page that
    /// may be shown again later is, until then (`server::page_cache`).
    pub fn page_unchanged_until(&self, until: crate::server::clock::UnixTime) {
        if let Some(shown_until) = &self.shown_until {
            shown_until.at_most(until);
        }
    }

    /// The signed-in session, or the error (and a redirect to the login page) for a guest.
    pub fn session(&self) -> Result<Arc<CurrentSession>, AppError> {
        match &self.lookup {
            Lookup::Active(session) => Ok(session.clone()),
            Lookup::Guest => {
                leptos_axum::redirect(crate::routes::paths::LOGIN);
                Err(AppError::SignInRequired)
            }
            Lookup::Ended => {
                leptos_axum::redirect(&Notice::SessionEnded.login_url());
                Err(AppError::SessionEnded)
            }
        }
    }

    /// The signed-in session, if there is one, without redirecting guests anywhere.
    pub fn session_if_active(&self) -> Option<Arc<CurrentSession>> {
        self.lookup.active().cloned()
    }

    /// Hands the browser a new session. A session the browser already had ends, so signing in again
    /// never leaves an orphan behind.
    pub async fn start_session(&self, token: String) {
        if let Lookup::Active(old) = &self.lookup {
            if let Err(e) = crate::server::sessions::end(&self.app.db, &old.session_id).await {
                tracing::warn!(error = %e, "could not end the previous session");
            }
        }
        if let Some(cookies) = &self.cookies {
            session_cookie::set(cookies, &self.app.settings, token);
        }
    }

    /// Counts an attempt against the rate limits (see `server::rate_limits`). Over the limit, the error
    /// to return: 429 with `Retry-After` for the hydrated page, the message on the form without JavaScript.
    pub fn check_limit(&self, attempt: Attempt, account: Option<&str>) -> Result<(), AppError> {
        let ip = self.client.ip.as_deref().and_then(|ip| ip.parse().ok());
        let Err(wait) = self.app.limits.check(attempt, ip, account) else { return Ok(()) };
        let secs = wait.as_secs().max(1);
        if let Some(res) = use_context::<ResponseOptions>() {
            res.insert_header(header::RETRY_AFTER, secs.into());
        }
        tracing::warn!(target: "audit", event = "rate_limited", attempt = ?attempt, "account event");
        Err(AppError::RateLimited { retry_after_secs: secs })
    }

    /// Remembers that this browser asked for a mailed sign-in link (see `link_cookie`).
    pub fn mark_link_requested(&self) {
        if let Some(cookies) = &self.cookies {
            link_cookie::set(cookies, &self.app.settings);
        }
    }

    pub fn link_requested_here(&self) -> bool {
        self.cookies.as_ref().is_some_and(|c| link_cookie::is_set(c, &self.app.settings))
    }

    pub fn clear_link_requested(&self) {
        if let Some(cookies) = &self.cookies {
            link_cookie::clear(cookies, &self.app.settings);
        }
    }

    pub fn clear_session_cookie(&self) {
        if let Some(cookies) = &self.cookies {
            session_cookie::clear(cookies, &self.app.settings);
        }
    }

    /// Where a plain form post (JavaScript off) lands afterwards. The hydrated page stays where it is and
    /// updates itself, so it gets no redirect.
    pub fn redirect_html_form(&self, path: &str) {
        if self.from_html_form {
            leptos_axum::redirect(path);
        }
    }

    /// Like `fail`, for forms on pages that send no referrer (their URL carries a token): a plain form
    /// post goes back to `page` (path and query) with the error, as Leptos otherwise does through the
    /// referer. Also used to bring back what the user typed (`/login?email=…`), which the referer lacks.
    pub fn fail_back_to<T>(&self, page: &str, server_fn_path: &str, error: impl Into<AppError>) -> Result<T, AppError> {
        let error = error.into();
        if self.from_html_form {
            let origin = self.app.settings.app.base_url.origin().ascii_serialization();
            match ServerFnUrlError::new(server_fn_path, error.clone()).to_url(&format!("{origin}{page}")) {
                // The path only: the browser stays on this site's origin, whatever it used.
                Ok(url) => {
                    let target = match url.query() {
                        Some(q) => format!("{}?{q}", url.path()),
                        None => url.path().to_owned(),
                    };
                    leptos_axum::redirect(&target)
                }
                Err(e) => tracing::warn!(error = %e, "could not build the form's return address"),
            }
        }
        self.fail(error)
    }

    /// Gives an error its HTTP status for API clients. Plain form posts keep the redirect back to the form
    /// (which shows the message), since a 4xx there would leave the browser on a bare error page.
    pub fn fail<T>(&self, error: impl Into<AppError>) -> Result<T, AppError> {
        let error = error.into();
        if !self.from_html_form {
            if let Some(res) = use_context::<ResponseOptions>() {
                res.set_status(status_of(&error));
            }
        }
        Err(error)
    }
}

fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::Invalid { .. } | AppError::InvalidLink | AppError::Transport(_) => StatusCode::BAD_REQUEST,
        AppError::InvalidCredentials | AppError::SignInRequired | AppError::SessionEnded => StatusCode::UNAUTHORIZED,
        AppError::EmailNotVerified => StatusCode::FORBIDDEN,
        AppError::EmailTaken => StatusCode::CONFLICT,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unexpected => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Unavailable | AppError::MailUnavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}
