//! What an outside audit of the running server found (issue #25), one test or more per finding, against
//! the real server. SECURITY.md lists them as items 36 onward. Each failed before its fix.

use crate::helpers::*;
use crate::profile::upload_js;
use reqwest::{Client, StatusCode};
use std::time::Duration;

const ADA: &str = "ada@example.com";

async fn login_json(app: &TestApp, client: &Client, email: &str, password: &str) -> reqwest::Response {
    app.call(client, "/api/login", &[("email", email), ("password", password)]).await
}

/// A signed-in Ada whose browser is one of her account's known devices, then signed out of it: the
/// browser keeps its device cookie, as a browser does after logging out.
async fn known_browser_signed_out(app: &TestApp) -> Client {
    let laptop = app.signed_in_user("Ada", ADA).await;
    assert_redirect(&app.post_form(&laptop, "/api/logout", "/profile", &[]).await, "/login?notice=signed_out");
    laptop
}

// --- 36. Password strength checks cannot stall the server ---

/// Symbols zxcvbn tries substitutions for: scored whole, 100 of them took seconds of CPU.
fn worst_case_password() -> String {
    "4@8({[<3691!|70$5+%2".repeat(5)
}

#[tokio::test]
async fn item_36_strength_checks_run_off_the_executor_bounded_and_refused_when_the_queue_is_long() {
    let app = spawn_app_with(&[("APP_LIMIT_PASSWORD_CHECKS_PER_IP", "1000")]).await;
    let password = worst_case_password();
    // More at once than the queue admits (a few per core, on top of one running per core).
    let at_once = 8 * authkit::server::platform::cpu_work::cores();
    let checks: Vec<_> = (0..at_once)
        .map(|_| {
            let (url, password) = (app.url("/api/password_feedback"), password.clone());
            tokio::spawn(async move {
                let form = [("password", password.as_str()), ("name", ""), ("email", "")];
                let res = browser().post(url).header("accept", "application/json").form(&form).send().await.unwrap();
                (res.status(), std::time::Instant::now())
            })
        })
        .collect();
    // The server keeps answering while they run: this single-threaded test runtime serves the app too,
    // so a check scored on the executor would hold this request back until it was done.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let health = app.get(&browser(), "/api/health").await;
    let answered = std::time::Instant::now();
    assert_eq!(health.status(), StatusCode::OK);
    let mut statuses = Vec::new();
    let mut finished_after_health = 0;
    for check in checks {
        let (status, at) = check.await.unwrap();
        statuses.push(status);
        finished_after_health += usize::from(at > answered);
    }
    assert!(finished_after_health > 0, "every check finished before the health check was answered");
    // The queue is bounded: past it, checks are refused at once instead of piling up.
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");
}

#[tokio::test]
async fn item_36_strength_checks_are_limited_per_client_and_take_only_fields_of_form_sizes() {
    let app = spawn_app_with(&[("APP_LIMIT_PASSWORD_CHECKS_PER_IP", "3")]).await;
    let ask = |password: String, name: String| {
        let app = &app;
        async move {
            let form = [("password", password.as_str()), ("name", name.as_str()), ("email", "")];
            text(app.call(&browser(), "/api/password_feedback", &form).await).await
        }
    };
    let (status, body) = ask("a".repeat(2000), String::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = ask(PASSWORD.into(), "n".repeat(20_000)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for _ in 0..3 {
        assert_eq!(ask(PASSWORD.into(), String::new()).await.0, StatusCode::OK);
    }
    let (status, body) = ask(PASSWORD.into(), String::new()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    app.clock.advance(Duration::from_secs(3600));
    assert_eq!(ask(worst_case_password(), String::new()).await, (StatusCode::OK, "null".to_owned()));
}

// --- 37. Pre-registration takeover: see register.rs (`whoever_registers_an_address_they_do_not_own_…`,
// `what_a_sign_up_typed_counts_only_where_…`, `a_second_sign_up_cannot_take_over_…`). ---

// --- 38. Strangers cannot lock an owner out ---

#[tokio::test]
async fn item_38_failures_from_strangers_never_lock_out_a_browser_that_signed_in_before() {
    let app = spawn_app_with(&[("APP_LIMIT_SIGN_IN_PER_ACCOUNT", "4")]).await;
    let laptop = known_browser_signed_out(&app).await;
    for _ in 0..6 {
        login_json(&app, &browser(), ADA, "a stranger guessing").await;
    }
    // Guessing is stopped for everyone else, even with the right password...
    assert_eq!(login_json(&app, &browser(), ADA, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but not for the owner's own browser.
    assert_redirect(&app.login(&laptop, ADA, PASSWORD).await, "/profile");
    // And signed in, the owner can change the password: checking the current one counts per session.
    assert_eq!(app.change_password(&laptop, PASSWORD, "another horse battery staple").await.status(), StatusCode::OK);
    // The owner's browser has an allowance of its own: guessing from it is limited too.
    assert_redirect(&app.post_form(&laptop, "/api/logout", "/profile", &[]).await, "/login?notice=signed_out");
    // Its one sign-in above counted: three more tries, then it waits too.
    for _ in 0..3 {
        assert_eq!(login_json(&app, &laptop, ADA, "wrong from the laptop").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_json(&app, &laptop, ADA, "wrong again").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn item_38_strangers_using_up_an_addresses_mail_get_the_usual_answer_and_the_owner_still_gets_mail() {
    // Ada's own sign-up used one of the three.
    let app = spawn_app_with(&[("APP_LIMIT_MAIL_PER_ACCOUNT", "3")]).await;
    let laptop = known_browser_signed_out(&app).await;
    let before = app.mails_about(ADA, "Reset your password");
    for _ in 0..4 {
        let res = app.call(&browser(), "/api/request_password_reset", &[("email", ADA)]).await;
        assert_eq!(res.status(), StatusCode::OK, "never a refusal that would meet the owner too");
    }
    app.new_mail_about(ADA, "Reset your password", before + 1).await;
    app.assert_no_new_mail_to(ADA, app.mails_to(ADA)).await;
    assert_eq!(app.mails_about(ADA, "Reset your password"), before + 2, "two an hour from strangers");
    // The owner's own browser asks for a sign-in link: it comes.
    let res = app.call(&laptop, "/api/send_magic_link", &[("email", ADA)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.new_mail_about(ADA, "Your sign-in link", 0).await;
}

// --- 39. An email change counts the mail to the new address ---

#[tokio::test]
async fn item_39_asking_to_move_to_someone_elses_address_counts_against_that_addresses_mail() {
    let app = spawn_app_with(&[("APP_LIMIT_MAIL_PER_ACCOUNT", "2")]).await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let change =
        || app.call(&ada, "/api/change_email", &[("new_email", "victim@example.com"), ("current_password", PASSWORD)]);
    assert_eq!(change().await.status(), StatusCode::OK);
    assert_eq!(change().await.status(), StatusCode::OK);
    let res = change().await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    app.assert_no_new_mail_to("victim@example.com", 2).await;
}

// --- 40. Rate-limit keys are bounded ---

#[tokio::test]
async fn item_40_what_a_client_types_as_an_address_never_grows_the_rate_limits_memory() {
    let app = spawn_app_with(&[("APP_LIMIT_SIGN_IN_PER_IP", "100000")]).await;
    login_json(&app, &browser(), "warm@example.com", "a wrong password").await;
    let before = app.state.limits.keys_held().await;
    for n in 0..40 {
        let junk = format!("{n}{}", "x".repeat(60_000));
        let res = login_json(&app, &browser(), &junk, "a wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.state.limits.keys_held().await, before, "one key per typed text would have been kept");
}

// --- 41. Only the server's own words are shown as its messages ---

#[tokio::test]
async fn item_41_a_form_error_written_into_a_link_by_someone_else_is_not_shown() {
    use base64::Engine;
    let app = spawn_app().await;
    let planted = r#"{"Invalid":{"field":"Email","message":"Account suspended: call +1 555 0100"}}"#;
    let err = base64::engine::general_purpose::URL_SAFE.encode(planted);
    let (status, page) = text(app.get(&browser(), &format!("/login?__path=/api/login&__err={err}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Account suspended"), "{page}");
    // The server's own error, carried the same way after a form post without JavaScript, still shows.
    let client = browser();
    let res = app.login(&client, ADA, "a wrong password").await;
    let back = location(&res);
    assert!(back.contains("__err=") && back.contains("__sig="), "{back}");
    let (_, page) = text(app.get(&client, &back).await).await;
    assert!(page.contains("Incorrect email or password."), "{page}");
    // Tampered with, it is dropped.
    let tampered = back.replace("__err=", "__err=x");
    let (_, page) = text(app.get(&client, &tampered).await).await;
    assert!(!page.contains("Incorrect email or password."), "{page}");
    // Names written percent-encoded are the same names to the page: dropped too.
    let encoded = format!("/login?%5F%5Fpath=/api/login&%5F%5Ferr={err}");
    let (_, page) = text(app.get(&browser(), &encoded).await).await;
    assert!(!page.contains("Account suspended"), "{page}");
    // Ten minutes on, a signed error is no longer shown: a link carrying one is no use to send around.
    app.clock.advance(Duration::from_secs(601));
    let (_, page) = text(app.get(&client, &back).await).await;
    assert!(!page.contains("Incorrect email or password."), "{page}");
}

#[tokio::test]
async fn item_41_check_your_email_names_only_an_address_this_browser_asked_mail_for() {
    let app = spawn_app().await;
    let planted = "/check-email?email=Your%20account%20is%20locked%2C%20call%20%2B1%20555%200100&purpose=magic-link";
    let (_, page) = text(app.get(&browser(), planted).await).await;
    assert!(!page.contains("Your account is locked"), "{page}");
    assert!(page.contains("We sent a message to the address you entered."), "{page}");
    let client = browser();
    let res = app.call(&client, "/api/send_magic_link", &[("email", ADA)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, page) = text(app.get(&client, "/check-email?email=ada%40example.com&purpose=magic-link").await).await;
    assert!(page.contains("We sent a message to <strong>ada@example.com</strong>"), "{page}");
}

// --- 42. Login CSRF through a link, and look-alike addresses ---

#[tokio::test]
async fn item_42_a_link_continues_by_itself_only_for_the_address_this_browser_asked_for() {
    let app = spawn_app().await;
    app.signed_in_user("Mallory", "mallory@example.com").await;
    // The attacker asks for a sign-in link to their own account and sends it to Ada, who has just asked
    // for a link of her own in this browser.
    app.call(&browser(), "/api/send_magic_link", &[("email", "mallory@example.com")]).await;
    let link = app.new_mail_about("mallory@example.com", "Your sign-in link", 0).await.link().unwrap();
    let ada = browser();
    app.call(&ada, "/api/send_magic_link", &[("email", ADA)]).await;
    let preview = |client: &Client, token: String| {
        let app = &app;
        let client = client.clone();
        async move {
            let res = app.call(&client, "/api/preview_link", &[("access_token", &token)]).await;
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    let seen = preview(&ada, access_token_of(&link)).await;
    assert_eq!(seen["automatic"], false, "{seen}");
    assert_eq!(seen["account"], "mallory@example.com", "the whole address: whose account it really is");
    // The attacker's own browser, which asked for it, may continue by itself.
    let mallory = browser();
    app.call(&mallory, "/api/send_magic_link", &[("email", "mallory@example.com")]).await;
    let link = app.new_mail_about("mallory@example.com", "Your sign-in link", 1).await.link().unwrap();
    assert_eq!(preview(&mallory, access_token_of(&link)).await["automatic"], true);
}

#[tokio::test]
async fn item_42_addresses_shown_for_a_link_show_look_alike_letters_for_what_they_are() {
    let app = spawn_app().await;
    // A Cyrillic "а" (U+0430) in place of the last Latin "a".
    let look_alike = "ad\u{430}@example.com";
    app.register(&browser(), "Not Ada", look_alike, PASSWORD).await;
    let link = app.last_link_to(look_alike);
    let res = app.call(&browser(), "/api/preview_link", &[("access_token", &access_token_of(&link))]).await;
    let seen: serde_json::Value = res.json().await.unwrap();
    assert_eq!(seen["account"], "ad[U+0430]@example.com");
}

// --- 43. Addresses the mailer cannot use ---

#[tokio::test]
async fn item_43_addresses_the_mailer_refuses_are_refused_with_a_message_and_leave_nothing() {
    let app = spawn_app().await;
    for address in ["a:b@example.com", "a[b]@example.com"] {
        let form = [("name", "Ada"), ("email", address), ("password", PASSWORD)];
        let (status, body) = text(app.call(&browser(), "/api/register", &form).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{address}: {body}");
        assert!(body.contains("Enter an email address like name@example.com."), "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

// --- 44. Decoding pictures is bounded ---

/// A real PNG of `width`×`height` RGB pixels, written a row at a time (no picture held in memory here).
fn big_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row: Vec<u8> = (0..width * 3).map(|i| (i % 251) as u8).collect();
        for _ in 0..height {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    out
}

#[tokio::test]
async fn item_44_uploads_are_limited_per_account() {
    let app = spawn_app_with(&[("APP_LIMIT_AVATAR_UPLOADS_PER_ACCOUNT", "2")]).await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let picture = crate::profile::picture(64, 64, image::ImageFormat::Png);
    for _ in 0..2 {
        assert_eq!(upload_js(&app, &ada, "me.png", "image/png", picture.clone()).await.0, StatusCode::OK);
    }
    let (status, message) = upload_js(&app, &ada, "me.png", "image/png", picture).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(message.contains("many times"), "{message}");
}

#[tokio::test]
async fn item_44_decodes_wait_for_their_memory_in_a_short_queue_and_past_it_get_503() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    // 10,000 × 5,000 pixels: about 200 MB decoded, so only a few fit in the budget at once.
    let png = big_png(10_000, 5_000);
    let uploads: Vec<_> = (0..16)
        .map(|_| {
            let (app_url, ada, png) = (app.url("/api/avatar"), ada.clone(), png.clone());
            tokio::spawn(async move {
                let part = reqwest::multipart::Part::bytes(png).file_name("big.png").mime_str("image/png").unwrap();
                let form = reqwest::multipart::Form::new().part("avatar", part);
                ada.post(app_url).header("accept", "text/plain").multipart(form).send().await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for upload in uploads {
        statuses.push(upload.await.unwrap());
    }
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");
    assert_eq!(app.state.decode_memory.held_mib(), 0, "every decode gave its memory back");
}

#[tokio::test]
async fn item_44_a_48_megapixel_phone_photo_still_becomes_an_avatar() {
    let app = spawn_app_with(&[("APP_AVATAR_MAX_BYTES", "12MB")]).await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let (width, height) = (8_000u32, 6_000u32);
    // Smooth, as photos mostly are, so the file stays a few megabytes like a phone's.
    let pixels: Vec<u8> =
        (0..width * height).flat_map(|i| [((i % width) / 32) as u8, ((i / width) / 24) as u8, 160]).collect();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode(&pixels, width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    drop(pixels);
    let (status, url) = upload_js(&app, &ada, "IMG_0001.jpg", "image/jpeg", jpeg).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    assert!(url.starts_with("/avatars/"), "{url}");
}

// --- 45. A newer link kills the older one, also when requests race ---

#[tokio::test]
async fn item_45_links_issued_at_once_leave_exactly_one_that_works() {
    use authkit::server::accounts::email_tokens::{self, Purpose};
    if !on_postgresql_only().await {
        return;
    }
    let app = spawn_app().await;
    app.signed_in_user("Ada", ADA).await;
    let user_id: String = sqlx::query_scalar("SELECT id FROM users").fetch_one(app.state.db.reads()).await.unwrap();
    let issues: Vec<_> = (0..12)
        .map(|_| {
            let (db, key, user_id, now) =
                (app.state.db.clone(), app.state.secret_key.clone(), user_id.clone(), app.state.now());
            tokio::spawn(async move {
                let ttl = Duration::from_secs(900);
                email_tokens::issue(db.writes(), &key, now, &user_id, Purpose::MagicLink, ADA, ttl).await.map(|_| ())
            })
        })
        .collect();
    for issue in issues {
        issue.await.unwrap().unwrap();
    }
    let live = "SELECT COUNT(*) FROM email_tokens WHERE purpose = 'magic_link' AND used_at IS NULL";
    assert_eq!(app.count(live).await, 1);
}

/// Races between app servers happen where several connections write at once: with PostgreSQL. The
/// embedded SQLite default writes through one connection, one transaction after the other.
async fn on_postgresql_only() -> bool {
    let on = fresh_postgres_database().await.is_some();
    if !on {
        eprintln!("skipped under SQLite (one writing connection cannot race): make test runs it against PostgreSQL");
    }
    on
}

// --- 46. Server functions redirect only to this site ---

#[tokio::test]
async fn item_46_a_form_post_is_never_sent_back_to_another_site() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    // Without JavaScript, a refused change goes back to the page it came from, named by the Referer.
    let form = [("current_password", "not the password"), ("new_password", "x"), ("new_password_confirm", "x")];
    let res = ada
        .post(app.url("/api/change_password"))
        .header("accept", "text/html")
        .header("referer", "https://evil.test/phish")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = location(&res);
    assert!(to.starts_with('/') && !to.starts_with("//") && !to.contains("evil.test"), "{to}");
}

// --- 47. Paths that spell a page differently ---

/// A request sent exactly as written, without the client tidying its path.
async fn raw_get(app: &TestApp, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn item_47_dot_segments_are_resolved_before_any_guard_looks_at_the_path() {
    let app = spawn_app().await;
    for path in ["/pkg/../profile", "/pkg/%2e%2e/profile", "/pkg/.%2E/profile", "//profile", "/./profile"] {
        let answer = raw_get(&app, path).await;
        let head = answer.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        // Sent to the plain spelling, which the guards see (from there a guest is sent to /login).
        assert!(head.starts_with("http/1.1 308"), "{path}: {head}");
        let to = head.split("\r\nlocation: ").nth(1).and_then(|rest| rest.split("\r\n").next()).unwrap_or_default();
        assert_eq!(to, "/profile", "{path}");
    }
}

// --- 48. Smaller findings ---

#[tokio::test]
async fn item_48_ipv6_clients_are_limited_by_their_64_bit_network() {
    let app = spawn_app_with(&[("APP_TRUSTED_PROXY_HOPS", "1"), ("APP_LIMIT_SIGN_IN_PER_IP", "2")]).await;
    let from = |ip: &'static str| {
        let app = &app;
        async move {
            let form = [("email", ADA), ("password", "a wrong password")];
            let res = browser()
                .post(app.url("/api/login"))
                .header("accept", "application/json")
                .header("x-forwarded-for", ip)
                .form(&form)
                .send()
                .await
                .unwrap();
            res.status()
        }
    };
    assert_eq!(from("2001:db8:1:2::1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(from("2001:db8:1:2::2").await, StatusCode::UNAUTHORIZED);
    assert_eq!(from("2001:db8:1:2:ffff::3").await, StatusCode::TOO_MANY_REQUESTS, "same /64");
    assert_eq!(from("2001:db8:1:3::1").await, StatusCode::UNAUTHORIZED, "another /64");
}

#[tokio::test]
async fn item_48_two_uploads_at_once_leave_exactly_the_file_the_account_points_at() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    for _ in 0..3 {
        let pictures: Vec<_> = (0..4)
            .map(|n| {
                let (app_url, ada) = (app.url("/api/avatar"), ada.clone());
                let bytes = crate::profile::picture(64 + n, 64, image::ImageFormat::Png);
                tokio::spawn(async move {
                    let part =
                        reqwest::multipart::Part::bytes(bytes).file_name("me.png").mime_str("image/png").unwrap();
                    let form = reqwest::multipart::Form::new().part("avatar", part);
                    ada.post(app_url).header("accept", "text/plain").multipart(form).send().await.unwrap().status()
                })
            })
            .collect();
        for upload in pictures {
            assert_eq!(upload.await.unwrap(), StatusCode::OK);
        }
    }
    let pointed: String =
        sqlx::query_scalar("SELECT avatar_key FROM users").fetch_one(app.state.db.reads()).await.unwrap();
    let stored: Vec<String> = std::fs::read_dir(app.data_dir.path().join("uploads/avatars"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(stored, vec![pointed]);
}

#[tokio::test]
async fn item_48_the_dev_mailbox_needs_asking_for_and_a_browser_on_this_machine_without_a_proxy() {
    let app = spawn_app_with(&[("LEPTOS_ENV", "DEV")]).await;
    assert_eq!(app.get(&browser(), "/dev/mailbox").await.status(), StatusCode::NOT_FOUND, "DEV alone is not enough");
    let app = spawn_app_with(&[("LEPTOS_ENV", "DEV"), ("APP_DEV_MAILBOX", "true")]).await;
    assert_eq!(app.get(&browser(), "/dev/mailbox").await.status(), StatusCode::OK);
    // A proxy on the same machine makes every visitor's connection local; its headers give it away.
    let proxied = browser().get(app.url("/dev/mailbox")).header("x-forwarded-for", "203.0.113.7").send().await.unwrap();
    assert_eq!(proxied.status(), StatusCode::NOT_FOUND);
}

// --- 49. Rate limits across app servers ---

#[tokio::test]
async fn item_49_with_postgresql_a_fleet_enforces_each_limit_exactly() {
    if fresh_postgres_database().await.is_none() {
        eprintln!("skipped under SQLite (one server counts in memory): make test runs it against PostgreSQL");
        return;
    }
    let limit = [("APP_LIMIT_SIGN_IN_PER_ACCOUNT", "4")];
    let one = spawn_app_with(&limit).await;
    let url = one.state.settings.database.url().to_owned();
    let key = one.state.settings.app.secret_key.as_ref().map(secrecy::ExposeSecret::expose_secret).unwrap().to_owned();
    let two = spawn_app_with(&[limit[0], ("DATABASE_URL", &url), ("APP_SECRET_KEY", &key)]).await;
    one.signed_in_user("Ada", ADA).await;
    // A guesser spreading wrong passwords over both servers gets four tries in all, not four on each.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        for app in [&one, &two] {
            statuses.push(login_json(app, &browser(), ADA, "wrong guess").await.status());
        }
    }
    let wrong = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((wrong, refused), (4, 4), "{statuses:?}");
}

#[tokio::test]
async fn item_48_a_magic_link_used_while_the_password_is_reset_leaves_no_session_behind() {
    // With PostgreSQL, the sign-in and the reset run at once on separate connections; whichever commits
    // first, no session of the account may outlive the reset.
    if !on_postgresql_only().await {
        return;
    }
    let app = spawn_app_with(&[("APP_LIMIT_MAIL_PER_ACCOUNT", "100")]).await;
    app.signed_in_user("Ada", ADA).await;
    for round in 0..8 {
        let magic = browser();
        app.call(&magic, "/api/send_magic_link", &[("email", ADA)]).await;
        let magic_link = app.new_mail_about(ADA, "Your sign-in link", round).await.link().unwrap();
        app.call(&browser(), "/api/request_password_reset", &[("email", ADA)]).await;
        let reset_link = app.new_mail_about(ADA, "Reset your password", round).await.link().unwrap();
        let new_password = format!("a new passphrase for round {round}");
        let resetting = browser();
        let (_, reset) = tokio::join!(
            app.confirm_link(&magic, &magic_link),
            reset_password(&app, &resetting, &reset_link, &new_password, &new_password)
        );
        assert_redirect(&reset, "/login?notice=password_reset");
        assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0, "round {round}");
    }
}

#[tokio::test]
async fn item_48_session_checks_writing_activity_and_password_changes_never_wait_on_each_other() {
    // The session check writes only its own row; a password change writes the account's row, then its
    // sessions. (The check used to write the session, then the account's row: with PostgreSQL the two could
    // each hold what the other waited for.)
    if !on_postgresql_only().await {
        return;
    }
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", ADA).await;
    let mut password = PASSWORD.to_owned();
    for round in 0..6 {
        let devices: Vec<Client> = {
            let mut devices = Vec::new();
            for n in 0..4 {
                let device = client_builder().user_agent(format!("Device {n}")).build().unwrap();
                assert_redirect(&app.login(&device, ADA, &password).await, "/profile");
                devices.push(device);
            }
            devices
        };
        // A minute on, every device's next request writes its activity.
        app.clock.advance(Duration::from_secs(61));
        let new_password = format!("the passphrase of round {round}");
        let views = devices.iter().map(|d| app.get(d, "/profile"));
        let (change, views) =
            tokio::join!(app.change_password(&ada, &password, &new_password), futures_util::future::join_all(views));
        assert_eq!(change.status(), StatusCode::OK, "round {round}");
        for view in views {
            assert!(!view.status().is_server_error(), "round {round}: {}", view.status());
        }
        password = new_password;
    }
}
