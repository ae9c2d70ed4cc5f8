use crate::api::auth::ResendVerification;
use crate::components::alert::{Alert, AlertKind, FormError};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/check-email?email=…`: after sign-up, or when asking for a new verification link.
#[component]
pub fn CheckEmailPage() -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    let error = Signal::derive(move || resend.value().get().and_then(Result::err));
    let query = use_query_map();
    let email = move || query.read().get("email").filter(|e| !e.is_empty());
    let resent = move || query.read().get("resent").is_some();
    view! {
        <AuthCard title="Check your email…">
            {move || resent().then(|| view! {
                <Alert kind=AlertKind::Success>"If that address has an account waiting for verification, a new link is on its way."</Alert>
            })}
            {move || match email() {
                Some(address) => view! {
                    <p class="lead">"We sent a link to " <strong>{address}</strong> ". Open it to verify your address and sign in."</p>
                }.into_any(),
                None => view! {
                    <p class="lead">"Open the link we emailed you to verify your address and sign in."</p>
                }.into_any(),
            }}
            <p>"It can take a minute to arrive; check your spam folder too. The link works once, for a limited time."</p>
            <h2 class="section-heading">"No email?"</h2>
            <ActionForm action=resend attr:class="form" attr:novalidate=true>
                <FormError error/>
                {move || match email() {
                    Some(address) => view! { <input type="hidden" name="email" value=address/> }.into_any(),
                    None => view! {
                        <FormField field=Field::Email label="Email" input_type="email" autocomplete="email" error/>
                    }.into_any(),
                }}
                <SubmitButton label="Resend verification email" pending=resend.pending() class="button"/>
            </ActionForm>
        </AuthCard>
    }
}
