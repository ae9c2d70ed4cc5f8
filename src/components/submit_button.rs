use leptos::prelude::*;

/// A submit button that shows it is working while its action is pending. The label stays the same so
/// the button keeps its accessible name; `aria-busy` and a spinner tell the rest.
#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    #[prop(into)] pending: Signal<bool>,
    #[prop(optional, into)] class: Option<String>,
) -> impl IntoView {
    let class = class.unwrap_or_else(|| "button button-primary".into());
    view! {
        <button type="submit" class=class aria-busy=move || pending.get().then_some("true") disabled=move || pending.get()>
            {label}
        </button>
    }
}
