use leptos::prelude::*;
use leptos_meta::Title;

/// The centred card every signed-out page uses: a page title, a heading and the content.
#[component]
pub fn AuthCard(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <Title text=format!("{title} · Authkit")/>
        <main class="auth-page">
            <a class="brand" href="/">"Authkit"</a>
            <section class="card" aria-labelledby="page-heading">
                <h1 id="page-heading">{title}</h1>
                {children()}
            </section>
        </main>
    }
}
