use crate::api::account::ConfirmEmailChange;
use crate::components::alert::{last_error, query_value, Alert, AlertKind};
use crate::components::auth_card::AuthCard;
use crate::components::submit_button::SubmitButton;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

/// `/confirm-email-change?token=…`, from the mail sent to a new address. Like `/auth-redirect`, opening
/// the page uses nothing: it asks for one click (made by itself once hydrated).
#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    view! {
        <AuthCard title="Confirm your new email address">
            <ConfirmEmailChangeForm token=query_value("token") link_error=query_value("error")/>
        </AuthCard>
    }
}

/// `link_error`: set when the server already refused the link (`?error=invalid_link` or `failed`).
#[island(lazy)]
fn ConfirmEmailChangeForm(token: Option<String>, link_error: Option<String>) -> impl IntoView {
    island_hydrated();
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    let error = last_error(confirm);
    let server_failed = link_error.as_deref() == Some("failed");
    let link_refused = link_error.is_some();
    let failed = move || link_refused || error.with(Option::is_some);
    let auto_token = token.clone();
    Effect::new(move |submitted: Option<bool>| {
        if submitted != Some(true) {
            if let Some(token) = auto_token.clone().filter(|_| !failed()) {
                confirm.dispatch(ConfirmEmailChange { token });
                return true;
            }
        }
        submitted.unwrap_or(false)
    });
    move || {
        if server_failed {
            view! {
                <Alert kind=AlertKind::Error>"Something went wrong on our side. Please open the link again in a moment."</Alert>
            }
            .into_any()
        } else if failed() {
            view! {
                <Alert kind=AlertKind::Error>
                    "This link is invalid, was already used, or has expired. Ask for the change again from your profile."
                </Alert>
                <p><a href=paths::PROFILE>"Go to your profile"</a></p>
            }
            .into_any()
        } else if let Some(token) = token.clone() {
            view! {
                <p class="lead">"Confirm to make this address the one your account uses."</p>
                <ActionForm action=confirm attr:class="form">
                    <input type="hidden" name="token" value=token/>
                    <SubmitButton label="Confirm new address" pending=confirm.pending()/>
                </ActionForm>
            }
            .into_any()
        } else {
            view! { <p>"This page needs the link from your email."</p> }.into_any()
        }
    }
}
