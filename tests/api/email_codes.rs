//! The 6-digit code beside every mailed sign-in or verification link: typed on the "Check your email…"
//! page, it does what the link does, in that browser.

use crate::helpers::*;
use reqwest::{Client, Response, StatusCode};
use std::time::Duration;

const ADA: &str = "ada@example.com";

/// Asks for a magic link from `client` and returns its mail.
async fn magic_link_mail(app: &TestApp, client: &Client, email: &str) -> Mail {
    let before = app.mails_about(email, "Your sign-in link");
    let res = app.post_form(client, "/api/send_magic_link", "/login-with-magic-link", &[("email", email)]).await;
    assert_redirect(&res, "/check-email?email=");
    app.new_mail_about(email, "Your sign-in link", before).await
}

/// Types `code` on the "Check your email…" page of `email`, as the form without JavaScript sends it.
async fn type_code(app: &TestApp, client: &Client, email: &str, code: &str, sent: &str) -> Response {
    app.post_form(client, "/api/sign_in_with_code", "/check-email", &[("email", email), ("code", code), ("sent", sent)])
        .await
}

/// A code that is right for no live mail: one digit off.
fn wrong(code: &str) -> String {
    let last = code.as_bytes()[5] - b'0';
    format!("{}{}", &code[..5], (last + 1) % 10)
}

#[tokio::test]
async fn the_verification_code_signs_in_here_and_uses_up_its_link() {
    let app = spawn_app().await;
    let ada = browser();
    assert_redirect(&app.register(&ada, "Ada", ADA, PASSWORD).await, "/check-email");
    let mail = app.new_mail_about(ADA, "Verify your email address", 0).await;
    let code = mail.code().expect("the mail carries a code");
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    assert!(mail.html.contains(&code) && mail.text.contains("The link and the code work once"));

    // The page that asked for the mail offers the code's form.
    let (_, page) = text(app.get(&ada, &format!("/check-email?email={}&purpose=verify", encode(ADA))).await).await;
    assert!(page.contains(">Code</label>") && page.contains("autocomplete=\"one-time-code\""), "{page}");
    assert!(page.contains(">Continue<"));

    // Typed with spaces, as people copy it.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert_redirect(&type_code(&app, &ada, ADA, &spaced, "verify").await, "/profile");
    assert_eq!(app.get(&ada, "/profile").await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL").await, 1);
    // The link went with it, and the code works once.
    assert_redirect(&app.confirm_link(&browser(), &mail.link().unwrap()).await, "/auth-redirect?error=invalid_link");
    let again = type_code(&app, &browser(), ADA, &code, "verify").await;
    assert!(refused_code(&again, "/check-email"), "{}", location(&again));
}

#[tokio::test]
async fn the_link_uses_up_its_code_and_a_newer_mail_replaces_both() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let phone = browser();
    let first = magic_link_mail(&app, &phone, ADA).await;
    let second = magic_link_mail(&app, &phone, ADA).await;
    assert_ne!(first.code(), second.code(), "each mail has its own code");
    let res = app
        .call(
            &phone,
            "/api/sign_in_with_code",
            &[("email", ADA), ("code", &first.code().unwrap()), ("sent", "magic-link")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.1.contains("InvalidCode"));

    assert_redirect(&app.confirm_link(&phone, &second.link().unwrap()).await, "/profile");
    let res = app
        .call(
            &browser(),
            "/api/sign_in_with_code",
            &[("email", ADA), ("code", &second.code().unwrap()), ("sent", "magic-link")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn item_50_codes_die_after_five_wrong_tries_even_across_new_mails_and_links_still_work() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let laptop = browser();
    let mail = magic_link_mail(&app, &laptop, ADA).await;
    let code = mail.code().unwrap();
    for _ in 0..5 {
        let res = type_code(&app, &laptop, ADA, &wrong(&code), "magic-link").await;
        assert!(refused_code(&res, "/check-email"), "{}", location(&res));
    }
    let res = type_code(&app, &laptop, ADA, &code, "magic-link").await;
    assert!(refused_code(&res, "/check-email"), "the right code after five wrong ones: {}", location(&res));
    assert_eq!(app.count("SELECT COUNT(*) FROM email_tokens WHERE code_hash IS NOT NULL AND used_at IS NULL").await, 0);
    // Asking for another mail buys no more tries: it comes without a code, until a link is used.
    let again = magic_link_mail(&app, &laptop, ADA).await;
    assert_eq!(again.code(), None);
    assert_redirect(&app.confirm_link(&laptop, &again.link().unwrap()).await, "/profile");
    assert!(magic_link_mail(&app, &laptop, ADA).await.code().is_some());
}

#[tokio::test]
async fn item_51_codes_typed_for_an_account_are_limited_and_answered_as_wrong_ones() {
    let app = spawn_app_with(&[("APP_LIMIT_CODE_ATTEMPTS_PER_ACCOUNT", "3")]).await;
    app.signed_in_user("Ada", ADA).await;
    let laptop = browser();
    let mail = magic_link_mail(&app, &laptop, ADA).await;
    let code = mail.code().unwrap();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let res = app
            .call(&laptop, "/api/sign_in_with_code", &[("email", ADA), ("code", &wrong(&code)), ("sent", "magic-link")])
            .await;
        answers.push((res.status(), text(res).await.1));
    }
    // Over the limit, the right code gets the answer of a wrong one, and is not even tried.
    let res =
        app.call(&laptop, "/api/sign_in_with_code", &[("email", ADA), ("code", &code), ("sent", "magic-link")]).await;
    let over = (res.status(), text(res).await.1);
    assert_eq!(over, answers[0]);
    assert_eq!(app.count("SELECT MAX(code_tries) FROM email_tokens").await, 3);
    // An hour later the code counts again, as long as it lives: a fresh mail's code works.
    app.clock.advance(Duration::from_secs(3600));
    let fresh = magic_link_mail(&app, &laptop, ADA).await;
    assert_redirect(&type_code(&app, &laptop, ADA, &fresh.code().unwrap(), "magic-link").await, "/profile");
}

#[tokio::test]
async fn item_53_a_code_for_an_address_without_an_account_gets_the_same_answer() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let known = app
        .call(&browser(), "/api/sign_in_with_code", &[("email", ADA), ("code", "123456"), ("sent", "magic-link")])
        .await;
    let unknown = app
        .call(
            &browser(),
            "/api/sign_in_with_code",
            &[("email", "nobody@example.com"), ("code", "123456"), ("sent", "magic-link")],
        )
        .await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(cookie_shapes(&known), cookie_shapes(&unknown));
    assert_eq!(text(known).await.1, text(unknown).await.1);
    // Malformed codes get it too, and reach nothing.
    for bad in ["", "12345", "abcdef", "1234567", "' OR 1=1 --"] {
        let res =
            app.call(&browser(), "/api/sign_in_with_code", &[("email", ADA), ("code", bad), ("sent", "verify")]).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(text(res).await.1.contains("InvalidCode"), "{bad}");
    }
}

#[tokio::test]
async fn a_code_expires_with_its_link() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let laptop = browser();
    let mail = magic_link_mail(&app, &laptop, ADA).await;
    app.clock.advance(Duration::from_secs(15 * 60));
    let res = type_code(&app, &laptop, ADA, &mail.code().unwrap(), "magic-link").await;
    assert!(refused_code(&res, "/check-email"), "{}", location(&res));
}

#[tokio::test]
async fn a_code_typed_in_a_browser_that_did_not_sign_up_leads_to_choosing_a_password() {
    let app = spawn_app().await;
    // Someone signed Ada's address up elsewhere; Ada types the code from the mail she got.
    app.register(&browser(), "Not Ada", ADA, "the attackers password").await;
    let code = app.new_mail_about(ADA, "Verify your email address", 0).await.code().unwrap();
    let ada = browser();
    let res = type_code(&app, &ada, ADA, &code, "verify").await;
    assert_redirect(&res, "/reset-password?token=");
    assert_redirect(&app.login(&browser(), ADA, "the attackers password").await, "/login?email=");
    assert_redirect(&app.get(&ada, "/profile").await, "/login");
}

#[tokio::test]
async fn item_52_codes_are_kept_only_as_keyed_hashes_bound_to_their_link() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let mail = magic_link_mail(&app, &browser(), ADA).await;
    let code = mail.code().unwrap();
    let stored: String = sqlx::query_scalar("SELECT code_hash FROM email_tokens WHERE code_hash IS NOT NULL")
        .fetch_one(app.state.db.reads())
        .await
        .unwrap();
    assert!(!stored.contains(&code));
    use sha2::Digest as _;
    assert_ne!(
        stored,
        hex::encode(sha2::Sha256::digest(code.as_bytes())),
        "a plain hash of a million codes is no secret"
    );
    // A password reset carries no code.
    app.post_form(&browser(), "/api/request_password_reset", "/forgot-password", &[("email", ADA)]).await;
    let reset = app.new_mail_about(ADA, "Reset your password", 0).await;
    assert_eq!(reset.code(), None);
}
