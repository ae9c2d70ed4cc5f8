use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn in_development_the_mailbox_page_lists_the_outbox_with_clickable_links() {
    let app = spawn_app_with(&[("LEPTOS_ENV", "DEV")]).await;
    app.register(&browser(), "Ada", "ada@example.com", PASSWORD).await;
    let link = app.last_link_to("ada@example.com");
    let (status, page) = text(app.get(&browser(), "/dev/mailbox").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Verify your email address") && page.contains("ada@example.com"));
    assert!(page.contains(&format!("<a href=\"{}\">", link.replace('&', "&amp;"))), "{page}");
}

#[tokio::test]
async fn in_production_there_is_no_mailbox_page() {
    let app = spawn_app_with(&[("LEPTOS_ENV", "PROD")]).await;
    assert_eq!(app.get(&browser(), "/dev/mailbox").await.status(), StatusCode::NOT_FOUND);
    // Production is the default.
    let app = spawn_app().await;
    assert_eq!(app.get(&browser(), "/dev/mailbox").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_mailbox_answers_only_clients_on_the_same_machine() {
    // Behind one trusted proxy the client address comes from X-Forwarded-For.
    let app = spawn_app_with(&[("LEPTOS_ENV", "DEV"), ("APP_TRUSTED_PROXY_HOPS", "1")]).await;
    let remote = browser().get(app.url("/dev/mailbox")).header("x-forwarded-for", "203.0.113.7").send().await.unwrap();
    assert_eq!(remote.status(), StatusCode::NOT_FOUND);
    let local = browser().get(app.url("/dev/mailbox")).header("x-forwarded-for", "127.0.0.1").send().await.unwrap();
    assert_eq!(local.status(), StatusCode::OK);
}
