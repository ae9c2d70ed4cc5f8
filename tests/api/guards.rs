use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn guests_are_sent_to_login_before_any_profile_html() {
    let app = spawn_app().await;
    let res = app.get(&browser(), "/profile").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_redirect(&res, "/login");
    assert!(!text(res).await.1.contains("Hello"));

    let (status, body) = text(app.call(&browser(), "/api/profile_page", &[]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("SignInRequired"), "{body}");
}

#[tokio::test]
async fn signed_in_users_are_sent_from_guest_pages_to_their_profile() {
    let app = spawn_app().await;
    let client = app.signed_in_user("Ada", "ada@example.com").await;
    for path in ["/", "/login", "/register", "/login-with-magic-link", "/forgot-password"] {
        assert_redirect(&app.get(&client, path).await, "/profile");
    }
    let (status, body) = text(app.call(&client, "/api/profile_page", &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("ada@example.com"), "{body}");
}

#[tokio::test]
async fn guests_see_the_start_page_with_its_three_links() {
    let app = spawn_app().await;
    let (status, page) = text(app.get(&browser(), "/").await).await;
    assert_eq!(status, StatusCode::OK);
    for link in ["Login With Magic Link", "Login", "Register"] {
        assert!(page.contains(&format!(">{link}</a>")), "missing {link}");
    }
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = spawn_app().await;
    let (status, page) = text(app.get(&browser(), "/no-such-page").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
}

#[tokio::test]
async fn cross_site_form_posts_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let res = browser()
        .post(app.url("/api/register"))
        .header("origin", "https://evil.test")
        .header("sec-fetch-site", "cross-site")
        .form(&[("name", "Ada"), ("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = browser()
        .post(app.url("/api/register"))
        .header("origin", "https://evil.test")
        .form(&[("name", "Ada"), ("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A sibling subdomain is another site too.
    let res = browser()
        .post(app.url("/api/register"))
        .header("sec-fetch-site", "same-site")
        .form(&[("name", "Ada"), ("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    // The same form from our own origin goes through.
    let res = browser()
        .post(app.url("/api/register"))
        .header("origin", &app.address)
        .header("sec-fetch-site", "same-origin")
        .form(&[("name", "Ada"), ("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(!res.status().is_client_error(), "{}", res.status());
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[tokio::test]
async fn the_session_check_answers_204_signed_in_and_401_otherwise() {
    let app = spawn_app().await;
    assert_eq!(browser().get(app.url("/api/session")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    assert_eq!(ada.get(app.url("/api/session")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
}
