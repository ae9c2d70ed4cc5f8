//! Two-factor authentication with an authenticator app and recovery codes: setting it up from the
//! profile, the second step of every sign-in, and turning it off. Codes are computed here from the
//! secret the setup page shows, at the app's injected clock.

use crate::helpers::*;
use reqwest::{Client, Response, StatusCode};
use std::time::Duration;
use totp_rs::{Algorithm, TOTP};

const ADA: &str = "ada@example.com";

/// An authenticator app, set up from the secret key the page shows.
pub struct App(TOTP);

impl App {
    pub fn from_page(page: &str) -> Self {
        let start = page.find("id=\"secret-key\">").expect("the page shows the secret key") + 16;
        let secret: String = page[start..].split('<').next().unwrap().chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = totp_rs::Secret::Encoded(secret).to_bytes().expect("base32");
        Self(TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, None, "ada".into()).unwrap())
    }

    /// The code the app shows at the server's time, moved by `steps` of 30 seconds.
    pub fn code(&self, app: &TestApp, steps: i64) -> String {
        let at = app.state.now() + steps * 30;
        self.0.generate(u64::try_from(at).unwrap())
    }
}

/// Ada, signed in, with two-factor on; her authenticator and her recovery codes.
pub async fn ada_with_two_factor(app: &TestApp) -> (Client, App, Vec<String>) {
    let ada = app.signed_in_user("Ada", ADA).await;
    let (_, page) = text(app.get(&ada, "/profile/two-factor").await).await;
    let authenticator = App::from_page(&page);
    let res = app
        .post_form(
            &ada,
            "/api/turn_on_two_factor",
            "/profile/two-factor",
            &[("code", &authenticator.code(app, 0)), ("current_password", PASSWORD)],
        )
        .await;
    assert_redirect(&res, "/profile/two-factor");
    let (_, page) = text(app.get(&ada, "/profile/two-factor").await).await;
    let codes = recovery_codes_in(&page);
    assert_eq!(codes.len(), 10, "{page}");
    // Codes from the app move on every 30 seconds; the one just used cannot sign in again.
    app.clock.advance(Duration::from_secs(30));
    (ada, authenticator, codes)
}

fn recovery_codes_in(page: &str) -> Vec<String> {
    page.split("<li><code>").skip(1).map(|rest| rest.split('<').next().unwrap().to_owned()).collect()
}

/// The first step, from a new browser: the password. Returns the browser and the answer.
async fn first_step(app: &TestApp) -> (Client, Response) {
    let laptop = browser();
    let res = app.login(&laptop, ADA, PASSWORD).await;
    (laptop, res)
}

async fn second_step(app: &TestApp, client: &Client, code: &str) -> Response {
    app.post_form(client, "/api/verify_two_factor", "/login/two-factor", &[("code", code)]).await
}

async fn sessions_in_database(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM sessions").await
}

#[tokio::test]
async fn setting_up_shows_a_qr_code_and_the_key_and_turns_on_only_with_a_right_code() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let (_, profile) = text(app.get(&ada, "/profile").await).await;
    assert!(profile.contains("Sign-in methods") && profile.contains("Set up two-factor authentication"));

    let (status, page) = text(app.get(&ada, "/profile/two-factor").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("src=\"data:image/svg+xml;base64,")
            && page.contains("alt=\"QR code for your authenticator app\"")
    );
    assert!(page.contains("<dt>Secret key</dt>") && page.contains(">Turn on<"));
    let authenticator = App::from_page(&page);
    // A reload shows the same secret: the app may have scanned it already.
    let (_, again) = text(app.get(&ada, "/profile/two-factor").await).await;
    assert_eq!(authenticator.code(&app, 0), App::from_page(&again).code(&app, 0));

    let wrong = app
        .post_form(
            &ada,
            "/api/turn_on_two_factor",
            "/profile/two-factor",
            &[("code", "000000"), ("current_password", PASSWORD)],
        )
        .await;
    // The right code without the password turns nothing on.
    let no_password = [("code", authenticator.code(&app, 0)), ("current_password", "not it".to_owned())];
    let res = app
        .post_form(
            &ada,
            "/api/turn_on_two_factor",
            "/profile/two-factor",
            &[(no_password[0].0, &no_password[0].1), (no_password[1].0, &no_password[1].1)],
        )
        .await;
    assert!(location(&res).starts_with("/profile/two-factor?"), "{}", location(&res));
    assert!(refused_code(&wrong, "/profile/two-factor") || authenticator.code(&app, 0) == "000000");
    assert_eq!(app.count("SELECT COUNT(*) FROM two_factor WHERE enabled_at IS NOT NULL").await, 0);
    // A guest, and another account, cannot turn anything on.
    let guest = app
        .post_form(
            &browser(),
            "/api/turn_on_two_factor",
            "/profile/two-factor",
            &[("code", &authenticator.code(&app, 0)), ("current_password", PASSWORD)],
        )
        .await;
    assert_redirect(&guest, "/login");

    let res = app
        .post_form(
            &ada,
            "/api/turn_on_two_factor",
            "/profile/two-factor",
            &[("code", &authenticator.code(&app, 0)), ("current_password", PASSWORD)],
        )
        .await;
    assert_redirect(&res, "/profile/two-factor");
    let (_, shown) = text(app.get(&ada, "/profile/two-factor").await).await;
    let codes = recovery_codes_in(&shown);
    assert_eq!(codes.len(), 10);
    assert!(shown.contains("Recovery codes") && shown.contains("download=\"authkit-recovery-codes.txt\""));
    assert!(shown.contains(&crate::helpers::encode(&codes[0])), "the download holds the codes");
    // Shown once.
    let (_, later) = text(app.get(&ada, "/profile/two-factor").await).await;
    assert!(recovery_codes_in(&later).is_empty() && later.contains("Two-factor authentication is on."));
    let (_, profile) = text(app.get(&ada, "/profile").await).await;
    assert!(profile.contains("10 recovery codes left") && profile.contains("Turn off two-factor authentication"));
    assert!(profile.contains("Get new recovery codes"));
    app.new_mail_about(ADA, "Two-factor authentication is on", 0).await;
}

#[tokio::test]
async fn item_54_signing_in_takes_the_second_factor_and_no_session_exists_before_it() {
    let app = spawn_app().await;
    let (_, authenticator, _) = ada_with_two_factor(&app).await;
    let sessions = sessions_in_database(&app).await;

    let (laptop, res) = first_step(&app).await;
    assert_redirect(&res, "/login/two-factor");
    let cookies = set_cookies(&res);
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("two_factor=") && c.contains("HttpOnly") && c.contains("Max-Age=300")));
    assert!(!cookies.iter().any(|c| c.starts_with("session=")), "{cookies:?}");
    assert_eq!(sessions_in_database(&app).await, sessions);
    assert_redirect(&app.get(&laptop, "/profile").await, "/login");
    let (status, page) = text(app.get(&laptop, "/login/two-factor").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(">Code</label>") && page.contains(">Verify<"));

    let res = second_step(&app, &laptop, &authenticator.code(&app, 0)).await;
    assert_redirect(&res, "/profile");
    assert_eq!(app.get(&laptop, "/profile").await.status(), StatusCode::OK);
    assert_eq!(sessions_in_database(&app).await, sessions + 1);
}

#[tokio::test]
async fn item_55_an_app_code_works_once_within_one_step_of_drift() {
    let app = spawn_app().await;
    let (_, authenticator, _) = ada_with_two_factor(&app).await;
    // Two steps off: refused.
    for steps in [-2, 2] {
        let (laptop, _) = first_step(&app).await;
        assert!(refused_code(&second_step(&app, &laptop, &authenticator.code(&app, steps)).await, "/login/two-factor"));
    }
    // One step ahead (a phone's clock running fast): accepted, once.
    let code = authenticator.code(&app, 1);
    let (laptop, _) = first_step(&app).await;
    assert_redirect(&second_step(&app, &laptop, &code).await, "/profile");
    let (phone, _) = first_step(&app).await;
    assert!(refused_code(&second_step(&app, &phone, &code).await, "/login/two-factor"), "a code replayed");
    // And no older code after it, though within the window.
    assert!(refused_code(&second_step(&app, &phone, &authenticator.code(&app, 0)).await, "/login/two-factor"));
    app.clock.advance(Duration::from_secs(60));
    assert_redirect(&second_step(&app, &phone, &authenticator.code(&app, 0)).await, "/profile");
}

#[tokio::test]
async fn item_56_recovery_codes_work_once_each_and_their_use_is_mailed() {
    let app = spawn_app().await;
    let (ada, _, codes) = ada_with_two_factor(&app).await;
    let (laptop, _) = first_step(&app).await;
    // As people type them: upper case, a space for the dash.
    let typed = codes[3].to_uppercase().replace('-', " ");
    assert_redirect(&second_step(&app, &laptop, &typed).await, "/profile");
    app.new_mail_about(ADA, "A recovery code was used", 0).await;
    let (phone, _) = first_step(&app).await;
    assert!(refused_code(&second_step(&app, &phone, &codes[3]).await, "/login/two-factor"));
    assert_redirect(&second_step(&app, &phone, &codes[4]).await, "/profile");
    assert!(text(app.get(&ada, "/profile").await).await.1.contains("8 recovery codes left"));
    // Stored only as keyed hashes.
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT code_hash FROM recovery_codes").fetch_all(app.state.db.reads()).await.unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|h| codes.iter().all(|c| !h.contains(c.as_str()))));
}

#[tokio::test]
async fn item_57_the_second_step_cannot_be_skipped_replayed_or_outlive_its_limits() {
    let app = spawn_app().await;
    let (_, authenticator, _) = ada_with_two_factor(&app).await;

    // Called directly, without the first step: back to the password.
    let stranger = browser();
    let res = second_step(&app, &stranger, &authenticator.code(&app, 0)).await;
    assert_redirect(&res, "/login?notice=sign_in_again");
    assert_redirect(&app.get(&stranger, "/profile").await, "/login");

    // The challenge belongs to the browser that passed the first step; used, it is gone.
    let (laptop, res) = first_step(&app).await;
    let challenge = set_cookies(&res).into_iter().find(|c| c.starts_with("two_factor=")).unwrap();
    let challenge = challenge.split(';').next().unwrap().to_owned();
    assert_redirect(&second_step(&app, &laptop, &authenticator.code(&app, 0)).await, "/profile");
    app.clock.advance(Duration::from_secs(30));
    let replay = browser()
        .post(app.url("/api/verify_two_factor"))
        .header("accept", "text/html")
        .header("cookie", &challenge)
        .form(&[("code", authenticator.code(&app, 0))])
        .send()
        .await
        .unwrap();
    assert_redirect(&replay, "/login?notice=sign_in_again");

    // It waits five minutes.
    let (slow, _) = first_step(&app).await;
    app.clock.advance(Duration::from_secs(5 * 60));
    assert_redirect(&second_step(&app, &slow, &authenticator.code(&app, 0)).await, "/login?notice=sign_in_again");

    // And five wrong codes end it: even the right one then goes back to the password.
    let (guesser, _) = first_step(&app).await;
    for _ in 0..5 {
        assert!(refused_code(&second_step(&app, &guesser, "123456").await, "/login/two-factor"));
    }
    assert_redirect(&second_step(&app, &guesser, &authenticator.code(&app, 0)).await, "/login?notice=sign_in_again");
    assert_eq!(app.count("SELECT COUNT(*) FROM two_factor_challenges WHERE tries > 0").await, 0);
}

#[tokio::test]
async fn item_58_second_factor_attempts_are_limited_per_account_with_the_usual_answer() {
    let app = spawn_app_with(&[("APP_LIMIT_CODE_ATTEMPTS_PER_ACCOUNT", "3")]).await;
    let (_, authenticator, _) = ada_with_two_factor(&app).await;
    // Turning it on took one attempt; two more wrong ones use up the hour.
    let (laptop, _) = first_step(&app).await;
    for _ in 0..2 {
        assert!(refused_code(&second_step(&app, &laptop, "123456").await, "/login/two-factor"));
    }
    let (phone, _) = first_step(&app).await;
    assert!(refused_code(&second_step(&app, &phone, &authenticator.code(&app, 0)).await, "/login/two-factor"));
    // Mail codes are counted apart: strangers typing those cannot hold the owner back here.
    app.clock.advance(Duration::from_secs(3600));
    let (phone, _) = first_step(&app).await;
    assert_redirect(&second_step(&app, &phone, &authenticator.code(&app, 0)).await, "/profile");
}

#[tokio::test]
async fn item_59_a_mailed_link_or_code_is_one_factor_and_a_password_reset_ends_a_waiting_second_step() {
    let app = spawn_app().await;
    let (_, authenticator, _) = ada_with_two_factor(&app).await;
    let phone = browser();
    app.post_form(&phone, "/api/send_magic_link", "/login-with-magic-link", &[("email", ADA)]).await;
    let mail = app.new_mail_about(ADA, "Your sign-in link", 0).await;
    assert_redirect(&app.confirm_link(&phone, &mail.link().unwrap()).await, "/login/two-factor");
    assert_redirect(&app.get(&phone, "/profile").await, "/login");
    assert_redirect(&second_step(&app, &phone, &authenticator.code(&app, 0)).await, "/profile");

    // A second step waiting while the password is reset: the old password no longer gets anyone in.
    let (laptop, _) = first_step(&app).await;
    app.post_form(&browser(), "/api/request_password_reset", "/forgot-password", &[("email", ADA)]).await;
    let reset = app.new_mail_about(ADA, "Reset your password", 0).await.link().unwrap();
    reset_password(&app, &browser(), &reset, "a brand new password", "a brand new password").await;
    app.clock.advance(Duration::from_secs(30));
    assert_redirect(&second_step(&app, &laptop, &authenticator.code(&app, 0)).await, "/login?notice=sign_in_again");
    // The new password still asks for the second factor.
    assert_redirect(&app.login(&browser(), ADA, "a brand new password").await, "/login/two-factor");
}

#[tokio::test]
async fn item_60_turning_off_and_new_codes_take_the_current_password_and_mail_a_notice() {
    let app = spawn_app().await;
    let (ada, authenticator, old_codes) = ada_with_two_factor(&app).await;

    let res =
        app.post_form(&ada, "/api/new_recovery_codes", "/profile", &[("current_password", "not the password")]).await;
    assert!(location(&res).starts_with("/profile?"), "{}", location(&res));
    let res = app.post_form(&ada, "/api/new_recovery_codes", "/profile", &[("current_password", PASSWORD)]).await;
    assert_redirect(&res, "/profile/two-factor");
    let new_codes = recovery_codes_in(&text(app.get(&ada, "/profile/two-factor").await).await.1);
    assert_eq!(new_codes.len(), 10);
    app.new_mail_about(ADA, "New recovery codes", 0).await;
    let (laptop, _) = first_step(&app).await;
    assert!(refused_code(&second_step(&app, &laptop, &old_codes[0]).await, "/login/two-factor"), "old codes die");
    assert_redirect(&second_step(&app, &laptop, &new_codes[0]).await, "/profile");

    let res =
        app.post_form(&ada, "/api/turn_off_two_factor", "/profile", &[("current_password", "not the password")]).await;
    assert!(location(&res).starts_with("/profile?"), "{}", location(&res));
    assert_eq!(app.count("SELECT COUNT(*) FROM two_factor").await, 1);
    let res = app.post_form(&ada, "/api/turn_off_two_factor", "/profile", &[("current_password", PASSWORD)]).await;
    assert_redirect(&res, "/profile?notice=two_factor_off");
    app.new_mail_about(ADA, "Two-factor authentication is off", 0).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM two_factor").await + app.count("SELECT COUNT(*) FROM recovery_codes").await,
        0
    );
    assert_redirect(&app.login(&browser(), ADA, PASSWORD).await, "/profile");
    let _ = authenticator;
}

#[tokio::test]
async fn item_61_the_secret_is_sealed_at_rest_and_bound_to_its_account() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let (_, page) = text(app.get(&ada, "/profile/two-factor").await).await;
    let start = page.find("id=\"secret-key\">").unwrap() + 16;
    let secret: String = page[start..].split('<').next().unwrap().chars().filter(|c| !c.is_whitespace()).collect();
    let sealed: String =
        sqlx::query_scalar("SELECT secret_sealed FROM two_factor").fetch_one(app.state.db.reads()).await.unwrap();
    assert!(!sealed.contains(&secret) && !sealed.to_lowercase().contains(&secret.to_lowercase()));
    // Moved to another account's row, it opens for nobody: Bob's setup page fails rather than show it.
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    let bob_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = 'bob@example.com'")
        .fetch_one(app.state.db.reads())
        .await
        .unwrap();
    sqlx::query("INSERT INTO two_factor (user_id, secret_sealed, created_at) VALUES ($1, $2, 0)")
        .bind(&bob_id)
        .bind(&sealed)
        .execute(app.state.db.writes())
        .await
        .unwrap();
    let (_, bobs) = text(app.get(&bob, "/profile/two-factor").await).await;
    assert!(!bobs.contains(&secret.chars().take(8).collect::<String>()));
}

#[tokio::test]
async fn a_secret_shown_for_setup_is_replaced_after_ten_minutes_and_then_purged() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let (_, page) = text(app.get(&ada, "/profile/two-factor").await).await;
    let seen = App::from_page(&page);
    app.clock.advance(Duration::from_secs(9 * 60));
    let (_, page) = text(app.get(&ada, "/profile/two-factor").await).await;
    assert_eq!(App::from_page(&page).code(&app, 0), seen.code(&app, 0), "kept within ten minutes");

    // Whoever saw it then cannot know the secret the owner turns on later.
    app.clock.advance(Duration::from_secs(2 * 60));
    let (_, page) = text(app.get(&ada, "/profile/two-factor").await).await;
    let owners = App::from_page(&page);
    assert_ne!(owners.code(&app, 0), seen.code(&app, 0), "a new secret");
    let (app, ada) = (&app, &ada);
    let turn_on = |code: String| async move {
        app.post_form(
            ada,
            "/api/turn_on_two_factor",
            "/profile/two-factor",
            &[("code", &code), ("current_password", PASSWORD)],
        )
        .await
    };
    assert!(refused_code(&turn_on(seen.code(app, 0)).await, "/profile/two-factor"));
    assert_redirect(&turn_on(owners.code(app, 0)).await, "/profile/two-factor");

    // A setup left halfway is gone from the database after ten minutes; one turned on stays.
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    assert_eq!(app.get(&bob, "/profile/two-factor").await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM two_factor").await, 2);
    app.clock.advance(Duration::from_secs(10 * 60));
    authkit::server::platform::startup::purge_expired(&app.state).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM two_factor WHERE enabled_at IS NULL").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM two_factor WHERE enabled_at IS NOT NULL").await, 1);
}

#[tokio::test]
async fn second_steps_left_halfway_are_purged() {
    let app = spawn_app().await;
    ada_with_two_factor(&app).await;
    let (_laptop, res) = first_step(&app).await;
    assert_redirect(&res, "/login/two-factor");
    let (_phone, res) = first_step(&app).await;
    assert_redirect(&res, "/login/two-factor");
    let halfway = "SELECT COUNT(*) FROM two_factor_challenges";
    assert_eq!(app.count(halfway).await, 2);

    app.clock.advance(Duration::from_secs(4 * 60));
    authkit::server::platform::startup::purge_expired(&app.state).await;
    assert_eq!(app.count(halfway).await, 2, "still answerable");
    app.clock.advance(Duration::from_secs(60));
    authkit::server::platform::startup::purge_expired(&app.state).await;
    assert_eq!(app.count(halfway).await, 0);
}

/// Two app servers over one database (PostgreSQL with `TEST_DATABASE_URL`): one code from the app,
/// typed at both at once for two sign-ins halfway, signs in once.
#[tokio::test]
async fn one_app_code_raced_on_two_app_servers_signs_in_once() {
    let one = spawn_app().await;
    let two = spawn_app_with(&[("DATABASE_URL", one.state.settings.database.url())]).await;
    let (_, authenticator, _) = ada_with_two_factor(&one).await;
    for _ in 0..5 {
        let (laptop, _) = first_step(&one).await;
        let phone = browser();
        assert_redirect(&two.login(&phone, ADA, PASSWORD).await, "/login/two-factor");
        let code = authenticator.code(&one, 0);
        let (at_one, at_two) = tokio::join!(second_step(&one, &laptop, &code), second_step(&two, &phone, &code));
        let signed_in = [&at_one, &at_two].iter().filter(|res| location(res) == "/profile").count();
        assert_eq!(signed_in, 1, "{} and {}", location(&at_one), location(&at_two));
        one.clock.advance(Duration::from_secs(30));
        two.clock.advance(Duration::from_secs(30));
    }
}
