//! Security activity at `/profile/activity`: each kind of event, written with the change it records,
//! listed newest first to the account's owner alone, a page at a time, and purged when old.

use crate::helpers::*;
use reqwest::{Client, StatusCode};
use std::time::Duration;

const ADA: &str = "ada@example.com";
const PHONE: &str =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";

/// One listed event: what, the device and network line, and whether it is marked as this device's.
#[derive(Debug)]
pub struct Listed {
    pub what: String,
    pub meta: String,
    pub this_device: bool,
}

/// The events on a page of the list, in its order.
pub fn events_in(page: &str) -> Vec<Listed> {
    page.split("<li class=\"activity-event\">")
        .skip(1)
        .map(|item| {
            let item = item.split("</li>").next().unwrap();
            let what = item.split("<strong>").nth(1).unwrap().split("</strong>").next().unwrap();
            let meta = item.split("<p class=\"muted\">").nth(1).unwrap().split("</p>").next().unwrap();
            Listed { what: strip_tags(what), meta: strip_tags(meta), this_device: item.contains(">This device<") }
        })
        .collect()
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// What the first page of `client`'s activity says, newest first.
pub async fn activity_of(app: &TestApp, client: &Client) -> Vec<String> {
    let (status, page) = text(app.get(client, "/profile/activity").await).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    events_in(&page).into_iter().map(|e| e.what).collect()
}

#[tokio::test]
async fn sign_ins_failures_and_sign_outs_are_listed_newest_first_with_device_and_network() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    assert_redirect(&app.get(&browser(), "/profile/activity").await, "/login");

    assert!(text(app.login(&browser(), ADA, "not her password").await).await.0.is_redirection());
    let phone = app.sign_in_from(ADA, PHONE).await;
    let (_, page) = text(app.get(&ada, "/profile/activity").await).await;
    assert!(page.contains("<h1 id=\"activity-heading\">Security activity</h1>"), "{page}");
    let events = events_in(&page);
    let said: Vec<&str> = events.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        said,
        [
            "Signed in with a password",
            "Sign-in failed: wrong password",
            "Signed in with the link confirming the email address",
            "Email address confirmed",
            "Account created",
        ]
    );
    assert!(events[0].meta.contains("Chrome on Android") && events[0].meta.contains("127.0.0.1"), "{events:?}");
    assert!(!events[0].this_device, "the phone's sign-in, seen from the laptop");
    assert!(events[2].this_device, "the laptop's own sign-in");
    assert!(text(app.get(&phone, "/profile/activity").await).await.1.contains(">This device<"));

    // Signed out from the laptop, then from the phone itself.
    let phone_id =
        app.sessions_of(&ada).await["sessions"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()
            ["id"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(app.call(&ada, "/api/end_session", &[("id", &phone_id)]).await.status(), StatusCode::OK);
    let phone = app.sign_in_from(ADA, PHONE).await;
    app.post_form(&phone, "/api/logout", "/profile", &[]).await;
    let third = app.sign_in_from(ADA, PHONE).await;
    assert_eq!(app.call(&ada, "/api/end_other_sessions", &[]).await.status(), StatusCode::OK);
    let said = activity_of(&app, &ada).await;
    assert_eq!(
        said[..6],
        [
            "Signed out all other devices (1)",
            "Signed in with a password",
            "Signed out",
            "Signed in with a password",
            "Signed out another device: Chrome on Android",
            "Signed in with a password",
        ]
    );
    assert_redirect(&app.get(&third, "/profile/activity").await, "/login?notice=session_ended");
}

#[tokio::test]
async fn password_and_address_changes_are_listed_and_a_refused_change_leaves_no_event() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let before = activity_of(&app, &ada).await.len();
    // Refused (wrong current password): nothing changed, nothing listed.
    app.change_password(&ada, "not her password", "a whole new passphrase").await;
    assert_eq!(activity_of(&app, &ada).await.len(), before);

    assert_eq!(app.change_password(&ada, PASSWORD, "a whole new passphrase").await.status(), StatusCode::OK);
    let events = events_in(&text(app.get(&ada, "/profile/activity").await).await.1);
    assert_eq!(events[0].what, "Password changed");
    assert!(events[0].this_device, "done here, and this browser goes on in the new session");

    let res = app
        .post_form(
            &ada,
            "/api/change_email",
            "/profile",
            &[("current_password", "a whole new passphrase"), ("new_email", "ada@new.example")],
        )
        .await;
    assert!(res.status().is_redirection());
    let link = app.new_mail_to("ada@new.example", 0).await.link().unwrap();
    let token = token_param(&link, "token");
    app.post_form(&ada, "/api/confirm_email_change", "/confirm-email-change", &[("token", &token)]).await;
    assert_eq!(activity_of(&app, &ada).await[0], "Email address changed");

    // A reset from the mailed link, in a browser signed in nowhere.
    let stranger = browser();
    app.post_form(&stranger, "/api/request_password_reset", "/forgot-password", &[("email", "ada@new.example")]).await;
    let link = app.new_mail_about("ada@new.example", "Reset your password", 0).await.link().unwrap();
    reset_password(&app, &stranger, &link, "yet another passphrase", "yet another passphrase").await;
    let laptop = browser();
    assert_redirect(&app.login(&laptop, "ada@new.example", "yet another passphrase").await, "/profile");
    let said = activity_of(&app, &laptop).await;
    assert_eq!(said[..2], ["Signed in with a password", "Password reset with an emailed link"]);
}

#[tokio::test]
async fn item_67_nobody_sees_another_accounts_events_nor_any_id_and_browsers_are_named_not_echoed() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    let odd = client_builder().user_agent("<script>alert(1)</script>").build().unwrap();
    assert_redirect(&app.login(&odd, ADA, PASSWORD).await, "/profile");

    let (_, bobs) = text(app.get(&bob, "/profile/activity").await).await;
    assert_eq!(events_in(&bobs).len(), 3, "Bob's own: created, confirmed, signed in");
    let (_, adas) = text(app.get(&ada, "/profile/activity").await).await;
    assert!(!adas.contains("<script>alert"), "a user agent is shown as the browser it names, escaped");
    for table in ["security_events", "sessions", "users"] {
        let ids: Vec<String> =
            sqlx::query_scalar(&format!("SELECT id FROM {table}")).fetch_all(app.state.db.reads()).await.unwrap();
        for id in ids {
            assert!(!adas.contains(&id) && !bobs.contains(&id), "{table} id {id} shown");
        }
    }
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM sessions").fetch_all(app.state.db.reads()).await.unwrap();
    assert!(hashes.iter().all(|h| !adas.contains(h)));
}

#[tokio::test]
async fn two_factor_changes_and_its_sign_ins_are_listed() {
    let app = spawn_app().await;
    let (ada, authenticator, codes) = crate::two_factor::ada_with_two_factor(&app).await;
    let laptop = browser();
    assert_redirect(&app.login(&laptop, ADA, PASSWORD).await, "/login/two-factor");
    let second_step = |client: &Client, code: &str| {
        let (app, client, code) = (&app, client.clone(), code.to_owned());
        async move { app.post_form(&client, "/api/verify_two_factor", "/login/two-factor", &[("code", &code)]).await }
    };
    assert!(refused_code(&second_step(&laptop, "000000").await, "/login/two-factor"));
    assert_redirect(&second_step(&laptop, &codes[0]).await, "/profile");
    let phone = browser();
    assert_redirect(&app.login(&phone, ADA, PASSWORD).await, "/login/two-factor");
    assert_redirect(&second_step(&phone, &authenticator.code(&app, 0)).await, "/profile");
    let res = app.post_form(&ada, "/api/new_recovery_codes", "/profile", &[("current_password", PASSWORD)]).await;
    assert!(res.status().is_redirection());
    let res = app.post_form(&ada, "/api/turn_off_two_factor", "/profile", &[("current_password", PASSWORD)]).await;
    assert!(res.status().is_redirection());
    assert_eq!(
        activity_of(&app, &ada).await[..7],
        [
            "Two-factor authentication turned off",
            "New recovery codes made",
            "Signed in with a password and an authenticator app",
            "Signed in with a password and a recovery code",
            "Recovery code used",
            "Sign-in failed: wrong two-factor code",
            "Two-factor authentication turned on",
        ]
    );
}

#[tokio::test]
async fn sign_ins_by_magic_link_and_by_email_code_say_so() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    for by_code in [false, true] {
        let tablet = browser();
        let before = app.mails_about(ADA, "Your sign-in link");
        app.post_form(&tablet, "/api/send_magic_link", "/login-with-magic-link", &[("email", ADA)]).await;
        let mail = app.new_mail_about(ADA, "Your sign-in link", before).await;
        let res = if by_code {
            let form = [("email", ADA), ("code", &mail.code().unwrap()), ("sent", "magic-link")];
            app.post_form(&tablet, "/api/sign_in_with_code", "/check-email", &form).await
        } else {
            app.confirm_link(&tablet, &mail.link().unwrap()).await
        };
        assert_redirect(&res, "/profile");
    }
    assert_eq!(activity_of(&app, &ada).await[..2], ["Signed in with a code from email", "Signed in with a magic link"]);
}

#[tokio::test]
async fn the_list_comes_a_page_at_a_time() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    // 3 events so far; 27 failures, each over an hour after the last (or they would be one), make 30.
    for _ in 0..27 {
        app.clock.advance(Duration::from_secs(3_601));
        app.login(&browser(), ADA, "not her password").await;
    }
    let (_, first) = text(app.get(&ada, "/profile/activity").await).await;
    assert_eq!(events_in(&first).len(), 25);
    assert!(first.contains("href=\"/profile/activity?page=2\"") && first.contains(">Older events<"));
    assert!(!first.contains("Newer events"));
    let (_, second) = text(app.get(&ada, "/profile/activity?page=2").await).await;
    let rest: Vec<String> = events_in(&second).into_iter().map(|e| e.what).collect();
    assert_eq!(rest.len(), 5);
    assert_eq!(rest.last().unwrap(), "Account created");
    assert!(second.contains("href=\"/profile/activity?page=1\"") && !second.contains("Older events"));
    // Nonsense asks for the first page; far beyond the end, there is nothing.
    let (status, page) = text(app.get(&ada, "/profile/activity?page=zero").await).await;
    assert_eq!((status, events_in(&page).len()), (StatusCode::OK, 25));
    let (status, page) = text(app.get(&ada, "/profile/activity?page=9999").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Nothing to show."));
}

#[tokio::test]
async fn events_are_kept_for_the_set_time_then_purged() {
    let app = spawn_app_with(&[
        ("APP_ACTIVITY_KEPT_FOR", "30d"),
        ("APP_SESSION_ABSOLUTE_TIMEOUT", "90d"),
        ("APP_SESSION_IDLE_TIMEOUT", "90d"),
    ])
    .await;
    let ada = app.signed_in_user("Ada", ADA).await;
    app.clock.advance(Duration::from_secs(20 * 86_400));
    app.login(&browser(), ADA, "not her password").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM security_events").await, 4);

    app.clock.advance(Duration::from_secs(11 * 86_400));
    authkit::server::platform::startup::purge_expired(&app.state).await;
    assert_eq!(activity_of(&app, &ada).await, ["Sign-in failed: wrong password"], "the older three are gone");
    app.clock.advance(Duration::from_secs(20 * 86_400));
    authkit::server::platform::startup::purge_expired(&app.state).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM security_events").await, 0);
}

#[tokio::test]
async fn repeated_failed_sign_ins_within_an_hour_are_one_event_with_a_count() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let rows_before = app.count("SELECT COUNT(*) FROM security_events").await;
    for _ in 0..3 {
        app.login(&browser(), ADA, "not her password").await;
    }
    assert_eq!(activity_of(&app, &ada).await[0], "Sign-in failed: wrong password, 3 times within a minute");
    // Spread over 40 minutes: listed at the last one, with how long they took.
    for _ in 0..2 {
        app.clock.advance(Duration::from_secs(20 * 60));
        app.login(&browser(), ADA, "not her password").await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM security_events").await, rows_before + 1, "one row for the five");
    let (_, page) = text(app.get(&ada, "/profile/activity").await).await;
    let newest = &events_in(&page)[0];
    assert_eq!(newest.what, "Sign-in failed: wrong password, 5 times in 40 minutes");
    assert!(newest.meta.starts_with("just now"), "when the last one happened: {}", newest.meta);

    // An hour after the first failure, a new row starts.
    app.clock.advance(Duration::from_secs(20 * 60 + 1));
    app.login(&browser(), ADA, "not her password").await;
    let said = activity_of(&app, &ada).await;
    assert_eq!(said[..2], ["Sign-in failed: wrong password", "Sign-in failed: wrong password, 5 times in 40 minutes"]);
    // Another browser's failure is not shown under this one's, and after it this one's starts anew.
    let rows = app.count("SELECT COUNT(*) FROM security_events").await;
    let firefox = client_builder().user_agent(FIREFOX_WINDOWS).build().unwrap();
    app.login(&firefox, ADA, "not her password").await;
    app.login(&browser(), ADA, "not her password").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM security_events").await, rows + 2);
}
