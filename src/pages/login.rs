use crate::api::auth::Login;
use crate::api::AppError;
use crate::components::alert::{Alert, AlertKind, FormError};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::routes::{paths, Notice};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/login`: email and password. Any wrong credential gets the same message.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = Signal::derive(move || login.value().get().and_then(Result::err));
    let query = use_query_map();
    let notice = move || query.read().get("notice").and_then(|n| Notice::from_query(&n));
    // With JavaScript the submitted address is known, so the resend page can be filled in for the user.
    // (An action forgets its input once it resolves, so keep a copy.)
    let submitted_email = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(input) = login.input().get() {
            submitted_email.set(Some(input.email));
        }
    });
    let resend_href = move || match submitted_email.get() {
        Some(email) => crate::api::auth::check_email_url(&email, false),
        None => paths::CHECK_EMAIL.to_owned(),
    };
    view! {
        <AuthCard title="Log in">
            {move || notice().map(|n| view! { <Alert kind=AlertKind::Info>{n.message()}</Alert> })}
            <ActionForm action=login attr:class="form" attr:novalidate=true>
                <FormError error/>
                {move || (error.get() == Some(AppError::EmailNotVerified)).then(|| view! {
                    <p class="form-action-hint"><a href=resend_href>"Send me a new verification link"</a></p>
                })}
                <FormField field=Field::Email label="Email" input_type="email" autocomplete="email" error/>
                <FormField field=Field::Password label="Password" input_type="password" autocomplete="current-password" error/>
                <p class="form-aside"><a href=paths::FORGOT_PASSWORD>"Forgot password?"</a></p>
                <SubmitButton label="Login" pending=login.pending()/>
            </ActionForm>
            <p class="card-footer">
                <a href=paths::MAGIC_LINK>"Login With Magic Link"</a>
                " · No account yet? "
                <a href=paths::REGISTER>"Register"</a>
            </p>
        </AuthCard>
    }
}
