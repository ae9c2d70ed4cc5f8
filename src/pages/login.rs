use crate::api::auth::Login;
use crate::components::alert::{last_error, FormError, NoticeBanner};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::page_address::query_value;
use crate::components::passkeys::PasskeySignIn;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::error::AppError;
use crate::hydration::island_hydrated;
use crate::routes::{check_email_url, paths, MailSent};
use leptos::prelude::*;

/// `/login`: email and password. Any wrong credential gets the same message.
#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <AuthCard title="Log in">
            <NoticeBanner/>
            <LoginForm email=query_value("email")/>
            <p class="divider">"or"</p>
            <PasskeySignIn/>
            <p class="card-footer">
                <a href=paths::MAGIC_LINK>"Login With Magic Link"</a>
                " · No account yet? "
                <a href=paths::REGISTER>"Register"</a>
            </p>
        </AuthCard>
    }
}

/// `email`: what was typed before a refusal came back without JavaScript (`?email=`).
#[island]
fn LoginForm(email: Option<String>) -> impl IntoView {
    island_hydrated();
    let login = ServerAction::<Login>::new();
    let error = last_error(login);
    // The submitted address fills in the resend page for the user: without JavaScript it comes back in
    // the address; with it, from the action (which forgets its input once resolved, so keep a copy).
    let submitted_email = RwSignal::new(email.clone());
    let input = login.input();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            submitted_email.set(Some(input.email));
        }
    });
    let resend_href = move || match submitted_email.get() {
        Some(email) => check_email_url(&email, MailSent::Verification, false),
        None => paths::CHECK_EMAIL.to_owned(),
    };
    view! {
        <ServerForm action=login class="form" novalidate=true>
            <FormError error/>
            {move || (error.get() == Some(AppError::EmailNotVerified)).then(|| view! {
                <p class="form-action-hint"><a href=resend_href>"Send me a new verification link"</a></p>
            })}
            // "webauthn": the browser may offer this site's passkeys here (`PasskeySignIn`).
            <FormField field=Field::Email label="Email" input_type="email" autocomplete="username webauthn" value=email error/>
            <FormField field=Field::Password label="Password" input_type="password" autocomplete="current-password" error/>
            <p class="form-aside"><a href=paths::FORGOT_PASSWORD>"Forgot password?"</a></p>
            <SubmitButton label="Login" pending=login.pending()/>
        </ServerForm>
    }
}
