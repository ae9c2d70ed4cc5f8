//! "Hello, {name}" with "Change name": the greeting turns into a "Name" input with Save and Cancel.
//! Enter saves, Escape cancels. Hydrated, the new name shows at once while it saves and rolls back with
//! the message if the server refuses it. Without JavaScript, "Change name" opens `/profile?edit=name`.

use crate::api::account::UpdateName;
use crate::components::alert::{last_error, FormError};
use crate::components::form_field::FormField;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use crate::routes::paths;
use leptos::prelude::*;

const INPUT_ID: &str = "change-name-field-name";
const CHANGE_BUTTON_ID: &str = "change-name-button";

/// `editing`: the page was opened with the editor open (`?edit=name`); `draft`: what was typed there
/// before a refusal came back without JavaScript (`?name=…`).
#[component]
pub fn NameEditor(
    name: RwSignal<String>,
    avatar_url: RwSignal<String>,
    editing: bool,
    draft: Option<String>,
) -> impl IntoView {
    let update = ServerAction::<UpdateName>::new();
    let editing = RwSignal::new(editing);
    // What the editor opens with: what was typed before a refusal, else the current name.
    let draft = RwSignal::new(draft.unwrap_or_else(|| name.get_untracked()));
    let error = last_error(update);
    let (value, input) = (update.value(), update.input());

    Effect::new(move |_| match value.get() {
        Some(Ok(changed)) => {
            name.set(changed.name);
            avatar_url.set(changed.avatar_url);
        }
        // Rolled back: the greeting shows the old name again, the editor the attempt and the reason.
        Some(Err(_)) => editing.set(true),
        None => {}
    });
    // Saving closes the editor at once and shows the new name while the server checks it.
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            draft.set(input.name);
            editing.set(false);
        }
    });
    // Focus follows the change: into the input when it opens, back to "Change name" when it closes.
    Effect::new(move |was_editing: Option<bool>| {
        let now_editing = editing.get();
        if was_editing.is_some_and(|was| was != now_editing) {
            let id = if now_editing { INPUT_ID } else { CHANGE_BUTTON_ID };
            request_animation_frame(move || {
                if let Some(el) = document().get_element_by_id(id) {
                    use leptos::wasm_bindgen::JsCast;
                    if let Ok(el) = el.dyn_into::<leptos::web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            });
        }
        now_editing
    });

    let shown = move || input.with(|i| i.as_ref().map(|i| i.name.trim().to_owned())).unwrap_or_else(|| name.get());
    let open = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        draft.set(name.get_untracked());
        value.set(None);
        editing.set(true);
    };
    let cancel = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        value.set(None);
        editing.set(false);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            value.set(None);
            editing.set(false);
        }
    };

    view! {
        <Show
            when=move || editing.get()
            fallback=move || view! {
                <div class="name-row">
                    <h1 aria-busy=move || update.pending().get().then_some("true")>{move || format!("Hello, {}", shown())}</h1>
                    <form method="get" action=paths::PROFILE on:submit=open>
                        <input type="hidden" name="edit" value="name"/>
                        <button type="submit" id=CHANGE_BUTTON_ID class="button button-small">"Change name"</button>
                    </form>
                </div>
            }
        >
            // The page keeps its one top-level heading while the greeting is an input.
            <h1 class="visually-hidden">{move || format!("Hello, {}", shown())}</h1>
            <div class="name-editor" on:keydown=on_keydown>
                <ServerForm action=update class="name-form" novalidate=true>
                    <FormError error/>
                    <FormField form="change-name" field=Field::Name label="Name" input_type="text" autocomplete="name" value=Some(draft.get_untracked()) error/>
                    <div class="name-actions">
                        <SubmitButton label="Save" pending=update.pending()/>
                    </div>
                </ServerForm>
                <form method="get" action=paths::PROFILE class="name-cancel" on:submit=cancel>
                    <button type="submit" class="button">"Cancel"</button>
                </form>
            </div>
        </Show>
    }
}
