//! The backend, in-process, compiled only with the `ssr` feature. Each folder is one part of it:
//!
//! - `platform`: what everything stands on — settings, the shared state, start-up, the database, the
//!   clock, errors, secrets and the server's key, the CPU work pool, rate limits.
//! - `accounts`: users and what they can do with their account — sign up, sign in (password or mailed
//!   link), passwords, mailed links, credentials (reset, change password or address), known devices.
//! - `sessions`: the signed-in devices, stored as hashes of their cookie's token.
//! - `mail`: the messages the app sends, and how (outbox folder or SMTP).
//! - `storage`: uploaded pictures: checking, re-encoding, storing (folder or S3), serving.
//! - `http`: the axum router and what every request passes through (cookies, guards, headers), and the
//!   request context server functions use.

pub mod accounts;
pub mod http;
pub mod mail;
pub mod operator;
pub mod platform;
pub mod sessions;
pub mod storage;

pub use platform::error::Error;
pub use platform::state::AppState;
