use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn in_development_the_mailbox_page_lists_the_outbox_with_clickable_links() {
    let app = spawn_app_with(&[("LEPTOS_ENV", "DEV"), ("APP_DEV_MAILBOX", "true")]).await;
    app.register(&browser(), "Ada", "ada@example.com", PASSWORD).await;
    let link = app.last_link_to("ada@example.com");
    let (status, page) = text(app.get(&browser(), "/dev/mailbox").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Verify your email address") && page.contains("ada@example.com"));
    assert!(page.contains(&format!("<a href=\"{}\">", link.replace('&', "&amp;"))), "{page}");
}

#[tokio::test]
async fn in_production_there_is_no_mailbox_page() {
    let app = spawn_app_with(&[("LEPTOS_ENV", "PROD"), ("APP_DEV_MAILBOX", "true")]).await;
    assert_eq!(app.get(&browser(), "/dev/mailbox").await.status(), StatusCode::NOT_FOUND);
    // Production is the default.
    let app = spawn_app().await;
    assert_eq!(app.get(&browser(), "/dev/mailbox").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_mailbox_answers_only_clients_on_the_same_machine() {
    // Behind a proxy every client would reach it through the proxy: forwarded requests get nothing, even
    // ones that say they come from this machine.
    let app =
        spawn_app_with(&[("LEPTOS_ENV", "DEV"), ("APP_DEV_MAILBOX", "true"), ("APP_TRUSTED_PROXY_HOPS", "1")]).await;
    for forwarded_for in ["203.0.113.7", "127.0.0.1"] {
        let res = browser().get(app.url("/dev/mailbox")).header("x-forwarded-for", forwarded_for).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{forwarded_for}");
    }
    assert_eq!(browser().get(app.url("/dev/mailbox")).send().await.unwrap().status(), StatusCode::OK);
}
