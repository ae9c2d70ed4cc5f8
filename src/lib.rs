//! Authkit: email & password authentication for Leptos, with its own backend.
//!
//! `app`, `pages`, `components`, `api`, `domain`, `error` and `routes` compile for both the server and the browser,
//! where only the pages' islands run (see `hydration`); `server` is the backend and exists only with the
//! `ssr` feature.

// Typed views nest deeply (the profile's account panel is one type of some hundred levels); compiling
// their hydration needs more than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod avatar;
pub mod components;
pub mod domain;
pub mod error;
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
    // A server function that answers with a redirect (signing in goes to the profile) loads that page:
    // there is no client-side router. (Leptos' `ActionForm` sets this hook; our `ServerForm` leaves it here.)
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        let _ = leptos::prelude::window().location().set_href(location);
    });
    // Islands mode: nothing outside the islands hydrates; Leptos' script hydrates each island after this.
    leptos::mount::hydrate_islands();
    hydration::browser::mark_body_when_all_hydrated();
}
