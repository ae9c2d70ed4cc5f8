use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn the_right_password_signs_in_with_a_fresh_session_cookie() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;

    let client = browser();
    let res = app.login(&client, " ADA@example.com ", PASSWORD).await;
    assert_redirect(&res, "/profile");
    let cookie = set_cookies(&res).into_iter().find(|c| c.starts_with("session=")).expect("session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Domain") && !cookie.contains("Secure"), "{cookie}");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(text(app.get(&client, "/profile").await).await.1.contains("Hello, Ada"));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;

    let attempts = [
        ("ada@example.com", "correct horse battery stapl"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ];
    let mut answers = Vec::new();
    for (email, password) in attempts {
        let res = app.call(&browser(), "/api/login", &[("email", email), ("password", password)]).await;
        assert!(set_cookies(&res).is_empty());
        answers.push(text(res).await);
    }
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert!(answers[0].1.contains("InvalidCredentials"), "{}", answers[0].1);
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn an_empty_field_is_named_not_called_a_wrong_password() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    for (email, password, field, message) in [
        ("", PASSWORD, "Email", "Enter your email address."),
        ("  ", "", "Email", "Enter your email address."),
        ("ada@example.com", "", "Password", "Enter your password."),
        ("nobody@example.com", "", "Password", "Enter your password."),
    ] {
        let res = app.call(&browser(), "/api/login", &[("email", email), ("password", password)]).await;
        assert!(set_cookies(&res).is_empty());
        let (status, body) = text(res).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email:?} {password:?}");
        assert!(body.contains(&format!("\"field\":\"{field}\"")) && body.contains(message), "{body}");
    }
    // Without JavaScript the message comes back by its field, with the address as typed.
    let client = browser();
    let res = app.login(&client, "ada@example.com", "").await;
    assert_redirect(&res, "/login?email=ada%40example.com");
    let (_, page) = text(app.get(&client, &location(&res)).await).await;
    assert!(page.contains("Enter your password.") && !page.contains("Incorrect email or password."), "{page}");
}

#[tokio::test]
async fn without_javascript_a_failed_login_shows_the_generic_message() {
    let app = spawn_app().await;
    let client = browser();
    let res = app.login(&client, "nobody@example.com", PASSWORD).await;
    assert_redirect(&res, "/login?email=");
    let (status, page) = text(app.get(&client, location(&res).trim_start_matches(&app.address)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"role="alert""#) && page.contains("Incorrect email or password."), "{page}");
}

#[tokio::test]
async fn an_unverified_account_is_told_to_verify_and_can_ask_for_a_new_link() {
    let app = spawn_app().await;
    let ada = browser();
    app.register(&ada, "Ada", "ada@example.com", PASSWORD).await;
    let first_link = app.last_link_to("ada@example.com");

    let (status, body) =
        text(app.call(&browser(), "/api/login", &[("email", "ada@example.com"), ("password", PASSWORD)]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("EmailNotVerified"), "{body}");
    // Only the right password reveals that: a wrong one gets the generic answer.
    let (_, body) = text(
        app.call(&browser(), "/api/login", &[("email", "ada@example.com"), ("password", "wrong password!!")]).await,
    )
    .await;
    assert!(body.contains("InvalidCredentials"), "{body}");

    let before = app.mails_to("ada@example.com");
    let res =
        app.post_form(&browser(), "/api/resend_verification", "/check-email", &[("email", "ada@example.com")]).await;
    assert_redirect(&res, "/check-email?email=ada%40example.com&purpose=verify&resent=1");
    let second_link = app.new_mail_to("ada@example.com", before).await.link().unwrap();
    assert_ne!(first_link, second_link);
    // The newer link replaces the older one.
    assert_redirect(&app.confirm_link(&browser(), &first_link).await, "/auth-redirect?error=invalid_link");
    assert_redirect(&app.confirm_link(&ada, &second_link).await, "/profile");
    assert_redirect(&app.login(&browser(), "ada@example.com", PASSWORD).await, "/profile");
}

#[tokio::test]
async fn resending_answers_the_same_for_unknown_and_verified_addresses_and_mails_nobody() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let before = app.outbox().len();
    for email in ["ada@example.com", "nobody@example.com"] {
        let res = app.post_form(&browser(), "/api/resend_verification", "/check-email", &[("email", email)]).await;
        assert_redirect(&res, "/check-email?email=");
    }
    app.background_work_done().await;
    assert_eq!(app.outbox().len(), before);
}

#[tokio::test]
async fn signing_in_again_replaces_the_session_the_browser_had() {
    let app = spawn_app().await;
    let client = app.signed_in_user("Ada", "ada@example.com").await;
    // A stale login tab posting again while signed in.
    assert_redirect(&app.login(&client, "ada@example.com", PASSWORD).await, "/profile");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn asking_for_a_new_verification_link_says_nothing_was_sent_yet_and_keeps_a_refused_address() {
    let app = spawn_app().await;
    // Where "Send me a new verification link" leads: nothing has been mailed yet, and the page says so.
    let (status, page) = text(app.get(&browser(), "/check-email").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Enter the address you signed up with"), "{page}");
    assert!(!page.contains("We sent"), "{page}");

    // Without JavaScript, a refused address comes back in the field with the message.
    let client = browser();
    let res = app.post_form(&client, "/api/resend_verification", "/check-email", &[("email", "bob@example")]).await;
    assert_redirect(&res, "/check-email?purpose=verify&typed=bob%40example");
    let (_, page) = text(app.get(&client, &location(&res)).await).await;
    assert!(page.contains(r#"role="alert""#), "{page}");
    assert!(page.contains(r#"value="bob@example""#), "{page}");
    assert!(!page.contains("We sent"), "{page}");
    assert!(app.outbox().is_empty());
}
