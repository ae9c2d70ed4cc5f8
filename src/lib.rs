//! Authkit: email & password authentication for Leptos, with its own backend.
//!
//! `app`, `pages`, `components`, `api`, `domain` and `routes` compile for both the server and the browser,
//! where only the pages' islands run (see `hydration`); `server` is the backend and exists only with the
//! `ssr` feature.

pub mod api;
pub mod app;
pub mod avatar;
pub mod components;
pub mod domain;
pub mod hydration;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;
pub mod time_format;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Islands mode: nothing outside the islands hydrates; Leptos' script hydrates each island after this.
    leptos::mount::hydrate_islands();
    hydration::browser::mark_body_when_all_hydrated();
}
