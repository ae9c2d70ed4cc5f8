use crate::api::account::{preview_email_change, ConfirmEmailChange, EmailChangePreview};
use crate::components::alert::{last_error, Alert, AlertKind, LinkCheckFailed};
use crate::components::auth_card::AuthCard;
use crate::components::page_address::query_value;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::error::AppError;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

/// `/confirm-email-change?token=…`, from the mail sent to a new address.
///
/// Like `/auth-redirect`, opening the page uses nothing. It shows which change the link makes and a
/// one-button form. Where the account that asked for the change is signed in, the hydrated page submits
/// it by itself; anywhere else it waits for the click: whoever reads the new address's mail (or a mail
/// scanner that runs scripts) must not move somebody else's account onto that address by opening a link.
#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let token = query_value("token");
    // Set when the server already refused the link (`?error=invalid_link` or `failed`).
    let link_error = query_value("error");
    let preview = Resource::new_blocking(
        {
            let token = token.clone();
            move || token.clone()
        },
        |token| async move {
            match token {
                Some(token) => preview_email_change(token).await,
                None => Ok(EmailChangePreview { usable: false, from: None, to: None, automatic: false }),
            }
        },
    );
    view! {
        <AuthCard title="Confirm your new email address">
            <Suspense fallback=|| ()>
                {move || {
                    let (token, link_error) = (token.clone(), link_error.clone());
                    Suspend::new(async move {
                        let preview = preview.await;
                        match (link_error.as_deref(), token, preview) {
                            (Some("failed"), _, _) | (_, _, Err(_)) => view! { <LinkCheckFailed/> }.into_any(),
                            (Some(_), _, _) | (None, Some(_), Ok(EmailChangePreview { usable: false, .. })) => {
                                invalid_link().into_any()
                            }
                            (None, None, _) => view! { <p>"This page needs the link from your email."</p> }.into_any(),
                            (None, Some(token), Ok(preview)) => view! {
                                <ConfirmEmailChangeForm token preview/>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Suspense>
        </AuthCard>
    }
}

fn invalid_link() -> impl IntoView {
    view! {
        <Alert kind=AlertKind::Error>
            "This link is invalid, was already used, or has expired. Ask for the change again from your profile."
        </Alert>
        <p><a href=paths::PROFILE>"Go to your profile"</a></p>
    }
}

#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn ConfirmEmailChangeForm(token: String, preview: EmailChangePreview) -> impl IntoView {
    island_hydrated();
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    let error = last_error(confirm);
    if preview.automatic {
        // Only in the browser, and only once.
        let token = token.clone();
        Effect::new(move |submitted: Option<bool>| {
            if submitted != Some(true) {
                confirm.dispatch(ConfirmEmailChange { token: token.clone() });
            }
            true
        });
    }
    let EmailChangePreview { from, to, automatic, .. } = preview;
    move || match error.get() {
        Some(AppError::InvalidLink) => invalid_link().into_any(),
        Some(_) => view! { <LinkCheckFailed/> }.into_any(),
        None => {
            let (from, to, token) = (from.clone(), to.clone(), token.clone());
            view! {
                <p class="lead">
                    "This changes the email address of the account " <strong>{from}</strong> " to "
                    <strong>{to}</strong> "."
                </p>
                {(!automatic).then(|| view! {
                    <p class="muted">"Continue only if you asked for this change yourself."</p>
                })}
                <ServerForm action=confirm class="form">
                    <input type="hidden" name="token" value=token/>
                    <SubmitButton label="Confirm new address" pending=confirm.pending()/>
                </ServerForm>
            }
            .into_any()
        }
    }
}
