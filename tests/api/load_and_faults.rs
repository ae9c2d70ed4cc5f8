//! The compiled server under load and faults, driven from this (second) process over loopback: hundreds of
//! concurrent sign-ups and sign-ins, and a `kill -9` in the middle of them. Run against SQLite, and against
//! PostgreSQL when `TEST_DATABASE_URL` is set (as `make test` does).

use crate::helpers::{fresh_postgres_database, server_binary, start_listening, ServerLog, PASSWORD};
use futures_util::future::join_all;
use reqwest::{Client, StatusCode};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USERS: usize = 500;

struct Server {
    process: tokio::process::Child,
    address: String,
    log: ServerLog,
}

impl Server {
    /// Email verification is off so a sign-up signs in at once, and the per-address limits are out of
    /// the way: every request here comes from one address.
    async fn start(data_dir: &Path, database_url: &str) -> Self {
        let mut command = server_binary();
        command
            .env("APP_DATA_DIR", data_dir)
            .env("DATABASE_URL", database_url)
            .env("APP_EMAIL_VERIFICATION", "false")
            .env("APP_LIMIT_SIGN_UP_PER_IP", "1000000")
            .env("APP_LIMIT_SIGN_IN_PER_IP", "1000000")
            // Needed with PostgreSQL; harmless with SQLite.
            .env("APP_SECRET_KEY", "a key the test servers on one database share")
            .env("RUST_LOG", "warn,authkit::server::platform::startup=info");
        let (process, address, log) = start_listening(command).await;
        Self { process, address, log }
    }

    fn problems(&self) -> Vec<String> {
        self.log.lock().unwrap().iter().filter(|l| l.contains("ERROR") || l.contains("locked")).cloned().collect()
    }
}

/// A SQLite file in `dir`, or a fresh PostgreSQL database when the suite runs against PostgreSQL.
async fn database(dir: &Path) -> String {
    sqlx::any::install_default_drivers();
    match fresh_postgres_database().await {
        Some(url) => url,
        None => format!("sqlite://{}?mode=rwc", dir.join("app.db").display()),
    }
}

async fn count(db: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(db).await.expect(sql)
}

fn email(i: usize) -> String {
    format!("user{i}@example.com")
}

fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(120)).build().unwrap()
}

async fn call(client: &Client, address: &str, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Result<StatusCode> {
    let res =
        client.post(format!("{address}{endpoint}")).header("accept", "application/json").form(form).send().await?;
    Ok(res.status())
}

async fn sign_up(client: &Client, address: &str, i: usize) -> reqwest::Result<StatusCode> {
    let email = email(i);
    call(client, address, "/api/register", &[("name", &format!("User {i}")), ("email", &email), ("password", PASSWORD)])
        .await
}

/// Tallies answers by status; a request that got no answer counts as 0.
fn tally(results: &[reqwest::Result<StatusCode>]) -> Vec<(u16, usize)> {
    let mut by_status = std::collections::BTreeMap::new();
    for r in results {
        *by_status.entry(r.as_ref().map(|s| s.as_u16()).unwrap_or(0)).or_insert(0) += 1;
    }
    by_status.into_iter().collect()
}

#[tokio::test]
async fn five_hundred_concurrent_sign_ups_and_sign_ins_all_succeed_and_every_row_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path()).await;
    let server = Server::start(dir.path(), &url).await;
    let client = client();

    let started = Instant::now();
    let sign_ups = join_all((0..USERS).map(|i| sign_up(&client, &server.address, i))).await;
    let sign_up_time = started.elapsed();
    assert_eq!(tally(&sign_ups), vec![(200, USERS)], "every sign-up succeeded");

    let started = Instant::now();
    let sign_ins = join_all((0..USERS).map(|i| {
        let (client, address, email) = (&client, &server.address, email(i));
        async move { call(client, address, "/api/login", &[("email", &email), ("password", PASSWORD)]).await }
    }))
    .await;
    let sign_in_time = started.elapsed();
    assert_eq!(tally(&sign_ins), vec![(200, USERS)], "every sign-in succeeded");
    eprintln!(
        "{USERS} concurrent sign-ups in {sign_up_time:.1?}, {USERS} concurrent sign-ins in {sign_in_time:.1?} ({})",
        if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" }
    );

    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM users").await, USERS as i64);
    assert_eq!(count(&db, "SELECT COUNT(DISTINCT email) FROM users").await, USERS as i64);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sessions").await, 2 * USERS as i64, "one per sign-up and sign-in");
    assert_eq!(server.problems(), Vec::<String>::new(), "no errors (and no 'database is locked') in the log");
}

#[tokio::test]
async fn kill_9_in_the_middle_of_sign_ups_loses_no_acknowledged_one_and_leaves_no_half_row() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path()).await;
    let mut server = Server::start(dir.path(), &url).await;
    let client = client();

    let acknowledged: Arc<Mutex<Vec<usize>>> = Arc::default();
    let answered = Arc::new(AtomicUsize::new(0));
    let load = join_all((0..USERS).map(|i| {
        let (client, address, acknowledged, answered) =
            (client.clone(), server.address.clone(), acknowledged.clone(), answered.clone());
        async move {
            if let Ok(StatusCode::OK) = sign_up(&client, &address, i).await {
                acknowledged.lock().unwrap().push(i);
            }
            answered.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let killer = async {
        while acknowledged.lock().unwrap().len() < USERS / 5 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.process.start_kill().expect("SIGKILL");
    };
    tokio::join!(load, killer);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= USERS / 5 && acknowledged.len() < USERS, "killed mid-load: {}", acknowledged.len());
    server.process.wait().await.unwrap();

    let restarted = Server::start(dir.path(), &url).await;
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    for &i in &acknowledged {
        let email = email(i);
        let sessions: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1")
                .bind(&email)
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(sessions, 1, "acknowledged sign-up of {email} has its user and session");
    }
    // Nothing half-written: every row is whole and points at something that exists.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM users WHERE password_hash IS NULL OR password_hash = ''").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sessions WHERE user_id NOT IN (SELECT id FROM users)").await, 0);
    let users = count(&db, "SELECT COUNT(*) FROM users").await as usize;
    assert!(users >= acknowledged.len() && users < USERS, "{users} users");
    if url.starts_with("sqlite") {
        let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&db).await.unwrap();
        assert_eq!(check, "ok");
    }
    // The restarted server serves them: an acknowledged user signs in, a new one signs up.
    let first = email(acknowledged[0]);
    let status = call(&client, &restarted.address, "/api/login", &[("email", &first), ("password", PASSWORD)]).await;
    assert_eq!(status.unwrap(), StatusCode::OK);
    assert_eq!(sign_up(&client, &restarted.address, USERS).await.unwrap(), StatusCode::OK);
    eprintln!("killed after {} acknowledged sign-ups; {users} users found after the restart", acknowledged.len());
}

/// SQLite lets one writer in at a time and puts the others to sleep, so the app writes through one
/// connection of its own and reads through connections that refuse to write: a write sent to the reading
/// side fails here, instead of quietly bringing the contention back. PostgreSQL takes concurrent writers
/// itself, and both sides are its one pool.
#[tokio::test]
async fn with_sqlite_every_write_goes_through_the_one_writing_connection() {
    let app = crate::helpers::spawn_app().await;
    let db = &app.state.db;
    let write = "UPDATE users SET name = 'x' WHERE id = 'nobody'";
    if app.state.settings.database.url().starts_with("sqlite:") {
        let refused = sqlx::query(write).execute(db.reads()).await.expect_err("a reading connection wrote");
        assert!(refused.to_string().contains("readonly"), "{refused}");
        assert_eq!(db.writes().options().get_max_connections(), 1);
    } else {
        sqlx::query(write).execute(db.reads()).await.expect("PostgreSQL writes through its one pool");
    }
    sqlx::query(write).execute(db.writes()).await.expect("the writing side writes");
}
