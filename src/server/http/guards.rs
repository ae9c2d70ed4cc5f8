//! What every request passes before it reaches a page or a server function: a plain spelling of its path,
//! the refusal of cross-site requests, and the session check with the pages' guards.

use crate::routes::{access, paths, Access, Notice};
use crate::server::http::cookies;
use crate::server::sessions::{self, ClientInfo, Lookup};
use crate::server::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};
use tower_cookies::Cookies;

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
    let lookup = match cookies::session::read(&cookies, &app.settings) {
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
        cookies::session::clear(&cookies, &app.settings);
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

/// Sends a request for a path with `.` or `..` segments, empty segments or an encoded dot to the same
/// path written plainly (308), before anything else looks at it. Browsers never send such paths; a client
/// that does must not reach a page by a spelling the guards do not recognise (`/pkg/../profile` looks like
/// a static file to `resolve_session`, yet the router serves the profile).
pub async fn plain_paths_only(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let encoded_dot = |s: &str| s.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'2' && w[2] | 0x20 == b'e');
    let suspicious = path.contains("//")
        || path.contains('\\')
        || path.split('/').any(|segment| segment == "." || segment == ".." || encoded_dot(segment));
    if !suspicious {
        return next.run(req).await;
    }
    let mut segments: Vec<String> = Vec::new();
    for segment in path.split(['/', '\\']) {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        match decoded.as_str() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(decoded),
        }
    }
    let mut plain = format!("/{}", segments.join("/"));
    if plain == path {
        return next.run(req).await;
    }
    if let Some(query) = req.uri().query() {
        plain.push('?');
        plain.push_str(query);
    }
    (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, plain)]).into_response()
}
