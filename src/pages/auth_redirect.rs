use crate::api::auth::Grant;
use crate::components::alert::{Alert, AlertKind};
use crate::components::auth_card::AuthCard;
use crate::components::submit_button::SubmitButton;
use crate::routes::paths;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/auth-redirect?access_token=…`, where links from verification and magic-link mails land.
///
/// Opening the page does not use the link: mail scanners fetch links before people click them, and
/// would burn it. The page shows a one-button form instead; once hydrated it submits itself, so people
/// with JavaScript never see it.
#[component]
pub fn AuthRedirectPage() -> impl IntoView {
    let grant = ServerAction::<Grant>::new();
    let query = use_query_map();
    let token = move || query.read().get("access_token").filter(|t| !t.is_empty());
    let failed = move || query.read().get("error").is_some() || matches!(grant.value().get(), Some(Err(_)));

    // In the browser only: submit once, straight away.
    Effect::new(move |submitted: Option<bool>| {
        if submitted != Some(true) {
            if let Some(access_token) = token().filter(|_| !failed()) {
                grant.dispatch(Grant { access_token });
                return true;
            }
        }
        submitted.unwrap_or(false)
    });

    view! {
        <AuthCard title="Signing you in">
            {move || if failed() {
                view! {
                    <Alert kind=AlertKind::Error>
                        "This link is invalid, was already used, or has expired. Links work once, for a limited time."
                    </Alert>
                    <p>
                        <a href=paths::CHECK_EMAIL>"Send me a new verification link"</a>
                        " · "
                        <a href=paths::LOGIN>"Log in"</a>
                    </p>
                }.into_any()
            } else if let Some(access_token) = token() {
                view! {
                    <p class="lead">"Confirm to finish signing in."</p>
                    <ActionForm action=grant attr:class="form">
                        <input type="hidden" name="access_token" value=access_token/>
                        <SubmitButton label="Continue" pending=grant.pending()/>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <p>"This page needs the link from your email. Open the link in the message we sent you."</p>
                    <p><a href=paths::LOGIN>"Log in"</a></p>
                }.into_any()
            }}
        </AuthCard>
    }
}
