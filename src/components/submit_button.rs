use leptos::prelude::*;

/// A submit button that shows it is working while its action is pending. The label stays the same so
/// the button keeps its accessible name; `aria-busy` and a spinner tell the rest. It is marked
/// `aria-disabled`, not `disabled`: a disabled button loses the keyboard focus (to the page's `<body>`),
/// and after a refusal the user would have to find the form again. `ServerForm` ignores a second
/// submission while the first is pending.
#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    #[prop(into)] pending: Signal<bool>,
    #[prop(optional, into)] class: Option<String>,
) -> impl IntoView {
    let class = class.unwrap_or_else(|| "button button-primary".into());
    view! {
        <button type="submit" class=class aria-busy=move || pending.get().then_some("true") aria-disabled=move || pending.get().then_some("true")>
            {label}
        </button>
    }
}
