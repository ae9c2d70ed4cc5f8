use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::{Http, ServerFn};
use serde::de::DeserializeOwned;

/// A form that calls a server function: Leptos' `ActionForm`, except that its children keep their own
/// type.
///
/// Without JavaScript it is a plain `<form method="post">` to the function's URL, which the server
/// understands (the `PostUrl` bound makes sure of it). Hydrated, submitting dispatches `action` with
/// the form's fields instead of loading a page, as `ActionForm` does. `ActionForm` takes its children as
/// `Children`, a type-erased view, and hydrating an erased view compiles a generic copy of the
/// framework's view code for each form; kept typed, the WASM every first visit downloads is markedly
/// smaller (bench/NOTES.md has the figures).
#[component]
pub fn ServerForm<ServFn, OutputProtocol, V>(
    action: ServerAction<ServFn>,
    /// The `<form>`'s class.
    class: &'static str,
    /// Leave checking the fields to the server, whose messages say more than the browser's.
    #[prop(optional)]
    novalidate: bool,
    #[prop(optional)] node_ref: Option<NodeRef<html::Form>>,
    /// While this is true a press is ignored (its button shows it is busy). By default, while `action`
    /// is pending; a form among several sharing one action (a row of the sessions list) passes its own.
    #[prop(optional, into)]
    busy: Option<Signal<bool>>,
    children: TypedChildren<V>,
) -> impl IntoView
where
    ServFn: DeserializeOwned + ServerFn<Protocol = Http<PostUrl, OutputProtocol>> + Clone + Send + Sync + 'static,
    ServFn::Output: Send + Sync + 'static,
    ServFn::Error: Send + Sync + 'static,
    V: IntoView + 'static,
{
    let node_ref = node_ref.unwrap_or_default();
    let busy = busy.unwrap_or_else(|| action.pending().into());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        if ev.default_prevented() {
            return;
        }
        ev.prevent_default();
        // Submit buttons stay focusable while pending (see `SubmitButton`), so a second press lands here.
        if !busy.get_untracked() {
            dispatch_from_form(&ev, action);
        }
    };
    view! {
        <form action=ServFn::PATH method="post" class=class novalidate=novalidate node_ref=node_ref on:submit=on_submit>
            {children.into_inner()()}
        </form>
    }
}

/// The form's fields, and the button that submitted it, decoded as the server function's arguments the
/// way the server decodes a post without JavaScript.
#[cfg(feature = "hydrate")]
fn dispatch_from_form<ServFn>(ev: &leptos::ev::SubmitEvent, action: ServerAction<ServFn>)
where
    ServFn: DeserializeOwned + ServerFn + Clone + Send + Sync + 'static,
    ServFn::Output: Send + Sync + 'static,
    ServFn::Error: Send + Sync + 'static,
{
    use leptos::form::FromFormData;
    use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

    match ServFn::from_event(ev) {
        Ok(input) => {
            action.dispatch(input);
        }
        // Only a form whose fields do not fit its function's arguments gets here: a programming error,
        // shown like any other failure rather than lost.
        Err(e) => {
            leptos::logging::error!("the form's fields do not fit {}'s arguments: {e}", ServFn::PATH);
            let error = ServFn::Error::from_server_fn_error(ServerFnErrorErr::Serialization(e.to_string()));
            action.value().set(Some(Err(error)));
            action.version().update(|n| *n += 1);
        }
    }
}

#[cfg(not(feature = "hydrate"))]
fn dispatch_from_form<ServFn: ServerFn + Clone + Send + Sync + 'static>(
    _: &leptos::ev::SubmitEvent,
    _: ServerAction<ServFn>,
) where
    ServFn::Output: Send + Sync + 'static,
    ServFn::Error: Send + Sync + 'static,
{
}
