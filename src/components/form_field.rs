use crate::domain::Field;
use crate::error::AppError;
use leptos::html;
use leptos::prelude::*;

/// A labelled input whose error, when the last submission failed because of it, is shown beneath it and
/// tied to it with `aria-describedby` / `aria-invalid`.
#[component]
pub fn FormField(
    field: Field,
    #[prop(into)] label: String,
    #[prop(into)] input_type: String,
    #[prop(into)] autocomplete: String,
    /// The error of the form's last submission, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
    #[prop(optional, into)] hint: Option<String>,
    /// What the field starts with, e.g. what was typed before a form without JavaScript came back refused.
    #[prop(optional_no_strip)]
    value: Option<String>,
    /// Tells apart the same field in two forms of one page (ids must be unique).
    #[prop(optional, into)]
    form: Option<String>,
    /// The keyboard a phone shows ("numeric" for a code of digits).
    #[prop(optional)]
    inputmode: Option<&'static str>,
) -> impl IntoView {
    let name = field.input_name();
    let id = match form {
        Some(form) => format!("{form}-field-{name}"),
        None => format!("field-{name}"),
    };
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = move || error.get().filter(|e| e.field() == Some(field)).map(|e| e.to_string());
    // A refused submission puts the cursor where the problem is: on the page's first load without
    // JavaScript (`autofocus`), and in the hydrated page as soon as the answer arrives.
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |had_problem: Option<bool>| {
        let has_problem = message().is_some();
        if has_problem && had_problem != Some(true) {
            if let Some(input) = input.get_untracked() {
                let _ = input.focus();
            }
        }
        has_problem
    });
    let described_by = {
        let (error_id, hint_id, has_hint) = (error_id.clone(), hint_id.clone(), hint.is_some());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="field-hint" id=hint_id.clone()>{hint}</p> })}
            <input
                id=id
                name=name
                type=input_type
                autocomplete=autocomplete
                inputmode=inputmode
                value=value
                autofocus=move || message().is_some()
                node_ref=input
                aria-invalid=move || message().map(|_| "true")
                aria-describedby=described_by
            />
            {move || message().map(|m| view! { <p class="field-error" id=error_id.clone() role="alert">{m}</p> })}
        </div>
    }
}
