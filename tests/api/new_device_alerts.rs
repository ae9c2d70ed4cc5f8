//! "New sign-in to your account" for a browser the account has not used before, and "This wasn't me":
//! `/secure-account`, whose one button takes the account back from whoever signed in.

use crate::activity::activity_of;
use crate::helpers::*;
use reqwest::{Client, StatusCode};
use std::time::Duration;

const ADA: &str = "ada@example.com";
const ALERT: &str = "New sign-in to your account";
const PHONE: &str =
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";

/// Someone with Ada's password signs in on a phone: the phone, and the alert's link.
async fn stranger_signs_in(app: &TestApp) -> (Client, String) {
    let before = app.mails_about(ADA, ALERT);
    let phone = app.sign_in_from(ADA, PHONE).await;
    let link = app.new_mail_about(ADA, ALERT, before).await.link().expect("This wasn't me");
    (phone, link)
}

async fn secure(app: &TestApp, client: &Client, link: &str) -> reqwest::Response {
    let token = token_param(link, "token");
    app.post_form(client, "/api/secure_account", &format!("/secure-account?token={token}"), &[("token", &token)]).await
}

#[tokio::test]
async fn item_68_a_sign_in_from_a_new_browser_is_mailed_but_not_the_first_nor_a_known_browser() {
    let app = spawn_app().await;
    let laptop = app.signed_in_user("Ada", ADA).await;
    app.post_form(&laptop, "/api/logout", "/profile", &[]).await;
    assert_redirect(&app.login(&laptop, ADA, PASSWORD).await, "/profile");
    app.background_work_done().await;
    assert_eq!(app.mails_about(ADA, ALERT), 0, "neither the first sign-in nor the same browser again");

    let (_, link) = stranger_signs_in(&app).await;
    let mail = app.outbox().into_iter().rfind(|m| m.subject == ALERT).unwrap();
    assert!(mail.text.contains("Device: Chrome on Android") && mail.text.contains("Network address: 127.0.0.1"));
    assert!(mail.text.contains("Time: ") && mail.text.contains("This wasn't me: "), "{}", mail.text);
    assert!(link.starts_with(&app.url("/secure-account?token=")), "{link}");

    // Any way in counts: a magic link opened in yet another browser.
    let before = app.mails_about(ADA, ALERT);
    let tablet = browser();
    app.post_form(&tablet, "/api/send_magic_link", "/login-with-magic-link", &[("email", ADA)]).await;
    let magic = app.new_mail_about(ADA, "Your sign-in link", 0).await.link().unwrap();
    assert_redirect(&app.confirm_link(&tablet, &magic).await, "/profile");
    app.new_mail_about(ADA, ALERT, before).await;
}

#[tokio::test]
async fn item_69_this_wasnt_me_signs_out_everywhere_retires_the_password_and_removes_what_was_added() {
    let app = spawn_app().await;
    let laptop = app.signed_in_user("Ada", ADA).await;
    let (phone, link) = stranger_signs_in(&app).await;
    // Whoever signed in turns two-factor on with their own app, to lock Ada out.
    let (_, page) = text(app.get(&phone, "/profile/two-factor").await).await;
    let theirs = crate::two_factor::App::from_page(&page);
    let res = app
        .post_form(
            &phone,
            "/api/turn_on_two_factor",
            "/profile/two-factor",
            &[("code", &theirs.code(&app, 0)), ("current_password", PASSWORD)],
        )
        .await;
    assert_redirect(&res, "/profile/two-factor");

    // Opening the link changes nothing (mail scanners open links).
    let (status, page) = text(app.get(&browser(), &link[link.find("/secure-account").unwrap()..]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(">Secure my account<"), "{page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2);

    let before = app.mails_about(ADA, "Your account is secured");
    let res = secure(&app, &browser(), &link).await;
    assert_redirect(&res, "/login?notice=account_secured");
    for client in [&laptop, &phone] {
        assert_redirect(&app.get(client, "/profile").await, "/login?notice=session_ended");
    }
    assert!(!app.login(&browser(), ADA, PASSWORD).await.headers()["location"].to_str().unwrap().ends_with("/profile"));
    assert_eq!(app.count("SELECT COUNT(*) FROM two_factor").await, 0, "their two-factor is gone");
    assert_eq!(app.count("SELECT COUNT(*) FROM known_devices").await, 0);
    // Once.
    let again = secure(&app, &browser(), &link).await;
    assert_redirect(&again, "/secure-account?error=invalid_link");

    // The way back: the mailed reset link.
    let reset = app.new_mail_about(ADA, "Your account is secured", before).await.link().unwrap();
    let fresh = browser();
    reset_password(&app, &fresh, &reset, "a new and private passphrase", "a new and private passphrase").await;
    assert_redirect(&app.login(&fresh, ADA, "a new and private passphrase").await, "/profile");
    let said = activity_of(&app, &fresh).await;
    assert!(
        said.contains(&"Account secured: signed out everywhere, 1 new sign-in method removed".to_owned()),
        "{said:?}"
    );
}

#[tokio::test]
async fn item_70_the_link_outlives_a_password_change_by_whoever_signed_in_but_not_seven_days() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let (phone, link) = stranger_signs_in(&app).await;
    assert_eq!(app.change_password(&phone, PASSWORD, "the intruder's passphrase").await.status(), StatusCode::OK);
    assert_redirect(&secure(&app, &browser(), &link).await, "/login?notice=account_secured");
    assert_redirect(&app.get(&phone, "/profile").await, "/login?notice=session_ended");

    // Back in, Ada signs in on her laptop, then on a phone: the phone's alert link expires in 7 days.
    let reset = app.new_mail_about(ADA, "Your account is secured", 0).await.link().unwrap();
    let laptop = browser();
    reset_password(&app, &laptop, &reset, "a new and private passphrase", "a new and private passphrase").await;
    assert_redirect(&app.login(&laptop, ADA, "a new and private passphrase").await, "/profile");
    let before = app.mails_about(ADA, ALERT);
    let phone = client_builder().user_agent(PHONE).build().unwrap();
    assert_redirect(&app.login(&phone, ADA, "a new and private passphrase").await, "/profile");
    let link = app.new_mail_about(ADA, ALERT, before).await.link().unwrap();
    app.clock.advance(Duration::from_secs(7 * 86_400));
    assert_redirect(&secure(&app, &browser(), &link).await, "/secure-account?error=invalid_link");
}

#[tokio::test]
async fn item_68_alerts_are_limited_per_account_and_the_sign_in_goes_on() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    for _ in 0..7 {
        app.sign_in_from(ADA, PHONE).await;
    }
    app.background_work_done().await;
    assert_eq!(app.mails_about(ADA, ALERT), 5, "APP_LIMIT_MAIL_PER_ACCOUNT an hour");
}
