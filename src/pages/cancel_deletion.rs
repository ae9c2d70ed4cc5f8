use crate::api::your_data::{check_cancel_deletion_link, CancelDeletion};
use crate::components::alert::{last_error, Alert, AlertKind, FormError};
use crate::components::mailed_link_page::MailedLinkPage;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::hydration::island_hydrated;
use leptos::prelude::*;

/// `/cancel-deletion?token=…`, from the mail sent when an account is deleted. Opening it changes nothing
/// (mail scanners open links); its one button keeps the account (`accounts::deletion`).
#[component]
pub fn CancelDeletionPage() -> impl IntoView {
    view! {
        <MailedLinkPage
            title="Keep your account"
            check=check_cancel_deletion_link
            form=|token| view! { <CancelDeletionForm token/> }
            invalid=|| view! {
                <Alert kind=AlertKind::Error>
                    "This link is invalid, was already used, or has expired: the account was kept already, or its grace period is over and it was erased."
                </Alert>
            }
        />
    }
}

#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn CancelDeletionForm(token: String) -> impl IntoView {
    island_hydrated();
    let cancel = ServerAction::<CancelDeletion>::new();
    let error = last_error(cancel);
    view! {
        <p class="lead">"Your account is deleted and waiting to be erased."</p>
        <p>"Cancelling the deletion keeps your account as it was: your profile, picture, sign-in methods and security activity. Then log in again."</p>
        <ServerForm action=cancel class="form" novalidate=true>
            <FormError error include_field_errors=true/>
            <input type="hidden" name="token" value=token/>
            <SubmitButton label="Cancel deletion" pending=cancel.pending() class="button"/>
        </ServerForm>
    }
}
