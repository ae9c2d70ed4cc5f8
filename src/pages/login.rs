use crate::api::auth::Login;
use crate::api::AppError;
use crate::components::alert::{last_error, query_value, FormError, NoticeBanner};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::routes::{check_email_url, paths, MailSent};
use leptos::prelude::*;

/// `/login`: email and password. Any wrong credential gets the same message.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = last_error(login);
    // The submitted address fills in the resend page for the user: without JavaScript it comes back in
    // the address (`?email=`); with it, from the action (which forgets its input once resolved, so keep a copy).
    let submitted_email = RwSignal::new(query_value("email"));
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
        <AuthCard title="Log in">
            <NoticeBanner/>
            <ActionForm action=login attr:class="form" attr:novalidate=true>
                <FormError error/>
                {move || (error.get() == Some(AppError::EmailNotVerified)).then(|| view! {
                    <p class="form-action-hint"><a href=resend_href>"Send me a new verification link"</a></p>
                })}
                <FormField field=Field::Email label="Email" input_type="email" autocomplete="email" value=query_value("email") error/>
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
