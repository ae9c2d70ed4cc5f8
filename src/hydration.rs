//! Which parts of a page run in the browser, and when they do.
//!
//! Pages are HTML rendered by the server; only their interactive parts are islands. Built with the
//! `lazy-islands` feature (and `cargo leptos --split`) each is a WASM piece of its own, fetched and
//! hydrated when a page shows it, so a first visit downloads the framework's core and the islands of the
//! page it opened. Everything
//! else — the shell, headings, links, server-rendered lists — never ships to the browser.
//!
//! `<body data-hydrated="true">` says every island of the page has hydrated: from then on every button runs
//! in the browser. Browser tests (and curious developers) wait for it.

/// Called first thing by every island: once its view has hydrated, it counts as done, and the last island
/// of the page to be done marks the body.
pub fn island_hydrated() {
    #[cfg(feature = "hydrate")]
    leptos::prelude::Effect::new(move |_| {
        browser::HYDRATED_ISLANDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        browser::mark_body_when_all_hydrated();
    });
}

#[cfg(feature = "hydrate")]
pub mod browser {
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(super) static HYDRATED_ISLANDS: AtomicUsize = AtomicUsize::new(0);

    /// Also called once at start: a page without islands is hydrated as soon as the code has loaded.
    pub fn mark_body_when_all_hydrated() {
        let document = leptos::prelude::document();
        let islands = document.query_selector_all("leptos-island").map(|all| all.length()).unwrap_or(0);
        if HYDRATED_ISLANDS.load(Ordering::Relaxed) >= islands as usize {
            if let Some(body) = document.body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        }
    }
}
