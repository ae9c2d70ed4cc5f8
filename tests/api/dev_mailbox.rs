use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn in_development_the_mailbox_page_lists_the_outbox_with_clickable_links() {
    let app = spawn_app().await;
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
}
