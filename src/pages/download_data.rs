use crate::components::alert::{Alert, AlertKind};
use crate::components::form_field::FormField;
use crate::components::live_session::LiveSession;
use crate::components::page_address::query_value;
use crate::domain::Field;
use crate::error::AppError;
use crate::routes::paths;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/profile/export`, from "Download your data" on the profile: what the file holds, and a plain form that
/// posts the current password to `POST /api/export` (`accounts::export`), which answers with the file. No
/// island: the browser saves the answer and stays on the page, with JavaScript or without. A refusal comes
/// back here as `?error=…`.
#[component]
pub fn DownloadDataPage() -> impl IntoView {
    let problem = query_value("error");
    let wrong_password = problem.as_deref() == Some("wrong_password");
    let error = Signal::derive(move || {
        wrong_password.then(|| AppError::Invalid {
            field: Field::CurrentPassword,
            message: "That is not your current password.".into(),
        })
    });
    let refused = match problem.as_deref() {
        Some("too_many") => Some("Too many attempts. Please wait an hour and try again."),
        Some("failed") => Some("We could not prepare your data. Please try again in a moment."),
        Some("busy") => Some("Many downloads are being prepared right now. Please try again in a minute."),
        Some("in_progress") => {
            Some("Your previous download is still being prepared. Please wait until it has finished.")
        }
        _ => None,
    };
    view! {
        <Title text="Download your data · Authkit"/>
        <header class="site-header">
            <a class="brand" href=paths::PROFILE>"Authkit"</a>
            <LiveSession/>
        </header>
        <main class="profile-page narrow">
            <section class="panel" aria-labelledby="download-heading">
                <h1 id="download-heading">"Download your data"</h1>
                <p>"One ZIP file with everything your account holds: " <code>"account.json"</code> " with your profile, sign-in methods (names and dates, never secrets), sessions and security activity, and your picture, if you uploaded one."</p>
                {refused.map(|message| view! { <Alert kind=AlertKind::Error>{message}</Alert> })}
                <form method="post" action=paths::EXPORT_DOWNLOAD class="form" novalidate>
                    <FormField form="download-data" field=Field::CurrentPassword label="Current password" input_type="password" autocomplete="current-password" error/>
                    <button type="submit" class="button button-primary">"Download"</button>
                </form>
                <p><a href=paths::PROFILE>"Back to your profile"</a></p>
            </section>
        </main>
    }
}
