//! The session list on the profile: see every device, sign one out, sign out all others.

use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;

fn ids(list: &serde_json::Value) -> Vec<String> {
    list["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_list_shows_only_the_callers_sessions_newest_first_with_named_devices_and_no_tokens() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    app.signed_in_user("Bob", "bob@example.com").await;
    app.clock.advance(Duration::from_secs(60));
    let firefox = app.sign_in_from("ada@example.com", FIREFOX_WINDOWS).await;
    app.clock.advance(Duration::from_secs(120));
    let chrome = app.sign_in_from("ada@example.com", CHROME_LINUX).await;

    let list = app.sessions_of(&chrome).await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "Ada's three sessions, none of Bob's: {list}");
    assert_eq!(sessions[0]["device"], "Chrome on Linux");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[0]["ip"], "127.0.0.1");
    assert_eq!(sessions[1]["device"], "Firefox on Windows");
    assert_eq!(sessions[1]["current"], false);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(list["now"].as_i64().unwrap() - sessions[1]["started_at"].as_i64().unwrap(), 120);

    // Nothing in the list can sign anyone in.
    let text = list.to_string();
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM sessions").fetch_all(app.state.db.reads()).await.unwrap();
    assert!(hashes.iter().all(|h| !text.contains(h.as_str())));
    assert!(!text.contains("token"));
    let _ = firefox;
}

#[tokio::test]
async fn signing_out_another_device_ends_it_at_its_next_request_and_keeps_this_one() {
    let app = spawn_app().await;
    let this = app.signed_in_user("Ada", "ada@example.com").await;
    let other = app.sign_in_from("ada@example.com", FIREFOX_WINDOWS).await;
    let list = app.sessions_of(&this).await;
    let other_id = session(&list, "Firefox on Windows")["id"].as_str().unwrap().to_owned();

    let res = app.call(&this, "/api/end_session", &[("id", &other_id)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_redirect(&app.get(&other, "/profile").await, "/login?notice=session_ended");
    // A server-function call from the ended session is told too, and sent to the login page.
    let res = app.call(&other, "/api/sessions", &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&this, "/profile").await.status(), StatusCode::OK);
    assert_eq!(ids(&app.sessions_of(&this).await).len(), 1);
}

#[tokio::test]
async fn another_users_session_id_does_nothing_and_reveals_nothing() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    let bobs_id = ids(&app.sessions_of(&bob).await).remove(0);

    let on_bob = text(app.call(&ada, "/api/end_session", &[("id", &bobs_id)]).await).await;
    let on_nothing = text(app.call(&ada, "/api/end_session", &[("id", "no-such-session")]).await).await;
    assert_eq!(on_bob, on_nothing);
    assert_eq!(app.get(&bob, "/profile").await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2);
}

#[tokio::test]
async fn the_current_session_is_not_ended_from_the_list() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let own_id = ids(&app.sessions_of(&ada).await).remove(0);
    app.call(&ada, "/api/end_session", &[("id", &own_id)]).await;
    assert_eq!(app.get(&ada, "/profile").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_out_all_others_keeps_only_the_current_session() {
    let app = spawn_app().await;
    let this = app.signed_in_user("Ada", "ada@example.com").await;
    let firefox = app.sign_in_from("ada@example.com", FIREFOX_WINDOWS).await;
    let iphone = app.sign_in_from("ada@example.com", SAFARI_IPHONE).await;
    let bob = app.signed_in_user("Bob", "bob@example.com").await;

    let (status, body) = text(app.call(&this, "/api/end_other_sessions", &[]).await).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "2"));
    for ended in [&firefox, &iphone] {
        assert_redirect(&app.get(ended, "/profile").await, "/login?notice=session_ended");
    }
    assert_eq!(app.get(&this, "/profile").await.status(), StatusCode::OK);
    assert_eq!(app.get(&bob, "/profile").await.status(), StatusCode::OK, "other users are untouched");
}

#[tokio::test]
async fn without_javascript_the_list_and_both_sign_outs_work_as_forms() {
    let app = spawn_app().await;
    let this = app.signed_in_user("Ada", "ada@example.com").await;
    app.sign_in_from("ada@example.com", FIREFOX_WINDOWS).await;
    app.sign_in_from("ada@example.com", SAFARI_IPHONE).await;

    let (_, page) = text(app.get(&this, "/profile").await).await;
    assert!(page.contains("All sessions") && page.contains("This device"), "{page}");
    assert!(page.contains("Firefox on Windows") && page.contains("Safari on iPhone"));
    assert!(page.contains("Sign out of all other sessions (2)"));
    assert!(!page.contains("<template"), "rendered in place");

    let iphone_id = ids(&app.sessions_of(&this).await)
        .into_iter()
        .find(|id| page.contains(&format!("name=\"id\" value=\"{id}\"")))
        .expect("a sign-out form per other session");
    let res = app.post_form(&this, "/api/end_session", "/profile", &[("id", &iphone_id)]).await;
    assert_redirect(&res, "/profile");

    // The "are you sure?" step is a page of its own without JavaScript.
    let (_, page) = text(app.get(&this, "/profile?confirm=sign-out-others").await).await;
    assert!(page.contains("Are you sure? This signs out 1 other session"), "{page}");
    let res = app.post_form(&this, "/api/end_other_sessions", "/profile?confirm=sign-out-others", &[]).await;
    assert_redirect(&res, "/profile");
    let (_, page) = text(app.get(&this, &location(&res)).await).await;
    assert!(page.contains("This is your only session."), "{page}");
}

#[tokio::test]
async fn expired_sessions_never_show_and_are_purged() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let later = app.sign_in_from("ada@example.com", CHROME_LINUX).await;
    app.clock.advance(Duration::from_secs(6 * 86400));
    assert_eq!(ids(&app.sessions_of(&later).await).len(), 2);
    app.clock.advance(Duration::from_secs(2 * 86400));
    // The first session has been idle 8 days (over the 7-day limit); the second was active 2 days ago.
    let list = app.sessions_of(&later).await;
    assert_eq!(ids(&list).len(), 1, "{list}");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2, "still in the table until purged");
    let purged =
        authkit::server::sessions::store::purge_expired(&app.state.db, app.state.now(), &app.state.settings.sessions)
            .await
            .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn the_client_address_comes_from_forwarded_for_only_behind_a_trusted_proxy() {
    for (hops, expected) in [("0", "127.0.0.1"), ("1", "203.0.113.9")] {
        let app = spawn_app_with(&[("APP_TRUSTED_PROXY_HOPS", hops)]).await;
        app.signed_in_user("Ada", "ada@example.com").await;
        let client = browser();
        let res = client
            .post(app.url("/api/login"))
            .header("accept", "application/json")
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
            .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success() || res.status().is_redirection());
        let list = app.sessions_of(&client).await;
        let current = list["sessions"].as_array().unwrap().iter().find(|s| s["current"] == true).unwrap().clone();
        assert_eq!(current["ip"], expected, "with {hops} trusted proxies");
    }
}
