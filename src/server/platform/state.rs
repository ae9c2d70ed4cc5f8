//! Everything a request handler needs, cloned cheaply into each request.

use crate::server::accounts::passwords::Passwords;
use crate::server::mail::transport::Mailer;
use crate::server::platform::clock::{Clock, UnixTime};
use crate::server::platform::db::Db;
use crate::server::platform::rate_limits::RateLimits;
use crate::server::platform::settings::Settings;
use crate::server::storage::files::Storage;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Everything a request handler needs. Every request takes several copies (each middleware layer, the
/// page's context, each server function), so the fields live in one shared allocation and a copy is one
/// reference count, not one for each field and each of Leptos' options.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

pub struct AppStateInner {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<Mailer>,
    pub passwords: Passwords,
    pub storage: Storage,
    pub limits: RateLimits,
    /// The threads for CPU-heavy work (hashes, strength estimates, decoding pictures), one per core.
    pub cpu: crate::server::platform::cpu_work::CpuWork,
    /// How much memory decoding uploaded pictures may take at once.
    pub decode_memory: crate::server::storage::images::DecodeMemory,
    /// Signs what the server hands a browser to bring back unchanged (`secrets::SecretKey`).
    pub secret_key: crate::server::platform::secrets::SecretKey,
    /// Work a request leaves running after its answer (`AppState::in_background`), waited for at shutdown.
    pub background: tokio_util::task::TaskTracker,
    /// Open tabs' event streams (`sessions::live`).
    pub live: Arc<crate::server::sessions::live::Live>,
    /// Downloads of account data being written on this server (`accounts::export::Downloads`).
    pub downloads: crate::server::accounts::export::Downloads,
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// `leptos_axum` takes Leptos' options from the router's state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(app: &AppState) -> Self {
        app.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Tells the account's open tabs, on every app server, that its sessions changed (a sign-in, a
    /// sign-out): called once the change is committed (`sessions::live`).
    pub async fn sessions_changed(&self, user_id: &str) {
        self.live.sessions_changed(&self.db, user_id).await;
    }

    /// Runs `work` after the answer: requests that reveal nothing about who has an account (magic link,
    /// reset, resend) answer at once, the same for every address, and mail from here; and a change that is
    /// done is not undone by a mail server that is down. Failures are logged.
    pub fn in_background(
        &self,
        what: &'static str,
        work: impl std::future::Future<Output = Result<(), super::error::Error>> + Send + 'static,
    ) {
        self.background.spawn(async move {
            if let Err(e) = work.await {
                tracing::error!(task = what, error = %e, "background task failed");
            }
        });
    }

    /// An absolute link for an email, always on `APP_BASE_URL`, never on the request's Host header.
    pub fn link(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut url = self.settings.app.base_url.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url.into()
    }
}
