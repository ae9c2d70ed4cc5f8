use crate::api::account::get_profile;
use crate::api::account::Profile;
use crate::api::auth::Logout;
use crate::components::account_settings::AccountSettings;
use crate::components::alert::{Alert, AlertKind, NoticeBanner};
use crate::components::avatar_upload::AvatarUpload;
use crate::components::name_editor::NameEditor;
use crate::components::sessions_list::{SessionsChanged, SessionsList};
use crate::components::submit_button::SubmitButton;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/profile`, for signed-in users only. Guests never get here: the server redirects them before
/// rendering (see `server::middleware::resolve_session`).
#[component]
pub fn ProfilePage() -> impl IntoView {
    provide_context(SessionsChanged(RwSignal::new(0)));
    // Blocking, so the page arrives rendered in one piece with the user's data.
    let profile = Resource::new_blocking(|| (), |_| get_profile());
    let logout = ServerAction::<Logout>::new();
    view! {
        <Title text="Your profile · Authkit"/>
        <header class="site-header">
            <a class="brand" href="/profile">"Authkit"</a>
            <ActionForm action=logout attr:class="logout-form">
                <SubmitButton label="Logout" pending=logout.pending() class="button button-small"/>
            </ActionForm>
        </header>
        <main class="profile-page">
            <NoticeBanner/>
            <Suspense fallback=|| view! { <p class="loading">"Loading your profile…"</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Ok(p) => view! {
                            <ProfileHeader profile=p.clone()/>
                            <SessionsList/>
                            <AccountSettings email=p.email/>
                        }.into_any(),
                        Err(e) => view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// The avatar, the greeting with its name editor, and the address.
#[component]
fn ProfileHeader(profile: Profile) -> impl IntoView {
    let name = RwSignal::new(profile.name);
    let avatar_url = RwSignal::new(profile.avatar_url);
    view! {
        <header class="profile-header">
            <AvatarUpload avatar_url name=name max_bytes=profile.avatar_max_bytes/>
            <div class="profile-identity">
                <NameEditor name avatar_url/>
                <p class="muted">{profile.email}</p>
            </div>
        </header>
    }
}
