use crate::api::two_factor::VerifyTwoFactor;
use crate::components::alert::{last_error, FormError};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

/// `/login/two-factor`: the second step of a sign-in on an account with two-factor on. No session exists
/// until a right code is in; the step belongs to the browser that passed the first (its cookie).
#[component]
pub fn TwoFactorLoginPage() -> impl IntoView {
    view! {
        <AuthCard title="Two-factor authentication">
            <p class="lead">"Enter the 6-digit code from your authenticator app, or one of your recovery codes."</p>
            <TwoFactorForm/>
            <p class="card-footer"><a href=paths::LOGIN>"Back to log in"</a></p>
        </AuthCard>
    }
}

#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn TwoFactorForm() -> impl IntoView {
    island_hydrated();
    let verify = ServerAction::<VerifyTwoFactor>::new();
    let error = last_error(verify);
    view! {
        <ServerForm action=verify class="form" novalidate=true>
            <FormError error/>
            // Not numeric: a recovery code has letters.
            <FormField field=Field::Code label="Code" input_type="text" autocomplete="one-time-code" error/>
            <SubmitButton label="Verify" pending=verify.pending()/>
        </ServerForm>
    }
}
