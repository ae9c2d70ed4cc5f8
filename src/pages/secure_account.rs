use crate::api::secure_account::{check_secure_link, SecureAccount};
use crate::components::alert::{last_error, Alert, AlertKind, FormError, LinkCheckFailed};
use crate::components::auth_card::AuthCard;
use crate::components::page_address::query_value;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

/// `/secure-account?token=…`, from "This wasn't me" in a new-sign-in alert. Opening it changes nothing
/// (mail scanners open links); its one button does (`accounts::secure_account`).
#[component]
pub fn SecureAccountPage() -> impl IntoView {
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
                Some(token) if link_error.is_none() => check_secure_link(token).await,
                _ => Ok(false),
            }
        },
    );
    view! {
        <AuthCard title="Secure your account">
            <Suspense fallback=|| ()>
                {move || {
                    let (token, link_error) = (token.clone(), link_error.clone());
                    Suspend::new(async move {
                        match (usable.await, token) {
                            (Ok(true), Some(token)) => view! { <SecureAccountForm token/> }.into_any(),
                            (Err(_), _) => view! { <LinkCheckFailed/> }.into_any(),
                            _ if link_error.as_deref() == Some("failed") => view! { <LinkCheckFailed/> }.into_any(),
                            _ => view! {
                                <Alert kind=AlertKind::Error>
                                    "This link is invalid, was already used, or has expired. If someone else is using your account, reset your password now."
                                </Alert>
                                <p><a href=paths::FORGOT_PASSWORD>"Reset your password"</a></p>
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
fn SecureAccountForm(token: String) -> impl IntoView {
    island_hydrated();
    let secure = ServerAction::<SecureAccount>::new();
    let error = last_error(secure);
    view! {
        <p class="lead">"Someone signed in to your account from a new device, and you say it was not you."</p>
        <p>"Securing your account signs it out on every device, including this one, and stops your password from working. We then email you a link to choose a new password. Passkeys added and two-factor authentication turned on since that sign-in are removed."</p>
        <ServerForm action=secure class="form" novalidate=true>
            <FormError error include_field_errors=true/>
            <input type="hidden" name="token" value=token/>
            <SubmitButton label="Secure my account" pending=secure.pending() class="button button-danger"/>
        </ServerForm>
    }
}
