//! Live news of an account's sessions (`GET /api/live`, server-sent events): the stream of a session
//! that ends hears `ended`; the account's other streams hear `sessions`; only a session opens one, and a
//! session opens a bounded number; across app servers on PostgreSQL the news arrives all the same.

use crate::helpers::*;
use futures_util::StreamExt;
use reqwest::{Client, StatusCode};
use std::time::Duration;

const ADA: &str = "ada@example.com";
const PHONE: &str =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";

/// An open event stream, read event by event.
struct Stream {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, client: &Client) -> Self {
        let res = client.get(app.url("/api/live")).header("accept", "text/event-stream").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        Self { body: Box::pin(res.bytes_stream()), buffer: String::new() }
    }

    /// `GET /api/live` with `cookie` alone, from a client that keeps none.
    async fn open_with_cookie(app: &TestApp, cookie: &str) -> reqwest::Response {
        let client = client_builder().build().unwrap();
        client.get(app.url("/api/live")).header("cookie", cookie).send().await.unwrap()
    }

    /// The name of the next event, skipping heartbeats; `None` if the stream closed or nothing came
    /// within `wait`.
    async fn next_event(&mut self, wait: Duration) -> Option<String> {
        tokio::time::timeout(wait, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    if let Some(name) = block.lines().find_map(|l| l.strip_prefix("event: ")) {
                        return Some(name.to_owned());
                    }
                    continue;
                }
                match self.body.next().await {
                    Some(Ok(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                    _ => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Reads events until `name` (what came before it is news too: a stream may hear "sessions" more
    /// often than there were changes, never less).
    async fn wait_for(&mut self, name: &str, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while let Some(event) = self.next_event(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
            if event == name {
                return true;
            }
        }
        false
    }
}

/// Waits until the server hears other app servers' news (PostgreSQL): when it starts to, it tells every
/// open stream to check its session, which a test counting events must not mistake for news.
async fn listening(app: &TestApp) {
    for _ in 0..500 {
        if app.state.db.is_sqlite() || app.state.live.is_listening() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server never listened for session news");
}

/// The id of the session listed as `device` in `client`'s list.
async fn session_id(app: &TestApp, client: &Client, device: &str) -> String {
    let list = app.sessions_of(client).await;
    session(&list, device)["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn item_71_a_stream_hears_its_session_end_and_the_accounts_other_streams_hear_nothing_of_others() {
    let app = spawn_app().await;
    listening(&app).await;
    let laptop = app.signed_in_user("Ada", ADA).await;
    let mut laptop_stream = Stream::open(&app, &laptop).await;
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    let mut bobs = Stream::open(&app, &bob).await;
    // With PostgreSQL, news of Bob's own sign-in may reach his stream just after it opened.
    if !app.state.db.is_sqlite() {
        bobs.next_event(Duration::from_millis(500)).await;
    }

    // A new sign-in is news to the laptop's tab.
    let phone = app.sign_in_from(ADA, PHONE).await;
    assert_eq!(laptop_stream.next_event(Duration::from_secs(5)).await.as_deref(), Some("sessions"));
    let mut phone_stream = Stream::open(&app, &phone).await;

    let phone_id = session_id(&app, &laptop, "Chrome on Android").await;
    assert_eq!(app.call(&laptop, "/api/end_session", &[("id", &phone_id)]).await.status(), StatusCode::OK);
    // (After news of its own sign-in, which may come late with PostgreSQL.)
    assert!(phone_stream.wait_for("ended", Duration::from_secs(5)).await);
    assert_eq!(phone_stream.next_event(Duration::from_secs(5)).await, None, "then the stream closes");
    assert_eq!(laptop_stream.next_event(Duration::from_secs(5)).await.as_deref(), Some("sessions"));
    // Another account hears nothing of Ada's.
    assert_eq!(bobs.next_event(Duration::from_millis(500)).await, None);

    // A password change ends every session: the phone's tab leaves. The laptop's stream, of its old
    // session, hears `ended` too; the tab then finds its browser signed in anew and listens again.
    let phone = app.sign_in_from(ADA, PHONE).await;
    let mut phone_stream = Stream::open(&app, &phone).await;
    assert_eq!(app.change_password(&laptop, PASSWORD, "a whole new passphrase").await.status(), StatusCode::OK);
    assert!(phone_stream.wait_for("ended", Duration::from_secs(5)).await);
    assert!(laptop_stream.wait_for("ended", Duration::from_secs(5)).await);
    let mut laptop_stream = Stream::open(&app, &laptop).await;
    for _ in 0..100 {
        if app.state.live.open_streams() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(app.state.live.open_streams(), 2, "the laptop's new one and Bob's: the others are gone");
    let tablet = browser();
    assert_redirect(&app.login(&tablet, ADA, "a whole new passphrase").await, "/profile");
    assert!(laptop_stream.wait_for("sessions", Duration::from_secs(5)).await);
}

#[tokio::test]
async fn item_71_only_a_session_opens_a_stream_and_each_opens_a_bounded_number() {
    let app = spawn_app().await;
    assert_eq!(browser().get(app.url("/api/live")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let ada = app.signed_in_user("Ada", ADA).await;
    let tabs = authkit::server::sessions::live::STREAMS_PER_SESSION;
    let mut open = Vec::new();
    for _ in 0..tabs {
        open.push(Stream::open(&app, &ada).await);
    }
    let res = ada.get(app.url("/api/live")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // A tab closed gives its place back.
    open.pop();
    for _ in 0..100 {
        if app.state.live.open_streams() < tabs {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    open.push(Stream::open(&app, &ada).await);

    // A session that has ended is told at once: its own cookie, kept from before it signed out (a tab
    // that missed the news), and a made-up one.
    let phone = client_builder().build().unwrap();
    let res = app.login(&phone, ADA, PASSWORD).await;
    let cookie = session_cookie(&res);
    let res = Stream::open_with_cookie(&app, &cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut open = Stream { body: Box::pin(res.bytes_stream()), buffer: String::new() };
    assert_eq!(open.next_event(Duration::from_secs(1)).await, None, "still signed in: nothing to hear");
    app.post_form(&ada, "/api/end_other_sessions", "/profile", &[]).await;
    for cookie in [cookie, format!("session={}", "A".repeat(43))] {
        let res = Stream::open_with_cookie(&app, &cookie).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("event: ended"), "{cookie}");
    }
}

#[tokio::test]
async fn streams_close_when_the_server_shuts_down() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let mut streams = vec![Stream::open(&app, &ada).await, Stream::open(&app, &ada).await];
    // Without streams being told to end, the graceful shutdown would wait for them forever.
    app.shut_down(Duration::from_secs(10)).await;
    for stream in &mut streams {
        assert_eq!(stream.next_event(Duration::from_secs(5)).await, None);
    }
}

#[tokio::test]
async fn one_account_holds_a_bounded_number_of_streams_whatever_its_sessions() {
    let app = spawn_app().await;
    let per_session = authkit::server::sessions::live::STREAMS_PER_SESSION;
    let per_account = authkit::server::sessions::live::STREAMS_PER_ACCOUNT;
    app.signed_in_user("Ada", ADA).await;
    let mut open = Vec::new();
    let mut tab = app.sign_in_from(ADA, PHONE).await;
    for n in 0..per_account {
        if n > 0 && n % per_session == 0 {
            tab = app.sign_in_from(ADA, PHONE).await;
        }
        open.push(Stream::open(&app, &tab).await);
    }
    let another = app.sign_in_from(ADA, PHONE).await;
    let res = another.get(app.url("/api/live")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "a new session of the account has no room left");
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    Stream::open(&app, &bob).await;
}

/// Two app servers on one PostgreSQL database (`TEST_DATABASE_URL`): a sign-out on one reaches the tab
/// connected to the other. (With SQLite, one server is all there is.)
#[tokio::test]
async fn a_sign_out_on_one_app_server_reaches_a_tab_on_another() {
    let one = spawn_app().await;
    if one.state.db.is_sqlite() {
        return;
    }
    let two = spawn_app_with(&[("DATABASE_URL", one.state.settings.database.url())]).await;
    listening(&two).await;
    let laptop = one.signed_in_user("Ada", ADA).await;
    let phone = one.sign_in_from(ADA, PHONE).await;
    let mut phone_stream = Stream::open(&two, &phone).await;
    let mut laptop_stream = Stream::open(&two, &laptop).await;
    let phone_id = session_id(&one, &laptop, "Chrome on Android").await;
    assert_eq!(one.call(&laptop, "/api/end_session", &[("id", &phone_id)]).await.status(), StatusCode::OK);
    assert!(phone_stream.wait_for("ended", Duration::from_secs(10)).await);
    assert!(laptop_stream.wait_for("sessions", Duration::from_secs(10)).await);
}
