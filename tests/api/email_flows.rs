//! Magic links, password reset, change password, change email: each end to end through the outbox.

use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;

const ADA: &str = "ada@example.com";

/// Asks for a magic link and returns it.
async fn magic_link(app: &TestApp, email: &str) -> String {
    let before = app.mails_about(email, "Your sign-in link");
    let res = app.post_form(&browser(), "/api/send_magic_link", "/login-with-magic-link", &[("email", email)]).await;
    assert_redirect(&res, "/check-email?email=");
    app.new_mail_about(email, "Your sign-in link", before).await.link().unwrap()
}

async fn reset_link(app: &TestApp, email: &str) -> String {
    let before = app.mails_about(email, "Reset your password");
    app.post_form(&browser(), "/api/request_password_reset", "/forgot-password", &[("email", email)]).await;
    app.new_mail_about(email, "Reset your password", before).await.link().unwrap()
}

#[tokio::test]
async fn a_magic_link_signs_in_once_and_verifies_the_address() {
    let app = spawn_app().await;
    let client = browser();
    app.register(&client, "Ada", ADA, PASSWORD).await;
    let link = magic_link(&app, ADA).await;
    assert!(link.starts_with(&format!("{}/auth-redirect?access_token=", app.address)), "{link}");
    let mail = app.outbox().into_iter().rfind(|m| m.subject == "Your sign-in link").unwrap();
    assert!(mail.text.contains("work once and expire in 15 minutes") && mail.html.contains("Log in"));

    // Opened in the browser that signed up (elsewhere it leads to choosing a password: see below).
    assert_redirect(&app.confirm_link(&client, &link).await, "/profile");
    assert_eq!(app.get(&client, "/profile").await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL").await, 1);
    assert_redirect(&app.confirm_link(&browser(), &link).await, "/auth-redirect?error=invalid_link");
}

#[tokio::test]
async fn magic_link_requests_answer_the_same_for_unknown_addresses_and_mail_nobody() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let known = app.post_form(&browser(), "/api/send_magic_link", "/login-with-magic-link", &[("email", ADA)]).await;
    let unknown = app
        .post_form(&browser(), "/api/send_magic_link", "/login-with-magic-link", &[("email", "nobody@example.com")])
        .await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(location(&known).replace("ada", "X"), location(&unknown).replace("nobody", "X"));
    assert_eq!(cookie_shapes(&known), cookie_shapes(&unknown));
    assert_eq!(text(known).await.1, text(unknown).await.1);
    app.assert_no_new_mail_to("nobody@example.com", 0).await;
}

#[tokio::test]
async fn a_magic_link_expires_after_15_minutes_and_a_newer_one_replaces_it() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let first = magic_link(&app, ADA).await;
    let second = magic_link(&app, ADA).await;
    assert_redirect(&app.confirm_link(&browser(), &first).await, "/auth-redirect?error=invalid_link");
    app.clock.advance(Duration::from_secs(15 * 60));
    assert_redirect(&app.confirm_link(&browser(), &second).await, "/auth-redirect?error=invalid_link");
    let third = magic_link(&app, ADA).await;
    app.clock.advance(Duration::from_secs(14 * 60));
    assert_redirect(&app.confirm_link(&browser(), &third).await, "/profile");
}

#[tokio::test]
async fn a_token_only_works_for_its_own_purpose() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let reset_mail_link = reset_link(&app, ADA).await;
    let reset_token = token_param(&reset_mail_link, "token");
    let res =
        app.post_form(&browser(), "/api/sign_in_with_link", "/auth-redirect", &[("access_token", &reset_token)]).await;
    assert_redirect(&res, "/auth-redirect?error=invalid_link");

    let magic = magic_link(&app, ADA).await;
    let res = reset_password(
        &app,
        &browser(),
        &magic.replace("access_token", "token"),
        "a brand new password",
        "a brand new password",
    )
    .await;
    assert_redirect(&res, "/reset-password?error=invalid_link");
    // Both still work for what they were made for (the magic link first: a reset voids every other link).
    assert_redirect(&app.confirm_link(&browser(), &magic).await, "/profile");
    assert_redirect(
        &reset_password(&app, &browser(), &reset_mail_link, "a brand new password", "a brand new password").await,
        "/login?notice=password_reset",
    );
}

#[tokio::test]
async fn forgot_then_reset_ends_every_session_and_only_the_new_password_works() {
    let app = spawn_app().await;
    let laptop = app.signed_in_user("Ada", ADA).await;
    let phone = app.sign_in_from(ADA, "phone").await;

    let known = app.post_form(&browser(), "/api/request_password_reset", "/forgot-password", &[("email", ADA)]).await;
    let unknown = app
        .post_form(&browser(), "/api/request_password_reset", "/forgot-password", &[("email", "no@example.com")])
        .await;
    assert_eq!(location(&known).replace("ada", "X"), location(&unknown).replace("no", "X"));
    assert!(location(&known).contains("purpose=reset"));
    let link = app.new_mail_about(ADA, "Reset your password", 0).await.link().unwrap();
    assert!(link.starts_with(&format!("{}/reset-password?token=", app.address)), "{link}");
    app.assert_no_new_mail_to("no@example.com", 0).await;

    // Opening the page uses nothing and leaks nothing.
    let page = app.get(&browser(), link.trim_start_matches(&app.address)).await;
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let (_, html) = text(page).await;
    assert!(html.contains("New password") && html.contains("Confirm new password"), "{html}");
    // The page is for guests: opened where Ada is signed in, it sends her to her profile, which says why
    // and what to do; the link stays good (it is used below).
    let res = app.get(&laptop, link.trim_start_matches(&app.address)).await;
    assert_redirect(&res, "/profile?notice=reset_link_not_used");
    let (_, html) = text(app.get(&laptop, &location(&res)).await).await;
    assert!(html.contains("the password reset link was not used"), "{html}");

    // A typo is refused without using up the link.
    let res = reset_password(&app, &browser(), &link, "a brand new password", "a brand new pasword").await;
    assert!(location(&res).starts_with("/reset-password?token="), "{}", location(&res));
    let (_, html) = text(app.get(&browser(), &location(&res)).await).await;
    assert!(html.contains("The two passwords do not match"), "{html}");

    let res = reset_password(&app, &browser(), &link, "a brand new password", "a brand new password").await;
    assert_redirect(&res, "/login?notice=password_reset");
    let (_, html) = text(app.get(&browser(), "/login?notice=password_reset").await).await;
    assert!(html.contains("Your password has been reset."));
    for ended in [&laptop, &phone] {
        assert_redirect(&app.get(ended, "/profile").await, "/login?notice=session_ended");
    }
    assert_redirect(&app.login(&browser(), ADA, PASSWORD).await, "/login?email=");
    assert_redirect(&app.login(&browser(), ADA, "a brand new password").await, "/profile");
    app.new_mail_about(ADA, "Your password was changed", 0).await;

    // The link is spent.
    assert_redirect(
        &reset_password(&app, &browser(), &link, "another new password", "another new password").await,
        "/reset-password?error=invalid_link",
    );
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let link = reset_link(&app, ADA).await;
    app.clock.advance(Duration::from_secs(3600));
    let (_, html) = text(app.get(&browser(), link.trim_start_matches(&app.address)).await).await;
    assert!(html.contains("This reset link is invalid, was already used, or has expired"), "{html}");
    assert_redirect(
        &reset_password(&app, &browser(), &link, "a brand new password", "a brand new password").await,
        "/reset-password?error=invalid_link",
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let this = app.signed_in_user("Ada", ADA).await;
    let other = app.sign_in_from(ADA, "other device").await;
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let (app, this) = (&app, &this);
        async move {
            text(
                app.call(
                    this,
                    "/api/change_password",
                    &[("current_password", current), ("new_password", new), ("new_password_confirm", confirm)],
                )
                .await,
            )
            .await
        }
    };

    let (status, body) = change("not my password", "a brand new password", "a brand new password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("CurrentPassword") && body.contains("That is not your current password."), "{body}");
    let (_, body) = change(PASSWORD, "short", "short").await;
    assert!(body.contains("NewPassword") && body.contains("at least 12"), "{body}");
    let (_, body) = change(PASSWORD, "a brand new password", "something else").await;
    assert!(body.contains("NewPasswordConfirm"), "{body}");
    assert_eq!(app.get(&other, "/profile").await.status(), StatusCode::OK, "refusals change nothing");

    let (status, _) = change(PASSWORD, "a brand new password", "a brand new password").await;
    assert_eq!(status, StatusCode::OK);
    assert_redirect(&app.get(&other, "/profile").await, "/login?notice=session_ended");
    assert_eq!(app.get(&this, "/profile").await.status(), StatusCode::OK);
    app.new_mail_about(ADA, "Your password was changed", 0).await;
    assert_redirect(&app.login(&browser(), ADA, "a brand new password").await, "/profile");
    assert_redirect(&app.login(&browser(), ADA, PASSWORD).await, "/login?email=");
}

#[tokio::test]
async fn changing_the_email_happens_only_when_the_link_to_the_new_address_is_used() {
    let app = spawn_app().await;
    let this = app.signed_in_user("Ada", ADA).await;
    let new = "ada.lovelace@example.org";

    let (status, body) =
        text(app.call(&this, "/api/change_email", &[("new_email", new), ("current_password", "wrong password")]).await)
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("CurrentPassword"), "{body}");
    let (_, body) =
        text(app.call(&this, "/api/change_email", &[("new_email", ADA), ("current_password", PASSWORD)]).await).await;
    assert!(body.contains("That is already your email address."), "{body}");

    let before_old = app.mails_to(ADA);
    let res = app
        .post_form(&this, "/api/change_email", "/profile", &[("new_email", new), ("current_password", PASSWORD)])
        .await;
    assert_redirect(&res, "/profile?notice=email_change_requested");
    let confirm = app.new_mail_to(new, 0).await;
    assert_eq!(confirm.subject, "Confirm your new email address");
    let notice = app.new_mail_to(ADA, before_old).await;
    assert_eq!(notice.subject, "A change of your email address was requested");
    assert!(notice.text.contains(new));
    // The account's name goes only to its proven address: anyone may name their account anything, and
    // ask to move it to anyone's inbox.
    assert_eq!(confirm.text.lines().next(), Some("Hello,"), "{}", confirm.text);
    assert_eq!(notice.text.lines().next(), Some("Hello Ada,"), "{}", notice.text);
    let link = confirm.link().unwrap();
    assert!(link.starts_with(&format!("{}/confirm-email-change?token=", app.address)), "{link}");

    // Nothing has changed yet; opening the page changes nothing either.
    let page = app.get(&browser(), link.trim_start_matches(&app.address)).await;
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(text(page).await.1.contains("Confirm new address"));
    assert_redirect(&app.login(&browser(), ADA, PASSWORD).await, "/profile");

    let token = token_param(&link, "token");
    let res = app.post_form(&this, "/api/confirm_email_change", "/confirm-email-change", &[("token", &token)]).await;
    assert_redirect(&res, "/profile?notice=email_changed");
    assert!(text(app.get(&this, "/profile").await).await.1.contains(new));
    assert_redirect(&app.login(&browser(), new, PASSWORD).await, "/profile");
    assert_redirect(&app.login(&browser(), ADA, PASSWORD).await, "/login?email=");
    let res =
        app.post_form(&browser(), "/api/confirm_email_change", "/confirm-email-change", &[("token", &token)]).await;
    assert_redirect(&res, "/confirm-email-change?error=invalid_link");
}

#[tokio::test]
async fn moving_to_an_address_of_another_account_looks_the_same_and_changes_nothing() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    app.signed_in_user("Bob", "bob@example.com").await;
    let bob_before = app.mails_to("bob@example.com");
    let res = app
        .post_form(
            &ada,
            "/api/change_email",
            "/profile",
            &[("new_email", "bob@example.com"), ("current_password", PASSWORD)],
        )
        .await;
    assert_redirect(&res, "/profile?notice=email_change_requested");
    let mail = app.new_mail_to("bob@example.com", bob_before).await;
    assert_eq!(mail.subject, "Someone tried to use your email address");
    assert!(mail.link().is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM email_tokens WHERE purpose = 'change_email'").await, 0);
}

#[tokio::test]
async fn without_javascript_refused_forms_come_back_filled_in() {
    let app = spawn_app().await;
    let client = browser();
    let res = app.register(&client, "Ada <3", "ada@example.com", "short").await;
    assert_redirect(&res, "/register?name=Ada%20%3C3&email=ada%40example.com&__path=");
    let (_, page) = text(app.get(&client, &location(&res)).await).await;
    assert!(page.contains(r#"value="Ada &lt;3""#) && page.contains(r#"value="ada@example.com""#), "{page}");
    assert!(page.contains("Use at least 12 characters"));

    let res = app.login(&client, "ada@example.com", "whatever it is").await;
    let (_, page) = text(app.get(&client, &location(&res)).await).await;
    assert!(page.contains(r#"value="ada@example.com""#) && page.contains("Incorrect email or password."), "{page}");
}

#[tokio::test]
async fn a_password_reset_kills_every_pending_link_including_an_email_change() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    // Someone with Ada's password signs in elsewhere and asks to move her account to their address…
    let intruder = app.sign_in_from(ADA, "intruder").await;
    app.post_form(
        &intruder,
        "/api/change_email",
        "/profile",
        &[("new_email", "evil@example.net"), ("current_password", PASSWORD)],
    )
    .await;
    let change_link = app.new_mail_to("evil@example.net", 0).await.link().unwrap();
    // …Ada follows the notice's advice and resets her password…
    let link = reset_link(&app, ADA).await;
    assert_redirect(
        &reset_password(&app, &browser(), &link, "a brand new password", "a brand new password").await,
        "/login?notice=password_reset",
    );
    // …and the intruder's link is dead.
    let token = token_param(&change_link, "token");
    let res =
        app.post_form(&browser(), "/api/confirm_email_change", "/confirm-email-change", &[("token", &token)]).await;
    assert_redirect(&res, "/confirm-email-change?error=invalid_link");
    assert_redirect(&app.login(&browser(), ADA, "a brand new password").await, "/profile");
}

#[tokio::test]
async fn signing_in_by_magic_link_discards_a_password_nobody_verified() {
    let app = spawn_app().await;
    // An attacker registers Ada's address first, with a password of their own, and never verifies it.
    app.register(&browser(), "Not Ada", ADA, "the attackers password").await;
    // Ada, who never signed up, uses a magic link: it proves the mailbox is hers, and she chooses the
    // password.
    let link = magic_link(&app, ADA).await;
    let ada = browser();
    let res = app.confirm_link(&ada, &link).await;
    assert_redirect(&res, "/reset-password?token=");
    assert_redirect(&app.login(&browser(), ADA, "the attackers password").await, "/login?email=");
    let choose = format!("{}{}", app.address, location(&res));
    assert_redirect(&reset_password(&app, &ada, &choose, PASSWORD, PASSWORD).await, "/login?notice=password_reset");
    assert_redirect(&app.login(&browser(), ADA, PASSWORD).await, "/profile");
    assert_redirect(&app.login(&browser(), ADA, "the attackers password").await, "/login?email=");
}

#[tokio::test]
async fn a_password_change_renews_this_sessions_cookie() {
    let app = spawn_app().await;
    let this = browser();
    app.register(&this, "Ada", ADA, PASSWORD).await;
    let res = app.confirm_link(&this, &app.last_link_to(ADA)).await;
    let old = session_cookie(&res);
    let res = app.change_password(&this, PASSWORD, "a brand new password").await;
    assert_eq!(res.status(), StatusCode::OK);
    let renewed = set_cookies(&res).into_iter().find(|c| c.starts_with("session=") && !c.starts_with("session=;"));
    assert!(renewed.is_some_and(|c| !c.starts_with(&old)), "a new cookie for this device");
    assert_eq!(app.get(&this, "/profile").await.status(), StatusCode::OK);
    let copy =
        browser().get(app.url("/profile")).header("cookie", &old).header("accept", "text/html").send().await.unwrap();
    assert_redirect(&copy, "/login?notice=session_ended");
}

#[tokio::test]
async fn a_newer_reset_link_replaces_the_older_one() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let first = reset_link(&app, ADA).await;
    let second = reset_link(&app, ADA).await;
    assert_redirect(
        &reset_password(&app, &browser(), &first, "a brand new password", "a brand new password").await,
        "/reset-password?error=invalid_link",
    );
    assert_redirect(
        &reset_password(&app, &browser(), &second, "a brand new password", "a brand new password").await,
        "/login?notice=password_reset",
    );
}

#[tokio::test]
async fn a_link_continues_by_itself_only_in_the_browser_that_asked_for_it() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let asker = browser();
    let before = app.mails_to(ADA);
    app.post_form(&asker, "/api/send_magic_link", "/login-with-magic-link", &[("email", ADA)]).await;
    let link = app.new_mail_to(ADA, before).await.link().unwrap();
    let token = access_token_of(&link);

    let preview = |client: reqwest::Client| {
        let (app, token) = (&app, token.clone());
        async move { text(app.call(&client, "/api/preview_link", &[("access_token", &token)]).await).await.1 }
    };
    assert!(preview(asker.clone()).await.contains(r#""automatic":true"#));
    let elsewhere = preview(browser()).await;
    assert!(
        elsewhere.contains(r#""automatic":false"#) && elsewhere.contains(r#""account":"ada@example.com""#),
        "{elsewhere}"
    );
    let (_, page) = text(app.get(&browser(), link.trim_start_matches(&app.address)).await).await;
    assert!(page.contains("ada@example.com") && page.contains("Continue only if you asked for this link"), "{page}");
    // Still usable after all that looking.
    assert_redirect(&app.confirm_link(&browser(), &link).await, "/profile");
}

#[tokio::test]
async fn without_javascript_refused_account_changes_come_back_with_their_messages() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let res = app
        .post_form(
            &ada,
            "/api/change_email",
            "/profile",
            &[("new_email", "not-an-address"), ("current_password", PASSWORD)],
        )
        .await;
    assert_redirect(&res, "/profile?new_email=not-an-address&__path=");
    let (_, page) = text(app.get(&ada, &location(&res)).await).await;
    assert!(page.contains(r#"value="not-an-address""#) && page.contains("Enter an email address like"), "{page}");

    let res = app
        .post_form(
            &ada,
            "/api/change_password",
            "/profile",
            &[
                ("current_password", "wrong one!"),
                ("new_password", "a brand new password"),
                ("new_password_confirm", "a brand new password"),
            ],
        )
        .await;
    let (_, page) = text(app.get(&ada, location(&res).trim_start_matches(&app.address)).await).await;
    assert!(page.contains("That is not your current password."), "{page}");
}

#[tokio::test]
async fn confirming_an_email_change_while_someone_else_is_signed_in_goes_to_the_login_page() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    app.post_form(
        &ada,
        "/api/change_email",
        "/profile",
        &[("new_email", "ada@new.example"), ("current_password", PASSWORD)],
    )
    .await;
    let token = token_param(&app.new_mail_to("ada@new.example", 0).await.link().unwrap(), "token");
    let res = app.post_form(&bob, "/api/confirm_email_change", "/confirm-email-change", &[("token", &token)]).await;
    assert_redirect(&res, "/login?notice=email_changed");
    let notice = app.new_mail_about(ADA, "Your email address was changed", 0).await;
    assert!(notice.text.contains("ada@new.example"));
}

#[tokio::test]
async fn an_email_change_link_confirms_by_itself_only_where_its_requester_is_signed_in() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let new = "ada@new.example";
    let res = app
        .post_form(&ada, "/api/change_email", "/profile", &[("new_email", new), ("current_password", PASSWORD)])
        .await;
    assert_redirect(&res, "/profile?notice=email_change_requested");
    let link = app.new_mail_to(new, 0).await.link().unwrap();
    let path = link.trim_start_matches(&app.address);
    let token = token_param(&link, "token");

    // Whoever reads the new address's mail (or a scanner) sees which change it is and has to click.
    let (_, page) = text(app.get(&browser(), path).await).await;
    assert!(page.contains("Continue only if you asked for this change yourself."), "{page}");
    assert!(page.contains("a•••@example.com") && page.contains(new) && !page.contains(ADA), "{page}");
    assert!(page.contains("&quot;automatic&quot;:false") && page.contains("Confirm new address"), "{page}");
    // So does somebody else who is signed in.
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    let (_, page) = text(app.get(&bob, path).await).await;
    assert!(page.contains("Continue only if you asked for this change yourself."), "{page}");
    assert!(page.contains("&quot;automatic&quot;:false"), "{page}");
    let (_, preview) = text(app.call(&browser(), "/api/preview_email_change", &[("token", &token)]).await).await;
    assert!(preview.contains(r#""usable":true"#) && preview.contains(r#""automatic":false"#), "{preview}");
    // Where the requester is signed in, the page confirms by itself once hydrated.
    let (_, page) = text(app.get(&ada, path).await).await;
    assert!(page.contains("&quot;automatic&quot;:true"), "{page}");
    assert!(!page.contains("Continue only if you asked"), "{page}");
    let (_, preview) = text(app.call(&ada, "/api/preview_email_change", &[("token", &token)]).await).await;
    assert!(preview.contains(r#""automatic":true"#), "{preview}");

    // All that looking used nothing: the account keeps its address and the link still works.
    assert!(text(app.get(&ada, "/profile").await).await.1.contains(ADA));
    let res =
        app.post_form(&browser(), "/api/confirm_email_change", "/confirm-email-change", &[("token", &token)]).await;
    assert_redirect(&res, "/login?notice=email_changed");
    assert!(text(app.get(&ada, "/profile").await).await.1.contains(new));
    // Once used, the page says so instead of offering the button.
    let (_, page) = text(app.get(&ada, path).await).await;
    assert!(page.contains("This link is invalid") && !page.contains("Confirm new address"), "{page}");
}

#[tokio::test]
async fn an_email_change_link_to_an_address_taken_since_is_shown_as_unusable() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let new = "ada@new.example";
    app.post_form(&ada, "/api/change_email", "/profile", &[("new_email", new), ("current_password", PASSWORD)]).await;
    let link = app.new_mail_to(new, 0).await.link().unwrap();
    app.signed_in_user("Someone", new).await;
    let (_, page) = text(app.get(&ada, link.trim_start_matches(&app.address)).await).await;
    assert!(page.contains("This link is invalid") && !page.contains("Confirm new address"), "{page}");
}
