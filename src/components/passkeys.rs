//! The browser's half of the passkey ceremonies: "Sign in with a passkey" (and the Email field's
//! autofill) on `/login`, "Add a passkey" on the profile. Each asks the server for a challenge, hands it
//! to the browser's WebAuthn API (which talks to the authenticator: the phone, the laptop's fingerprint
//! reader, a security key), and sends the signed answer back. The options and answers travel as
//! WebAuthn's own JSON (`parseCreationOptionsFromJSON`, `toJSON()`), so this code only passes them on.
//!
//! WebAuthn exists only in JavaScript: without it, these buttons are disabled and say why (the words
//! go once the page is hydrated), and every other way in works.

use crate::components::alert::{Alert, AlertKind};
use crate::hydration::island_hydrated;
use leptos::prelude::*;

/// "Sign in with a passkey", and, where the browser can, passkeys offered in the Email field's autofill
/// (the field has `autocomplete="username webauthn"`). Part of the main WASM file, as the login form is:
/// the login page starts the autofill as it loads, and as a piece of its own it came to more (12 KB
/// brotli) than it adds there.
#[island]
pub fn PasskeySignIn() -> impl IntoView {
    island_hydrated();
    let (problem, busy, running) = (RwSignal::new(None::<String>), RwSignal::new(false), RwSignal::new(false));
    Effect::new(move |_| {
        running.set(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(browser::offer_in_autofill(problem));
    });
    let sign_in = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(browser::sign_in(problem, busy));
    };
    view! {
        <div class="passkey-sign-in">
            {move || problem.get().map(|p| view! { <Alert kind=AlertKind::Error>{p}</Alert> })}
            <button type="button" class="button" on:click=sign_in aria-busy=move || busy.get().then_some("true") disabled=move || !running.get() || busy.get()>
                "Sign in with a passkey"
            </button>
            <NeedsJavaScript running what="Signing in with a passkey"/>
        </div>
    }
}

/// "Add a passkey": makes one on this device and adds it to the account; the profile then lists it.
/// (Part of the profile's sign-in methods island.)
#[component]
pub fn AddPasskey() -> impl IntoView {
    let (problem, busy, running) = (RwSignal::new(None::<String>), RwSignal::new(false), RwSignal::new(false));
    Effect::new(move |_| running.set(true));
    let password = NodeRef::<leptos::html::Input>::new();
    let add = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(input) = password.get_untracked() {
            leptos::task::spawn_local(browser::add(input.value(), problem, busy));
        }
    };
    view! {
        <div class="add-passkey">
            {move || problem.get().map(|p| view! { <Alert kind=AlertKind::Error>{p}</Alert> })}
            <div class="field">
                <label for="add-passkey-password">"Current password"</label>
                <input id="add-passkey-password" type="password" autocomplete="current-password" node_ref=password/>
            </div>
            <button type="button" class="button" on:click=add aria-busy=move || busy.get().then_some("true") disabled=move || !running.get() || busy.get()>
                "Add a passkey"
            </button>
            <NeedsJavaScript running what="Adding a passkey"/>
        </div>
    }
}

/// "… needs JavaScript.", until the code runs (`running`). Not `<noscript>`: a browser with scripts
/// blocked by a policy or an extension, rather than switched off, would never show that.
#[component]
fn NeedsJavaScript(running: RwSignal<bool>, what: &'static str) -> impl IntoView {
    move || (!running.get()).then(|| view! { <p class="muted">{what} " needs JavaScript."</p> })
}

#[cfg(feature = "hydrate")]
mod browser {
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

    pub async fn sign_in(problem: RwSignal<Option<String>>, busy: RwSignal<bool>) {
        problem.set(None);
        busy.set(true);
        cancel_autofill();
        let outcome = ceremony_sign_in(None).await;
        busy.set(false);
        if let Err(failure) = outcome {
            problem.set(failure.message());
        }
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

    pub async fn add(current_password: String, problem: RwSignal<Option<String>>, busy: RwSignal<bool>) {
        problem.set(None);
        busy.set(true);
        let outcome = async {
            let options = start_passkey_registration(current_password).await?;
            let credential = call_webauthn("parseCreationOptionsFromJSON", "create", &options, None).await?;
            finish_passkey_registration(credential).await?;
            Ok::<_, Failure>(())
        }
        .await;
        busy.set(false);
        match outcome {
            // The profile lists the new passkey once it loads again.
            Ok(()) => {
                let _ = window().location().reload();
            }
            Err(failure) => problem.set(failure.message()),
        }
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
