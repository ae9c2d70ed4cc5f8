//! The axum router: Leptos pages and server functions, static files, and the layers around them.

use crate::app::{shell, App};
use crate::server::http::guards::{plain_paths_only, refuse_cross_site, resolve_session};
use crate::server::http::headers::{error_statuses, security_headers};
use crate::server::http::redirects::only_our_redirects_and_errors;
use crate::server::mail::dev_mailbox;
use crate::server::platform::settings::Environment;
use crate::server::sessions::Lookup;
use crate::server::storage::avatars;
use crate::server::AppState;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Extension;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower_cookies::CookieManagerLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Every form and server-function call is small; anything bigger is refused before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The route list, generated once per process. Generating it renders the app with resource loading
/// suppressed through a process-wide flag, and a resource first polled meanwhile, in another server's
/// request, would wait forever (leptos issue #4773). One server per process never meets that; the tests,
/// which start a server per test in one process, did, as a rare request hanging until its timeout.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let mut pages = Router::new()
        // `leptos_axum` copies this function for every request: holding the app's state, that is one
        // reference count, where holding Leptos' options was one for each of them.
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let app = state.clone();
            move || shell(app.leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    if state.settings.app.dev_mailbox
        && state.settings.site.environment == Environment::Dev
        && state.mailer.uses_outbox()
    {
        pages = pages.route("/dev/mailbox", get(dev_mailbox::page));
    }
    let avatar_limit =
        usize::try_from(state.settings.storage.avatar_max_bytes() + avatars::MULTIPART_OVERHEAD).unwrap_or(usize::MAX);
    let api = Router::new()
        .route("/api/session", get(session_status))
        .route(crate::routes::paths::LIVE, get(crate::server::sessions::live::events))
        .route("/api/health", get(health))
        .route(
            crate::routes::paths::EXPORT_DOWNLOAD,
            post(crate::server::accounts::export::download).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .nest_service("/pkg", site_files(&state));
    let uploads = Router::new()
        .route("/api/avatar", post(avatars::upload))
        .route("/avatars/{name}", get(avatars::serve))
        // The handler refuses a body declared too long before reading it, and reads the file in chunks
        // against the exact limit; this caps everything the multipart reader takes in. Not a layer that
        // answers for the handler: a form posted without JavaScript must get the handler's redirect back to
        // the profile with the reason, not a bare 413.
        .layer(DefaultBodyLimit::max(avatar_limit));
    pages
        .merge(api)
        .merge(uploads)
        .layer(from_fn(error_statuses))
        .layer(from_fn_with_state(state.clone(), only_our_redirects_and_errors))
        .layer(from_fn_with_state(state.clone(), resolve_session))
        .layer(from_fn_with_state(state.clone(), refuse_cross_site))
        .layer(CookieManagerLayer::new())
        .layer(from_fn(plain_paths_only))
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(
            TraceLayer::new_for_http()
                // The path only: query strings can carry tokens (`/auth-redirect?access_token=…`).
                .make_span_with(
                    |req: &Request| tracing::info_span!("request", method = %req.method(), path = %req.uri().path()),
                )
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// `/pkg/*`, the compiled site (WASM, JS, CSS), from the folder `cargo leptos build` wrote, in the
/// brotli or gzip file it wrote beside each one (`--precompress`) when the browser takes it. Names that
/// change with their content (`hash-files`) may be kept for a year; others are checked again each time
/// (`Last-Modified`), since a new build writes the same names.
fn site_files(state: &AppState) -> Router {
    use axum::http::{header, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer;
    let cache = if state.leptos_options.hash_files { "public, max-age=31536000, immutable" } else { "no-cache" };
    Router::new()
        .fallback_service(
            tower_http::services::ServeDir::new(state.settings.site.root.join(&*state.leptos_options.site_pkg_dir))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(cache)))
        // The same address answers in brotli, gzip or neither: caches must keep them apart.
        .layer(SetResponseHeaderLayer::overriding(header::VARY, HeaderValue::from_static("accept-encoding")))
}

/// `GET /api/session`: 204 when the request carries a live session, 401 when not. The cheapest way for a
/// client (or a load balancer's check, or the benchmark) to ask "am I signed in?".
async fn session_status(Extension(lookup): Extension<Lookup>) -> StatusCode {
    if lookup.active().is_some() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// `GET /api/health`: 200 when this server can reach its database, 503 when not; for load balancers, which
/// should stop sending traffic to a server that can only answer "temporarily unavailable".
async fn health(axum::extract::State(app): axum::extract::State<AppState>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(app.db.reads()).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database is unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "the database is unreachable")
        }
    }
}
