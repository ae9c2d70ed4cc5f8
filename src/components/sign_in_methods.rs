//! "Sign-in methods" on the profile: passkeys (add, rename, remove) and two-factor authentication (set
//! up, turn off, new recovery codes). Removing a passkey, turning two-factor off and new codes ask for the
//! current password: a session left open on a shared computer must not be enough to weaken the account.

use crate::api::passkeys::{PasskeyView, RemovePasskey, RenamePasskey};
use crate::api::sign_in_methods::SignInMethods;
use crate::api::two_factor::{NewRecoveryCodes, TurnOffTwoFactor};
use crate::components::alert::{last_error, Alert, AlertKind, FormError};
use crate::components::form_field::FormField;
use crate::components::passkeys::AddPasskey;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::components::time::RelativeTime;
use crate::domain::Field;
use crate::error::AppError;
use crate::hydration::island_hydrated;
use crate::routes::paths;
use leptos::prelude::*;

#[cfg_attr(feature = "lazy-islands", island(lazy))]
#[cfg_attr(not(feature = "lazy-islands"), island)]
pub fn SignInMethodsPanel(methods: Result<SignInMethods, AppError>) -> impl IntoView {
    island_hydrated();
    let (passkeys, two_factor) = match methods {
        Ok(methods) => (
            view! { <Passkeys now=methods.now passkeys=methods.passkeys/> }.into_any(),
            match methods.two_factor {
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
        ),
        Err(e) => (view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> }.into_any(), ().into_any()),
    };
    view! {
        <section class="panel" id="sign-in-methods" aria-labelledby="sign-in-methods-heading">
            <h2 id="sign-in-methods-heading">"Sign-in methods"</h2>
            <section class="subsection" aria-labelledby="passkeys-heading">
                <h3 id="passkeys-heading">"Passkeys"</h3>
                {passkeys}
            </section>
            <section class="subsection" aria-labelledby="two-factor-heading">
                <h3 id="two-factor-heading">"Two-factor authentication"</h3>
                {two_factor}
            </section>
        </section>
    }
    .into_any()
}

/// The account's passkeys, each renamable and removable, and "Add a passkey". Hydrated, changes show
/// in the list at once; without JavaScript each form lands on the profile loaded again.
#[component]
fn Passkeys(now: i64, passkeys: Vec<PasskeyView>) -> impl IntoView {
    let passkeys = RwSignal::new(passkeys);
    // Said to screen readers when an item leaves the list, as the focus leaves with it.
    let status = RwSignal::new(None::<&'static str>);
    let intro = move || {
        if passkeys.with(Vec::is_empty) {
            "Sign in with your fingerprint, face or screen lock instead of a password: a passkey stays on your device and works only on this site."
        } else {
            "Each passkey signs you in on its own, without a password or a second step."
        }
    };
    let on_added = Callback::new(move |added: PasskeyView| {
        status.set(None);
        passkeys.update(|list| list.push(added));
    });
    let on_removed = Callback::new(move |id: String| {
        status.set(Some("Passkey removed."));
        passkeys.update(|list| list.retain(|p| p.id != id));
    });
    view! {
        <p class="muted">{intro}</p>
        <p role="status" class="visually-hidden">{move || status.get()}</p>
        <Show when=move || passkeys.with(|list| !list.is_empty())>
            <ul class="passkeys">
                <For each=move || passkeys.get() key=|p| p.id.clone() let:passkey>
                    <PasskeyItem now passkey on_removed/>
                </For>
            </ul>
        </Show>
        <AddPasskey on_added/>
    }
}

#[component]
fn PasskeyItem(now: i64, passkey: PasskeyView, on_removed: Callback<String>) -> impl IntoView {
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let (rename_error, remove_error) = (last_error(rename), last_error(remove));
    let name = RwSignal::new(passkey.name.clone());
    let (renamed, removed) = (rename.value(), remove.value());
    let id = passkey.id.clone();
    let rename_details = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        if let Some(Ok(kept)) = renamed.get() {
            name.set(kept);
            // Saved: the editor closes, as the name shows the new one.
            if let Some(details) = rename_details.get_untracked() {
                let _ = details.remove_attribute("open");
            }
        }
        if matches!(removed.get(), Some(Ok(()))) {
            on_removed.run(id.clone());
        }
    });
    // A passkey added after the page loaded is newer than the page's `now`.
    let now = now.max(passkey.created_at);
    let (rename_form, remove_form) =
        (format!("passkey-{}-rename", passkey.id), format!("passkey-{}-remove", passkey.id));
    let (id, id_again, old_name) = (passkey.id.clone(), passkey.id, passkey.name);
    view! {
        <li class="passkey">
            <p class="passkey-name"><strong>{name}</strong></p>
            <p class="muted">
                "Added " <RelativeTime now at=passkey.created_at/> " · "
                {match passkey.last_used_at {
                    Some(at) => view! { "Last used " <RelativeTime now at/> }.into_any(),
                    None => "Not used yet".into_any(),
                }}
            </p>
            <details node_ref=rename_details>
                <summary>"Rename…"</summary>
                <ServerForm action=rename class="form" novalidate=true>
                    <FormError error=rename_error/>
                    <input type="hidden" name="id" value=id.clone()/>
                    <FormField form=rename_form.clone() field=Field::PasskeyName label="Name" input_type="text" autocomplete="off" value=Some(old_name.clone()) error=rename_error/>
                    <SubmitButton label="Save name" pending=rename.pending() class="button button-small"/>
                </ServerForm>
            </details>
            <details>
                <summary>"Remove…"</summary>
                <ServerForm action=remove class="form" novalidate=true>
                    <FormError error=remove_error/>
                    <input type="hidden" name="id" value=id_again.clone()/>
                    <FormField form=remove_form.clone() field=Field::CurrentPassword label="Current password" input_type="password" autocomplete="current-password" error=remove_error/>
                    <SubmitButton label="Remove" pending=remove.pending() class="button button-small button-danger"/>
                </ServerForm>
            </details>
        </li>
    }
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
