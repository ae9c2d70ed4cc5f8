use crate::time_format::{exact_utc, iso_utc, relative};
use leptos::prelude::*;

/// A moment shown relative to `now` ("2 minutes ago"), with the exact time on hover.
#[component]
pub fn RelativeTime(now: i64, at: i64) -> impl IntoView {
    view! { <time datetime=iso_utc(at) title=exact_utc(at)>{relative(now, at)}</time> }
}
