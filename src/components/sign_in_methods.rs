//! "Sign-in methods" on the profile: two-factor authentication (set up, turn off, new recovery codes).
//! Turning it off and new codes ask for the current password: a session left open on a shared computer
//! must not be enough to weaken the account.

use crate::api::two_factor::{NewRecoveryCodes, SignInMethods, TurnOffTwoFactor};
use crate::components::alert::{last_error, Alert, AlertKind, FormError};
use crate::components::form_field::FormField;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::error::AppError;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
pub fn SignInMethodsPanel(methods: Result<SignInMethods, AppError>) -> impl IntoView {
    island_hydrated();
    let two_factor = match methods {
        Ok(methods) => match methods.two_factor {
            None => view! {
                <p class="muted">"Off. With it on, signing in also takes a code from an authenticator app on your phone."</p>
                <p><a class="button" href=paths::TWO_FACTOR>"Set up two-factor authentication"</a></p>
            }
            .into_any(),
            Some(left) => view! {
                <p>{recovery_codes_left(left)}</p>
                <TurnOffForm/>
                <NewCodesForm/>
            }
            .into_any(),
        },
        Err(e) => view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(),
    };
    view! {
        <section class="panel" id="sign-in-methods" aria-labelledby="sign-in-methods-heading">
            <h2 id="sign-in-methods-heading">"Sign-in methods"</h2>
            <section class="subsection" aria-labelledby="two-factor-heading">
                <h3 id="two-factor-heading">"Two-factor authentication"</h3>
                {two_factor}
            </section>
        </section>
    }
    .into_any()
}

/// "On. 10 recovery codes left.", one text node, as one sentence.
fn recovery_codes_left(left: u32) -> String {
    let codes = if left == 1 { "recovery code" } else { "recovery codes" };
    let hint = if left < 3 { " Get new ones before you run out." } else { "" };
    format!("On. {left} {codes} left.{hint}")
}

#[component]
fn TurnOffForm() -> impl IntoView {
    let action = ServerAction::<TurnOffTwoFactor>::new();
    let error = last_error(action);
    view! {
        <ServerForm action class="form" novalidate=true>
            <FormError error/>
            <FormField form="turn-off-two-factor" field=Field::CurrentPassword label="Current password" input_type="password" autocomplete="current-password" error/>
            <SubmitButton label="Turn off two-factor authentication" pending=action.pending() class="button button-secondary"/>
        </ServerForm>
    }
}

#[component]
fn NewCodesForm() -> impl IntoView {
    let action = ServerAction::<NewRecoveryCodes>::new();
    let error = last_error(action);
    view! {
        <ServerForm action class="form" novalidate=true>
            <FormError error/>
            <FormField form="new-recovery-codes" field=Field::CurrentPassword label="Current password" input_type="password" autocomplete="current-password" hint="The codes you have now stop working." error/>
            <SubmitButton label="Get new recovery codes" pending=action.pending() class="button button-secondary"/>
        </ServerForm>
    }
}
