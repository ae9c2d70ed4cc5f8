//! The compiled binary itself: settings errors stop it with a message naming the key; good settings serve.

use crate::helpers::{server_binary as server, start_listening};
use std::time::Duration;

#[tokio::test]
async fn a_bad_setting_stops_the_server_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = server().current_dir(dir.path()).env("APP_SESSION_IDLE_TIMEOUT", "soon").output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sessions.idle_timeout") && stderr.contains("APP_SESSION_IDLE_TIMEOUT"), "{stderr}");

    std::fs::write(dir.path().join("Leptos.toml"), "[app]\nbase_url = \"not a url\"\n").unwrap();
    let out = server().current_dir(dir.path()).output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("app.base_url"));
}

#[tokio::test]
async fn the_binary_creates_its_data_folder_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let mut command = server();
    command.current_dir(dir.path()).env("APP_DATA_DIR", &data);
    let (mut child, address, _log) = start_listening(command).await;
    let res = reqwest::get(format!("{address}/login")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(data.join("app.db").exists() && data.join("mail").is_dir());
    assert!(data.join("secret.key").is_file(), "the embedded default makes its own key");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn with_postgresql_the_server_needs_a_secret_key_shared_by_every_app_server() {
    let Some(database_url) = crate::helpers::fresh_postgres_database().await else {
        eprintln!("skipped under SQLite: set TEST_DATABASE_URL (make test does) to run it against PostgreSQL");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = server()
        .current_dir(dir.path())
        .env("APP_DATA_DIR", dir.path().join("data"))
        .env("DATABASE_URL", &database_url)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("app.secret_key") && stderr.contains("APP_SECRET_KEY"), "{stderr}");
    let out = server()
        .current_dir(dir.path())
        .env("APP_DATA_DIR", dir.path().join("data"))
        .env("DATABASE_URL", &database_url)
        .env("APP_SECRET_KEY", "too short")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn an_unreachable_database_at_start_stops_the_server_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = server()
        .current_dir(dir.path())
        .env("APP_DATA_DIR", dir.path().join("data"))
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:9/nothing")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open the database (database.url / DATABASE_URL)"), "{stderr}");
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_then_exits() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = server();
    command
        .current_dir(dir.path())
        .env("APP_DATA_DIR", dir.path().join("data"))
        .env("APP_EMAIL_VERIFICATION", "false")
        // tower_http logs "started processing request" at debug: the test sees when the server has each one.
        .env("RUST_LOG", "info,tower_http=debug");
    let (mut child, address, log) = start_listening(command).await;
    // Sign-ups hash a password (tens of milliseconds each): several are in flight when SIGTERM arrives.
    let client = reqwest::Client::new();
    let in_flight: Vec<_> = (0..6)
        .map(|i| {
            let (client, url) = (client.clone(), format!("{address}/api/register"));
            tokio::spawn(async move {
                client
                    .post(url)
                    .header("accept", "application/json")
                    .form(&[
                        ("name", "Ada"),
                        ("email", &format!("ada{i}@example.com")),
                        ("password", "correct horse battery staple"),
                    ])
                    .send()
                    .await
            })
        })
        .collect();
    // SIGTERM only once the server has read all six requests. A request still on its way when the listener
    // closes was never in flight (hyper closes idle connections at once), and a fixed sleep raced that on a
    // busy machine: the connection was reset.
    let count = |what: &str| log.lock().unwrap().iter().filter(|l| l.contains(what)).count();
    tokio::time::timeout(Duration::from_secs(10), async {
        while count("started processing request") < 6 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the server received the six sign-ups");
    let answered_before_sigterm = count("finished processing request");
    let pid = child.id().unwrap() as i32;
    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    for request in in_flight {
        let res = request.await.unwrap().expect("the request got an answer");
        assert!(res.status().is_success(), "{}", res.status());
    }
    // A hash takes tens of milliseconds and runs one per core: some sign-ups were still being worked on when
    // SIGTERM came, or this test would prove nothing.
    assert!(answered_before_sigterm < 6, "every sign-up was answered before SIGTERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("exits").unwrap();
    assert!(status.success(), "{status}");
    // Every acknowledged sign-up is there after the restart-free shutdown.
    let db = format!("sqlite://{}", dir.path().join("data/app.db").display());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db).await.unwrap();
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&pool).await.unwrap();
    assert_eq!(users, 6);
}

#[tokio::test]
async fn sigterm_waits_for_queued_mail_to_go_out() {
    // The mail server refuses the first try: the message is still waiting for its retry when SIGTERM comes.
    let smtp = crate::peers::SmtpSink::start(1).await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = server();
    command
        .current_dir(dir.path())
        .env("APP_DATA_DIR", dir.path().join("data"))
        .env("SMTP_URL", &smtp.url)
        .env("APP_MAIL_RETRY_DELAY", "500ms");
    let (mut child, address, _log) = start_listening(command).await;
    let res = reqwest::Client::new()
        .post(format!("{address}/api/register"))
        .header("accept", "application/json")
        .form(&[("name", "Ada"), ("email", "ada@example.com"), ("password", "correct horse battery staple")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let pid = child.id().unwrap() as i32;
    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("exits").unwrap();
    assert!(status.success(), "{status}");
    assert!(
        smtp.mails().iter().any(|m| m.to == "ada@example.com" && m.subject == "Verify your email address"),
        "the verification mail went out before the server stopped"
    );
}
