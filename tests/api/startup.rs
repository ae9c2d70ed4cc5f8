//! The compiled binary itself: settings errors stop it with a message naming the key; good settings serve.

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn server() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authkit"));
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).kill_on_drop(true);
    cmd
}

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
    let mut child = server()
        .current_dir(dir.path())
        .env("APP_DATA_DIR", &data)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.trim().to_owned();
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server started");
    let res = reqwest::get(format!("{address}/login")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(data.join("app.db").exists() && data.join("mail").is_dir());
    child.kill().await.unwrap();
}
