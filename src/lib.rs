//! Authkit: email & password authentication for Leptos, with its own backend.
//!
//! `app`, `pages`, `components`, `api`, `domain` and `routes` compile for both the server and the browser;
//! `server` is the backend and exists only with the `ssr` feature.

pub mod api;
pub mod app;
pub mod avatar;
pub mod components;
pub mod domain;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;
pub mod time_format;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronous hydration: the page's lazily loaded code arrives before its part of the page hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
