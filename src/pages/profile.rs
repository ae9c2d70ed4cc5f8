use crate::api::account::get_profile;
use crate::api::auth::Logout;
use crate::components::account_settings::AccountSettings;
use crate::components::alert::{Alert, AlertKind, NoticeBanner};
use crate::components::sessions_list::SessionsList;
use crate::components::submit_button::SubmitButton;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/profile`, for signed-in users only. Guests never get here: the server redirects them before
/// rendering (see `server::middleware::resolve_session`).
#[component]
pub fn ProfilePage() -> impl IntoView {
    // Blocking, so the page arrives rendered in one piece with the user's data.
    let profile = Resource::new_blocking(|| (), |_| get_profile());
    let logout = ServerAction::<Logout>::new();
    view! {
        <Title text="Your profile · Authkit"/>
        <main class="profile-page">
            <NoticeBanner/>
            <Suspense fallback=|| view! { <p class="loading">"Loading your profile…"</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Ok(p) => view! {
                            <header class="profile-header">
                                <h1>{format!("Hello, {}", p.name)}</h1>
                                <p class="muted">{p.email.clone()}</p>
                            </header>
                            <SessionsList/>
                            <AccountSettings email=p.email/>
                        }.into_any(),
                        Err(e) => view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(),
                    }
                })}
            </Suspense>
            <ActionForm action=logout attr:class="logout-form">
                <SubmitButton label="Logout" pending=logout.pending() class="button"/>
            </ActionForm>
        </main>
    }
}
