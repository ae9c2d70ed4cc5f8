use crate::api::two_factor::{get_two_factor_page, TurnOnTwoFactor, TwoFactorPage};
use crate::components::alert::{last_error, Alert, AlertKind, FormError};
use crate::components::form_field::FormField;
use crate::components::live_session::LiveSession;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/profile/two-factor`: setting up two-factor with an authenticator app (a QR code drawn on the
/// server, and the "Secret key" as text for typing in), then the recovery codes, shown once.
#[component]
pub fn TwoFactorSetupPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| get_two_factor_page());
    view! {
        <Title text="Two-factor authentication · Authkit"/>
        <header class="site-header">
            <a class="brand" href=paths::PROFILE>"Authkit"</a>
            <LiveSession/>
        </header>
        <main class="profile-page narrow">
            {Suspend::new(async move {
                match data.await {
                    Ok(TwoFactorPage::SetUp { secret, qr_code }) => view! { <SetUp secret qr_code/> }.into_any(),
                    Ok(TwoFactorPage::RecoveryCodes(codes)) => view! { <RecoveryCodes codes/> }.into_any(),
                    Ok(TwoFactorPage::On { recovery_codes_left }) => view! {
                        <section class="panel">
                            <h1>"Two-factor authentication"</h1>
                            <p>{format!("Two-factor authentication is on. Recovery codes left: {recovery_codes_left}. You can get new ones on your profile.")}</p>
                            <p><a href=paths::PROFILE>"Back to your profile"</a></p>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(),
                }
            })}
        </main>
    }
}

#[component]
fn SetUp(secret: String, qr_code: String) -> impl IntoView {
    view! {
        <section class="panel two-factor-setup" aria-labelledby="two-factor-heading">
            <h1 id="two-factor-heading">"Set up two-factor authentication"</h1>
            <ol class="steps">
                <li>"Scan this QR code with an authenticator app (such as 1Password, Google Authenticator or Aegis), or type the secret key into it."</li>
                <li>"Enter the 6-digit code the app shows and your password, to turn two-factor authentication on."</li>
            </ol>
            <img class="qr-code" src=qr_code alt="QR code for your authenticator app" width="200" height="200"/>
            <dl class="secret-key">
                <dt>"Secret key"</dt>
                <dd><code id="secret-key">{secret}</code></dd>
            </dl>
            <TurnOnForm/>
            <p><a href=paths::PROFILE>"Back to your profile"</a></p>
        </section>
    }
}

#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
fn TurnOnForm() -> impl IntoView {
    island_hydrated();
    let turn_on = ServerAction::<TurnOnTwoFactor>::new();
    let error = last_error(turn_on);
    view! {
        <ServerForm action=turn_on class="form" novalidate=true>
            <FormError error/>
            <FormField field=Field::Code label="Code" input_type="text" inputmode="numeric" autocomplete="one-time-code" error/>
            <FormField field=Field::CurrentPassword label="Current password" input_type="password" autocomplete="current-password" error/>
            <SubmitButton label="Turn on" pending=turn_on.pending() class="button"/>
        </ServerForm>
    }
}

/// The new recovery codes, this once: to copy, print or download.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    let file = format!(
        "data:text/plain;charset=utf-8,{}",
        crate::routes::encode_query_value(&format!(
            "Recovery codes for Authkit. Each works once, in place of a code from your authenticator app.\n\n{}\n",
            codes.join("\n")
        ))
    );
    view! {
        <section class="panel" aria-labelledby="recovery-codes-heading">
            <h1>"Two-factor authentication is on"</h1>
            <h2 id="recovery-codes-heading">"Recovery codes"</h2>
            <p>
                "If you lose your authenticator app, each of these codes signs you in once in place of its code. "
                "Keep them somewhere safe: this page shows them only this once."
            </p>
            <ol class="recovery-codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
            <p>
                <a class="button" href=file download="authkit-recovery-codes.txt">"Download"</a>
                " "
                <a href=paths::PROFILE>"Done"</a>
            </p>
        </section>
    }
}
