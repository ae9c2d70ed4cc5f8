//! Building and running the server: settings → data folder → database → mail → router → listener.

use super::clock::{Clock, SystemClock};
use super::cpu_work::CpuWork;
use super::db;
use super::rate_limits::RateLimits;
use super::secrets::SecretKey;
use super::settings::{Environment, Settings};
use super::state::{AppState, AppStateInner};
use crate::server::accounts::passwords::Passwords;
use crate::server::accounts::{email_tokens, known_devices};
use crate::server::http::router;
use crate::server::mail::transport::Mailer;
use crate::server::sessions::{self, user_agents};
use crate::server::storage::files::Storage;
use leptos::config::{Env, LeptosOptions};
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Must match `output-name` in Cargo.toml: the names of the compiled `pkg/` files.
const OUTPUT_NAME: &str = "authkit";

/// How long a stopping server still tries to send mail the requests it answered queued.
const MAIL_GRACE: Duration = Duration::from_secs(10);

/// How often expired sessions and email tokens are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(600);

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Prepares everything; `listener` lets tests bind port 0 themselves (to know the base URL first).
    pub async fn build(
        settings: Settings,
        clock: Arc<dyn Clock>,
        listener: Option<TcpListener>,
    ) -> Result<Self, String> {
        let state = prepare(settings, clock).await?;
        let listener = match listener {
            Some(listener) => listener,
            None => TcpListener::bind(state.settings.site.addr).await.map_err(|e| {
                format!("cannot listen on {} (site.addr / LEPTOS_SITE_ADDR): {e}", state.settings.site.addr)
            })?,
        };
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        tokio::spawn(purge_periodically(self.state.clone()));
        if !self.state.db.is_sqlite() {
            let url = self.state.settings.database.url().to_owned();
            tokio::spawn(crate::server::sessions::live::listen(self.state.live.clone(), url));
        }
        // Open event streams never end by themselves: at shutdown they are told to, or the graceful
        // shutdown would wait for them forever.
        let live = self.state.live.clone();
        let shutdown = async move {
            shutdown.await;
            live.close();
        };
        tokio::task::spawn_blocking(user_agents::warm_up);
        let state = self.state.clone();
        let app = router::router(self.state);
        axum::serve(self.listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await?;
        finish_background(&state).await;
        Ok(())
    }
}

/// Gives what the last requests (or an operator's command) left running, their mail above all, the
/// grace period to finish.
pub async fn finish_background(state: &AppState) {
    state.background.close();
    let _ = tokio::time::timeout(MAIL_GRACE, state.background.wait()).await;
    state.mailer.finish_sending(MAIL_GRACE).await;
}

/// Everything the server and the operator's commands (`server::operator`) share: settings → data folder →
/// database → key → mail → storage.
pub async fn prepare(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, String> {
    let data_dir = &settings.app.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        format!("cannot create the data folder {} (app.data_dir / APP_DATA_DIR): {e}", data_dir.display())
    })?;
    let db = db::connect(&settings)
        .await
        .map_err(|e| format!("cannot open the database (database.url / DATABASE_URL): {e}"))?;
    let secret_key = match &settings.app.secret_key {
        Some(key) => SecretKey::from_text(secrecy::ExposeSecret::expose_secret(key)),
        // Several app servers must share one key, and each has its own data folder.
        None if !db.is_sqlite() => {
            return Err("set `app.secret_key` (environment variable APP_SECRET_KEY) when the database is \
                        PostgreSQL: every app server must use the same key. Make one with \
                        `openssl rand -hex 32`."
                .into())
        }
        None => SecretKey::load_or_create(data_dir)?,
    };
    let mailer = Mailer::from_settings(&settings)?;
    let cpu = CpuWork::start().map_err(|e| e.to_string())?;
    let passwords = Passwords::new(cpu.clone()).map_err(|e| e.to_string())?;
    let storage = Storage::from_settings(&settings)?;
    // Limits are counted where every app server sees them: in a shared (PostgreSQL) database, or in
    // this process's memory for SQLite, which one server uses alone.
    let limits = RateLimits::new(&settings.limits, clock.clone(), &db, !db.is_sqlite());
    let state = AppState::new(AppStateInner {
        leptos_options: leptos_options(&settings),
        db,
        settings,
        clock,
        mailer: Arc::new(mailer),
        passwords,
        storage,
        limits,
        cpu,
        decode_memory: Default::default(),
        secret_key,
        background: Default::default(),
        live: Default::default(),
        downloads: Default::default(),
    });
    Ok(state)
}

fn leptos_options(settings: &Settings) -> LeptosOptions {
    // cargo-leptos sets these while developing (`cargo leptos watch`); they have no place in Leptos.toml.
    let reload_port = std::env::var("LEPTOS_RELOAD_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3001);
    let hash_files = std::env::var("LEPTOS_HASH_FILES").is_ok_and(|v| v == "true");
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(settings.site.root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(settings.site.addr)
        .reload_port(reload_port)
        .hash_files(hash_files)
        .env(match settings.site.environment {
            Environment::Dev => Env::DEV,
            Environment::Prod => Env::PROD,
        })
        .build()
}

async fn purge_periodically(app: AppState) {
    let mut tick = tokio::time::interval(PURGE_INTERVAL);
    loop {
        tick.tick().await;
        purge_expired(&app).await;
    }
}

/// Removes what has run out at the app's clock: sessions, mailed links, forgotten devices, sign-ins and
/// setups left halfway, old security activity, rate-limit counts, and accounts deleted longer ago than
/// their grace period. Each kind on its own: one failing does not keep the others.
pub async fn purge_expired(app: &AppState) {
    use crate::server::accounts::{activity, deletion, passkeys, two_factor};
    let (db, now) = (&app.db, app.now());
    app.limits.forget_recovered(now).await;
    let purges = [
        ("expired sessions", sessions::purge_expired(db, now, &app.settings.sessions).await),
        ("expired mailed links", email_tokens::purge_expired(db, now).await),
        ("forgotten devices", known_devices::purge_forgotten(db, now).await),
        ("two-factor sign-ins and setups left halfway", two_factor::purge_expired(db, now).await),
        ("passkey ceremonies nobody answered", passkeys::purge_expired(db, now).await),
        ("old security activity", activity::purge_old(db, now, app.settings.app.activity_kept_for).await),
    ];
    for (what, purged) in purges {
        match purged {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "purged {what}"),
            Err(e) => tracing::warn!(error = %e, "could not purge {what}"),
        }
    }
    // Each erased account is logged on its own (`deletion::erase_claimed`).
    if let Err(e) = deletion::erase_due(app).await {
        tracing::warn!(error = %e, "could not erase the accounts whose deletion is due");
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// The binary's entry point: settings from `Leptos.toml` and the environment, then serve, or run the
/// operator's command (`server::operator`).
pub async fn run_from_env() -> ExitCode {
    use crate::server::operator::{self, Cli, Command};
    let command = <Cli as clap::Parser>::parse().command;
    let serving = !matches!(command, Some(Command::Admin(_)));
    tracing_subscriber::fmt()
        // Colours for a person at a terminal; plain lines for log files and collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        // A command's own output is on stdout; its log (warnings, the audit trail) goes to stderr.
        .with_writer(move || -> Box<dyn std::io::Write> {
            match serving {
                true => Box::new(std::io::stdout()),
                false => Box::new(std::io::stderr()),
            }
        })
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| if serving { "info,sqlx=warn,tower_http=info" } else { "warn,audit=info" }.into()),
        )
        .init();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Admin(command)) = command {
        return operator::run(settings, command).await;
    }
    let app = match Application::build(settings, Arc::new(SystemClock), None).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    tracing::info!("listening on http://{}", app.local_addr());
    match app.run(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the server stopped: {e}");
            ExitCode::from(1)
        }
    }
}
