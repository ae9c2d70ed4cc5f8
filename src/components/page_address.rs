//! Reading values from the page's address (`?name=…`). For pages, which render on the server: the router
//! runs only there, so islands get such values as props.

use leptos::prelude::*;

/// A `?name=…` value from the page's address, to fill a form back in.
pub fn query_value(name: &'static str) -> Option<String> {
    leptos_router::hooks::use_query_map().with_untracked(|query| non_empty_value(query, name))
}

/// `name`'s value in a query already read, as `query_value` gives it: none when absent or empty. For a page
/// that reads several (each `query_value` makes a memo of the whole query).
pub fn non_empty_value(query: &leptos_router::params::ParamsMap, name: &str) -> Option<String> {
    query.get(name).filter(|v| !v.is_empty())
}
