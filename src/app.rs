//! The HTML shell, the router and the routes.

use crate::pages::{
    auth_redirect::AuthRedirectPage, cancel_deletion::CancelDeletionPage, check_email::CheckEmailPage,
    confirm_email_change::ConfirmEmailChangePage, download_data::DownloadDataPage, forgot_password::ForgotPasswordPage,
    home::HomePage, login::LoginPage, magic_link::MagicLinkPage, not_found::NotFoundPage, profile::ProfilePage,
    register::RegisterPage, reset_password::ResetPasswordPage, secure_account::SecureAccountPage,
    security_activity::SecurityActivityPage, two_factor_login::TwoFactorLoginPage,
    two_factor_setup::TwoFactorSetupPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Sets this response's Content-Security-Policy, which names the nonce of its inline scripts.
#[cfg(feature = "ssr")]
fn set_content_security_policy(options: &LeptosOptions) {
    let policy = content_security_policy(options, leptos::nonce::use_nonce().as_deref());
    if let (Some(res), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::HeaderValue::from_str(&policy))
    {
        res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Scripts may only come from this site or carry this response's nonce (Leptos' inline hydration
/// scripts do); nothing may frame the pages, and forms may only post back here.
#[cfg(feature = "ssr")]
pub fn content_security_policy(options: &LeptosOptions, nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    // `cargo leptos watch` reloads the page through a websocket on the reload port.
    let reload = if options.env == leptos::config::Env::DEV {
        format!(" ws://{}:{}", options.site_addr.ip(), options.reload_port)
    } else {
        String::new()
    };
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: blob:; connect-src 'self'{reload}; form-action 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Every route renders completely before the first byte is sent (`SsrMode::Async`): pages are small,
    // and streaming would leave content in templates that only JavaScript swaps in, while every page must
    // work with JavaScript off. It also lets redirects and headers set while rendering always apply.
    // The router runs only on the server: in the browser only the islands run (see `crate::hydration`),
    // and following a link loads the next page.
    // So a fallback is never sent, and `/profile`, the page signed-in users load most, awaits its data in
    // a bare `Suspend` instead of `<Suspense>`: `Suspense` walks its content once more when the data
    // arrive (`dry_resolve`, to find further resources), running every reactive closure in it twice. The
    // pages that check a mailed link keep `<Suspense>`: without it, wasm-split moved code of their islands
    // into the main WASM file every first visit downloads, and each is loaded once per link.
    view! {
        <Stylesheet id="leptos" href="/pkg/authkit.css"/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") ssr=SsrMode::Async view=HomePage/>
                <Route path=path!("/register") ssr=SsrMode::Async view=RegisterPage/>
                <Route path=path!("/check-email") ssr=SsrMode::Async view=CheckEmailPage/>
                <Route path=path!("/login") ssr=SsrMode::Async view=LoginPage/>
                <Route path=path!("/login-with-magic-link") ssr=SsrMode::Async view=MagicLinkPage/>
                <Route path=path!("/auth-redirect") ssr=SsrMode::Async view=AuthRedirectPage/>
                <Route path=path!("/forgot-password") ssr=SsrMode::Async view=ForgotPasswordPage/>
                <Route path=path!("/reset-password") ssr=SsrMode::Async view=ResetPasswordPage/>
                <Route path=path!("/confirm-email-change") ssr=SsrMode::Async view=ConfirmEmailChangePage/>
                <Route path=path!("/secure-account") ssr=SsrMode::Async view=SecureAccountPage/>
                <Route path=path!("/cancel-deletion") ssr=SsrMode::Async view=CancelDeletionPage/>
                <Route path=path!("/profile") ssr=SsrMode::Async view=ProfilePage/>
                <Route path=path!("/profile/two-factor") ssr=SsrMode::Async view=TwoFactorSetupPage/>
                <Route path=path!("/profile/activity") ssr=SsrMode::Async view=SecurityActivityPage/>
                <Route path=path!("/profile/export") ssr=SsrMode::Async view=DownloadDataPage/>
                <Route path=path!("/login/two-factor") ssr=SsrMode::Async view=TwoFactorLoginPage/>
            </Routes>
        </Router>
    }
}
