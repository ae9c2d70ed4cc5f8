use crate::api::activity::{get_security_activity, ActivityEvent, ActivityPage, MAX_PAGE};
use crate::components::alert::{Alert, AlertKind};
use crate::components::live_session::LiveSession;
use crate::components::time::RelativeTime;
use crate::routes::paths;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/profile/activity`: what happened to the account, newest first, a page at a time (`?page=2`). Plain
/// HTML from the server; only `LiveSession` runs in the browser.
#[component]
pub fn SecurityActivityPage() -> impl IntoView {
    let page = leptos_router::hooks::use_query_map()
        .with_untracked(|query| query.get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1).clamp(1, MAX_PAGE));
    let data = Resource::new_blocking(move || page, get_security_activity);
    view! {
        <Title text="Security activity · Authkit"/>
        <header class="site-header">
            <a class="brand" href=paths::PROFILE>"Authkit"</a>
            <LiveSession/>
        </header>
        <main class="profile-page narrow">
            <section class="panel" aria-labelledby="activity-heading">
                <h1 id="activity-heading">"Security activity"</h1>
                <p class="muted">"Sign-ins and changes to your account, newest first, with the device and network they came from. If you do not recognise one, change your password and sign out your other devices."</p>
                {Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! { <Events page/> }.into_any(),
                        Err(e) => view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(),
                    }
                })}
                <p><a href=paths::PROFILE>"Back to your profile"</a></p>
            </section>
        </main>
    }
}

#[component]
fn Events(page: ActivityPage) -> impl IntoView {
    let ActivityPage { now, events, page, older } = page;
    let at_page = |n: u32| format!("{}?page={n}", paths::ACTIVITY);
    view! {
        {if events.is_empty() {
            view! { <p>"Nothing to show."</p> }.into_any()
        } else {
            view! {
                <ol class="activity">
                    {events.into_iter().map(|event| view! { <EventItem now event/> }).collect_view()}
                </ol>
            }
            .into_any()
        }}
        <nav class="pages" aria-label="Pages of security activity">
            {(page > 1).then(|| view! { <a href=at_page(page - 1) rel="prev">"Newer events"</a> })}
            {older.then(|| view! { <a href=at_page(page + 1) rel="next">"Older events"</a> })}
        </nav>
    }
}

#[component]
fn EventItem(now: i64, event: ActivityEvent) -> impl IntoView {
    let ActivityEvent { what, at, device, ip, this_device } = event;
    view! {
        <li class="activity-event">
            <p>
                <strong>{what}</strong>
                {this_device.then(|| view! { " " <span class="badge">"This device"</span> })}
            </p>
            <p class="muted">
                <RelativeTime now at/> " · " {device}
                {ip.map(|ip| view! { " · " {ip} })}
            </p>
        </li>
    }
}
