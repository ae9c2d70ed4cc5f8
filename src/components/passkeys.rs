//! The browser's half of the passkey ceremonies: "Sign in with a passkey" (and the Email field's
//! autofill) on `/login`, "Add a passkey" on the profile. Each asks the server for a challenge, hands it
//! to the browser's WebAuthn API (which talks to the authenticator: the phone, the laptop's fingerprint
//! reader, a security key), and sends the signed answer back. The options and answers travel as
//! WebAuthn's own JSON (`parseCreationOptionsFromJSON`, `toJSON()`), so this code only passes them on.
//!
//! WebAuthn exists only in JavaScript: without it, these buttons are disabled and say why (the words
//! go once the page is hydrated), and every other way in works.

use crate::api::passkeys::PasskeyView;
use crate::components::alert::{Alert, AlertKind};
use crate::hydration::island_hydrated;
use leptos::prelude::*;

/// "Sign in with a passkey", and, where the browser can, passkeys offered in the Email field's autofill
/// (the field has `autocomplete="username webauthn"`). Part of the main WASM file, as the login form is:
/// the login page starts the autofill as it loads, and as a piece of its own it came to more than it adds
/// there (bench/NOTES.md has the sizes).
#[island]
pub fn PasskeySignIn() -> impl IntoView {
    island_hydrated();
    let ceremony = Ceremony::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(browser::offer_in_autofill(ceremony.problem));
    });
    let sign_in = move || {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(browser::sign_in(ceremony));
    };
    view! {
        <div class="passkey-sign-in">
            <CeremonyButton ceremony label="Sign in with a passkey" needs_script="Signing in with a passkey" on_press=sign_in/>
        </div>
    }
}

/// "Add a passkey": makes one on this device and adds it to the account, then hands it to `on_added`
/// for the list. (Part of the profile's sign-in methods island.)
#[component]
pub fn AddPasskey(on_added: Callback<PasskeyView>) -> impl IntoView {
    let ceremony = Ceremony::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let add = move || {
        #[cfg(feature = "hydrate")]
        if let Some(input) = password.get_untracked() {
            leptos::task::spawn_local(async move {
                if let Some(added) = browser::add(input.value(), ceremony).await {
                    input.set_value("");
                    on_added.run(added);
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (password, on_added);
    };
    view! {
        <div class="add-passkey">
            <div class="field">
                <label for="add-passkey-password">"Current password"</label>
                <input id="add-passkey-password" type="password" autocomplete="current-password" node_ref=password/>
            </div>
            <CeremonyButton ceremony label="Add a passkey" needs_script="Adding a passkey" on_press=add/>
        </div>
    }
}

/// Where a ceremony started by a button stands, for the button and its messages.
#[derive(Clone, Copy)]
struct Ceremony {
    /// What went wrong, in words for the user.
    problem: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    /// Whether this code runs in the browser (after hydration): until then the button cannot work.
    running: RwSignal<bool>,
}

impl Ceremony {
    fn new() -> Self {
        let running = RwSignal::new(false);
        Effect::new(move |_| running.set(true));
        Self { problem: RwSignal::new(None), busy: RwSignal::new(false), running }
    }
}

/// A ceremony's button, with what went wrong above it, and "… needs JavaScript." below it until the
/// code runs. Not `<noscript>`: a browser with scripts blocked by a policy or an extension, rather than
/// switched off, would never show that.
#[component]
fn CeremonyButton(
    ceremony: Ceremony,
    label: &'static str,
    needs_script: &'static str,
    on_press: impl Fn() + 'static,
) -> impl IntoView {
    let Ceremony { problem, busy, running } = ceremony;
    view! {
        {move || problem.get().map(|p| view! { <Alert kind=AlertKind::Error>{p}</Alert> })}
        <button type="button" class="button" on:click=move |_| on_press() aria-busy=move || busy.get().then_some("true") disabled=move || !running.get() || busy.get()>
            {label}
        </button>
        {move || (!running.get()).then(|| view! { <p class="muted">{needs_script} " needs JavaScript."</p> })}
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Ceremony;
    use crate::api::passkeys::PasskeyView;
    use crate::api::passkeys::{
        finish_passkey_registration, finish_passkey_sign_in, start_passkey_registration, start_passkey_sign_in,
    };
    use crate::error::AppError;
    use js_sys::{Function, Object, Promise, Reflect, JSON};
    use leptos::prelude::*;
    use std::cell::RefCell;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    thread_local! {
        /// The autofill's waiting request: a button press cancels it, since a browser serves one
        /// WebAuthn request at a time.
        static AUTOFILL: RefCell<Option<web_sys::AbortController>> = const { RefCell::new(None) };
    }

    /// What a failed step tells the user: the server's words, or why the browser stopped.
    enum Failure {
        Server(AppError),
        /// The user closed the browser's dialog, or it timed out: nothing to say.
        Cancelled,
        Browser(String),
    }

    impl Failure {
        fn message(self) -> Option<String> {
            match self {
                Failure::Server(e) => Some(e.to_string()),
                Failure::Cancelled => None,
                Failure::Browser(e) => Some(e),
            }
        }
    }

    impl From<AppError> for Failure {
        fn from(e: AppError) -> Self {
            Failure::Server(e)
        }
    }

    impl From<JsValue> for Failure {
        fn from(e: JsValue) -> Self {
            let name = Reflect::get(&e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
            match name.as_str() {
                "NotAllowedError" | "AbortError" => Failure::Cancelled,
                "InvalidStateError" => Failure::Browser("This device already has a passkey for your account.".into()),
                _ => Failure::Browser("This browser could not use a passkey here. Try another way to sign in.".into()),
            }
        }
    }

    pub async fn sign_in(ceremony: Ceremony) {
        cancel_autofill();
        run(ceremony, ceremony_sign_in(None)).await;
    }

    /// Starts a request the browser answers from the Email field's autofill, if it can; it waits until
    /// the user picks a passkey there (or the page leaves).
    pub async fn offer_in_autofill(problem: RwSignal<Option<String>>) {
        if !conditional_mediation_available().await {
            return;
        }
        let Ok(controller) = web_sys::AbortController::new() else { return };
        let signal = controller.signal();
        AUTOFILL.with(|a| *a.borrow_mut() = Some(controller));
        if let Err(failure) = ceremony_sign_in(Some(signal)).await {
            problem.set(failure.message());
        }
    }

    /// The passkey added, if it was.
    pub async fn add(current_password: String, ceremony: Ceremony) -> Option<PasskeyView> {
        let adding = async {
            let options = start_passkey_registration(current_password).await?;
            let credential = call_webauthn("parseCreationOptionsFromJSON", "create", &options, None).await?;
            Ok(finish_passkey_registration(credential).await?)
        };
        run(ceremony, adding).await
    }

    /// Runs a ceremony pressed for by a button: busy meanwhile, and what went wrong shown after.
    async fn run<T>(ceremony: Ceremony, steps: impl std::future::Future<Output = Result<T, Failure>>) -> Option<T> {
        ceremony.problem.set(None);
        ceremony.busy.set(true);
        let outcome = steps.await;
        ceremony.busy.set(false);
        outcome.map_err(|failure| ceremony.problem.set(failure.message())).ok()
    }

    /// One sign-in ceremony: modal when `autofill` is `None`, else waiting in the autofill. On success the
    /// server's redirect to the profile is followed (`hydrate`'s redirect hook).
    async fn ceremony_sign_in(autofill: Option<web_sys::AbortSignal>) -> Result<(), Failure> {
        let options = start_passkey_sign_in().await?;
        let credential = call_webauthn("parseRequestOptionsFromJSON", "get", &options, autofill).await?;
        finish_passkey_sign_in(credential).await?;
        Ok(())
    }

    fn cancel_autofill() {
        if let Some(controller) = AUTOFILL.with(|a| a.borrow_mut().take()) {
            controller.abort();
        }
    }

    async fn conditional_mediation_available() -> bool {
        let check = public_key_credential()
            .and_then(|pkc| Reflect::get(&pkc, &"isConditionalMediationAvailable".into()).ok().map(|f| (pkc, f)))
            .and_then(|(pkc, f)| f.dyn_into::<Function>().ok().and_then(|f| f.call0(&pkc).ok()));
        match check.and_then(|p| p.dyn_into::<Promise>().ok()) {
            Some(promise) => JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false),
            None => false,
        }
    }

    fn public_key_credential() -> Option<JsValue> {
        Reflect::get(&window(), &"PublicKeyCredential".into()).ok().filter(|v| !v.is_undefined())
    }

    /// `navigator.credentials.<method>({ publicKey: PublicKeyCredential.<parse>(options.publicKey), … })`,
    /// its answer as JSON. `autofill`: wait in the autofill (conditional mediation), cancelled by it.
    async fn call_webauthn(
        parse: &str,
        method: &str,
        options: &str,
        autofill: Option<web_sys::AbortSignal>,
    ) -> Result<String, Failure> {
        let pkc = public_key_credential()
            .ok_or_else(|| Failure::Browser("This browser does not support passkeys.".into()))?;
        let options = JSON::parse(options)?;
        let parse: Function = Reflect::get(&pkc, &parse.into())?.dyn_into()?;
        let public_key = parse.call1(&pkc, &Reflect::get(&options, &"publicKey".into())?)?;
        let request = Object::new();
        Reflect::set(&request, &"publicKey".into(), &public_key)?;
        if let Some(signal) = autofill {
            Reflect::set(&request, &"mediation".into(), &"conditional".into())?;
            Reflect::set(&request, &"signal".into(), &signal)?;
        }
        let credentials = Reflect::get(&window().navigator(), &"credentials".into())?;
        let call: Function = Reflect::get(&credentials, &method.into())?.dyn_into()?;
        let promise: Promise = call.call1(&credentials, &request)?.dyn_into()?;
        let credential = JsFuture::from(promise).await?;
        let to_json: Function = Reflect::get(&credential, &"toJSON".into())?.dyn_into()?;
        let json = JSON::stringify(&to_json.call0(&credential)?)?;
        json.as_string().ok_or_else(|| Failure::Browser("The passkey's answer could not be read.".into()))
    }
}
