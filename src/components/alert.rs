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

/// A page opened from a mailed link could not check it (the database was away): open it again.
#[component]
pub fn LinkCheckFailed() -> impl IntoView {
    view! {
        <Alert kind=AlertKind::Error>"Something went wrong on our side. Please open the link again in a moment."</Alert>
    }
}

/// The error of a form's last submission when it belongs to no single field (or, with
/// `include_field_errors`, any error: for forms whose fields are hidden).
#[component]
pub fn FormError(
    #[prop(into)] error: Signal<Option<crate::error::AppError>>,
    #[prop(optional)] include_field_errors: bool,
) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| include_field_errors || e.field().is_none())
            .map(|e| view! { <Alert kind=AlertKind::Error>{e.to_string()}</Alert> })
    }
}

/// The one-time message a redirect carried in `?notice=…` ("You have been logged out.").
#[component]
pub fn NoticeBanner() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let notice = move || query.read().get("notice").and_then(|n| crate::routes::Notice::from_query(&n));
    move || {
        notice().map(|n| {
            let kind = if n.is_success() { AlertKind::Success } else { AlertKind::Info };
            view! { <Alert kind>{n.message()}</Alert> }
        })
    }
}

/// The error of an action's last submission, if it failed.
///
/// `action.value()` makes a new signal each time it is called, kept until its owner is dropped: called
/// inside a closure that runs on every read, as forms did, the signals piled up for as long as the page
/// stayed open. So it is called once here, and everywhere else outside closures.
pub fn last_error<S>(action: ServerAction<S>) -> Signal<Option<crate::error::AppError>>
where
    S: leptos::server_fn::ServerFn<Error = crate::error::AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    let value = action.value();
    Effect::new(move |_| {
        value.with(|v| {
            if let Some(Err(e)) = v {
                leave_if_signed_out(e);
            }
        })
    });
    Signal::derive(move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())))
}

/// In the browser, opens the login page when an answer says this browser is no longer signed in (its
/// session was ended from another device, or ran out). The server asks for that redirect too, and a
/// plain form post follows it, but the framework's client stops at the 401 and never does.
pub fn leave_if_signed_out(error: &crate::error::AppError) {
    use crate::error::AppError;
    use crate::routes::{paths, Notice};
    let target = match error {
        AppError::SessionEnded => Notice::SessionEnded.login_url(),
        AppError::SignInRequired => paths::LOGIN.to_owned(),
        AppError::SignInAgain => Notice::SignInAgain.login_url(),
        _ => return,
    };
    #[cfg(feature = "hydrate")]
    let _ = window().location().set_href(&target);
    #[cfg(not(feature = "hydrate"))]
    let _ = target;
}
