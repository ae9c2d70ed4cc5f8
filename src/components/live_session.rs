//! Keeps a signed-in tab in step with its account's sessions (`server::sessions::live`): when this
//! session ends elsewhere (signed out from another device, the password changed, the account secured)
//! the tab goes to the login page with a note by itself; when any of the account's sessions starts or
//! ends, it tells the page (the window event `SESSIONS_CHANGED`), and the session list reads itself again.
//!
//! Without JavaScript the page finds out at its next request, as it always did.

use crate::hydration::island_hydrated;
use leptos::prelude::*;

/// The window event a tab gets when its account's sessions changed.
pub const SESSIONS_CHANGED: &str = "authkit-sessions-changed";

/// Renders nothing; in the browser, listens to `/api/live` for as long as the page is open.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
pub fn LiveSession() -> impl IntoView {
    island_hydrated();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::listen();
    });
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::SESSIONS_CHANGED;
    use crate::routes::Notice;
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    /// How long a tab waits, when its session ended, for the answer of its own request that may have
    /// ended it (see `listen`).
    const OWN_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

    pub fn listen() {
        // The browser connects again by itself when the connection drops (a server restarting).
        let Ok(source) = EventSource::new(crate::routes::paths::LIVE) else { return };
        let leave = {
            let source = source.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
                source.close();
                // The session may have ended by this very tab's doing: its "Logout", whose answer is
                // taking the tab to the login page already, or its password change, whose answer brings a
                // new session's cookie. Both answers come right after the news; so the tab waits a moment,
                // then looks at the cookie it has.
                leptos::prelude::set_timeout(
                    || {
                        wasm_bindgen_futures::spawn_local(async {
                            if still_signed_in().await {
                                listen();
                            } else {
                                let login = Notice::SessionEnded.login_url();
                                let _ = leptos::prelude::window().location().set_href(&login);
                            }
                        })
                    },
                    OWN_ANSWER_WAIT,
                );
            })
        };
        let refresh = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
            if let Ok(event) = web_sys::Event::new(SESSIONS_CHANGED) {
                let _ = leptos::prelude::window().dispatch_event(&event);
            }
        });
        let _ = source.add_event_listener_with_callback("ended", leave.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("sessions", refresh.as_ref().unchecked_ref());
        // They live as long as the page.
        leave.forget();
        refresh.forget();
    }

    /// Whether the browser's session cookie, as it is now, names a live session (`GET /api/session`).
    async fn still_signed_in() -> bool {
        let answer =
            wasm_bindgen_futures::JsFuture::from(leptos::prelude::window().fetch_with_str("/api/session")).await;
        answer.ok().and_then(|r| r.dyn_into::<web_sys::Response>().ok()).is_some_and(|r| r.status() == 204)
    }
}
