//! The hint under a new-password field that says, while the user types, whether the password will be
//! accepted and why not. It asks the server (the same check as on submit), a moment after typing stops.

use leptos::prelude::*;

/// Wraps the password field(s); `input_id` is the new password's input. The name and email inputs of the
/// same form, when present, are sent along: a password made of them is easy to guess.
#[component]
pub fn PasswordStrength(input_id: &'static str, children: Children) -> impl IntoView {
    let feedback = RwSignal::new(None::<Result<(), String>>);
    // From the first keystroke the hint holds room for its answer: arriving a moment later, the answer
    // would otherwise push the submit button down under a pointer already on its way to it, and the
    // press would land on the hint (it did, in a browser test).
    let open = RwSignal::new(false);
    let asked = StoredValue::new(0u32);
    let on_input = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let target = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok());
            let Some(input) = target.filter(|i| i.id() == input_id) else { return };
            let value_of = |id: &str| {
                document()
                    .get_element_by_id(id)
                    .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            let password = input.value();
            if password.is_empty() {
                feedback.set(None);
                open.set(false);
                return;
            }
            open.set(true);
            let (name, email) = (value_of("field-name"), value_of("field-email"));
            asked.update_value(|n| *n += 1);
            let this = asked.get_value();
            set_timeout(
                move || {
                    // Only the last keystroke's question gets asked and answered.
                    if asked.get_value() != this {
                        return;
                    }
                    leptos::task::spawn_local(async move {
                        let answer = crate::api::account::password_feedback(password, name, email).await;
                        if asked.get_value() == this {
                            feedback.set(match answer {
                                Ok(None) => Some(Ok(())),
                                Ok(Some(problem)) => Some(Err(problem)),
                                Err(_) => None,
                            });
                        }
                    });
                },
                std::time::Duration::from_millis(350),
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, input_id, asked, open);
    };
    view! {
        <div class="password-strength" on:input=on_input>
            {children()}
            <p class="strength-hint" class:open=move || open.get() aria-live="polite">
                {move || match feedback.get() {
                    None => ().into_any(),
                    Some(Ok(())) => view! { <span class="strength-ok">"Strong enough."</span> }.into_any(),
                    Some(Err(problem)) => view! { <span class="strength-weak">{problem}</span> }.into_any(),
                }}
            </p>
        </div>
    }
}
