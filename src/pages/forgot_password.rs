use crate::api::auth::RequestPasswordReset;
use crate::components::alert::{last_error, query_value, FormError};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

/// `/forgot-password`: asks for a reset link.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    view! {
        <AuthCard title="Forgot your password?">
            <p class="lead">"Enter the email address of your account and we will send you a link to choose a new password."</p>
            <ForgotPasswordForm email=query_value("email")/>
            <p class="card-footer"><a href=paths::LOGIN>"Back to log in"</a></p>
        </AuthCard>
    }
}

/// `email`: what was typed before a refusal came back without JavaScript.
#[island(lazy)]
fn ForgotPasswordForm(email: Option<String>) -> impl IntoView {
    island_hydrated();
    let request = ServerAction::<RequestPasswordReset>::new();
    let error = last_error(request);
    view! {
        <ServerForm action=request class="form" novalidate=true>
            <FormError error/>
            <FormField field=Field::Email label="Email" input_type="email" autocomplete="email" value=email error/>
            <SubmitButton label="Send reset link" pending=request.pending()/>
        </ServerForm>
    }
}
