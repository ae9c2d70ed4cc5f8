use crate::api::auth::SendMagicLink;
use crate::components::auth_card::AuthCard;
use crate::components::email_form::EmailForm;
use crate::components::page_address::query_value;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

/// `/login-with-magic-link`: an email address in, a sign-in link out.
#[component]
pub fn MagicLinkPage() -> impl IntoView {
    view! {
        <AuthCard title="Log in with a magic link">
            <p class="lead">"We will email you a link that signs you in. No password needed."</p>
            <MagicLinkForm email=query_value("email")/>
            <p class="card-footer"><a href=paths::LOGIN>"Log in with a password"</a> " · " <a href=paths::REGISTER>"Register"</a></p>
        </AuthCard>
    }
}

/// `email`: what was typed before a refusal came back without JavaScript.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn MagicLinkForm(email: Option<String>) -> impl IntoView {
    island_hydrated();
    let action = ServerAction::<SendMagicLink>::new();
    view! { <EmailForm action email button="Send magic link"/> }
}
