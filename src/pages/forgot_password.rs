use crate::api::auth::RequestPasswordReset;
use crate::components::auth_card::AuthCard;
use crate::components::email_form::EmailForm;
use crate::components::page_address::query_value;
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
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn ForgotPasswordForm(email: Option<String>) -> impl IntoView {
    island_hydrated();
    let action = ServerAction::<RequestPasswordReset>::new();
    view! { <EmailForm action email button="Send reset link"/> }
}
