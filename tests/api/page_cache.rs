//! `/profile` shown again from the page kept for its session (`server::page_cache`): only while nothing on
//! it has changed, and never with the nonce of another response.

use crate::helpers::*;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use reqwest::Client;
use std::time::Duration;

const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

struct View {
    body: String,
    nonce: String,
}

impl View {
    /// The page with its nonce taken out, to compare two views.
    fn without_nonce(&self) -> String {
        self.body.replace(&self.nonce, "NONCE")
    }
}

async fn view(app: &TestApp, client: &Client, path: &str) -> View {
    let res = app.get(client, path).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    let csp = res.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_owned();
    let body = res.text().await.unwrap();
    // Every inline script carries this response's nonce, the one its policy names.
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{body}");
    View { body, nonce }
}

fn hits(app: &TestApp) -> u64 {
    app.state.rendered_pages.hits()
}

#[tokio::test]
async fn a_second_view_is_the_same_page_with_a_nonce_of_its_own() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let first = view(&app, &ada, "/profile").await;
    let before = hits(&app);
    let second = view(&app, &ada, "/profile").await;
    assert_eq!(hits(&app), before + 1, "the second view was rendered again");
    assert_ne!(first.nonce, second.nonce);
    assert!(!second.body.contains(&first.nonce));
    assert_eq!(first.without_nonce(), second.without_nonce());
}

/// The page `client` is shown now is the page the server renders now: `/profile?fresh` is rendered on
/// every view (an address with a query is never kept), and apart from the nonce the two must be the same.
async fn assert_shows_the_latest(app: &TestApp, client: &Client, after: &str) {
    let before = hits(app);
    let shown = view(app, client, "/profile").await;
    assert_eq!(hits(app), before, "after {after}, the page kept before it was shown again");
    let rendered = view(app, client, "/profile?fresh").await;
    assert_eq!(shown.without_nonce(), rendered.without_nonce(), "after {after}");
}

fn session_id(list: &serde_json::Value, device: &str) -> String {
    let sessions = list["sessions"].as_array().unwrap();
    let session = sessions.iter().find(|s| s["device"] == device).expect("the device's session");
    session["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn anything_the_page_shows_changing_renders_it_again() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    view(&app, &ada, "/profile").await;
    view(&app, &ada, "/profile").await;
    let kept_before = hits(&app);
    assert!(kept_before > 0);

    // Changes made by another device: nothing about this one's own requests tells the server.
    let laptop = app.sign_in_from("ada@example.com", FIREFOX_LINUX).await;
    assert_shows_the_latest(&app, &ada, "a sign-in elsewhere").await;

    assert_eq!(app.call(&laptop, "/api/update_name", &[("name", "Ada Lovelace")]).await.status(), 200);
    assert_shows_the_latest(&app, &ada, "a new name").await;
    assert!(view(&app, &ada, "/profile").await.body.contains("Hello, Ada Lovelace"));

    let picture = crate::profile::picture(64, 64, image::ImageFormat::Png);
    let (status, url) = crate::profile::upload_js(&app, &laptop, "me.png", "image/png", picture).await;
    assert_eq!(status, 200, "{url}");
    assert_shows_the_latest(&app, &ada, "a new picture").await;
    assert!(view(&app, &ada, "/profile").await.body.contains(&url));

    let form = [("new_email", "lovelace@example.com"), ("current_password", PASSWORD)];
    assert_eq!(app.call(&laptop, "/api/change_email", &form).await.status(), 200);
    let token = token_param(&app.new_mail_to("lovelace@example.com", 0).await.link().unwrap(), "token");
    let res = app.post_form(&laptop, "/api/confirm_email_change", "/confirm-email-change", &[("token", &token)]).await;
    assert_redirect(&res, "/profile?notice=email_changed");
    assert_shows_the_latest(&app, &ada, "a new email address").await;
    assert!(view(&app, &ada, "/profile").await.body.contains("lovelace@example.com"));

    let phone = app.sign_in_from("lovelace@example.com", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1").await;
    assert_shows_the_latest(&app, &ada, "a second sign-in elsewhere").await;
    assert!(app.post_form(&phone, "/api/logout", "/profile", &[]).await.status().is_redirection());
    assert_shows_the_latest(&app, &ada, "a logout elsewhere").await;

    let laptop_id = session_id(&app.sessions_of(&ada).await, "Firefox on Linux");
    assert_eq!(app.call(&ada, "/api/end_session", &[("id", &laptop_id)]).await.status(), 200);
    assert_shows_the_latest(&app, &ada, "signing one device out").await;
    assert!(!view(&app, &ada, "/profile").await.body.contains(">Firefox on Linux<"));

    app.sign_in_from("lovelace@example.com", FIREFOX_LINUX).await;
    assert_shows_the_latest(&app, &ada, "a third sign-in elsewhere").await;
    assert_eq!(app.call(&ada, "/api/end_other_sessions", &[]).await.status(), 200);
    assert_shows_the_latest(&app, &ada, "signing the others out").await;

    let other = app.sign_in_from("lovelace@example.com", FIREFOX_LINUX).await;
    view(&app, &other, "/profile").await;
    let another = "another horse battery staple";
    assert_eq!(app.change_password(&ada, PASSWORD, another).await.status(), 200);
    assert_shows_the_latest(&app, &ada, "a password change").await;
    assert!(!view(&app, &ada, "/profile").await.body.contains(">Firefox on Linux<"));

    // Nothing changed since the last view: that page may be shown again.
    let before = hits(&app);
    view(&app, &ada, "/profile").await;
    assert_eq!(hits(&app), before + 1);
}

#[tokio::test]
async fn another_device_being_active_renders_the_page_again() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let laptop = app.sign_in_from("ada@example.com", FIREFOX_LINUX).await;
    // A minute later this browser's session check writes when it was last active; its page is kept then.
    app.clock.advance(Duration::from_secs(61));
    view(&app, &ada, "/profile").await;
    let before = hits(&app);
    view(&app, &ada, "/profile").await;
    assert_eq!(hits(&app), before + 1);
    // The laptop's session check, at the same moment, writes its own, which this browser's list shows
    // ("Last active just now"): by the clock alone the kept page would still read the same.
    assert_eq!(app.get(&laptop, "/api/session").await.status(), 204);
    assert_shows_the_latest(&app, &ada, "activity elsewhere").await;
}

#[tokio::test]
async fn a_kept_page_goes_when_a_time_on_it_would_read_differently() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    view(&app, &ada, "/profile").await;
    let kept = view(&app, &ada, "/profile").await;
    assert!(kept.body.contains(">just now</time>"));
    let before = hits(&app);
    // Less than the minute after which the session check writes `last_seen_at`: nothing in the database
    // changes, only what "just now" should read.
    app.clock.advance(Duration::from_secs(50));
    let later = view(&app, &ada, "/profile").await;
    assert_eq!(hits(&app), before);
    assert!(later.body.contains(">1 minute ago</time>") && !later.body.contains(">just now</time>"));
}

#[tokio::test]
async fn each_session_gets_only_its_own_page() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let laptop = app.sign_in_from("ada@example.com", FIREFOX_LINUX).await;
    view(&app, &ada, "/profile").await;
    view(&app, &ada, "/profile").await;
    let before = hits(&app);
    let on_laptop = view(&app, &laptop, "/profile").await;
    assert_eq!(hits(&app), before);
    // "This device" is the laptop's row there, and not on the first browser's page.
    let laptop_row = |page: &View| {
        let start = page.body.find(">Firefox on Linux<").expect("the laptop's row");
        page.body[start..].split("</li>").next().unwrap().to_owned()
    };
    assert!(laptop_row(&on_laptop).contains("This device"));
    assert!(!laptop_row(&view(&app, &ada, "/profile").await).contains("This device"));
    assert_eq!(hits(&app), before + 1);
}

#[tokio::test]
async fn an_address_with_a_query_is_rendered_every_time() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let before = hits(&app);
    for _ in 0..2 {
        assert!(view(&app, &ada, "/profile?edit=name").await.body.contains("Save"));
    }
    assert_eq!(hits(&app), before);
}

#[tokio::test]
async fn with_no_memory_for_pages_every_view_is_rendered() {
    let app = spawn_app_with(&[("APP_PAGE_CACHE_SIZE", "0")]).await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    for _ in 0..3 {
        view(&app, &ada, "/profile").await;
    }
    assert_eq!(hits(&app), 0);
}

#[tokio::test]
async fn the_view_that_notes_activity_is_rendered_with_it() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    app.clock.advance(Duration::from_secs(50));
    view(&app, &ada, "/profile").await;
    let kept = view(&app, &ada, "/profile").await;
    assert!(!kept.body.contains(">just now</time>"), "signed in and last active 1 minute ago");
    let before = hits(&app);
    // A minute after sign-in, the session check writes this session's `last_seen_at`: the page kept 10
    // seconds ago still reads the same by the clock, but "Last active" is now "just now".
    app.clock.advance(Duration::from_secs(10));
    let after = view(&app, &ada, "/profile").await;
    assert_eq!(hits(&app), before);
    assert!(after.body.contains(">just now</time>"), "{}", after.body);
}
