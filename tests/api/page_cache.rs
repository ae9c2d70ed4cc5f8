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

#[tokio::test]
async fn anything_the_page_shows_changing_renders_it_again() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    view(&app, &ada, "/profile").await;
    view(&app, &ada, "/profile").await;

    // Each change below is made by another device: nothing about this one's own requests tells the server.
    let before = hits(&app);
    let laptop = app.sign_in_from("ada@example.com", FIREFOX_LINUX).await;
    assert!(view(&app, &ada, "/profile").await.body.contains("Firefox on Linux"), "a new session is listed");

    let res = app.call(&laptop, "/api/update_name", &[("name", "Ada Lovelace")]).await;
    assert_eq!(res.status(), 200);
    assert!(view(&app, &ada, "/profile").await.body.contains("Hello, Ada Lovelace"), "the new name is shown");

    let list = app.sessions_of(&ada).await;
    let laptop_id = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["device"] == "Firefox on Linux")
        .expect("the laptop's session")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.call(&ada, "/api/end_session", &[("id", &laptop_id)]).await.status(), 200);
    assert!(!view(&app, &ada, "/profile").await.body.contains("Firefox on Linux"), "an ended session is gone");
    assert_eq!(hits(&app), before, "a page was shown again after something on it changed");

    // Nothing changed since the last view: that page may be shown again.
    view(&app, &ada, "/profile").await;
    assert_eq!(hits(&app), before + 1);
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
