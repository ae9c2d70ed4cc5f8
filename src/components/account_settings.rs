//! "Account settings" on the profile: change the password, change the email address. Both ask for the
//! current password: a session left open on a shared computer must not be enough to take the account.

use crate::api::account::{ChangeEmail, ChangePassword};
use crate::components::alert::{last_error, Alert, AlertKind, FormError};
use crate::components::form_field::FormField;
use crate::components::password_strength::PasswordStrength;
use crate::components::server_form::ServerForm;
use crate::components::sessions_list::SessionsChanged;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::error::AppError;
use crate::routes::Notice;
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `new_email`: what was typed before a refusal came back without JavaScript.
#[component]
pub fn AccountSettings(email: String, new_email: Option<String>) -> impl IntoView {
    view! {
        <section class="panel" id="account" aria-labelledby="account-heading">
            <h2 id="account-heading">"Account settings"</h2>
            <ChangePasswordForm/>
            <ChangeEmailForm email new_email/>
        </section>
    }
}

#[component]
fn ChangePasswordForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = last_error(action);
    let done = succeeded(action);
    let form = clear_on_success(action.version(), done);
    // The other devices were just signed out: the session list should say so.
    if let Some(SessionsChanged(changes)) = use_context::<SessionsChanged>() {
        Effect::new(move |_| {
            if done() {
                changes.update(|n| *n += 1);
            }
        });
    }
    view! {
        <section class="subsection" aria-labelledby="change-password-heading">
            <h3 id="change-password-heading">"Change password"</h3>
            {move || done().then(|| view! { <Alert kind=AlertKind::Success>{Notice::PasswordChanged.message()}</Alert> })}
            <ServerForm action=action node_ref=form class="form" novalidate=true>
                <FormError error/>
                <FormField form="change-password" field=Field::CurrentPassword label="Current password" input_type="password" autocomplete="current-password" error/>
                <PasswordStrength input_id="change-password-field-new_password">
                    <FormField
                        form="change-password"
                        field=Field::NewPassword
                        label="New password"
                        input_type="password"
                        autocomplete="new-password"
                        hint="At least 12 characters. Your other devices will be signed out."
                        error
                    />
                </PasswordStrength>
                <FormField form="change-password" field=Field::NewPasswordConfirm label="Confirm new password" input_type="password" autocomplete="new-password" error/>
                <SubmitButton label="Change password" pending=action.pending() class="button"/>
            </ServerForm>
        </section>
    }
}

#[component]
fn ChangeEmailForm(email: String, new_email: Option<String>) -> impl IntoView {
    let action = ServerAction::<ChangeEmail>::new();
    let error = last_error(action);
    let done = succeeded(action);
    let form = clear_on_success(action.version(), done);
    view! {
        <section class="subsection" aria-labelledby="change-email-heading">
            <h3 id="change-email-heading">"Change email"</h3>
            <p class="muted">"Your account uses " <strong>{email}</strong> ". The new address must be confirmed from its inbox."</p>
            {move || done().then(|| view! { <Alert kind=AlertKind::Success>{Notice::EmailChangeRequested.message()}</Alert> })}
            <ServerForm action=action node_ref=form class="form" novalidate=true>
                <FormError error/>
                <FormField form="change-email" field=Field::NewEmail label="New email" input_type="email" autocomplete="email" value=new_email error/>
                <FormField form="change-email" field=Field::CurrentPassword label="Current password" input_type="password" autocomplete="current-password" error/>
                <SubmitButton label="Change email" pending=action.pending() class="button"/>
            </ServerForm>
        </section>
    }
}

/// Whether the action's last submission succeeded (read through one signal; see `last_error`).
fn succeeded<S>(action: ServerAction<S>) -> impl Fn() -> bool + Copy + 'static
where
    S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let value = action.value();
    move || value.with(|v| matches!(v, Some(Ok(()))))
}

/// A form whose fields empty after a successful submission, so no password stays typed in the page.
fn clear_on_success(version: RwSignal<usize>, done: impl Fn() -> bool + 'static) -> NodeRef<html::Form> {
    let form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        version.track();
        if done() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    form
}
