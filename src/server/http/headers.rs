//! Headers every response gets, and the status of a server function's error.

use crate::error::AppError;
use crate::routes::carries_token;
use crate::server::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of HTML that brings none of its own, such as the 503 page of `unavailable`:
/// pages written without Leptos, which run no script and load nothing but the stylesheet.
const SCRIPT_FREE_PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Headers every response gets. Rendered pages get their Content-Security-Policy while rendering (see
/// `app::shell`), because it carries the per-request nonce of Leptos' inline scripts; any other HTML
/// response that has none gets `SCRIPT_FREE_PAGE_CSP` here, so no HTML ever goes out without one.
pub async fn security_headers(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let carries_token = carries_token(req.uri().path());
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Links out of a page never carry its URL; pages with a token in their URL send no referrer at all.
    let referrer = if carries_token { "no-referrer" } else { "same-origin" };
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    if app.settings.is_https() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    if is_html && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SCRIPT_FREE_PAGE_CSP));
    }
    // Pages show account data and responses that set or clear the session must never be cached.
    if is_html || h.contains_key(header::SET_COOKIE) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Gives a server function's error its HTTP status, for every function in one place (`AppError::status`),
/// so that server functions simply return their error (`?`). The framework answers every error with 500;
/// here the error in the body decides (a malformed call, which the framework reports as
/// `AppError::Transport`, is the client's mistake: 400), and a rate-limited one says when to retry.
pub async fn error_statuses(req: Request, next: Next) -> Response {
    let is_server_fn = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !is_server_fn
        || res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
        if let AppError::RateLimited { retry_after_secs } = error {
            parts.headers.insert(header::RETRY_AFTER, retry_after_secs.into());
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
