use crate::helpers::*;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86400);

#[tokio::test]
async fn a_session_unused_past_the_idle_limit_ends() {
    let app = spawn_app().await;
    let client = app.signed_in_user("Ada", "ada@example.com").await;
    app.clock.advance(DAY * 7);
    assert_redirect(&app.get(&client, "/profile").await, "/login?notice=session_ended");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn activity_slides_the_idle_window_but_not_the_absolute_limit() {
    let app = spawn_app().await;
    let client = app.signed_in_user("Ada", "ada@example.com").await;
    for _ in 0..4 {
        app.clock.advance(DAY * 6);
        assert_eq!(app.get(&client, "/profile").await.status(), 200);
    }
    app.clock.advance(DAY * 6); // 30 days after sign-in
    assert_redirect(&app.get(&client, "/profile").await, "/login?notice=session_ended");
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    let client = app.signed_in_user("Ada", "ada@example.com").await;
    let last_seen = || async { app.count("SELECT last_seen_at FROM sessions").await };
    let start = last_seen().await;
    app.clock.advance(Duration::from_secs(30));
    app.get(&client, "/profile").await;
    assert_eq!(last_seen().await, start);
    app.clock.advance(Duration::from_secs(30));
    app.get(&client, "/profile").await;
    assert_eq!(last_seen().await, start + 60);
}

#[tokio::test]
async fn a_call_that_left_with_the_old_cookie_does_not_sign_the_browser_out_after_a_password_change() {
    // Seen in the browser test: the strength hint's request left with the old cookie, the password change
    // gave the session a new one, and the hint's answer then cleared it, signing the page out.
    let app = spawn_app().await;
    let client = browser();
    app.register(&client, "Ada", "ada@example.com", PASSWORD).await;
    let res = app.confirm_link(&client, &app.last_link_to("ada@example.com")).await;
    let old = session_cookie(&res);
    let res = app.change_password(&client, PASSWORD, "another long passphrase").await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let late = reqwest::Client::new()
        .post(app.url("/api/password_feedback"))
        .header("cookie", &old)
        .form(&[("password", "x"), ("name", ""), ("email", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), reqwest::StatusCode::OK);
    assert!(set_cookies(&late).iter().all(|c| !c.starts_with("session=")), "{:?}", set_cookies(&late));
    // The browser's new cookie still works; a page load with the dead one still clears it.
    assert_eq!(app.call(&client, "/api/sessions", &[]).await.status(), reqwest::StatusCode::OK);
    let page = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = page.get(app.url("/profile")).header("cookie", &old).header("accept", "text/html").send().await.unwrap();
    assert_redirect(&res, "/login?notice=session_ended");
    assert!(set_cookies(&res).iter().any(|c| c.starts_with("session=;")), "{:?}", set_cookies(&res));
}
