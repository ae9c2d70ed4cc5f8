//! The settings that take the app past one machine, each against a real peer: mail through an SMTP
//! server, avatars in an S3-compatible store, two app servers over one database, and that database
//! going away and coming back.

use crate::helpers::*;
use crate::peers::{Relay, S3Server, SmtpSink};
use crate::profile::{picture, upload_js};
use image::ImageFormat;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const ADA: &str = "ada@example.com";

#[tokio::test]
async fn with_smtp_mail_goes_to_the_mail_server_and_its_links_work() {
    let smtp = SmtpSink::start(0).await;
    let app = spawn_app_with(&[("SMTP_URL", &smtp.url)]).await;
    let client = browser();
    assert_redirect(&app.register(&client, "Ada", ADA, PASSWORD).await, "/check-email");

    let mail = smtp.mail_to(ADA, "Verify your email address", Duration::from_secs(10)).await;
    assert_redirect(&app.confirm_link(&client, &mail.link().unwrap()).await, "/profile");
    assert!(app.outbox().is_empty(), "nothing goes to the outbox folder when SMTP is set");
}

#[tokio::test]
async fn a_mail_server_refusing_for_a_while_gets_the_mail_later_by_retrying() {
    // The first two tries get "451 try again later"; the third is taken.
    let smtp = SmtpSink::start(2).await;
    let app = spawn_app_with(&[("SMTP_URL", &smtp.url), ("APP_MAIL_RETRY_DELAY", "200ms")]).await;
    assert_redirect(&app.register(&browser(), "Ada", ADA, PASSWORD).await, "/check-email");
    assert!(smtp.mails().is_empty(), "the first try was refused");
    let mail = smtp.mail_to(ADA, "Verify your email address", Duration::from_secs(10)).await;
    assert!(mail.link().is_some());
}

#[tokio::test]
async fn a_permanent_refusal_is_not_retried() {
    let smtp = SmtpSink::start(0).await;
    let app = spawn_app_with(&[("SMTP_URL", &smtp.url), ("APP_MAIL_RETRY_DELAY", "100ms")]).await;
    // The sink answers mail to bounce@… with "550 no such mailbox".
    assert_redirect(&app.register(&browser(), "Bounce", "bounce@example.com", PASSWORD).await, "/check-email");
    // A later mail to a good address is delivered: the queue moved on past the refused one.
    assert_redirect(&app.register(&browser(), "Ada", ADA, PASSWORD).await, "/check-email");
    smtp.mail_to(ADA, "Verify your email address", Duration::from_secs(10)).await;
    // Retried, the refused mail would have been tried again at 100, 200, 400 and 800 ms.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(smtp.permanent_refusals(), 1, "a 5xx answer is final");
}

/// A mail server that accepts connections and then says nothing: a request must not wait for it.
async fn silent_mail_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    (url, held)
}

#[tokio::test]
async fn a_silent_mail_server_never_holds_up_a_request() {
    let (url, _server) = silent_mail_server().await;
    let app = spawn_app_with(&[("SMTP_URL", &url), ("APP_SMTP_TIMEOUT", "60s")]).await;
    let started = Instant::now();
    assert_redirect(&app.register(&browser(), "Ada", ADA, PASSWORD).await, "/check-email");
    let res = app.call(&browser(), "/api/send_magic_link", &[("email", ADA)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Sending waits up to a minute for the silent server; the answers came long before that.
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn when_mail_has_piled_up_a_request_gets_a_clear_message_not_a_500() {
    let (url, _server) = silent_mail_server().await;
    let app = spawn_app_with(&[("SMTP_URL", &url), ("APP_SMTP_TIMEOUT", "60s"), ("APP_MAIL_QUEUE_LIMIT", "1")]).await;
    assert_redirect(&app.register(&browser(), "Ada", ADA, PASSWORD).await, "/check-email");

    // The queue holds Ada's mail; Bob's sign-up is told to try again later.
    let form = [("name", "Bob"), ("email", "bob@example.com"), ("password", PASSWORD)];
    let (status, body) = text(app.call(&browser(), "/api/register", &form).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("MailUnavailable"), "{body}");
    // Without JavaScript: back to the form, which shows the message and keeps what was typed.
    let res = app.post_form(&browser(), "/api/register", "/register", &form).await;
    let page = app.get(&browser(), &location(&res)).await.text().await.unwrap();
    assert!(page.contains("We could not send the email right now. Please try again in a few minutes."), "{page}");
}

#[tokio::test]
async fn avatars_live_in_an_s3_compatible_store_and_the_replaced_one_is_deleted() {
    let s3 = S3Server::start().await;
    s3.create_bucket("authkit-avatars").await;
    let app = spawn_app_with(&[
        ("APP_S3_BUCKET", "authkit-avatars"),
        ("APP_S3_ENDPOINT", &s3.endpoint),
        ("AWS_ACCESS_KEY_ID", "test-key"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret"),
    ])
    .await;
    let ada = app.signed_in_user("Ada", ADA).await;

    let (status, first) = upload_js(&app, &ada, "me.png", "image/png", picture(400, 300, ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let served = ada.get(app.url(&first)).send().await.unwrap().bytes().await.unwrap();
    assert!(image::load_from_memory(&served).is_ok());
    let stored = s3.objects("authkit-avatars").await;
    assert_eq!(stored, vec![(first.trim_start_matches('/').to_owned(), served.len())], "served from the bucket");
    assert!(!app.data_dir.path().join("uploads").exists(), "nothing on the local disk");

    let (status, second) = upload_js(&app, &ada, "me.jpg", "image/jpeg", picture(300, 300, ImageFormat::Jpeg)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let stored: Vec<String> = s3.objects("authkit-avatars").await.into_iter().map(|(key, _)| key).collect();
    assert_eq!(stored, vec![second.trim_start_matches('/').to_owned()], "the old one is deleted");
    assert_eq!(ada.get(app.url(&first)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn two_app_servers_over_one_database_share_sessions_and_revocations() {
    let one = spawn_app().await;
    let two = spawn_app_with(&[("DATABASE_URL", one.state.settings.database.url())]).await;
    // Cookies are kept per host, not per port: this client is one browser behind a load balancer.
    let laptop = one.signed_in_user("Ada", ADA).await;
    let (status, page) = text(two.get(&laptop, "/profile").await).await;
    assert_eq!(status, StatusCode::OK, "a session made on one works on the other");
    assert!(page.contains("Ada"));

    let phone =
        client_builder().user_agent("Mozilla/5.0 (Android 14; Mobile; rv:128.0) Firefox/128.0").build().unwrap();
    assert_redirect(&two.login(&phone, ADA, PASSWORD).await, "/profile");
    let list = one.sessions_of(&laptop).await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "one sees the session two made: {list}");
    let phone_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

    // Ended on one, the phone's next request to two is refused.
    assert_eq!(one.call(&laptop, "/api/end_session", &[("id", &phone_id)]).await.status(), StatusCode::OK);
    assert_redirect(&two.get(&phone, "/profile").await, "/login?notice=session_ended");
    assert_eq!(two.get(&laptop, "/profile").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_database_outage_gives_503_and_the_app_recovers_when_it_returns() {
    // The database has to be reached over the network for it to go away; with SQLite it is a local file.
    let Some(database_url) = fresh_postgres_database().await else {
        eprintln!("skipped under SQLite: set TEST_DATABASE_URL (make test does) to run it against PostgreSQL");
        return;
    };
    let mut through_relay = reqwest::Url::parse(&database_url).unwrap();
    let upstream = format!("{}:{}", through_relay.host_str().unwrap(), through_relay.port().unwrap_or(5432));
    let relay = Relay::start(upstream).await;
    through_relay.set_port(Some(relay.port)).unwrap();
    let app = spawn_app_with(&[("DATABASE_URL", through_relay.as_str()), ("APP_EMAIL_VERIFICATION", "false")]).await;
    let ada = browser();
    assert_redirect(&app.register(&ada, "Ada", ADA, PASSWORD).await, "/profile");

    assert_eq!(app.get(&browser(), "/api/health").await.status(), StatusCode::OK);
    relay.cut();
    assert_eq!(app.get(&browser(), "/api/health").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = app.get(&ada, "/profile").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "5");
    // An HTML page like any other (item 32): CSP, Referrer-Policy, nosniff.
    crate::security::check_headers(res.headers(), "/profile (503)", "same-origin");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("The service is temporarily unavailable. Please try again in a moment."));
    let (status, body) =
        text(app.call(&browser(), "/api/login", &[("email", ADA), ("password", PASSWORD)]).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(app.get(&browser(), "/login").await.status(), StatusCode::OK, "pages that need no data still serve");

    relay.mend();
    assert_eq!(app.get(&browser(), "/api/health").await.status(), StatusCode::OK);
    let (status, page) = text(app.get(&ada, "/profile").await).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_redirect(&app.login(&browser(), ADA, PASSWORD).await, "/profile");
}
