use crate::api::auth::{check_reset_link, ResetPassword};
use crate::components::alert::{last_error, Alert, AlertKind, FormError, LinkCheckFailed};
use crate::components::auth_card::AuthCard;
use crate::components::form_field::FormField;
use crate::components::password_strength::PasswordStrength;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/reset-password?token=…`, from the reset mail: choose a new password. Opening the page does not use
/// the link; it only checks that it still works, so nobody types a new password for nothing. With
/// `welcome=1`, a verification link opened in another browser than the one that signed up led here: the
/// address is confirmed, and the account's password is chosen now.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = query.read_untracked().get("token").unwrap_or_default();
    let error_code = query.read_untracked().get("error");
    let link_error = error_code.is_some();
    let server_failed = error_code.as_deref() == Some("failed");
    let welcome = query.read_untracked().get("welcome").is_some();
    let usable = Resource::new_blocking(
        {
            let token = token.clone();
            move || token.clone()
        },
        move |token| async move {
            if token.is_empty() || link_error {
                Ok(false)
            } else {
                check_reset_link(token).await
            }
        },
    );
    view! {
        <AuthCard title="Choose a new password">
            <Suspense fallback=|| ()>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move {
                        match usable.await {
                            Ok(true) => view! {
                                {welcome.then(|| view! {
                                    <Alert kind=AlertKind::Success>
                                        "Your email address is confirmed. Choose a password for your account to finish. \
                                         (A password typed when signing up is kept only if the link is opened in the \
                                         browser used to sign up.)"
                                    </Alert>
                                })}
                                <ResetPasswordForm token/>
                            }.into_any(),
                            Ok(false) if server_failed => view! { <LinkCheckFailed/> }.into_any(),
                            Ok(false) => view! {
                                <Alert kind=AlertKind::Error>
                                    "This reset link is invalid, was already used, or has expired. Links work once, for one hour."
                                </Alert>
                                <p><a href=paths::FORGOT_PASSWORD>"Send me a new link"</a></p>
                            }.into_any(),
                            Err(e) => view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </AuthCard>
    }
}

/// `token`: the link's secret, sent back with the new password.
#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn ResetPasswordForm(token: String) -> impl IntoView {
    island_hydrated();
    let reset = ServerAction::<ResetPassword>::new();
    let error = last_error(reset);
    view! {
        <ServerForm action=reset class="form" novalidate=true>
            <FormError error/>
            <input type="hidden" name="token" value=token/>
            <PasswordStrength input_id="field-new_password">
                <FormField
                    field=Field::NewPassword
                    label="New password"
                    input_type="password"
                    autocomplete="new-password"
                    hint="At least 12 characters. A few unrelated words work well."
                    error
                />
            </PasswordStrength>
            <FormField
                field=Field::NewPasswordConfirm
                label="Confirm new password"
                input_type="password"
                autocomplete="new-password"
                error
            />
            <SubmitButton label="Reset password" pending=reset.pending()/>
        </ServerForm>
    }
}
