use leptos::prelude::*;

/// A message about the whole form or page. Errors use `role="alert"` so screen readers announce them at
/// once; other messages use a polite live region.
#[component]
pub fn Alert(#[prop(into)] kind: AlertKind, children: Children) -> impl IntoView {
    let (class, role) = match kind {
        AlertKind::Error => ("alert alert-error", "alert"),
        AlertKind::Success => ("alert alert-success", "status"),
        AlertKind::Info => ("alert alert-info", "status"),
    };
    view! { <div class=class role=role>{children()}</div> }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    Error,
    Success,
    Info,
}

/// The error of a form's last submission when it belongs to no single field.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<crate::api::AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.field().is_none())
            .map(|e| view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> })
    }
}
