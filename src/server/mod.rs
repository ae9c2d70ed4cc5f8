//! The backend, in-process: settings, database, users, sessions, email tokens, passwords, mail, and the
//! HTTP plumbing around the Leptos app. Compiled only with the `ssr` feature.

pub mod account;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod avatars;
pub mod clock;
pub mod cookies;
pub mod cpu_work;
pub mod db;
pub mod dev_mailbox;
pub mod devices;
pub mod email_tokens;
pub mod emails;
pub mod error;
pub mod images;
pub mod known_devices;
pub mod mail;
pub mod middleware;
pub mod passwords;
pub mod rate_limits;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod startup;
pub mod state;
pub mod storage;
pub mod users;
pub mod web;

pub use error::Error;
pub use state::AppState;
