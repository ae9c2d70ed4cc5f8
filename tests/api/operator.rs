//! The operator's commands (`authkit admin …`): the real binary, run against the test server's own
//! database and data folder, as an operator would run it beside the server.

use crate::activity::activity_of;
use crate::helpers::*;
use reqwest::StatusCode;

const ADA: &str = "ada@example.com";

#[tokio::test]
async fn item_72_an_operator_finds_an_account_lists_and_ends_its_sessions_and_locks_it() {
    let app = spawn_app().await;
    let laptop = app.signed_in_user("Ada", ADA).await;
    app.sign_in_from(ADA, FIREFOX_WINDOWS).await;

    let (status, out, err) = app.admin(&["find-user", "Ada@Example.com"]).await;
    assert!(status.success(), "{err}");
    for line in
        ["email        ada@example.com", "name         Ada", "locked       no", "sessions     2", "two-factor   off"]
    {
        assert!(out.contains(line), "{line:?} in {out}");
    }
    let (status, out, _) = app.admin(&["sessions", ADA]).await;
    assert!(status.success());
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().any(|line| line.starts_with("Firefox on Windows  from 127.0.0.1  signed in ")), "{out}");

    // Locked: every session ends, and every link mailed before (a pending email change, say) dies; a
    // right password is told to ask the operator; a wrong one learns nothing new.
    let mailed_before = app.mailed_sign_in_link(ADA).await;
    let (status, out, _) = app.admin(&["lock", ADA]).await;
    assert!(status.success());
    assert_eq!(out.trim(), "ada@example.com is locked; 2 sessions ended");
    assert_redirect(&app.get(&laptop, "/profile").await, "/login?notice=session_ended");
    let res = app.call(&browser(), "/api/login", &[("email", ADA), ("password", PASSWORD)]).await;
    let (status, body) = text(res).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("AccountLocked"), "{body}");
    let res = app.call(&browser(), "/api/login", &[("email", ADA), ("password", "not her password")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Nor does a mailed link sign in (and it stays unused).
    let link = app.mailed_sign_in_link(ADA).await;
    app.assert_link_signs_nobody_in(&link).await;
    let (_, out, _) = app.admin(&["lock", ADA]).await;
    assert_eq!(out.trim(), "ada@example.com was already locked");
    let (_, out, _) = app.admin(&["find-user", ADA]).await;
    assert!(out.contains("locked       yes, since "), "{out}");

    // Unlocked: the same link now signs in.
    let (status, out, _) = app.admin(&["unlock", ADA]).await;
    assert!((status.success(), out.trim()) == (true, "ada@example.com is unlocked"), "{out}");
    assert!(!app.confirm_link(&browser(), &mailed_before).await.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/profile"));
    let stranger = browser();
    assert_redirect(&app.confirm_link(&stranger, &link).await, "/profile");
    let (_, out, _) = app.admin(&["unlock", ADA]).await;
    assert_eq!(out.trim(), "ada@example.com was not locked");

    // Signed out everywhere, not locked.
    let (status, out, _) = app.admin(&["end-sessions", ADA]).await;
    assert!((status.success(), out.trim()) == (true, "ada@example.com: 1 session ended"), "{out}");
    assert_redirect(&app.get(&stranger, "/profile").await, "/login?notice=session_ended");
    let (_, out, _) = app.admin(&["sessions", ADA]).await;
    assert_eq!(out.trim(), "ada@example.com has no sessions");

    // (The server's clock is the tests' own, the command's the real one: their order is not compared.)
    let phone = app.sign_in_from(ADA, FIREFOX_WINDOWS).await;
    let listed = activity_of(&app, &phone).await;
    for event in [
        "Account locked by the site's operator",
        "Account unlocked by the site's operator",
        "Signed out everywhere by the site's operator (1)",
    ] {
        assert!(listed.iter().any(|e| e == event), "{event:?} in {listed:?}");
    }
}

#[tokio::test]
async fn an_operator_resends_a_verification_link_to_an_unconfirmed_address_only() {
    let app = spawn_app().await;
    let res = app.register(&browser(), "Bob", "bob@example.com", PASSWORD).await;
    assert!(res.status().is_redirection());
    let before = app.mails_about("bob@example.com", "Verify your email address");
    let (status, out, err) = app.admin(&["resend-verification", "bob@example.com"]).await;
    assert!(status.success(), "{err}");
    assert_eq!(out.trim(), "a new verification link was mailed to bob@example.com");
    let link = app.new_mail_about("bob@example.com", "Verify your email address", before).await.link().unwrap();
    assert_redirect(&app.confirm_link(&browser(), &link).await, "/reset-password?");

    let (status, _, err) = app.admin(&["resend-verification", "bob@example.com"]).await;
    assert!(!status.success());
    assert!(err.contains("bob@example.com is already verified: no link sent"), "{err}");
}

#[tokio::test]
async fn an_operator_command_says_what_is_wrong_and_fails() {
    let app = spawn_app().await;
    let (status, _, err) = app.admin(&["lock", "nobody@example.com"]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("no account has the address nobody@example.com"), "{err}");
    let (status, _, err) = app.admin(&["find-user", "not an address"]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("is not an email address"), "{err}");
    // Usage mistakes are told with the usage, as every command line tool does.
    let (status, _, err) = app.admin(&["unlock"]).await;
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("Usage: authkit admin unlock <EMAIL>"), "{err}");
    let (status, out, _) = app.admin(&["--help"]).await;
    assert!(status.success());
    for command in [
        "find-user",
        "sessions",
        "end-sessions",
        "lock",
        "unlock",
        "resend-verification",
        "schedule-deletion",
        "cancel-deletion",
        "erase-now",
        "export",
    ] {
        assert!(out.contains(command), "{command} in {out}");
    }
    // Run where there is no database (the wrong folder, say), a command says so and makes none.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = server_binary()
        .args(["admin", "find-user", "ada@example.com"])
        .env("APP_DATA_DIR", elsewhere.path())
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("there is no database at ") && err.contains("APP_DATA_DIR"), "{err}");
    assert!(!elsewhere.path().join("app.db").exists(), "no empty database was made");
}
