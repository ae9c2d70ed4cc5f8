use crate::components::alert::{last_error, FormError};
use crate::components::form_field::FormField;
use crate::components::server_form::ServerForm;
use crate::components::submit_button::SubmitButton;
use crate::domain::Field;
use leptos::prelude::*;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::{Http, ServerFn};
use serde::de::DeserializeOwned;

/// A form of one field, Email, and a button, that asks for a mailed link (a magic link, a password
/// reset). `email`: what was typed before a refusal came back without JavaScript.
#[component]
pub fn EmailForm<ServFn, OutputProtocol>(
    action: ServerAction<ServFn>,
    email: Option<String>,
    button: &'static str,
) -> impl IntoView
where
    ServFn: DeserializeOwned
        + ServerFn<Protocol = Http<PostUrl, OutputProtocol>, Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
    ServFn::Output: Send + Sync + 'static,
{
    let error = last_error(action);
    view! {
        <ServerForm action class="form" novalidate=true>
            <FormError error/>
            <FormField field=Field::Email label="Email" input_type="email" autocomplete="email" value=email error/>
            <SubmitButton label=button pending=action.pending()/>
        </ServerForm>
    }
}
