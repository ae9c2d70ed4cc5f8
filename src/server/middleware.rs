//! Layers every request passes through: session resolution and page guards, cross-site request refusal,
//! and security headers.

use super::cookies;
use super::sessions::{self, ClientInfo, Lookup};
use super::state::AppState;
use crate::routes::{access, carries_token, paths, Access, Notice};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
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

/// Sends a request for a path with `.` or `..` segments, empty segments or an encoded dot to the same
/// path written plainly (308), before anything else looks at it. Browsers never send such paths; a client
/// that does must not reach a page by a spelling the guards do not recognise (`/pkg/../profile` looks like
/// a static file to `resolve_session`, yet the router serves the profile).
pub async fn plain_paths_only(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let suspicious = path.contains("//")
        || path.contains("/./")
        || path.contains("/../")
        || path.ends_with("/.")
        || path.ends_with("/..")
        || path.contains('\\')
        || path.to_ascii_lowercase().contains("%2e");
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

/// What signs the errors that a form post without JavaScript carries back to its page in the address
/// (`__path`, `__err`), for `__sig`.
const FORM_ERROR_SIGNATURE: &str = "form error";

/// The two ends of what the server sends a browser away with after a form post, and what it may bring
/// back:
/// - A server function's redirect goes only to a path on this site: the framework sends a form post
///   without JavaScript back to its `Referer`, which any page can set to another site.
/// - The error such a redirect carries in the address (`__err`, decoded and shown by the page's form) is
///   signed with the server's key, and a page shows only a signed one: text a third party put into a
///   link to our site (`/login?__err=…Account suspended, call …`) is dropped before the page renders.
pub async fn only_our_redirects_and_errors(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(query) = req.uri().query() {
        if let Some(kept) = without_unsigned_form_error(query, &app.secret_key) {
            let path = req.uri().path();
            let uri = if kept.is_empty() { path.to_owned() } else { format!("{path}?{kept}") };
            if let Ok(uri) = uri.parse() {
                *req.uri_mut() = uri;
            }
        }
    }
    let is_server_fn = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    if !is_server_fn {
        return res;
    }
    let Some(location) = res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else { return res };
    let local = same_site_path(location, &app.settings.app.base_url);
    let signed = sign_form_error(&local, &app.secret_key);
    if let Ok(value) = HeaderValue::from_str(&signed) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

/// `location` as a path on this site: an absolute address on `base` loses its origin, one anywhere else
/// (or a protocol-relative `//host/…`) becomes the start page.
fn same_site_path(location: &str, base: &url::Url) -> String {
    if location.starts_with('/') && !location.starts_with("//") && !location.starts_with("/\\") {
        return location.to_owned();
    }
    match base.join(location) {
        Ok(url) if url.origin() == base.origin() => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        _ => "/".to_owned(),
    }
}

/// The `__path` and `__err` values of a query, decoded, if it has both.
fn form_error_of(query: &str) -> Option<(String, String)> {
    let (mut path, mut err) = (None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "__path" => path = Some(value.into_owned()),
            "__err" => err = Some(value.into_owned()),
            _ => {}
        }
    }
    path.zip(err)
}

fn form_error_message(path: &str, err: &str) -> String {
    format!("{path}\n{err}")
}

/// `location` with a `__sig` for the form error it carries, if any.
fn sign_form_error(location: &str, key: &super::secrets::SecretKey) -> String {
    let Some((_, query)) = location.split_once('?') else { return location.to_owned() };
    match form_error_of(query) {
        Some((path, err)) => {
            let signature = key.sign(FORM_ERROR_SIGNATURE, &form_error_message(&path, &err));
            format!("{location}&__sig={signature}")
        }
        None => location.to_owned(),
    }
}

/// The query without `__path`, `__err` and `__sig` when it carries a form error the server did not sign;
/// `None` when it has nothing to drop.
fn without_unsigned_form_error(query: &str, key: &super::secrets::SecretKey) -> Option<String> {
    const CARRIED: [&str; 3] = ["__path", "__err", "__sig"];
    let carries = query.split('&').any(|pair| CARRIED.contains(&pair.split('=').next().unwrap_or_default()));
    if !carries {
        return None;
    }
    let signature = url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "__sig")
        .map(|(_, value)| value.into_owned());
    let genuine = match (form_error_of(query), signature) {
        (Some((path, err)), Some(signature)) => {
            key.verify(FORM_ERROR_SIGNATURE, &form_error_message(&path, &err), &signature)
        }
        _ => false,
    };
    if genuine {
        return None;
    }
    tracing::warn!("dropped a form error the server did not sign from an address");
    // Pairs are kept as they were written; only the carried ones go.
    let kept: Vec<&str> =
        query.split('&').filter(|pair| !CARRIED.contains(&pair.split('=').next().unwrap_or_default())).collect();
    Some(kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_leave_only_for_paths_on_this_site() {
        let base = url::Url::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(same_site_path("/profile?notice=x", &base), "/profile?notice=x");
        assert_eq!(same_site_path("http://127.0.0.1:3000/login?e=1", &base), "/login?e=1");
        for elsewhere in
            ["https://evil.test/x", "//evil.test/x", "/\\evil.test", "http://127.0.0.1:3001/", "javascript:alert(1)"]
        {
            assert_eq!(same_site_path(elsewhere, &base), "/", "{elsewhere}");
        }
    }

    #[test]
    fn only_signed_form_errors_stay_in_an_address() {
        let key = super::super::secrets::SecretKey::from_text("a test key of at least thirty-two characters");
        let signed = sign_form_error("/login?email=a%40b.c&__path=%2Fapi%2Flogin&__err=eyJ4Ijp9", &key);
        let query = signed.split_once('?').unwrap().1;
        assert_eq!(without_unsigned_form_error(query, &key), None, "a signed error stays");
        let forged = query.replace("eyJ4Ijp9", "eyJ5Ijp9");
        assert_eq!(without_unsigned_form_error(&forged, &key).as_deref(), Some("email=a%40b.c"));
        assert_eq!(without_unsigned_form_error("__path=%2Fapi%2Flogin&__err=x", &key).as_deref(), Some(""));
        assert_eq!(without_unsigned_form_error("email=a", &key), None);
    }
}
