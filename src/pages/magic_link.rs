use crate::api::auth::SendMagicLink;
use crate::components::alert::{last_error, query_value, FormError};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
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
#[island(lazy)]
fn MagicLinkForm(email: Option<String>) -> impl IntoView {
    island_hydrated();
    let send = ServerAction::<SendMagicLink>::new();
    let error = last_error(send);
    view! {
        <ServerForm action=send class="form" novalidate=true>
            <FormError error/>
            <FormField field=Field::Email label="Email" input_type="email" autocomplete="email" value=email error/>
            <SubmitButton label="Send magic link" pending=send.pending()/>
        </ServerForm>
    }
}
