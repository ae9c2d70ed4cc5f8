use crate::api::secure_account::{check_secure_link, SecureAccount};
use crate::components::alert::{last_error, Alert, AlertKind, FormError};
use crate::components::mailed_link_page::MailedLinkPage;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

/// `/secure-account?token=…`, from "This wasn't me" in a new-sign-in alert. Opening it changes nothing
/// (mail scanners open links); its one button does (`accounts::secure_account`).
#[component]
pub fn SecureAccountPage() -> impl IntoView {
    view! {
        <MailedLinkPage
            title="Secure your account"
            check=check_secure_link
            form=|token| view! { <SecureAccountForm token/> }
            invalid=|| view! {
                <Alert kind=AlertKind::Error>
                    "This link is invalid, was already used, or has expired. If someone else is using your account, reset your password now."
                </Alert>
                <p><a href=paths::FORGOT_PASSWORD>"Reset your password"</a></p>
            }
        />
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
