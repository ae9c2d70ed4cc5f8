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
    // As `leptos::mount::hydrate_lazy`: asynchronous, since the page's code is a lazily loaded piece that
    // arrives before its part of the page hydrates. When all of it has, `<body data-hydrated="true">` tells
    // browser tests (and curious developers) that every button now runs in the browser.
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let body = leptos::prelude::document().body().expect("the page has a body");
        leptos::mount::hydrate_from_async(body.clone(), app::App).await.forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
