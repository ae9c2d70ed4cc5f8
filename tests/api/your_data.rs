//! "Your data": downloading everything the account holds, and deleting the account with a grace period in
//! which a mailed link cancels it; then the erasure, on one or several app servers, after a crash too.

use crate::helpers::*;
use crate::peers::{Relay, S3Server};
use crate::profile::{picture, upload_js};
use authkit::server::accounts::deletion;
use authkit::server::platform::startup::purge_expired;
use image::ImageFormat;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::time::Duration;

const ADA: &str = "ada@example.com";
const GRACE: Duration = Duration::from_secs(14 * 86_400);

/// Downloads the account's data as `/profile/export`'s form does, with this password.
async fn download_with(app: &TestApp, client: &reqwest::Client, password: &str) -> reqwest::Response {
    let form = [("current_password", password)];
    client.post(app.url("/api/export")).header("sec-fetch-site", "same-origin").form(&form).send().await.unwrap()
}

async fn download(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    download_with(app, client, PASSWORD).await
}

/// The files of a ZIP, by name; each one's checksum is checked as it is read. (The browser tests open the
/// download with Python's zipfile too, a reader of other hands.)
#[allow(deprecated)] // async_zip 0.0.19 marks its readers for a redesign that is not settled yet
async fn unzip(bytes: Vec<u8>) -> HashMap<String, Vec<u8>> {
    let zip = async_zip::base::read::mem::ZipFileReader::new(bytes).await.expect("a ZIP file");
    let mut files = HashMap::new();
    for index in 0..zip.file().entries().len() {
        let name = zip.file().entries()[index].filename().as_str().unwrap().to_owned();
        let mut data = Vec::new();
        let mut entry = zip.reader_with_entry(index).await.unwrap();
        entry.read_to_end_checked(&mut data).await.unwrap();
        files.insert(name, data);
    }
    files
}

async fn account_json(app: &TestApp, client: &reqwest::Client) -> (serde_json::Value, HashMap<String, Vec<u8>>) {
    let res = download(app, client).await;
    assert_eq!(res.status(), StatusCode::OK);
    let files = unzip(res.bytes().await.unwrap().to_vec()).await;
    let json = serde_json::from_slice(&files["account.json"]).expect("account.json is JSON");
    (json, files)
}

#[tokio::test]
async fn item_73_downloading_your_data_gives_one_zip_with_everything_and_no_secret() {
    let app = spawn_app().await;
    // With every kind of secret an account can hold: two-factor and its recovery codes, a pending email
    // change's link, sessions.
    let (ada, _, recovery_codes) = crate::two_factor::ada_with_two_factor(&app).await;
    let res =
        app.call(&ada, "/api/change_email", &[("new_email", "ada@new.example"), ("current_password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(app.login(&browser(), ADA, "not her password").await).await.0.is_redirection());
    app.clock.advance(Duration::from_secs(300));
    assert!(text(app.login(&browser(), ADA, "not her password").await).await.0.is_redirection());
    let (status, avatar_url) = upload_js(&app, &ada, "me.png", "image/png", picture(300, 200, ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::OK);

    let res = download(&app, &ada).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"authkit-data-20") && disposition.ends_with(".zip\""));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let bytes = res.bytes().await.unwrap().to_vec();
    let files = unzip(bytes.clone()).await;
    let mut names: Vec<&str> = files.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["account.json", "avatar.jpg"]);
    let served = ada.get(app.url(&avatar_url)).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(files["avatar.jpg"], served.to_vec(), "the picture as it is served");

    let json: serde_json::Value = serde_json::from_slice(&files["account.json"]).unwrap();
    assert_eq!(json["format"], "authkit-account-data/1");
    assert_eq!(json["profile"]["email"], ADA);
    assert_eq!(json["profile"]["name"], "Ada");
    assert_eq!(json["profile"]["avatar"], "avatar.jpg");
    assert!(json["profile"]["email_verified_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(json["sign_in_methods"]["two_factor"]["on"], true);
    assert_eq!(json["sign_in_methods"]["two_factor"]["recovery_codes_left"], 10);
    assert_eq!(json["sessions"].as_array().unwrap().len(), 1);
    let events: Vec<&str> =
        json["security_activity"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events.first(), Some(&"data_exported"), "newest first, this download included: {events:?}");
    for kind in ["account_created", "email_confirmed", "signed_in", "sign_in_failed"] {
        assert!(events.contains(&kind), "{kind} in {events:?}");
    }
    let failed = json["security_activity"].as_array().unwrap().iter().find(|e| e["event"] == "sign_in_failed").unwrap();
    assert_eq!(failed["description"], "Sign-in failed: wrong password, 2 times in 5 minutes");
    assert_eq!(failed["times"], 2);
    let (first, last) = (failed["at"].as_str().unwrap(), failed["last_at"].as_str().unwrap());
    assert!(first < last, "the first failure at {first}, the last at {last}");

    // Nothing that signs in or proves anything: no password hash, no token or its hash, no key.
    let text = String::from_utf8(files["account.json"].clone()).unwrap();
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
        .bind(ADA)
        .fetch_one(app.state.db.reads())
        .await
        .unwrap();
    let stored_secrets: Vec<String> = sqlx::query_scalar(
        "SELECT token_hash FROM sessions UNION ALL SELECT token_hash FROM email_tokens \
         UNION ALL SELECT secret_sealed FROM two_factor UNION ALL SELECT code_hash FROM recovery_codes",
    )
    .fetch_all(app.state.db.reads())
    .await
    .unwrap();
    assert!(stored_secrets.len() >= 13, "sessions, the email change's link, the sealed secret, 10 codes");
    assert!(!text.contains(&hash) && !text.contains("$argon2"), "no password hash");
    for secret in stored_secrets.iter().chain(&recovery_codes) {
        assert!(!text.contains(secret.as_str()), "{secret} is not in the export");
    }
}

#[tokio::test]
async fn item_73_only_the_signed_in_owner_downloads_from_the_site_itself_and_not_without_limit() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    assert_redirect(&app.get(&browser(), "/profile/export").await, "/login");
    assert_redirect(&download(&app, &browser()).await, "/login");
    let (status, page) = text(app.get(&ada, "/profile/export").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(">Download your data</h1>") && page.contains("action=\"/api/export\""), "{page}");
    // Another site's form: refused, and nothing is counted or recorded.
    let res = ada
        .post(app.url("/api/export"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("current_password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let recorded = "SELECT COUNT(*) FROM security_events WHERE kind = 'data_exported'";
    assert_eq!(app.count(recorded).await, 0);
    // A session left open is not enough: the password, and a wrong one gives nothing.
    assert_redirect(&download_with(&app, &ada, "not her password").await, "/profile/export?error=wrong_password");
    let (_, page) = text(app.get(&ada, "/profile/export?error=wrong_password").await).await;
    assert!(page.contains("That is not your current password."), "{page}");
    assert_eq!(app.count(recorded).await, 0);

    // One at a time, as an account's downloads are written (each read to its end).
    for _ in 0..10 {
        let res = download_when_free(&app, &ada).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.bytes().await.unwrap();
    }
    assert_eq!(app.count(recorded).await, 10);
    assert_redirect(&download_when_free(&app, &ada).await, "/profile/export?error=too_many");
    let (_, page) = text(app.get(&ada, "/profile/export?error=too_many").await).await;
    assert!(page.contains("Too many attempts. Please wait an hour and try again."), "{page}");
    app.clock.advance(Duration::from_secs(3600));
    assert_eq!(download(&app, &ada).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_long_history_is_exported_whole_newest_first_a_page_at_a_time() {
    use authkit::server::accounts::activity::{self, Event, Kind};
    use authkit::server::sessions::ClientInfo;
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let user_id: String = sqlx::query_scalar("SELECT id FROM users").fetch_one(app.state.db.reads()).await.unwrap();
    // Many at one time (a page boundary falls inside them) and many at others: the order is (time, id).
    let client = ClientInfo { ip: Some("192.0.2.7".into()), user_agent: None };
    for i in 0..1_200 {
        if i % 400 == 0 {
            app.clock.advance(Duration::from_secs(60));
        }
        let event = Event::new(Kind::SignedOut, &user_id, &client);
        activity::record(app.state.db.writes(), app.state.now(), event).await.unwrap();
    }
    let stored = app.count("SELECT COUNT(*) FROM security_events").await;
    let (json, _) = account_json(&app, &ada).await;
    let events = json["security_activity"].as_array().unwrap();
    assert_eq!(events.len() as i64, stored + 1, "every event once, and this download");
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(events.iter().filter(|e| e["event"] == "signed_out" && e["ip"] == "192.0.2.7").count(), 1_200);
}

#[tokio::test]
async fn one_app_server_writes_a_few_downloads_at_once_one_per_account_and_a_refused_one_costs_nothing() {
    use authkit::server::accounts::export::DOWNLOADS_AT_ONCE;
    // Pictures are read from an S3 bucket through a relay that can stop answering: a download waiting for
    // one holds its place, as a long history or a slow bucket would.
    let s3 = S3Server::start().await;
    s3.create_bucket("authkit-avatars").await;
    let relay = Relay::start(s3.endpoint.trim_start_matches("http://").to_owned()).await;
    let endpoint = format!("http://127.0.0.1:{}", relay.port);
    let app = spawn_app_with(&[
        ("APP_S3_BUCKET", "authkit-avatars"),
        ("APP_S3_ENDPOINT", &endpoint),
        ("AWS_ACCESS_KEY_ID", "test-key"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret"),
    ])
    .await;
    let mut owners = Vec::new();
    for n in 0..DOWNLOADS_AT_ONCE {
        let owner = app.signed_in_user("Owner", &format!("owner{n}@example.com")).await;
        upload_js(&app, &owner, "me.png", "image/png", picture(200, 200, ImageFormat::Png)).await;
        owners.push(owner);
    }
    let ada = app.signed_in_user("Ada", ADA).await;
    let exported = "SELECT COUNT(*) FROM security_events WHERE kind = 'data_exported'";

    // The uploads' connections are closed, so each download opens one to read its picture, and the stall
    // holds it.
    relay.cut();
    relay.mend();
    relay.stall();
    let mut waiting = Vec::new();
    for owner in &owners {
        let res = download(&app, owner).await;
        assert_eq!(res.status(), StatusCode::OK);
        waiting.push(res);
    }
    for _ in 0..400 {
        if relay.connections_held() == DOWNLOADS_AT_ONCE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(relay.connections_held(), DOWNLOADS_AT_ONCE, "each download waits for the bucket");
    // The same account again, and another one: each refused with why, neither recorded nor counted.
    assert_redirect(&download(&app, &owners[0]).await, "/profile/export?error=in_progress");
    assert_redirect(&download(&app, &ada).await, "/profile/export?error=busy");
    assert_eq!(app.count(exported).await, DOWNLOADS_AT_ONCE as i64);
    let (_, page) = text(app.get(&ada, "/profile/export?error=busy").await).await;
    assert!(page.contains("Many downloads are being prepared right now"), "{page}");
    let (_, page) = text(app.get(&owners[0], "/profile/export?error=in_progress").await).await;
    assert!(page.contains("Your previous download is still being prepared"), "{page}");

    // Once those end, the places are free again. The first owner's refusal cost nothing: nine more
    // downloads make the ten an hour, each the whole file, and the eleventh is refused.
    relay.release();
    for res in waiting {
        let _ = res.bytes().await;
    }
    for _ in 0..9 {
        let res = download_when_free(&app, &owners[0]).await;
        assert_eq!(res.status(), StatusCode::OK);
        let files = unzip(res.bytes().await.unwrap().to_vec()).await;
        assert!(files.contains_key("avatar.jpg"), "the whole file, picture included");
    }
    assert_redirect(&download_when_free(&app, &owners[0]).await, "/profile/export?error=too_many");
}

/// A download once the account's previous one has given its place back (just after its last byte).
async fn download_when_free(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    for _ in 0..100 {
        let res = download(app, client).await;
        if !res.status().is_redirection() || !location(&res).contains("error=in_progress") {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the previous download never gave its place back");
}

/// Deletes Ada's account from the profile's form (JavaScript off), with her password.
async fn delete_account(app: &TestApp, client: &reqwest::Client, password: &str) -> reqwest::Response {
    app.post_form(client, "/api/delete_account", "/profile", &[("current_password", password)]).await
}

#[tokio::test]
async fn item_74_deleting_the_account_ends_every_session_and_refuses_sign_in_until_the_mailed_link_cancels_it() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let phone = app.sign_in_from(ADA, FIREFOX_WINDOWS).await;
    let (_, avatar) = upload_js(&app, &ada, "me.png", "image/png", picture(200, 200, ImageFormat::Png)).await;

    // A wrong password changes nothing, and says so.
    let res = app.call(&ada, "/api/delete_account", &[("current_password", "not her password")]).await;
    let (status, body) = text(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("That is not your current password."), "{body}");
    assert_eq!(app.get(&phone, "/profile").await.status(), StatusCode::OK);

    let deletion_mails = app.mails_about(ADA, "Your account will be deleted");
    assert_redirect(&delete_account(&app, &ada, PASSWORD).await, "/login?notice=account_deleted");
    let mail = app.new_mail_about(ADA, "Your account will be deleted", deletion_mails).await;
    let erase_on = authkit::time_format::exact_utc(app.state.now() + GRACE.as_secs() as i64);
    assert!(mail.text.contains(&format!("On {erase_on} it will be erased")), "{}", mail.text);
    let cancel = mail.link().unwrap();
    assert!(cancel.contains("/cancel-deletion?token="), "{cancel}");
    assert_redirect(&app.get(&ada, "/profile").await, "/login");
    assert_redirect(&app.get(&phone, "/profile").await, "/login?notice=session_ended");

    // A right password is told why it cannot sign in, and the owner gets a new "Cancel deletion" link (the
    // first mail may be lost; the older link stops working); a wrong one learns nothing; nor does a
    // mailed link sign in.
    let (status, body) =
        text(app.call(&browser(), "/api/login", &[("email", ADA), ("password", PASSWORD)]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("AccountBeingDeleted"), "{body}");
    let first = token_param(&cancel, "token");
    let cancel = app.new_mail_about(ADA, "Your account will be deleted", deletion_mails + 1).await.link().unwrap();
    assert_ne!(token_param(&cancel, "token"), first);
    let (_, page) = text(app.get(&browser(), &format!("/cancel-deletion?token={first}")).await).await;
    assert!(page.contains("This link is invalid, was already used, or has expired"), "{page}");
    let (_, page) = text(app.get(&browser(), "/login?notice=account_deleted").await).await;
    assert!(page.contains("Your account is deleted and signed out everywhere."), "{page}");
    let res = app.call(&browser(), "/api/login", &[("email", ADA), ("password", "not her password")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let link = app.mailed_sign_in_link(ADA).await;
    app.assert_link_signs_nobody_in(&link).await;
    // (The link was right too: a new "Cancel deletion" link is mailed again.)
    let cancel = app.new_mail_about(ADA, "Your account will be deleted", deletion_mails + 2).await.link().unwrap();
    // Deleting twice is no error for anyone: a signed-out browser is sent to sign in.
    let (status, _) = text(app.call(&ada, "/api/delete_account", &[("current_password", PASSWORD)]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The link's page changes nothing by being opened; its button keeps the account, once.
    let token = token_param(&cancel, "token");
    let (status, page) = text(app.get(&browser(), &format!("/cancel-deletion?token={token}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(">Cancel deletion<"), "{page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM account_deletions").await, 1);
    let before = app.mails_about(ADA, "Your account was kept");
    let res = app.post_form(&browser(), "/api/cancel_deletion", "/cancel-deletion", &[("token", &token)]).await;
    assert_redirect(&res, "/login?notice=deletion_cancelled");
    app.new_mail_about(ADA, "Your account was kept", before).await;
    let res = app.post_form(&browser(), "/api/cancel_deletion", "/cancel-deletion", &[("token", &token)]).await;
    assert_redirect(&res, "/cancel-deletion?error=invalid_link");

    // As it was: the same password, name and picture, and the history says what happened.
    let ada = app.sign_in_from(ADA, CHROME_LINUX).await;
    let (_, page) = text(app.get(&ada, "/profile").await).await;
    assert!(page.contains(&avatar) && page.contains("Ada"), "{page}");
    let listed = crate::activity::activity_of(&app, &ada).await;
    for event in ["Account deleted: to be erased after the grace period", "Account deletion cancelled"] {
        assert!(listed.iter().any(|e| e == event), "{event:?} in {listed:?}");
    }
}

/// Every table with a `user_id` column, read from the database's own catalogue: a table added later is
/// checked too.
async fn rows_left_for(app: &TestApp, user_id: &str) -> Vec<String> {
    let tables: Vec<String> = if app.state.db.is_sqlite() {
        sqlx::query_scalar(
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'user_id'",
        )
        .fetch_all(app.state.db.reads())
        .await
        .unwrap()
    } else {
        sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.columns \
             WHERE column_name = 'user_id' AND table_schema = current_schema()",
        )
        .fetch_all(app.state.db.reads())
        .await
        .unwrap()
    };
    assert!(tables.len() >= 9, "{tables:?}");
    let mut left = Vec::new();
    for table in tables.into_iter().chain(["users".to_owned()]) {
        let column = if table == "users" { "id" } else { "user_id" };
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
            .bind(user_id)
            .fetch_one(app.state.db.reads())
            .await
            .unwrap();
        if count > 0 {
            left.push(format!("{table}: {count}"));
        }
    }
    left
}

async fn user_id_of(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(app.state.db.reads())
        .await
        .unwrap()
}

#[tokio::test]
async fn item_74_after_the_grace_period_every_row_and_file_is_erased_and_the_address_is_free_again() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    upload_js(&app, &ada, "me.png", "image/png", picture(200, 200, ImageFormat::Png)).await;
    let id = user_id_of(&app, ADA).await;
    let avatars = app.data_dir.path().join("uploads/avatars");
    assert_eq!(std::fs::read_dir(&avatars).unwrap().count(), 1);
    let before = app.mails_about(ADA, "Your account will be deleted");
    assert_redirect(&delete_account(&app, &ada, PASSWORD).await, "/login?notice=account_deleted");
    let cancel = app.new_mail_about(ADA, "Your account will be deleted", before).await.link().unwrap();

    // A second short of the date, nothing is erased; at the date the link no longer works.
    app.clock.advance(GRACE - Duration::from_secs(1));
    purge_expired(&app.state).await;
    assert!(!rows_left_for(&app, &id).await.is_empty());
    app.clock.advance(Duration::from_secs(1));
    let token = token_param(&cancel, "token");
    let (_, page) = text(app.get(&browser(), &format!("/cancel-deletion?token={token}")).await).await;
    assert!(page.contains("This link is invalid, was already used, or has expired"), "{page}");
    purge_expired(&app.state).await;
    assert_eq!(rows_left_for(&app, &id).await, Vec::<String>::new());
    assert_eq!(std::fs::read_dir(&avatars).unwrap().count(), 0, "the picture is gone");
    let (status, _, err) = app.admin(&["find-user", ADA]).await;
    assert!(!status.success() && err.contains("no account has the address ada@example.com"), "{err}");

    // A new account, nothing of the old one.
    let again = app.signed_in_user("Ada Again", ADA).await;
    let (json, files) = account_json(&app, &again).await;
    assert_eq!(json["profile"]["name"], "Ada Again");
    assert!(!files.contains_key("avatar.jpg"));
    assert!(json["security_activity"].as_array().unwrap().iter().all(|e| e["event"] != "deletion_scheduled"));
}

#[tokio::test]
async fn item_74_two_app_servers_erasing_at_once_erase_each_account_once() {
    let one = spawn_app().await;
    let two = spawn_app_with(&[("DATABASE_URL", one.state.settings.database.url())]).await;
    let emails: Vec<String> = (0..6).map(|i| format!("user{i}@example.com")).collect();
    for email in &emails {
        let client = one.signed_in_user("Someone", email).await;
        assert_redirect(&delete_account(&one, &client, PASSWORD).await, "/login?notice=account_deleted");
    }
    for app in [&one, &two] {
        app.clock.advance(GRACE + Duration::from_secs(1));
    }
    let (a, b) = tokio::join!(deletion::erase_due(&one.state), deletion::erase_due(&two.state));
    assert_eq!(a.unwrap() + b.unwrap(), 6, "each account erased by one of them");
    assert_eq!(one.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(one.count("SELECT COUNT(*) FROM account_deletions").await, 0);
}

#[tokio::test]
async fn the_operator_schedules_cancels_and_erases_deletions_and_exports_an_account() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    upload_js(&app, &ada, "me.png", "image/png", picture(200, 200, ImageFormat::Png)).await;

    let file = app.data_dir.path().join("ada.zip");
    let (status, out, err) = app.admin(&["export", ADA, file.to_str().unwrap()]).await;
    assert!(status.success(), "{err}");
    assert!(out.contains("bytes): ") && out.contains("security events, the avatar"), "{out}");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "the operator's alone");
    let files = unzip(std::fs::read(&file).unwrap()).await;
    assert!(files.contains_key("avatar.jpg"));
    let (status, out, _) = app.admin(&["export", ADA, app.data_dir.path().join("again.zip").to_str().unwrap()]).await;
    assert!(status.success(), "{out}");
    let again = unzip(std::fs::read(app.data_dir.path().join("again.zip")).unwrap()).await;
    let json: serde_json::Value = serde_json::from_slice(&again["account.json"]).unwrap();
    assert_eq!(json["security_activity"][0]["description"], "Data downloaded by the site's operator");
    let (status, _, err) = app.admin(&["export", ADA, file.to_str().unwrap()]).await;
    assert!(!status.success() && err.contains("cannot create"), "an existing file is kept: {err}");

    let before = app.mails_about(ADA, "Your account will be deleted");
    let (status, out, err) = app.admin(&["schedule-deletion", ADA]).await;
    assert!(status.success(), "{err}");
    assert!(out.starts_with("ada@example.com is deleted and will be erased on "), "{out}");
    app.new_mail_about(ADA, "Your account will be deleted", before).await;
    assert_redirect(&app.get(&ada, "/profile").await, "/login?notice=session_ended");
    let (status, _, err) = app.admin(&["schedule-deletion", ADA]).await;
    assert!(!status.success() && err.contains("is deleted already"), "{err}");
    let (_, out, _) = app.admin(&["find-user", ADA]).await;
    assert!(out.contains("deleted      yes, erased on "), "{out}");

    let (status, out, _) = app.admin(&["cancel-deletion", ADA]).await;
    assert!(status.success() && out.contains("ada@example.com is kept"), "{out}");
    let (status, _, err) = app.admin(&["cancel-deletion", ADA]).await;
    assert!(!status.success() && err.contains("is not deleted"), "{err}");
    app.sign_in_from(ADA, FIREFOX_WINDOWS).await;

    let id = user_id_of(&app, ADA).await;
    let (status, _, err) = app.admin(&["erase-now", ADA]).await;
    assert!(!status.success() && err.contains("add --yes to do it"), "{err}");
    assert!(!rows_left_for(&app, &id).await.is_empty(), "nothing is erased without --yes");
    let (status, out, err) = app.admin(&["erase-now", ADA, "--yes"]).await;
    assert!(status.success() && out.trim() == "ada@example.com is erased", "{out} {err}");
    assert!(err.contains("account erased") && err.contains(&id), "the audit log names the account: {err}");
    assert!(!err.contains(ADA), "and not its address: {err}");
    assert_eq!(rows_left_for(&app, &id).await, Vec::<String>::new());
    assert_eq!(std::fs::read_dir(app.data_dir.path().join("uploads/avatars")).unwrap().count(), 0);
    let (status, _, err) = app.admin(&["erase-now", ADA, "--yes"]).await;
    assert!(!status.success() && err.contains("no account has the address"), "{err}");
}

#[tokio::test]
async fn item_74_an_erase_killed_halfway_is_finished_later_and_files_leave_the_s3_bucket() {
    let s3 = S3Server::start().await;
    s3.create_bucket("authkit-avatars").await;
    let s3_settings = |endpoint: &str| {
        vec![
            ("APP_S3_BUCKET".to_owned(), "authkit-avatars".to_owned()),
            ("APP_S3_ENDPOINT".to_owned(), endpoint.to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "test-key".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "test-secret".to_owned()),
        ]
    };
    let direct = s3_settings(&s3.endpoint);
    let app = spawn_app_with(&direct.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).await;
    let ada = app.signed_in_user("Ada", ADA).await;
    upload_js(&app, &ada, "me.png", "image/png", picture(200, 200, ImageFormat::Png)).await;
    assert_eq!(s3.objects("authkit-avatars").await.len(), 1);
    let id = user_id_of(&app, ADA).await;

    // The operator's erase reaches the bucket through a relay that never answers: it has claimed the
    // account and is deleting its picture when it is killed (SIGKILL: nothing of it runs on).
    let relay = Relay::start(s3.endpoint.trim_start_matches("http://").to_owned()).await;
    relay.stall();
    let through_relay = s3_settings(&format!("http://127.0.0.1:{}", relay.port));
    let env: Vec<(&str, &str)> = through_relay.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut eraser = app.admin_command(&["erase-now", ADA, "--yes"], &env).spawn().unwrap();
    for _ in 0..400 {
        if relay.holds_a_connection() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(relay.holds_a_connection(), "the erase reached the bucket");
    eraser.start_kill().unwrap();
    let killed = eraser.wait().await.unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&killed), Some(9));

    // Half done: claimed, so nobody signs in and nobody cancels; nothing is erased yet.
    assert_eq!(app.count("SELECT COUNT(*) FROM account_deletions WHERE eraser IS NOT NULL").await, 1);
    let (status, body) =
        text(app.call(&browser(), "/api/login", &[("email", ADA), ("password", PASSWORD)]).await).await;
    assert!(status == StatusCode::FORBIDDEN && body.contains("AccountBeingDeleted"), "{body}");
    let (status, _, err) = app.admin_with(&["cancel-deletion", ADA], &env).await;
    assert!(!status.success() && err.contains("too late to cancel"), "{err}");
    let (status, _, err) = app.admin_with(&["erase-now", ADA, "--yes"], &env).await;
    assert!(!status.success() && err.contains("being erased by another app server"), "{err}");

    // The claim runs out, and a server's housekeeping finishes the erase: rows and the bucket's file.
    app.clock.advance(deletion::ERASE_LEASE + Duration::from_secs(60));
    purge_expired(&app.state).await;
    assert_eq!(rows_left_for(&app, &id).await, Vec::<String>::new());
    assert_eq!(s3.objects("authkit-avatars").await, vec![], "the picture left the bucket");
}
