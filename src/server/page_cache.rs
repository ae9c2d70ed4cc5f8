//! `/profile` as last rendered for a session, shown again while nothing it shows has changed.
//!
//! Signed-in users load `/profile` more than any other page, and rendering it is most of what a view costs:
//! about 230 µs of server CPU on top of the session check, spread over the framework's reactive system
//! (bench/NOTES.md), where the session check and the answer cost about 45 µs. A view whose page is kept
//! costs the session check, a map lookup and the copy of the page with a fresh nonce.
//!
//! When a kept page may be shown, and why that is never stale:
//! - It was rendered for the same session, and the user's `revision` is still the one read with the
//!   profile by that render's session check. Every change to the user, or to any of their sessions, adds
//!   one to it in the same statement or transaction (`server::users`). The session check reads it on
//!   every request anyway, from the database every server of a deployment shares, so a change made
//!   through another server counts too.
//! - The clock has not reached the moment its content would read differently on its own: a time on it
//!   ("Signed in 2 minutes ago") changes, or a session on it runs out. The page's data say when
//!   (`ShownUntil`); a page that did not say is never kept.
//! - The address is `/profile` itself: anything in the query string (a notice, a step of a form without
//!   JavaScript) is rendered every time.
//!
//! Kept pages share a budget of memory (`APP_PAGE_CACHE_SIZE`; 0 turns this off); over it, pages that
//! can no longer be shown go first, then all of them.

use super::clock::UnixTime;
use super::sessions::{CurrentSession, Lookup};
use super::state::AppState;
use crate::routes::paths;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Serves `GET /profile` from the kept page when it may (see the module's notes), and keeps what it
/// renders otherwise. Runs after `middleware::resolve_session`, whose lookup it reads.
pub async fn reuse_rendered_profile(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let session = match req.extensions().get::<Lookup>() {
        Some(Lookup::Active(session)) if is_plain_profile_view(&req) && app.rendered_pages.is_on() => session.clone(),
        _ => return next.run(req).await,
    };
    let now = app.now();
    if let Some(page) = app.rendered_pages.get(&session, now) {
        return page.respond(&app);
    }
    let shown_until = ShownUntil::default();
    req.extensions_mut().insert(shown_until.clone());
    let res = next.run(req).await;
    match shown_until.get() {
        Some(until) if until > now => app.rendered_pages.keep(&session, now, until, res).await,
        _ => res,
    }
}

fn is_plain_profile_view(req: &Request) -> bool {
    req.method() == Method::GET && req.uri().path() == paths::PROFILE && req.uri().query().is_none()
}

/// Until when what a page read stays what it shows, as far as the clock goes. Found in the request's
/// extensions while a page that may be kept renders; whatever reads time-dependent data for it narrows it
/// (`api::sessions::list_sessions`, through `RequestContext::page_unchanged_until`).
#[derive(Clone, Debug, Default)]
pub struct ShownUntil(Arc<Mutex<Option<UnixTime>>>);

impl ShownUntil {
    pub fn at_most(&self, until: UnixTime) {
        let mut shown = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *shown = Some(shown.map_or(until, |earlier| earlier.min(until)));
    }

    fn get(&self) -> Option<UnixTime> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The kept pages, one per session at most.
pub struct RenderedPages {
    budget_bytes: usize,
    kept: Mutex<Kept>,
    hits: AtomicU64,
}

#[derive(Default)]
struct Kept {
    by_session: HashMap<String, Arc<KeptPage>>,
    bytes: usize,
}

struct KeptPage {
    revision: i64,
    shown_until: UnixTime,
    /// The response's headers but its Content-Security-Policy, which names the nonce, and its length.
    headers: HeaderMap,
    /// The body, cut where the nonce of the response it was rendered for stood.
    around_nonce: Vec<Bytes>,
    bytes: usize,
}

impl RenderedPages {
    /// `budget_bytes` 0: never keeps a page.
    pub fn new(budget_bytes: usize) -> Self {
        Self { budget_bytes, kept: Mutex::default(), hits: AtomicU64::new(0) }
    }

    fn is_on(&self) -> bool {
        self.budget_bytes > 0
    }

    /// How many views were served from a kept page; for tests.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, session: &CurrentSession, now: UnixTime) -> Option<Arc<KeptPage>> {
        let page = self.kept().by_session.get(&session.session_id).cloned()?;
        let usable = page.revision == session.revision && now < page.shown_until;
        if usable {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        usable.then_some(page)
    }

    /// Keeps `res` if it is a whole page that may be shown again, and answers with it either way.
    async fn keep(&self, session: &CurrentSession, now: UnixTime, shown_until: UnixTime, res: Response) -> Response {
        let (parts, body) = res.into_parts();
        // Rendered in full before the first byte goes out (`SsrMode::Async`): collecting it holds nothing
        // longer than the framework already did.
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(error = %e, "could not read a rendered /profile");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let nonce = parts.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|csp| nonce_of(csp.to_str().ok()?));
        // A page of a user with thousands of sessions is rendered every time rather than crowd out the rest.
        let whole_page = parts.status == StatusCode::OK
            && !parts.headers.contains_key(header::SET_COOKIE)
            && body.len() <= self.budget_bytes / 16;
        if let (true, Some(nonce)) = (whole_page, nonce) {
            let mut headers = parts.headers.clone();
            headers.remove(header::CONTENT_SECURITY_POLICY);
            // Each answer's body is made anew; its length is the body's own.
            headers.remove(header::CONTENT_LENGTH);
            let around_nonce = split_at(&body, nonce.as_bytes());
            let page = KeptPage { revision: session.revision, shown_until, headers, around_nonce, bytes: body.len() };
            self.insert(&session.session_id, page, now);
        }
        Response::from_parts(parts, Body::from(body))
    }

    fn insert(&self, session_id: &str, page: KeptPage, now: UnixTime) {
        let mut kept = self.kept();
        if let Some(before) = kept.by_session.remove(session_id) {
            kept.bytes -= before.bytes;
        }
        if kept.bytes + page.bytes > self.budget_bytes {
            // Pages past their time first (their sessions may have ended too), then, if that is not
            // enough, everything: the pages in use are rendered and kept again at their next view.
            kept.by_session.retain(|_, page| now < page.shown_until);
            kept.bytes = kept.by_session.values().map(|page| page.bytes).sum();
            if kept.bytes + page.bytes > self.budget_bytes {
                kept.by_session.clear();
                kept.bytes = 0;
            }
        }
        kept.bytes += page.bytes;
        kept.by_session.insert(session_id.to_owned(), Arc::new(page));
    }
}

impl KeptPage {
    /// The kept page with a nonce of its own, and the Content-Security-Policy that names it.
    fn respond(&self, app: &AppState) -> Response {
        let nonce = leptos::nonce::Nonce::new();
        let mut body = Vec::with_capacity(self.bytes + self.around_nonce.len() * nonce.len());
        for (i, piece) in self.around_nonce.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(piece);
        }
        let mut res = Response::new(Body::from(body));
        *res.headers_mut() = self.headers.clone();
        let csp = crate::app::content_security_policy(&app.leptos_options, Some(&nonce));
        if let Ok(csp) = HeaderValue::from_str(&csp) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        res
    }
}

/// The nonce a Content-Security-Policy allows scripts by: `'nonce-…'`.
fn nonce_of(csp: &str) -> Option<&str> {
    let start = csp.find("'nonce-")? + "'nonce-".len();
    let len = csp[start..].find('\'')?;
    Some(&csp[start..start + len]).filter(|n| !n.is_empty())
}

/// `body` cut at every `needle`, without it: n needles give n + 1 pieces.
fn split_at(body: &Bytes, needle: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    while let Some(found) = body[start..].windows(needle.len()).position(|w| w == needle) {
        pieces.push(body.slice(start..start + found));
        start += found + needle.len();
    }
    pieces.push(body.slice(start..));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nonce_a_policy_names() {
        let csp = "default-src 'self'; script-src 'self' 'nonce-Ab_9-x' 'wasm-unsafe-eval'; style-src 'self'";
        assert_eq!(nonce_of(csp), Some("Ab_9-x"));
        assert_eq!(nonce_of("default-src 'self'; script-src 'self'"), None);
        assert_eq!(nonce_of("script-src 'nonce-'"), None);
    }

    #[test]
    fn a_body_cut_at_its_nonce_comes_back_whole() {
        let body = Bytes::from_static(b"<script nonce=\"N1\">a</script><p>N</p><script nonce=\"N1\">b</script>N1");
        let pieces = split_at(&body, b"N1");
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces.iter().map(|p| p.as_ref()).collect::<Vec<_>>().join(&b"N1"[..]), body.as_ref());
        assert_eq!(split_at(&Bytes::from_static(b"none here"), b"N1").len(), 1);
    }
}
