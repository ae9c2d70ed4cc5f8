//! Server functions, grouped by capability. Each one is thin: it parses its input, calls the backend in
//! `src/server`, and turns the outcome into a cookie, a redirect or an `AppError` for the page.

pub mod account;
pub mod activity;
pub mod auth;
pub mod passkeys;
pub mod secure_account;
pub mod sessions;
pub mod sign_in_methods;
pub mod two_factor;
pub mod your_data;

/// Whether the browser being answered asked for mail to `address` (`server::cookies::mail_requested`).
/// Pages render on the server; in the browser the answer is no.
pub fn mail_was_requested_for(address: &str) -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::server::http::request_context::RequestContext::get().mail_requested_for(address)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = address;
        false
    }
}
