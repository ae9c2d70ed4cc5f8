//! Passkeys: added from the profile, signing in without a password or a second step, removed again; and
//! the ceremony's guarantees. A software authenticator (webauthn-authenticator-rs' soft passkey) plays
//! the device; the server runs at `http://localhost:<port>`, since WebAuthn needs a host name.

use crate::helpers::*;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use std::time::Duration;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

const ADA: &str = "ada@example.com";

async fn spawn_named_app() -> TestApp {
    spawn_app_with(&[("APP_BASE_URL", "http://localhost:{port}")]).await
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A device with a passkey authenticator. The soft passkey keeps no discoverable credentials of its own,
/// so this keeps what one holds (its id and the account's user handle) and hands them over as a
/// platform authenticator does when the browser asks with an empty list.
struct Device {
    authenticator: WebauthnAuthenticator<SoftPasskey>,
    held: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Device {
    fn new() -> Self {
        Self { authenticator: WebauthnAuthenticator::new(SoftPasskey::new(true)), held: Vec::new() }
    }

    /// The answer to a registration challenge (the JSON the server sent), as JSON for the server.
    fn create(&mut self, origin: &Url, options: &str) -> String {
        let mut options: Value = serde_json::from_str(options).unwrap();
        assert_eq!(options["publicKey"]["authenticatorSelection"]["residentKey"], "required");
        options["publicKey"]["authenticatorSelection"]["residentKey"] = "discouraged".into();
        options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = false.into();
        let options: CreationChallengeResponse = serde_json::from_value(options).unwrap();
        let user_handle = options.public_key.user.id.to_vec();
        let credential = self.authenticator.do_registration(origin.clone(), options).expect("registration");
        self.held.push((credential.raw_id.to_vec(), user_handle));
        serde_json::to_string(&credential).unwrap()
    }

    /// The answer to a sign-in challenge with the newest passkey this device holds.
    fn get(&mut self, origin: &Url, options: &str) -> String {
        let (id, user_handle) = self.held.last().cloned().expect("a passkey on this device");
        let mut options: Value = serde_json::from_str(options).unwrap();
        assert_eq!(options["publicKey"]["allowCredentials"], serde_json::json!([]), "the browser finds the passkey");
        options["publicKey"]["allowCredentials"] = serde_json::json!([{ "type": "public-key", "id": b64(&id) }]);
        options.as_object_mut().unwrap().remove("mediation");
        let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
        let credential = self.authenticator.do_authentication(origin.clone(), options).expect("authentication");
        let mut credential = serde_json::to_value(&credential).unwrap();
        credential["response"]["userHandle"] = b64(&user_handle).into();
        credential.to_string()
    }
}

fn origin(app: &TestApp) -> Url {
    app.state.settings.app.base_url.clone()
}

/// Calls a ceremony's first step as the hydrated page does, and returns the options it got.
async fn challenge(app: &TestApp, client: &Client, endpoint: &str) -> String {
    let form: &[(&str, &str)] = if endpoint.contains("registration") { &[("current_password", PASSWORD)] } else { &[] };
    let res = app.call(client, endpoint, form).await;
    assert_eq!(res.status(), StatusCode::OK, "{endpoint}");
    res.json::<String>().await.unwrap()
}

async fn answer(app: &TestApp, client: &Client, endpoint: &str, credential: &str) -> Response {
    app.call(client, endpoint, &[("credential", credential)]).await
}

/// Adds a passkey on `device` to the account signed in on `client`.
async fn add_passkey(app: &TestApp, client: &Client, device: &mut Device) {
    let options = challenge(app, client, "/api/start_passkey_registration").await;
    let credential = device.create(&origin(app), &options);
    let res = answer(app, client, "/api/finish_passkey_registration", &credential).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", text(res).await.1);
}

/// Signs in with the passkey on `device` from a new browser; returns the browser and the answer.
async fn sign_in_with_passkey(app: &TestApp, device: &mut Device) -> (Client, Response) {
    let laptop = browser();
    let options = challenge(app, &laptop, "/api/start_passkey_sign_in").await;
    let credential = device.get(&origin(app), &options);
    let res = answer(app, &laptop, "/api/finish_passkey_sign_in", &credential).await;
    (laptop, res)
}

fn failed(body: &str) -> bool {
    body.contains("PasskeyFailed")
}

#[tokio::test]
async fn a_passkey_added_from_the_profile_signs_in_on_its_own_and_is_listed_renamed_and_mailed() {
    let app = spawn_named_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let (_, profile) = text(app.get(&ada, "/profile").await).await;
    assert!(profile.contains(">Passkeys<") && profile.contains(">Add a passkey<"));

    let mut phone = Device::new();
    add_passkey(&app, &ada, &mut phone).await;
    app.new_mail_about(ADA, "A passkey was added", 0).await;
    let (_, profile) = text(app.get(&ada, "/profile").await).await;
    assert!(profile.contains("class=\"passkey-name\"") && profile.contains("Not used yet"), "{profile}");

    let sessions = app.count("SELECT COUNT(*) FROM sessions").await;
    let (laptop, res) = sign_in_with_passkey(&app, &mut phone).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res).iter().any(|c| c.starts_with("session=")));
    assert_eq!(app.get(&laptop, "/profile").await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions + 1);
    assert!(text(app.get(&ada, "/profile").await).await.1.contains("Last used"));

    let id: String = sqlx::query_scalar("SELECT id FROM passkeys").fetch_one(app.state.db.reads()).await.unwrap();
    let res = app.post_form(&ada, "/api/rename_passkey", "/profile", &[("id", &id), ("name", "  Work laptop ")]).await;
    assert_redirect(&res, "/profile");
    assert!(text(app.get(&ada, "/profile").await).await.1.contains("<strong>Work laptop</strong>"));
    let res = app.post_form(&ada, "/api/rename_passkey", "/profile", &[("id", &id), ("name", "")]).await;
    assert!(location(&res).contains("__err="), "an empty name is refused: {}", location(&res));
    // Nobody renames another account's passkey.
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    app.post_form(&bob, "/api/rename_passkey", "/profile", &[("id", &id), ("name", "Bob's now")]).await;
    assert!(text(app.get(&ada, "/profile").await).await.1.contains("<strong>Work laptop</strong>"));
}

#[tokio::test]
async fn item_62_a_passkey_counts_as_both_factors() {
    let app = spawn_named_app().await;
    let (ada, _, _) = crate::two_factor::ada_with_two_factor(&app).await;
    let mut phone = Device::new();
    add_passkey(&app, &ada, &mut phone).await;
    assert_redirect(&app.login(&browser(), ADA, PASSWORD).await, "/login/two-factor");
    let (laptop, res) = sign_in_with_passkey(&app, &mut phone).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get(&laptop, "/profile").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn item_63_a_ceremony_is_answered_once_by_the_browser_it_challenged_within_five_minutes() {
    let app = spawn_named_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let mut phone = Device::new();
    add_passkey(&app, &ada, &mut phone).await;

    // The same answer twice: the second finds no ceremony.
    let laptop = browser();
    let options = challenge(&app, &laptop, "/api/start_passkey_sign_in").await;
    let credential = phone.get(&origin(&app), &options);
    assert_eq!(answer(&app, &laptop, "/api/finish_passkey_sign_in", &credential).await.status(), StatusCode::OK);
    let replay = browser();
    challenge(&app, &replay, "/api/start_passkey_sign_in").await;
    let (status, body) = text(answer(&app, &replay, "/api/finish_passkey_sign_in", &credential).await).await;
    assert!(status.is_client_error() && failed(&body), "{status} {body}");

    // An answer from a browser that was not challenged.
    let options = challenge(&app, &browser(), "/api/start_passkey_sign_in").await;
    let credential = phone.get(&origin(&app), &options);
    let stranger = browser();
    let (status, body) = text(answer(&app, &stranger, "/api/finish_passkey_sign_in", &credential).await).await;
    assert!(status.is_client_error() && failed(&body));
    assert_redirect(&app.get(&stranger, "/profile").await, "/login");

    // Answered too late.
    let slow = browser();
    let options = challenge(&app, &slow, "/api/start_passkey_sign_in").await;
    let credential = phone.get(&origin(&app), &options);
    app.clock.advance(Duration::from_secs(5 * 60));
    let (status, body) = text(answer(&app, &slow, "/api/finish_passkey_sign_in", &credential).await).await;
    assert!(status.is_client_error() && failed(&body));
    assert_redirect(&app.get(&slow, "/profile").await, "/login");

    // A registration needs the session that asked for it.
    let options = challenge(&app, &ada, "/api/start_passkey_registration").await;
    let res = app
        .call(&browser(), "/api/finish_passkey_registration", &[("credential", &phone.create(&origin(&app), &options))])
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.call(&browser(), "/api/start_passkey_registration", &[("current_password", PASSWORD)]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // And the account's password: a session left open is not enough to plant a passkey.
    let res = app.call(&ada, "/api/start_passkey_registration", &[("current_password", "not it")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn item_64_a_tampered_answer_or_another_accounts_handle_signs_nobody_in() {
    let app = spawn_named_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let mut phone = Device::new();
    add_passkey(&app, &ada, &mut phone).await;
    app.signed_in_user("Bob", "bob@example.com").await;
    let bob_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = 'bob@example.com'")
        .fetch_one(app.state.db.reads())
        .await
        .unwrap();

    for tamper in ["signature", "user handle", "origin"] {
        let laptop = browser();
        let options = challenge(&app, &laptop, "/api/start_passkey_sign_in").await;
        let credential = match tamper {
            // Another site on the same host name (another port): signed for it, not for us.
            "origin" => phone.get(&Url::parse("http://localhost:1/").unwrap(), &options),
            _ => phone.get(&origin(&app), &options),
        };
        let mut credential: Value = serde_json::from_str(&credential).unwrap();
        match tamper {
            "signature" => {
                let signature = credential["response"]["signature"].as_str().unwrap().to_owned();
                let (first, rest) = signature.split_at(1);
                let flipped = format!("{}{rest}", if first == "A" { "B" } else { "A" });
                credential["response"]["signature"] = flipped.into();
            }
            "user handle" => {
                let handle = uuid_bytes(&bob_id);
                credential["response"]["userHandle"] = b64(&handle).into();
            }
            _ => {}
        }
        let (status, body) =
            text(answer(&app, &laptop, "/api/finish_passkey_sign_in", &credential.to_string()).await).await;
        assert!(status.is_client_error() && failed(&body), "{tamper}: {status} {body}");
        assert_redirect(&app.get(&laptop, "/profile").await, "/login");
    }
    // Garbage is refused the same way.
    let laptop = browser();
    challenge(&app, &laptop, "/api/start_passkey_sign_in").await;
    let (status, body) = text(answer(&app, &laptop, "/api/finish_passkey_sign_in", "{not json").await).await;
    assert!(status.is_client_error() && failed(&body));
}

fn uuid_bytes(simple: &str) -> Vec<u8> {
    (0..16).map(|i| u8::from_str_radix(&simple[2 * i..2 * i + 2], 16).unwrap()).collect()
}

#[tokio::test]
async fn item_65_removing_a_passkey_takes_the_password_then_it_signs_nobody_in() {
    let app = spawn_named_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let mut phone = Device::new();
    add_passkey(&app, &ada, &mut phone).await;
    let id: String = sqlx::query_scalar("SELECT id FROM passkeys").fetch_one(app.state.db.reads()).await.unwrap();
    let res =
        app.post_form(&ada, "/api/remove_passkey", "/profile", &[("id", &id), ("current_password", "not it")]).await;
    assert!(location(&res).contains("__err="));
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 1);
    let res =
        app.post_form(&ada, "/api/remove_passkey", "/profile", &[("id", &id), ("current_password", PASSWORD)]).await;
    assert_redirect(&res, "/profile");
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 0);
    app.new_mail_about(ADA, "A passkey was removed", 0).await;
    let (laptop, res) = sign_in_with_passkey(&app, &mut phone).await;
    assert!(failed(&text(res).await.1));
    assert_redirect(&app.get(&laptop, "/profile").await, "/login");
}

#[tokio::test]
async fn passkeys_added_used_and_removed_are_in_the_security_activity() {
    let app = spawn_named_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let mut phone = Device::new();
    add_passkey(&app, &ada, &mut phone).await;
    let (laptop, res) = sign_in_with_passkey(&app, &mut phone).await;
    assert_eq!(res.status(), StatusCode::OK);
    let id: String = sqlx::query_scalar("SELECT id FROM passkeys").fetch_one(app.state.db.reads()).await.unwrap();
    let res =
        app.post_form(&laptop, "/api/remove_passkey", "/profile", &[("id", &id), ("current_password", PASSWORD)]).await;
    assert_redirect(&res, "/profile");
    let said = crate::activity::activity_of(&app, &ada).await;
    // The soft passkey's requests carry no browser name: the passkey is named after an unknown device.
    assert!(said[0].starts_with("Passkey removed: ") && said[2].starts_with("Passkey added: "), "{said:?}");
    assert_eq!(said[1], "Signed in with a passkey");
}

#[tokio::test]
async fn passkeys_on_an_ip_address_say_they_need_a_host_name() {
    let app = spawn_app().await;
    let res = app.call(&browser(), "/api/start_passkey_sign_in", &[]).await;
    let (status, body) = text(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("PasskeysNeedAHostName"), "{body}");
}

#[tokio::test]
async fn item_66_passkey_ceremonies_are_limited_per_client_network() {
    // Ten ceremonies per password sign-in allowed: with 1 sign-in an hour, 10 ceremonies.
    let app = spawn_app_with(&[("APP_BASE_URL", "http://localhost:{port}"), ("APP_LIMIT_SIGN_IN_PER_IP", "1")]).await;
    for _ in 0..10 {
        challenge(&app, &browser(), "/api/start_passkey_sign_in").await;
    }
    let res = app.call(&browser(), "/api/start_passkey_sign_in", &[]).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.count("SELECT COUNT(*) FROM webauthn_answered").await, 0, "a ceremony started writes no row");
}

#[tokio::test]
async fn item_63_an_answered_ceremony_is_not_answered_again_even_with_its_own_cookie() {
    let app = spawn_named_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let mut phone = Device::new();
    add_passkey(&app, &ada, &mut phone).await;
    let res = app.call(&browser(), "/api/start_passkey_sign_in", &[]).await;
    let cookie = set_cookies(&res).into_iter().find(|c| c.starts_with("webauthn=")).unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let credential = phone.get(&origin(&app), &res.json::<String>().await.unwrap());
    let stored: String =
        sqlx::query_scalar("SELECT passkey FROM passkeys").fetch_one(app.state.db.reads()).await.unwrap();
    // Whoever copied both the cookie and the answer (a client keeping no cookies of its own sends them).
    let replayer = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let finish = || {
        replayer
            .post(app.url("/api/finish_passkey_sign_in"))
            .header("accept", "application/json")
            .header("cookie", &cookie)
            .form(&[("credential", &credential)])
            .send()
    };
    assert_eq!(finish().await.unwrap().status(), StatusCode::OK);
    // The passkey's signature counter as before, as a synced passkey (which always says 0) would leave
    // it: only the record of the answered ceremony stands in the way.
    sqlx::query("UPDATE passkeys SET passkey = $1").bind(&stored).execute(app.state.db.writes()).await.unwrap();
    let (status, body) = text(finish().await.unwrap()).await;
    assert!(status.is_client_error() && failed(&body), "{status} {body}");

    // A sealed sign-in altered, or a registration's token, answers nothing either.
    let res = app.call(&ada, "/api/start_passkey_registration", &[("current_password", PASSWORD)]).await;
    let registration = set_cookies(&res).into_iter().find(|c| c.starts_with("webauthn=")).unwrap();
    let registration = registration.split(';').next().unwrap().to_owned();
    let mut altered = cookie.clone().into_bytes();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
    for cookie in [String::from_utf8(altered).unwrap(), registration] {
        let res = replayer
            .post(app.url("/api/finish_passkey_sign_in"))
            .header("accept", "application/json")
            .header("cookie", &cookie)
            .form(&[("credential", &credential)])
            .send()
            .await
            .unwrap();
        let (status, body) = text(res).await;
        assert!(status.is_client_error() && failed(&body), "{status} {body}");
    }

    // Answered sign-ins are forgotten once they would have expired anyway, as are registrations nobody
    // answered (the one started above).
    let kept = "SELECT (SELECT COUNT(*) FROM webauthn_answered) + (SELECT COUNT(*) FROM passkey_registrations)";
    assert_eq!(app.count(kept).await, 2, "the sign-in answered and the registration waiting");
    app.clock.advance(Duration::from_secs(5 * 60));
    authkit::server::platform::startup::purge_expired(&app.state).await;
    assert_eq!(app.count(kept).await, 1, "an answer is kept twice as long, for app servers' clocks");
    app.clock.advance(Duration::from_secs(5 * 60));
    authkit::server::platform::startup::purge_expired(&app.state).await;
    assert_eq!(app.count(kept).await, 0);
}

#[tokio::test]
async fn an_account_has_at_most_twenty_passkeys() {
    let app = spawn_named_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let most = authkit::server::accounts::passkeys::MAX_PER_ACCOUNT;
    let mut devices: Vec<Device> = (0..most).map(|_| Device::new()).collect();
    for device in &mut devices {
        add_passkey(&app, &ada, device).await;
    }
    let res = app.call(&ada, "/api/start_passkey_registration", &[("current_password", PASSWORD)]).await;
    let (status, body) = text(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("You have 20 passkeys, the most an account can have. Remove one to add another."), "{body}");
    // Each still signs in.
    let (_, res) = sign_in_with_passkey(&app, &mut devices[most - 1]).await;
    assert_eq!(res.status(), StatusCode::OK);
}
