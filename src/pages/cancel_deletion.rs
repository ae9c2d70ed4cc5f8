use crate::api::your_data::{check_cancel_deletion_link, CancelDeletion};
use crate::components::alert::{last_error, Alert, AlertKind, FormError, LinkCheckFailed};
use crate::components::auth_card::AuthCard;
use crate::components::page_address::query_value;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::hydration::island_hydrated;
use leptos::prelude::*;

/// `/cancel-deletion?token=…`, from the mail sent when an account is deleted. Opening it changes nothing
/// (mail scanners open links); its one button keeps the account (`accounts::deletion`).
#[component]
pub fn CancelDeletionPage() -> impl IntoView {
    let token = query_value("token");
    // Set when the server already refused the link (`?error=invalid_link` or `failed`).
    let link_error = query_value("error");
    let usable = Resource::new_blocking(
        {
            let (token, link_error) = (token.clone(), link_error.clone());
            move || (token.clone(), link_error.clone())
        },
        |(token, link_error)| async move {
            match token {
                Some(token) if link_error.is_none() => check_cancel_deletion_link(token).await,
                _ => Ok(false),
            }
        },
    );
    view! {
        <AuthCard title="Keep your account">
            <Suspense fallback=|| ()>
                {move || {
                    let (token, link_error) = (token.clone(), link_error.clone());
                    Suspend::new(async move {
                        match (usable.await, token) {
                            (Ok(true), Some(token)) => view! { <CancelDeletionForm token/> }.into_any(),
                            (Err(_), _) => view! { <LinkCheckFailed/> }.into_any(),
                            _ if link_error.as_deref() == Some("failed") => view! { <LinkCheckFailed/> }.into_any(),
                            _ => view! {
                                <Alert kind=AlertKind::Error>
                                    "This link is invalid, was already used, or has expired: the account was kept already, or its grace period is over and it was erased."
                                </Alert>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Suspense>
        </AuthCard>
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
