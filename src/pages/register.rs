use crate::api::auth::Register;
use crate::components::alert::{last_error, FormError};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::page_address::query_value;
use crate::components::password_strength::PasswordStrength;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

/// `/register`: name, email, password. With verification on, success goes to "Check your email…";
/// with it off, straight to the profile.
#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <AuthCard title="Create your account">
            <RegisterForm name=query_value("name") email=query_value("email")/>
            <p class="card-footer">"Already have an account? " <a href=paths::LOGIN>"Log in"</a></p>
        </AuthCard>
    }
}

/// `name`, `email`: what was typed before a refusal came back without JavaScript.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn RegisterForm(name: Option<String>, email: Option<String>) -> impl IntoView {
    island_hydrated();
    let register = ServerAction::<Register>::new();
    let error = last_error(register);
    view! {
        <ServerForm action=register class="form" novalidate=true>
            <FormError error/>
            <FormField field=Field::Name label="Name" input_type="text" autocomplete="name" value=name error/>
            <FormField field=Field::Email label="Email" input_type="email" autocomplete="email" value=email error/>
            <PasswordStrength input_id="field-password">
                <FormField
                    field=Field::Password
                    label="Password"
                    input_type="password"
                    autocomplete="new-password"
                    hint="At least 12 characters. A few unrelated words work well."
                    error
                />
            </PasswordStrength>
            <SubmitButton label="Create account" pending=register.pending()/>
        </ServerForm>
    }
}
