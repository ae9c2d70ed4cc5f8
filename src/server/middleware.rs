//! Layers every request passes through: session resolution and page guards, cross-site request refusal,
//! and security headers.

use super::sessions::{self, ClientInfo, Lookup};
use super::settings::Settings;
use super::state::AppState;
use crate::routes::{access, carries_token, paths, Access, Notice};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};
use tower_cookies::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use tower_cookies::Cookies;

/// The session cookie: HttpOnly, SameSite=Lax, Path=/, no Domain; under https also Secure with the
/// `__Host-` prefix, which makes browsers refuse it from any other host or path.
pub mod session_cookie {
    use super::*;

    pub fn name(settings: &Settings) -> &'static str {
        if settings.is_https() {
            "__Host-session"
        } else {
            "session"
        }
    }

    pub fn read(cookies: &Cookies, settings: &Settings) -> Option<String> {
        cookies.get(name(settings)).map(|c| c.value().to_owned())
    }

    pub fn set(cookies: &Cookies, settings: &Settings, token: String) {
        let max_age = settings.sessions.absolute_timeout;
        cookies.add(build(settings, name(settings), token, Some(max_age)));
    }

    pub fn clear(cookies: &Cookies, settings: &Settings) {
        cookies.remove(build(settings, name(settings), String::new(), None));
    }

    /// Every cookie of the app has the same safe attributes.
    pub(super) fn build(
        settings: &Settings,
        name: &'static str,
        value: String,
        max_age: Option<std::time::Duration>,
    ) -> Cookie<'static> {
        let mut cookie =
            Cookie::build((name, value)).http_only(true).same_site(SameSite::Lax).path("/").secure(settings.is_https());
        if let Some(max_age) = max_age {
            cookie = cookie.max_age(CookieDuration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX)));
        }
        cookie.build()
    }
}

/// "This browser asked for a sign-in link": set when a verification or magic link is mailed, so that
/// the page the link opens may sign in by itself only in the browser that asked. Anywhere else it asks
/// for a click and shows whose account the link is for, so a link sent by someone else (to sign the
/// reader into the sender's account) cannot work unnoticed.
pub mod link_cookie {
    use super::*;

    pub fn name(settings: &Settings) -> &'static str {
        if settings.is_https() {
            "__Host-link_requested"
        } else {
            "link_requested"
        }
    }

    pub fn is_set(cookies: &Cookies, settings: &Settings) -> bool {
        cookies.get(name(settings)).is_some()
    }

    pub fn set(cookies: &Cookies, settings: &Settings) {
        let lifetime = settings.tokens.verify_email_ttl.max(settings.tokens.magic_link_ttl);
        cookies.add(session_cookie::build(settings, name(settings), "1".into(), Some(lifetime)));
    }

    pub fn clear(cookies: &Cookies, settings: &Settings) {
        cookies.remove(session_cookie::build(settings, name(settings), String::new(), None));
    }
}

/// Static files never need the session; skipping them keeps asset requests off the database.
fn is_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.ico" || path.starts_with("/assets/") || path.starts_with("/avatars/")
}

/// Looks up the session behind the cookie once per request and stores it (and the client's address) in
/// the request extensions, where server functions and pages read it. Pages a guest or a signed-in user
/// may not see are redirected here, before any HTML is rendered.
pub async fn resolve_session(State(app): State<AppState>, cookies: Cookies, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if is_asset(&path) {
        return next.run(req).await;
    }
    let lookup = match session_cookie::read(&cookies, &app.settings) {
        None => Lookup::Guest,
        Some(token) => match sessions::lookup(&app.db, app.now(), &app.settings.sessions, &token).await {
            Ok(lookup) => lookup,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return unavailable(&req);
            }
        },
    };
    let navigation = req.method() == Method::GET || req.method() == Method::HEAD;
    // A dead cookie is removed when the browser loads a page, never in answer to a call made from one: such
    // a call may have left with the cookie a moment before the session got a new token (a password change
    // in the same page), and clearing "its" cookie would then sign the browser out of the new session.
    if navigation && matches!(lookup, Lookup::Ended) {
        session_cookie::clear(&cookies, &app.settings);
    }
    if navigation {
        match (access(&path), &lookup) {
            (Access::SignedIn, Lookup::Guest) => return Redirect::to(paths::LOGIN).into_response(),
            (Access::SignedIn, Lookup::Ended) => {
                return Redirect::to(&Notice::SessionEnded.login_url()).into_response()
            }
            (Access::GuestsOnly(notice), Lookup::Active(_)) => {
                let profile = notice.map_or_else(|| paths::PROFILE.to_owned(), |notice| notice.on(paths::PROFILE));
                return Redirect::to(&profile).into_response();
            }
            _ => {}
        }
    }
    let client = ClientInfo {
        ip: client_ip(&req, app.settings.app.trusted_proxy_hops).map(|ip| ip.to_string()),
        user_agent: req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
    };
    req.extensions_mut().insert(lookup);
    req.extensions_mut().insert(client);
    next.run(req).await
}

/// The answer while the database cannot be reached: a 503 that says so (a page for browsers, a line for
/// everything else), with a hint to retry soon. Nothing was read or changed.
fn unavailable(req: &Request) -> Response {
    const MESSAGE: &str = "The service is temporarily unavailable. Please try again in a moment.";
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let retry = [(header::RETRY_AFTER, "5")];
    if !wants_html {
        return (StatusCode::SERVICE_UNAVAILABLE, retry, MESSAGE).into_response();
    }
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>Temporarily unavailable · Authkit</title><link rel=\"stylesheet\" href=\"/pkg/authkit.css\"></head>\
         <body><main class=\"auth-page\"><a class=\"brand\" href=\"/\">Authkit</a>\
         <section class=\"card\" aria-labelledby=\"page-heading\"><h1 id=\"page-heading\">Temporarily unavailable</h1>\
         <p>{MESSAGE}</p><p><a href=\"\">Try again</a></p></section></main></body></html>"
    );
    (StatusCode::SERVICE_UNAVAILABLE, retry, axum::response::Html(page)).into_response()
}

/// The client's address: the socket's, or with `hops` trusted proxies in front, the address the outermost
/// of them saw (the `hops`-th entry from the right of `X-Forwarded-For`).
fn client_ip(req: &Request, hops: usize) -> Option<IpAddr> {
    let socket = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if hops == 0 {
        return socket;
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    forwarded.len().checked_sub(hops).and_then(|i| forwarded[i].parse().ok()).or(socket)
}

/// Refuses state-changing requests sent by other sites. Server functions accept form posts, which any
/// page on the web can make a browser send without a CORS preflight, so SameSite cookies alone are not
/// enough for older browsers. Browsers say where a request came from in `Sec-Fetch-Site`, or failing that
/// in `Origin`; requests with neither come from non-browser clients, which carry no ambient cookies.
pub async fn refuse_cross_site(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let headers = req.headers();
        let allowed = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            Some(site) => site == "same-origin" || site == "none",
            None => match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
                Some(origin) => origin == app.settings.app.base_url.origin().ascii_serialization(),
                None => true,
            },
        };
        if !allowed {
            tracing::warn!(path = %req.uri().path(), "refused a cross-site request");
            return (StatusCode::FORBIDDEN, "Cross-site requests are not allowed.").into_response();
        }
    }
    next.run(req).await
}

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

/// A server function that could not even read its arguments (a truncated or mistyped body, a wrong
/// encoding) is the client's mistake, yet the framework answers 500. Errors the app itself reports carry
/// their own status; these, and only these, are turned into 400.
pub async fn malformed_calls_are_client_errors(req: Request, next: Next) -> Response {
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
    // `AppError::Transport` is what the framework's own failures become (see `api::error`).
    if bytes.starts_with(br#"{"Transport""#) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
