//! Server functions, grouped by capability. Each one is thin: it parses its input, calls the backend in
//! `src/server`, and turns the outcome into a cookie, a redirect or an `AppError` for the page.

pub mod account;
pub mod auth;
pub mod error;
#[cfg(feature = "ssr")]
mod request;
pub mod sessions;

pub use error::AppError;
