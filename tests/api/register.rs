use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;

#[tokio::test]
async fn registering_mails_a_verification_link_that_signs_in_once_confirmed() {
    let app = spawn_app().await;
    let client = browser();

    let res = app.register(&client, "Ada Lovelace", "Ada@Example.com", PASSWORD).await;
    assert_redirect(&res, "/check-email?email=ada%40example.com");
    assert!(!set_cookies(&res).iter().any(|c| c.starts_with("session=")), "no session before verification");
    let (status, page) = text(app.get(&client, &location(&res)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Check your email…") && page.contains("ada@example.com"));

    let mails = app.outbox();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "ada@example.com");
    assert_eq!(mails[0].subject, "Verify your email address");
    let link = mails[0].link().unwrap();
    assert!(link.starts_with(&format!("{}/auth-redirect?access_token=", app.address)), "{link}");
    assert!(mails[0].text.contains("work once and expire in 24 hours"));
    assert!(mails[0].html.contains(&link.replace('&', "&amp;")));

    // Opening the link (as a mail scanner would) shows a confirm form and uses nothing.
    for _ in 0..2 {
        let res = app.get(&client, link.trim_start_matches(&app.address)).await;
        assert_eq!(res.headers()["referrer-policy"], "no-referrer");
        let (status, page) = text(res).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(">Continue<"), "confirm button missing: {page}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM email_tokens WHERE used_at IS NULL").await, 1);

    let res = app.confirm_link(&client, &link).await;
    assert_redirect(&res, "/profile");
    assert!(set_cookies(&res).iter().any(|c| c.starts_with("session=")));
    let (status, page) = text(app.get(&client, "/profile").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>Hello, Ada Lovelace</h1>"), "{page}");
    // Rendered in place, not streamed into a template that only JavaScript would reveal.
    assert!(!page.contains("Loading your profile") && !page.contains("<template"), "{page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL").await, 1);
}

#[tokio::test]
async fn a_verification_link_works_only_once() {
    let app = spawn_app().await;
    let ada = browser();
    app.register(&ada, "Ada", "ada@example.com", PASSWORD).await;
    let link = app.last_link_to("ada@example.com");
    assert_redirect(&app.confirm_link(&ada, &link).await, "/profile");

    let second = browser();
    let res = app.confirm_link(&second, &link).await;
    assert_redirect(&res, "/auth-redirect?error=invalid_link");
    assert!(set_cookies(&res).is_empty());
    let (_, page) = text(app.get(&second, &location(&res)).await).await;
    assert!(page.contains("invalid, was already used, or has expired"));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn an_expired_verification_link_fails() {
    let app = spawn_app().await;
    app.register(&browser(), "Ada", "ada@example.com", PASSWORD).await;
    let link = app.last_link_to("ada@example.com");
    app.clock.advance(Duration::from_secs(24 * 3600));
    assert_redirect(&app.confirm_link(&browser(), &link).await, "/auth-redirect?error=invalid_link");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL").await, 0);
}

#[tokio::test]
async fn a_tampered_or_made_up_token_fails() {
    let app = spawn_app().await;
    app.register(&browser(), "Ada", "ada@example.com", PASSWORD).await;
    let token = access_token_of(&app.last_link_to("ada@example.com"));
    let mut tampered = token.clone().into_bytes();
    tampered[0] = if tampered[0] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [tampered.as_str(), "", "short", &format!("{token}x"), "' OR 1=1 --"] {
        let res = app.post_form(&browser(), "/api/sign_in_with_link", "/auth-redirect", &[("access_token", bad)]).await;
        assert_redirect(&res, "/auth-redirect?error=invalid_link");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn tokens_are_stored_only_as_their_hash() {
    let app = spawn_app().await;
    app.register(&browser(), "Ada", "ada@example.com", PASSWORD).await;
    let token = access_token_of(&app.last_link_to("ada@example.com"));
    assert_eq!(token.len(), 43, "256 bits in base64url");
    let stored: String =
        sqlx::query_scalar("SELECT token_hash FROM email_tokens").fetch_one(app.state.db.reads()).await.unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, authkit::server::platform::secrets::hash_token(&token));
}

#[tokio::test]
async fn bad_input_gets_a_message_and_stores_nothing() {
    let app = spawn_app().await;
    let cases = [
        ("", "ada@example.com", PASSWORD, "Name", "Enter your name."),
        ("Ada", "not-an-email", PASSWORD, "Email", "Enter an email address like name@example.com."),
        ("Ada", "ada@example.com", "elevenchars", "Password", "Use at least 12 characters"),
        ("Ada\u{202E}", "ada@example.com", PASSWORD, "Name", "control characters"),
    ];
    for (name, email, password, field, message) in cases {
        let res =
            app.call(&browser(), "/api/register", &[("name", name), ("email", email), ("password", password)]).await;
        let (status, body) = text(res).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains(&format!("\"field\":\"{field}\"")) && body.contains(message), "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    assert!(app.outbox().is_empty());
}

#[tokio::test]
async fn without_javascript_a_refused_form_comes_back_with_the_message_by_its_field() {
    let app = spawn_app().await;
    let client = browser();
    let res = app.register(&client, "Ada", "ada@example.com", "short").await;
    assert_redirect(&res, "/register?name=");
    let (status, page) = text(app.get(&client, location(&res).trim_start_matches(&app.address)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Use at least 12 characters"), "{page}");
    assert!(page.contains(r#"aria-describedby="field-password-hint field-password-error""#), "{page}");
}

#[tokio::test]
async fn registering_a_taken_address_looks_the_same_and_mails_the_owner_instead() {
    let app = spawn_app().await;
    let _owner = app.signed_in_user("Ada", "ada@example.com").await;

    let fresh = app.register(&browser(), "Bob", "bob@example.com", PASSWORD).await;
    let taken = app.register(&browser(), "Mallory", "ADA@example.com", "another password here").await;
    assert_eq!(fresh.status(), taken.status());
    assert_eq!(location(&taken), "/check-email?email=ada%40example.com&purpose=verify");
    assert_eq!(cookie_shapes(&fresh), cookie_shapes(&taken));

    let last = app.outbox().into_iter().rfind(|m| m.to == "ada@example.com").unwrap();
    assert_eq!(last.subject, "You already have an account");
    // The owner's account is untouched: the old password still works, the new one does not.
    assert_redirect(&app.login(&browser(), "ada@example.com", PASSWORD).await, "/profile");
    assert_redirect(&app.login(&browser(), "ada@example.com", "another password here").await, "/login?email=");
}

#[tokio::test]
async fn mails_greet_by_name_only_once_the_address_is_proven() {
    // Anyone can sign up with someone else's address: what they typed as a name must not reach that inbox
    // in a mail from us, neither the first sign-up's nor a second one's.
    let app = spawn_app().await;
    let pitch = "Your account is locked call 555 0100";
    app.register(&browser(), pitch, "ada@example.com", PASSWORD).await;
    app.register(&browser(), pitch, "ada@example.com", "another long passphrase").await;
    let bob = browser();
    app.register(&bob, "Bob", "bob@example.com", PASSWORD).await;
    for mail in app.outbox() {
        assert_eq!(mail.text.lines().next(), Some("Hello,"), "{}", mail.text);
        for part in [&mail.text, &mail.html] {
            assert!(!part.contains("555 0100") && !part.contains("Bob"), "{part}");
        }
    }
    assert_eq!(app.mails_to("ada@example.com"), 2);

    // Once Bob has confirmed his address (in the browser he signed up in), his mails greet him.
    app.confirm_link(&bob, &app.last_link_to("bob@example.com")).await;
    app.post_form(&browser(), "/api/request_password_reset", "/forgot-password", &[("email", "bob@example.com")]).await;
    let mail = app.new_mail_about("bob@example.com", "Reset your password", 0).await;
    assert_eq!(mail.text.lines().next(), Some("Hello Bob,"), "{}", mail.text);
}

/// Opens a verification link in `client` and, when it leads to choosing a password (it was opened in a
/// browser that did not sign up), chooses `password` there. Returns where the link led first.
async fn open_verification(app: &TestApp, client: &reqwest::Client, link: &str, password: &str) -> String {
    let res = app.confirm_link(client, link).await;
    let first = location(&res);
    if first.starts_with("/reset-password?") {
        let choose = format!("{}{first}", app.address);
        assert_redirect(
            &reset_password(app, client, &choose, password, password).await,
            "/login?notice=password_reset",
        );
    }
    first
}

#[tokio::test]
async fn what_a_sign_up_typed_counts_only_where_the_address_is_confirmed_in_the_same_browser() {
    let app = spawn_app().await;
    // Confirmed in the browser that signed up: signed in, with the password and name typed there.
    let laptop = browser();
    app.register(&laptop, "Ada Lovelace", "ada@example.com", PASSWORD).await;
    let link = app.last_link_to("ada@example.com");
    assert_redirect(&app.confirm_link(&laptop, &link).await, "/profile");
    assert!(text(app.get(&laptop, "/profile").await).await.1.contains("Hello, Ada Lovelace"));

    // Confirmed in another browser (the mail opened on a phone): the address is confirmed, and that
    // browser chooses the password; the one typed at sign-up does not sign in.
    app.register(&browser(), "Grace Hopper", "grace@example.com", PASSWORD).await;
    let link = app.last_link_to("grace@example.com");
    let phone = browser();
    let res = app.confirm_link(&phone, &link).await;
    assert_redirect(&res, "/reset-password?token=");
    assert!(location(&res).ends_with("&welcome=1"));
    assert!(set_cookies(&res).iter().all(|c| !c.starts_with("session=")), "no session before a password");
    let (_, page) = text(app.get(&phone, &location(&res)).await).await;
    assert!(page.contains("Your email address is confirmed."), "{page}");
    assert_redirect(&app.login(&browser(), "grace@example.com", PASSWORD).await, "/login?email=grace%40example.com");
    let choose = format!("{}{}", app.address, location(&res));
    assert_redirect(
        &reset_password(&app, &phone, &choose, "graces chosen passphrase", "graces chosen passphrase").await,
        "/login?notice=password_reset",
    );
    let signed_in = browser();
    assert_redirect(&app.login(&signed_in, "grace@example.com", "graces chosen passphrase").await, "/profile");
    // The name typed at sign-up was not proven either: the address's local part stands in for it.
    assert!(text(app.get(&signed_in, "/profile").await).await.1.contains("Hello, grace"));
}

#[tokio::test]
async fn whoever_registers_an_address_they_do_not_own_never_gets_in_whatever_the_owner_clicks() {
    const SQUATTER: &str = "the squatters password";
    const OWNERS: &str = "adas own new passphrase";
    // Every mail the owner may get and click, after a stranger registered the address first.
    for path in ["verify after resend", "magic link", "reset", "verify after signing up too"] {
        let app = spawn_app().await;
        let squatter = browser();
        app.register(&squatter, "Call +1 555 0100 now", "ada@example.com", SQUATTER).await;
        let owner = browser();
        match path {
            "verify after resend" => {
                assert!(app
                    .call(&squatter, "/api/resend_verification", &[("email", "ada@example.com")])
                    .await
                    .status()
                    .is_success());
                let mail = app.new_mail_about("ada@example.com", "Verify your email address", 1).await;
                assert!(!mail.text.contains("Call +1"), "no stranger's words in our mail");
                open_verification(&app, &owner, &mail.link().unwrap(), OWNERS).await;
            }
            "magic link" => {
                app.call(&owner, "/api/send_magic_link", &[("email", "ada@example.com")]).await;
                let link = app.new_mail_about("ada@example.com", "Your sign-in link", 0).await.link().unwrap();
                let first = open_verification(&app, &owner, &link, OWNERS).await;
                assert!(first.starts_with("/reset-password?"), "a link outside the sign-up browser: {first}");
            }
            "reset" => {
                app.call(&owner, "/api/request_password_reset", &[("email", "ada@example.com")]).await;
                let link = app.new_mail_about("ada@example.com", "Reset your password", 0).await.link().unwrap();
                assert_redirect(
                    &reset_password(&app, &owner, &link, OWNERS, OWNERS).await,
                    "/login?notice=password_reset",
                );
            }
            _ => {
                app.register(&owner, "Ada", "ada@example.com", PASSWORD).await;
                let mail = app.new_mail_about("ada@example.com", "Verify your email address", 1).await;
                open_verification(&app, &owner, &mail.link().unwrap(), OWNERS).await;
            }
        }
        let res = app.login(&browser(), "ada@example.com", SQUATTER).await;
        assert_redirect(&res, "/login?email=ada%40example.com");
        assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL").await, 1, "{path}");
        let name: String = sqlx::query_scalar("SELECT name FROM users").fetch_one(app.state.db.reads()).await.unwrap();
        assert!(!name.contains("Call"), "{path}: the stranger's name stayed: {name}");
        // The squatter's browser, which did the sign-up, gets nowhere either.
        assert_redirect(&app.login(&squatter, "ada@example.com", SQUATTER).await, "/login?email=ada%40example.com");
        assert_redirect(&app.get(&squatter, "/profile").await, "/login");
    }
}

#[tokio::test]
async fn a_second_sign_up_cannot_take_over_one_waiting_for_its_owner_to_confirm() {
    // The owner signs up first; an attacker signs up with the same address before the owner clicks, hoping
    // the owner then clicks the newest mail and confirms the attacker's password and name.
    let app = spawn_app().await;
    let owner = browser();
    app.register(&owner, "Ada", "ada@example.com", PASSWORD).await;
    let owners_link = app.last_link_to("ada@example.com");
    app.register(&browser(), "Mallory", "Ada@Example.com", "the attackers password").await;
    let newest = app.new_mail_about("ada@example.com", "Verify your email address", 1).await.link().unwrap();
    // A newer link replaced the first; the newest, opened by the owner, keeps the owner's password and name.
    assert_redirect(&app.confirm_link(&browser(), &owners_link).await, "/auth-redirect?error=invalid_link");
    assert_redirect(&app.confirm_link(&owner, &newest).await, "/profile");
    assert!(text(app.get(&owner, "/profile").await).await.1.contains("Hello, Ada<"));
    assert_redirect(
        &app.login(&browser(), "ada@example.com", "the attackers password").await,
        "/login?email=ada%40example.com",
    );
    assert_redirect(&app.login(&browser(), "ada@example.com", PASSWORD).await, "/profile");
    // Still one account for the address, whichever sign-up came last.
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[tokio::test]
async fn the_same_browser_signing_up_again_corrects_what_it_typed() {
    let app = spawn_app().await;
    let laptop = browser();
    app.register(&laptop, "Ada Lovelase", "ada@example.com", "a first passphrase typed").await;
    app.register(&laptop, "Ada Lovelace", "ada@example.com", PASSWORD).await;
    let link = app.new_mail_about("ada@example.com", "Verify your email address", 1).await.link().unwrap();
    assert_redirect(&app.confirm_link(&laptop, &link).await, "/profile");
    assert!(text(app.get(&laptop, "/profile").await).await.1.contains("Hello, Ada Lovelace<"));
    assert_redirect(&app.login(&browser(), "ada@example.com", PASSWORD).await, "/profile");
}

#[tokio::test]
async fn once_an_address_is_confirmed_its_verification_link_no_longer_signs_in() {
    let app = spawn_app().await;
    app.register(&browser(), "Ada", "ada@example.com", PASSWORD).await;
    let verification = app.last_link_to("ada@example.com");
    // Confirmed another way: a magic link.
    app.call(&browser(), "/api/send_magic_link", &[("email", "ada@example.com")]).await;
    let magic = app.new_mail_about("ada@example.com", "Your sign-in link", 0).await.link().unwrap();
    // Opened in another browser than the sign-up's: the address is confirmed, and a password is chosen.
    assert_redirect(&app.confirm_link(&browser(), &magic).await, "/reset-password?token=");
    assert_redirect(&app.confirm_link(&browser(), &verification).await, "/auth-redirect?error=invalid_link");
}

#[tokio::test]
async fn sign_ups_for_one_address_count_against_its_mail_and_past_that_send_nothing() {
    let app = spawn_app_with(&[("APP_LIMIT_MAIL_PER_ACCOUNT", "2")]).await;
    for _ in 0..2 {
        assert_redirect(
            &app.register(&browser(), "Ada", "ada@example.com", PASSWORD).await,
            "/check-email?email=ada%40example.com",
        );
    }
    app.new_mail_to("ada@example.com", 1).await;
    // Strangers may have used up the address's allowance: the answer stays the same, and nothing is sent.
    let res = app
        .call(&browser(), "/api/register", &[("name", "Ada"), ("email", "ADA@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.assert_no_new_mail_to("ada@example.com", 2).await;
    // Another address from the same client is not affected.
    assert_redirect(
        &app.register(&browser(), "Bob", "bob@example.com", PASSWORD).await,
        "/check-email?email=bob%40example.com",
    );
}

#[tokio::test]
async fn with_verification_off_registering_signs_in_at_once() {
    let app = spawn_app_with(&[("APP_EMAIL_VERIFICATION", "false")]).await;
    let client = browser();
    let res = app.register(&client, "Ada", "ada@example.com", PASSWORD).await;
    assert_redirect(&res, "/profile");
    assert!(text(app.get(&client, "/profile").await).await.1.contains("Hello, Ada"));
    assert!(app.outbox().is_empty());

    let (status, body) = text(
        app.call(&browser(), "/api/register", &[("name", "B"), ("email", "ada@example.com"), ("password", PASSWORD)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("EmailTaken"), "{body}");
}
