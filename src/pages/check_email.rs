use crate::api::auth::{ResendVerification, SignInWithCode};
use crate::components::alert::{last_error, Alert, AlertKind, FormError};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::hydration::island_hydrated;
use crate::routes::{paths, MailSent};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/check-email?email=…&purpose=…`: a link is on its way (verification, magic link or password reset).
/// The words never say whether the address has an account. Without `email`, nothing was sent: the page
/// was opened to ask for a new verification link (`typed`: what a refused request had in the field).
#[component]
pub fn CheckEmailPage() -> impl IntoView {
    // An islands page renders once, on the server: the query is read once, not tracked.
    let query = use_query_map().get_untracked();
    let named = query.get("email").filter(|e| !e.is_empty());
    // The address is shown only if this browser asked for mail to it: text that a link from someone else
    // put in the address ("We sent a message to Your account is locked, call …") is never shown as ours.
    let email = named.clone().filter(|e| crate::api::mail_was_requested_for(e));
    let purpose = MailSent::from_query(&query.get("purpose").unwrap_or_default());
    let resent = query.get("resent").is_some();
    // What a refused request had in the field, or an address this browser did not ask mail for: only
    // ever put back into the field, for the reader to check before sending.
    let typed = query.get("typed").filter(|e| !e.is_empty()).or_else(|| named.clone().filter(|_| email.is_none()));
    let what = match purpose {
        MailSent::Verification => "Open the link in it to verify your address and sign in.",
        MailSent::MagicLink => "If an account uses this address, the message has a link that signs you in.",
        MailSent::PasswordReset => "If an account uses this address, the message has a link to choose a new password.",
    };
    view! {
        <AuthCard title="Check your email…">
            {resent.then(|| view! {
                <Alert kind=AlertKind::Success>"If that address has an account waiting for verification, a new link is on its way."</Alert>
            })}
            {match (email.clone(), named, purpose) {
                (Some(address), _, _) => view! {
                    <p class="lead">"We sent a message to " <strong>{address}</strong> ". " {what}</p>
                    <p>"It can take a minute to arrive; check your spam folder too. The link works once, for a limited time."</p>
                }.into_any(),
                (None, None, _) | (None, Some(_), MailSent::Verification) => view! {
                    <p class="lead">"Enter the address you signed up with, and we will send it a new verification link."</p>
                }.into_any(),
                (None, Some(_), _) => view! {
                    <p class="lead">"We sent a message to the address you entered. " {what}</p>
                    <p>"It can take a minute to arrive; check your spam folder too. The link works once, for a limited time."</p>
                }.into_any(),
            }}
            // The code does what the link does, here: only for an address this browser asked mail for.
            {match (&email, purpose) {
                (Some(address), MailSent::Verification | MailSent::MagicLink) => Some(view! {
                    <EmailCodeForm email=address.clone() sent=purpose.as_query().to_owned()/>
                }),
                _ => None,
            }}
            {match purpose {
                MailSent::Verification => view! { <ResendVerificationForm email typed/> }.into_any(),
                MailSent::MagicLink => view! {
                    <p><a href=paths::MAGIC_LINK>"Send another link"</a> " · " <a href=paths::LOGIN>"Log in with a password"</a></p>
                }.into_any(),
                MailSent::PasswordReset => view! {
                    <p><a href=paths::FORGOT_PASSWORD>"Send another link"</a> " · " <a href=paths::LOGIN>"Back to log in"</a></p>
                }.into_any(),
            }}
        </AuthCard>
    }
}

/// The 6-digit code from the mail, for a reader whose mail is on another device: it signs in here.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn EmailCodeForm(email: String, sent: String) -> impl IntoView {
    island_hydrated();
    let use_code = ServerAction::<SignInWithCode>::new();
    let error = last_error(use_code);
    view! {
        <ServerForm action=use_code class="form code-form" novalidate=true>
            <FormError error/>
            <input type="hidden" name="email" value=email/>
            <input type="hidden" name="sent" value=sent/>
            <FormField
                field=Field::Code
                label="Code"
                input_type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                hint="Or type the 6-digit code from the message."
                error
            />
            <SubmitButton label="Continue" pending=use_code.pending() class="button"/>
        </ServerForm>
    }
}

/// `email`: the address the mail went to, when the page knows it (then it is not asked again). `typed`:
/// what the field held when a request without JavaScript was refused.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn ResendVerificationForm(email: Option<String>, typed: Option<String>) -> impl IntoView {
    island_hydrated();
    let resend = ServerAction::<ResendVerification>::new();
    let error = last_error(resend);
    view! {
        <h2 class="section-heading">"No email?"</h2>
        <ServerForm action=resend class="form" novalidate=true>
            {match email {
                Some(address) => view! {
                    // The address is not shown as a field, so its problems (if any) show as the form's.
                    <FormError error include_field_errors=true/>
                    <input type="hidden" name="email" value=address/>
                }.into_any(),
                None => view! {
                    <FormError error/>
                    <FormField field=Field::Email label="Email" input_type="email" autocomplete="email" value=typed error/>
                }.into_any(),
            }}
            <SubmitButton label="Resend verification email" pending=resend.pending() class="button"/>
        </ServerForm>
    }
}
