use crate::api::account::ConfirmEmailChange;
use crate::components::alert::{last_error, Alert, AlertKind};
use crate::components::auth_card::AuthCard;
use crate::components::submit_button::SubmitButton;
use crate::routes::paths;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/confirm-email-change?token=…`, from the mail sent to a new address. Like `/auth-redirect`, opening
/// the page uses nothing: it asks for one click (made by itself once hydrated).
#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").filter(|t| !t.is_empty());
    let error = last_error(confirm);
    let failed = move || query.read().get("error").is_some() || error.with(Option::is_some);
    Effect::new(move |submitted: Option<bool>| {
        if submitted != Some(true) {
            if let Some(token) = token().filter(|_| !failed()) {
                confirm.dispatch(ConfirmEmailChange { token });
                return true;
            }
        }
        submitted.unwrap_or(false)
    });
    view! {
        <AuthCard title="Confirm your new email address">
            {move || if query.read().get("error").as_deref() == Some("failed") {
                view! {
                    <Alert kind=AlertKind::Error>"Something went wrong on our side. Please open the link again in a moment."</Alert>
                }.into_any()
            } else if failed() {
                view! {
                    <Alert kind=AlertKind::Error>
                        "This link is invalid, was already used, or has expired. Ask for the change again from your profile."
                    </Alert>
                    <p><a href=paths::PROFILE>"Go to your profile"</a></p>
                }.into_any()
            } else if let Some(token) = token() {
                view! {
                    <p class="lead">"Confirm to make this address the one your account uses."</p>
                    <ActionForm action=confirm attr:class="form">
                        <input type="hidden" name="token" value=token/>
                        <SubmitButton label="Confirm new address" pending=confirm.pending()/>
                    </ActionForm>
                }.into_any()
            } else {
                view! { <p>"This page needs the link from your email."</p> }.into_any()
            }}
        </AuthCard>
    }
}
