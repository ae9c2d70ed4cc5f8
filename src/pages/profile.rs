use crate::api::account::{get_profile_page, Profile, ProfileData};
use crate::api::auth::Logout;
use crate::api::sessions::DeviceList;
use crate::api::sign_in_methods::SignInMethods;
use crate::api::your_data::DeleteAccount;
use crate::components::account_settings::AccountSettings;
use crate::components::alert::{last_error, Alert, AlertKind, FormError, NoticeBanner};
use crate::components::avatar_upload::AvatarUpload;
use crate::components::form_field::FormField;
use crate::components::live_session::{LiveSession, SESSIONS_CHANGED};
use crate::components::name_editor::NameEditor;
use crate::components::page_address::non_empty_value;
use crate::components::server_form::ServerForm;
use crate::components::sessions_list::{SessionsChanged, SessionsList, CONFIRM_PARAM, CONFIRM_SIGN_OUT_OTHERS};
use crate::components::sign_in_methods::SignInMethodsPanel;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::error::AppError;
use crate::hydration::island_hydrated;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/profile`, for signed-in users only. Guests never get here: the server redirects them before
/// rendering (see `server::http::guards::resolve_session`).
///
/// The page reads what it shows on the server and hands it to its islands; without JavaScript, the
/// address carries the state of the moment (`?edit=name`, `?confirm=…`, what was typed before a refusal).
#[component]
pub fn ProfilePage() -> impl IntoView {
    // Awaited below in a bare `Suspend` (why not in `<Suspense>`: see `app::App`).
    let data = Resource::new_blocking(|| (), |_| get_profile_page());
    view! {
        <Title text="Your profile · Authkit"/>
        <header class="site-header">
            <a class="brand" href="/profile">"Authkit"</a>
            <LiveSession/>
            <LogoutButton/>
        </header>
        <main class="profile-page">
            <NoticeBanner/>
            {Suspend::new(async move {
                match data.await {
                    Ok(ProfileData { profile, sessions, methods }) => {
                        view! { <ProfileContent profile sessions methods address=AddressState::read()/> }.into_any()
                    }
                    Err(e) => view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(),
                }
            })}
        </main>
    }
}

/// What the page's address says, for a browser without JavaScript: a step it is at, or what was typed
/// before the server refused it.
#[derive(Clone, Debug, Default)]
pub struct AddressState {
    /// `?edit=name`: the name editor is open.
    pub editing_name: bool,
    /// `?name=…`: the name as typed before it was refused.
    pub name_draft: Option<String>,
    /// `?avatar_error=…`: why the picture was refused.
    pub avatar_error: Option<String>,
    /// `?confirm=sign-out-others`: "are you sure?" before signing out the other devices.
    pub confirming_sign_out: bool,
    /// `?new_email=…`: the address as typed before it was refused.
    pub new_email: Option<String>,
}

impl AddressState {
    /// One read of the address for all of them.
    fn read() -> Self {
        leptos_router::hooks::use_query_map().with_untracked(|query| {
            let value = |name: &str| non_empty_value(query, name);
            Self {
                editing_name: value("edit").as_deref() == Some("name"),
                name_draft: value("name"),
                avatar_error: value("avatar_error"),
                confirming_sign_out: value(CONFIRM_PARAM).as_deref() == Some(CONFIRM_SIGN_OUT_OTHERS),
                new_email: value("new_email"),
            }
        })
    }
}

/// The page's content once its data is read: the two islands that show it. Rendered from its arguments
/// alone, so the benchmark can time it without a server (`bench-baseline render-profile`).
#[component]
pub fn ProfileContent(
    profile: Profile,
    sessions: Result<DeviceList, AppError>,
    methods: Result<SignInMethods, AppError>,
    address: AddressState,
) -> impl IntoView {
    let email = profile.email.clone();
    let deletion_grace = profile.deletion_grace.clone();
    view! {
        <ProfileSections/>
        <ProfileHeader
            profile
            editing_name=address.editing_name
            name_draft=address.name_draft
            avatar_error=address.avatar_error
        />
        <AccountPanels
            sessions
            confirming_sign_out=address.confirming_sign_out
            email
            new_email=address.new_email
        />
        <SignInMethodsPanel methods/>
        <YourData deletion_grace/>
    }
}

/// The page's sections, to jump to (it is long on a phone, and a screen reader lists them), and the
/// security activity, on a page of its own.
#[component]
fn ProfileSections() -> impl IntoView {
    view! {
        <nav class="profile-sections" aria-label="Profile sections">
            <a href="#profile">"Profile"</a>
            <a href="#sessions">"Sessions"</a>
            <a href="#sign-in-methods">"Sign-in methods"</a>
            <a href="#account">"Account"</a>
            <a href="#your-data">"Your data"</a>
            <a href=crate::routes::paths::ACTIVITY>"Security activity"</a>
        </nav>
    }
}

#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn LogoutButton() -> impl IntoView {
    island_hydrated();
    let logout = ServerAction::<Logout>::new();
    view! {
        <ServerForm action=logout class="logout-form">
            <SubmitButton label="Logout" pending=logout.pending() class="button button-small"/>
        </ServerForm>
    }
}

/// The avatar, the greeting with its name editor, and the address: one island, since a new name can
/// change the picture (the default avatar shows initials) and the picture's text is the name.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn ProfileHeader(
    profile: Profile,
    editing_name: bool,
    name_draft: Option<String>,
    avatar_error: Option<String>,
) -> impl IntoView {
    island_hydrated();
    let name = RwSignal::new(profile.name);
    let avatar_url = RwSignal::new(profile.avatar_url);
    view! {
        <header class="profile-header" id="profile">
            <AvatarUpload avatar_url name=name max_bytes=profile.avatar_max_bytes refused=avatar_error/>
            <div class="profile-identity">
                <NameEditor name avatar_url editing=editing_name draft=name_draft/>
                <p class="muted">{profile.email}</p>
            </div>
        </header>
    }
    .into_any()
}

/// The session list and the account settings: one island, since changing the password signs the other
/// devices out and the list must then say so.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn AccountPanels(
    sessions: Result<DeviceList, AppError>,
    confirming_sign_out: bool,
    email: String,
    new_email: Option<String>,
) -> impl IntoView {
    island_hydrated();
    let changes = RwSignal::new(0);
    provide_context(SessionsChanged(changes));
    // Another tab or device signed in or out (`LiveSession`).
    let _ = window_event_listener(leptos::ev::Custom::<leptos::ev::Event>::new(SESSIONS_CHANGED), move |_| {
        changes.update(|n| *n += 1)
    });
    view! {
        <SessionsList initial=sessions confirming=confirming_sign_out/>
        <AccountSettings email new_email/>
    }
    .into_any()
}

/// "Your data": download everything the account holds (on a page of its own, after the password), or
/// delete the account, after the password.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn YourData(deletion_grace: String) -> impl IntoView {
    island_hydrated();
    let delete = ServerAction::<DeleteAccount>::new();
    let error = last_error(delete);
    view! {
        <section class="panel" id="your-data" aria-labelledby="your-data-heading">
            <h2 id="your-data-heading">"Your data"</h2>
            <section class="subsection" aria-labelledby="download-data-heading">
                <h3 id="download-data-heading">"Download"</h3>
                <p class="muted">"One ZIP file with everything your account holds: your profile and picture, sign-in methods (names and dates, never secrets), sessions and security activity."</p>
                <a class="button" href=crate::routes::paths::EXPORT>"Download your data"</a>
            </section>
            <section class="subsection" aria-labelledby="delete-account-heading">
                <h3 id="delete-account-heading">"Delete account"</h3>
                <p class="muted">
                    "Deleting your account signs it out everywhere at once. " {deletion_grace}
                    " later it is erased with everything it holds; until then, the link we email you can cancel the deletion."
                </p>
                <ServerForm action=delete class="form" novalidate=true>
                    <FormError error/>
                    <FormField form="delete-account" field=Field::CurrentPassword label="Current password" input_type="password" autocomplete="current-password" error/>
                    <SubmitButton label="Delete account" pending=delete.pending() class="button button-danger"/>
                </ServerForm>
            </section>
        </section>
    }
}
