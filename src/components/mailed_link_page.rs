use crate::components::alert::LinkCheckFailed;
use crate::components::auth_card::AuthCard;
use crate::components::page_address::query_value;
use crate::error::AppError;
use leptos::prelude::*;
use std::future::Future;

/// A page a mailed link opens (`?token=…`) whose one button acts on it: it asks the server whether the
/// link still works, without using it (mail scanners open links), then shows `form` for a link that
/// works, or `invalid` for one that does not. The server sends a refused link back here as
/// `?error=invalid_link` (then `invalid`) or `?error=failed` (then "could not check").
#[component]
pub fn MailedLinkPage<Check, Checked, Form, FormView>(
    title: &'static str,
    /// Whether the link still works.
    check: Check,
    /// The page's form (an island) for a link that works, given its token.
    form: Form,
    /// What a link that does not work gets.
    #[prop(into)]
    invalid: ViewFn,
) -> impl IntoView
where
    Check: Fn(String) -> Checked + Copy + Send + Sync + 'static,
    Checked: Future<Output = Result<bool, AppError>> + Send + 'static,
    Form: Fn(String) -> FormView + Copy + Send + Sync + 'static,
    FormView: IntoView + 'static,
{
    let token = query_value("token");
    let link_error = query_value("error");
    let usable = Resource::new_blocking(
        {
            let (token, link_error) = (token.clone(), link_error.clone());
            move || (token.clone(), link_error.clone())
        },
        move |(token, link_error)| async move {
            match token {
                Some(token) if link_error.is_none() => check(token).await,
                _ => Ok(false),
            }
        },
    );
    view! {
        <AuthCard title>
            <Suspense fallback=|| ()>
                {move || {
                    let (token, link_error, invalid) = (token.clone(), link_error.clone(), invalid.clone());
                    Suspend::new(async move {
                        match (usable.await, token) {
                            (Ok(true), Some(token)) => form(token).into_any(),
                            (Err(_), _) => view! { <LinkCheckFailed/> }.into_any(),
                            _ if link_error.as_deref() == Some("failed") => view! { <LinkCheckFailed/> }.into_any(),
                            _ => invalid.run(),
                        }
                    })
                }}
            </Suspense>
        </AuthCard>
    }
}
