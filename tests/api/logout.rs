use crate::helpers::*;
use reqwest::header::COOKIE;

#[tokio::test]
async fn logging_out_ends_the_session_and_the_old_cookie_no_longer_works() {
    let app = spawn_app().await;
    let client = browser();
    app.register(&client, "Ada", "ada@example.com", PASSWORD).await;
    let res = app.confirm_link(&client, &app.last_link_to("ada@example.com")).await;
    let cookie = set_cookies(&res).into_iter().find(|c| c.starts_with("session=")).unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();

    let res = app.post_form(&client, "/api/logout", "/profile", &[]).await;
    assert_redirect(&res, "/login?notice=signed_out");
    let cleared = set_cookies(&res).into_iter().find(|c| c.starts_with("session=")).expect("cookie cleared");
    assert!(cleared.contains("Max-Age=0") || cleared.contains("1970"), "{cleared}");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);

    // Replaying the old cookie by hand.
    let replay =
        browser().get(app.url("/profile")).header(COOKIE, &cookie).header("accept", "text/html").send().await.unwrap();
    assert_redirect(&replay, "/login?notice=session_ended");
    let (_, page) = text(app.get(&browser(), "/login?notice=session_ended").await).await;
    assert!(page.contains("Your session has ended"));
}

#[tokio::test]
async fn logging_out_when_already_signed_out_still_lands_on_the_login_page() {
    let app = spawn_app().await;
    let res = app.post_form(&browser(), "/api/logout", "/profile", &[]).await;
    assert_redirect(&res, "/login?notice=signed_out");
}
