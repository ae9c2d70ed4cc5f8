use crate::api::auth::{preview_link, LinkPreview, SignInWithLink};
use crate::components::alert::{last_error, Alert, AlertKind};
use crate::components::auth_card::AuthCard;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/auth-redirect?access_token=…`, where links from verification and magic-link mails land.
///
/// Opening the page does not use the link: mail scanners fetch links before people click them, and
/// would burn it. The page shows whose account the link is for and a one-button form. In the browser
/// that asked for the link, the hydrated page submits it by itself; anywhere else it waits for the
/// click, so a link someone else sent cannot sign the reader into the sender's account unnoticed.
#[component]
pub fn AuthRedirectPage() -> impl IntoView {
    let query = use_query_map();
    let token = query.read_untracked().get("access_token").filter(|t| !t.is_empty());
    let error = query.read_untracked().get("error");
    let preview = Resource::new_blocking(
        {
            let token = token.clone();
            move || token.clone()
        },
        |token| async move {
            match token {
                Some(token) => preview_link(token).await,
                None => Ok(LinkPreview { usable: false, account: None, automatic: false }),
            }
        },
    );
    view! {
        <AuthCard title="Signing you in">
            <Suspense fallback=|| ()>
                {move || {
                    let (token, error) = (token.clone(), error.clone());
                    Suspend::new(async move {
                        let preview = preview.await;
                        match (error.as_deref(), token, preview) {
                            (Some("failed"), _, _) | (_, _, Err(_)) => view! {
                                <Alert kind=AlertKind::Error>"Something went wrong on our side. Please open the link again in a moment."</Alert>
                            }.into_any(),
                            (Some(_), _, _) | (None, None, _) | (None, Some(_), Ok(LinkPreview { usable: false, .. })) => view! {
                                <Alert kind=AlertKind::Error>
                                    "This link is invalid, was already used, or has expired. Links work once, for a limited time."
                                </Alert>
                                <p>
                                    <a href=paths::MAGIC_LINK>"Send me a new sign-in link"</a>
                                    " · "
                                    <a href=paths::CHECK_EMAIL>"Send me a new verification link"</a>
                                    " · "
                                    <a href=paths::LOGIN>"Log in"</a>
                                </p>
                            }.into_any(),
                            (None, Some(access_token), Ok(preview)) => view! {
                                <ConfirmLink access_token preview/>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </AuthCard>
    }
}

#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn ConfirmLink(access_token: String, preview: LinkPreview) -> impl IntoView {
    island_hydrated();
    let sign_in = ServerAction::<SignInWithLink>::new();
    let error = last_error(sign_in);
    let failed = move || error.with(Option::is_some);
    if preview.automatic {
        // Only in the browser, and only once.
        let access_token = access_token.clone();
        Effect::new(move |submitted: Option<bool>| {
            if submitted != Some(true) {
                sign_in.dispatch(SignInWithLink { access_token: access_token.clone() });
            }
            true
        });
    }
    let account = preview.account.unwrap_or_default();
    view! {
        {move || failed().then(|| view! {
            <Alert kind=AlertKind::Error>"This link did not work. Ask for a new one."</Alert>
        })}
        <p class="lead">"This link signs you in as " <strong>{account}</strong> "."</p>
        {(!preview.automatic).then(|| view! {
            <p class="muted">"Continue only if you asked for this link yourself."</p>
        })}
        <ServerForm action=sign_in class="form">
            <input type="hidden" name="access_token" value=access_token/>
            <SubmitButton label="Continue" pending=sign_in.pending()/>
        </ServerForm>
    }
}
