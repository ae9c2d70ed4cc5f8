use crate::components::auth_card::AuthCard;
use crate::routes::paths;
use leptos::prelude::*;

/// `/`: the three ways in, as in the tutorial.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <AuthCard title="Welcome">
            <p class="lead">"Sign in to your account, or create one in a minute."</p>
            <nav class="choices" aria-label="Ways to sign in">
                <a class="button button-primary" href=paths::MAGIC_LINK>"Login With Magic Link"</a>
                <a class="button" href=paths::LOGIN>"Login"</a>
                <a class="button" href=paths::REGISTER>"Register"</a>
            </nav>
        </AuthCard>
    }
}
