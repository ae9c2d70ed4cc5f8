//! The operator's commands: `authkit admin <command>`, the same binary reading the same settings
//! (`Leptos.toml` and the environment) as the server, so nobody needs a database shell to help a user.
//! Each prints what it did, or what is wrong, and exits non-zero on failure; a change is recorded in the
//! account's security activity as the site operator's.

use crate::domain::Email;
use crate::server::accounts::activity::{self, Event, Kind};
use crate::server::accounts::deletion::{self, EraseNow, OperatorCancel};
use crate::server::accounts::{self, export, lifecycle, passkeys, two_factor, users};
use crate::server::platform::clock::SystemClock;
use crate::server::platform::settings::Settings;
use crate::server::platform::startup;
use crate::server::sessions::{self, user_agents};
use crate::server::AppState;
use crate::time_format::exact_utc;
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;

/// The binary's command line: nothing to serve the app, `admin …` for the operator.
#[derive(Parser)]
#[command(name = "authkit", version, about = "Authkit: serves the app, or runs an operator's command (`admin`).")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serves the app (what running it with no command does).
    Serve,
    /// Commands for the site's operator, against the database of the settings in use.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Subcommand)]
pub enum Admin {
    /// Shows an account: its address, name, state, and how it signs in.
    FindUser { email: String },
    /// Lists an account's sessions, newest first.
    Sessions { email: String },
    /// Signs an account out on every device (it can sign in again).
    EndSessions { email: String },
    /// Locks an account: every session ends and nobody signs in until it is unlocked. Its owner is told
    /// to contact the operator.
    Lock { email: String },
    /// Unlocks an account locked with `lock`.
    Unlock { email: String },
    /// Mails a new verification link to an account whose address is not confirmed yet.
    ResendVerification { email: String },
    /// Deletes an account as its owner's "Delete account" does: signed out everywhere, erased after the
    /// grace period (app.deletion_grace), and its owner mailed a link to cancel until then.
    ScheduleDeletion { email: String },
    /// Keeps an account whose deletion is scheduled, as the owner's "Cancel deletion" link does.
    CancelDeletion { email: String },
    /// Erases an account now, every row and file of it, whether its deletion was scheduled or not. There
    /// is no undo, so it asks for --yes.
    EraseNow {
        email: String,
        /// Yes, erase it for good.
        #[arg(long)]
        yes: bool,
    },
    /// Writes everything an account holds to FILE, as a ZIP: the file its owner's "Download your data"
    /// gives.
    Export {
        email: String,
        /// Where to write the ZIP; an existing file is not overwritten.
        file: std::path::PathBuf,
    },
}

/// Runs an operator's command and says how it went.
pub async fn run(settings: Settings, command: Admin) -> ExitCode {
    if let Err(e) = database_exists(&settings) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let app = match startup::prepare(settings, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = execute(&app, command).await;
    // Mail the command queued is sent before the process ends.
    startup::finish_background(&app).await;
    match outcome {
        Ok(said) => {
            println!("{said}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A command is about accounts that exist: run from the wrong folder (or with the wrong `APP_DATA_DIR`),
/// it would find no SQLite file and make a new, empty one, then report every account missing. Refused
/// instead, naming where it looked. (The server makes the database; PostgreSQL's must exist anyway.)
fn database_exists(settings: &Settings) -> Result<(), String> {
    let url = settings.database.url();
    let Some(file) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else { return Ok(()) };
    let file = file.split('?').next().unwrap_or_default();
    if file.is_empty() || file == ":memory:" || std::path::Path::new(file).exists() {
        return Ok(());
    }
    Err(format!(
        "there is no database at {file}: run the command where the server runs, with its settings \
         (app.data_dir / APP_DATA_DIR, database.url / DATABASE_URL)"
    ))
}

/// What a command did, in words, or why it failed.
async fn execute(app: &AppState, command: Admin) -> Result<String, String> {
    let (Admin::FindUser { email }
    | Admin::Sessions { email }
    | Admin::EndSessions { email }
    | Admin::Lock { email }
    | Admin::Unlock { email }
    | Admin::ResendVerification { email }
    | Admin::ScheduleDeletion { email }
    | Admin::CancelDeletion { email }
    | Admin::EraseNow { email, .. }
    | Admin::Export { email, .. }) = &command;
    let user = account(app, email).await?;
    let failed = |e: crate::server::Error| e.to_string();
    match command {
        Admin::FindUser { .. } => describe(app, &user).await.map_err(failed),
        Admin::Sessions { .. } => list_sessions(app, &user).await.map_err(failed),
        Admin::EndSessions { .. } => {
            let ended = lifecycle::sign_out_everywhere(app, &user.id).await.map_err(failed)?;
            Ok(format!("{}: {}", user.email, sessions_ended(ended)))
        }
        Admin::Lock { .. } => match lifecycle::lock(app, &user.id).await.map_err(failed)? {
            Some(ended) => Ok(format!("{} is locked; {}", user.email, sessions_ended(ended))),
            None => Ok(format!("{} was already locked", user.email)),
        },
        Admin::Unlock { .. } => match lifecycle::unlock(app, &user.id).await.map_err(failed)? {
            true => Ok(format!("{} is unlocked", user.email)),
            false => Ok(format!("{} was not locked", user.email)),
        },
        Admin::ResendVerification { .. } => {
            if user.is_verified() {
                return Err(format!("{} is already verified: no link sent", user.email));
            }
            accounts::mail_verification(app, &user).await.map_err(failed)?;
            Ok(format!("a new verification link was mailed to {}", user.email))
        }
        Admin::ScheduleDeletion { .. } => match deletion::schedule_by_operator(app, &user.id).await.map_err(failed)? {
            Some(erase_after) => Ok(format!(
                "{} is deleted and will be erased on {}; its owner was mailed a link to cancel",
                user.email,
                exact_utc(erase_after)
            )),
            None => Err(format!("{} is deleted already", user.email)),
        },
        Admin::CancelDeletion { .. } => match deletion::cancel_by_operator(app, &user.id).await.map_err(failed)? {
            OperatorCancel::Cancelled => Ok(format!("{} is kept: its deletion is cancelled", user.email)),
            OperatorCancel::NotScheduled => Err(format!("{} is not deleted: nothing to cancel", user.email)),
            OperatorCancel::BeingErased => Err(format!("{} is being erased: too late to cancel", user.email)),
        },
        Admin::EraseNow { yes: false, .. } => Err(format!(
            "erase-now erases {} and everything it holds for good, with no way back: add --yes to do it",
            user.email
        )),
        Admin::EraseNow { yes: true, .. } => match deletion::erase_now(app, &user.id).await.map_err(failed)? {
            EraseNow::Erased => Ok(format!("{} is erased", user.email)),
            EraseNow::ClaimedElsewhere { until } => Err(format!(
                "{} is being erased by another app server; if that server stopped, try again after {}",
                user.email,
                exact_utc(until)
            )),
        },
        Admin::Export { file, .. } => export_to_file(app, &user, &file).await,
    }
}

/// Writes the account's ZIP to a new file (never over an existing one), recorded in its security
/// activity as the operator's.
async fn export_to_file(app: &AppState, user: &users::User, path: &std::path::Path) -> Result<String, String> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // Someone's personal data: readable by the operator alone.
    #[cfg(unix)]
    options.mode(0o600);
    let file = options.open(path).await.map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let written = match export::write_zip(app, &user.id, file).await {
        Ok(written) => written,
        Err(e) => {
            let _ = tokio::fs::remove_file(path).await;
            return Err(format!("could not export {}: {e}", user.email));
        }
    };
    let event = Event::new(Kind::DataExported, &user.id, &lifecycle::OPERATOR).detail(activity::BY_OPERATOR);
    activity::record(app.db.writes(), app.now(), event).await.map_err(|e| e.to_string())?;
    let size = tokio::fs::metadata(path).await.map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "wrote {} ({size} bytes): {} security events{}",
        path.display(),
        written.events,
        if written.avatar { ", the avatar" } else { "" }
    ))
}

async fn account(app: &AppState, email: &str) -> Result<users::User, String> {
    let email = Email::parse(email).map_err(|e| format!("{email:?} is not an email address: {}", e.message))?;
    users::find_by_email(app.db.reads(), &email)
        .await
        .map_err(|e| format!("could not read the database: {e}"))?
        .ok_or_else(|| format!("no account has the address {}", email.as_str()))
}

async fn describe(app: &AppState, user: &users::User) -> Result<String, crate::server::Error> {
    let now = app.now();
    let sessions = sessions::list_for_user(app.db.reads(), now, &app.settings.sessions, &user.id).await?;
    let passkeys = passkeys::list(app.db.reads(), &user.id).await?;
    let two_factor = two_factor::is_on(app.db.reads(), &user.id).await?;
    let when = |at: Option<i64>, otherwise: &str| at.map(exact_utc).unwrap_or_else(|| otherwise.to_owned());
    Ok([
        ("id", user.id.clone()),
        ("email", user.email.clone()),
        ("name", user.name.clone()),
        ("created", exact_utc(user.created_at)),
        ("verified", when(user.email_verified_at, "no")),
        ("last sign-in", when(user.last_login_at, "never")),
        ("locked", user.locked_at.map(|at| format!("yes, since {}", exact_utc(at))).unwrap_or_else(|| "no".into())),
        (
            "deleted",
            user.erase_after.map(|at| format!("yes, erased on {}", exact_utc(at))).unwrap_or_else(|| "no".into()),
        ),
        ("sessions", sessions.len().to_string()),
        ("passkeys", passkeys.len().to_string()),
        ("two-factor", if two_factor { "on" } else { "off" }.into()),
    ]
    .iter()
    .map(|(label, value)| format!("{label:<13}{value}"))
    .collect::<Vec<_>>()
    .join("\n"))
}

async fn list_sessions(app: &AppState, user: &users::User) -> Result<String, crate::server::Error> {
    let sessions = sessions::list_for_user(app.db.reads(), app.now(), &app.settings.sessions, &user.id).await?;
    if sessions.is_empty() {
        return Ok(format!("{} has no sessions", user.email));
    }
    Ok(sessions
        .iter()
        .map(|s| {
            format!(
                "{}  from {}  signed in {}  last active {}",
                user_agents::describe(s.user_agent.as_deref()),
                s.ip.as_deref().unwrap_or("an unknown address"),
                exact_utc(s.created_at),
                exact_utc(s.last_seen_at),
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

fn sessions_ended(ended: u64) -> String {
    match ended {
        1 => "1 session ended".into(),
        n => format!("{n} sessions ended"),
    }
}
