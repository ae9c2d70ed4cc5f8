use authkit::server::platform::clock::ManualClock;
use authkit::server::platform::settings::Settings;
use authkit::server::platform::startup::Application;
use authkit::server::AppState;
use reqwest::header::{ACCEPT, LOCATION, REFERER, SET_COOKIE};
use reqwest::{redirect, Client, Response, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Once};
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery staple";

/// The key app servers sharing a PostgreSQL database share (`APP_SECRET_KEY`).
const SHARED_SECRET_KEY: &str = "a key the test servers on one database share";

/// Browsers to sign in from, each listed under its own name ("Firefox on Windows").
pub const FIREFOX_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const CHROME_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
pub const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

pub struct TestApp {
    pub address: String,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub data_dir: TempDir,
    /// Resolves `Application::run`'s shutdown future (`shut_down`).
    stop: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    server: std::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
}

/// Starts the server with default settings (email verification on).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the server with some settings given as environment variables, e.g. `("APP_EMAIL_VERIFICATION", "false")`.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    init_logging();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let mut env: HashMap<String, String> = HashMap::from([
        ("APP_DATA_DIR".into(), data_dir.path().display().to_string()),
        ("APP_BASE_URL".into(), address.clone()),
        ("LEPTOS_SITE_ADDR".into(), listener.local_addr().unwrap().to_string()),
    ]);
    if let Some(database_url) = fresh_postgres_database().await {
        env.insert("DATABASE_URL".into(), database_url);
        // App servers sharing PostgreSQL must share a key (`APP_SECRET_KEY`).
        env.insert("APP_SECRET_KEY".into(), SHARED_SECRET_KEY.into());
    }
    // "{port}" in a value stands for the server's port: `("APP_BASE_URL", "http://localhost:{port}")`.
    let port = listener.local_addr().unwrap().port().to_string();
    for (k, v) in overrides {
        env.insert(k.to_string(), v.replace("{port}", &port));
    }
    let settings = Settings::from_sources("", |k| env.get(k).cloned()).expect("test settings");
    let clock = Arc::new(ManualClock::starting_now());
    let app = Application::build(settings, clock.clone(), Some(listener)).await.expect("build app");
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    TestApp { address, clock, state, data_dir, stop: Some(stop).into(), server: Some(server).into() }
}

/// With `TEST_DATABASE_URL=postgres://…` (a server the tests may create databases on), every test app gets
/// a database of its own there instead of a SQLite file: the same suite, run against PostgreSQL.
pub async fn fresh_postgres_database() -> Option<String> {
    use sqlx::Connection;
    let admin = std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))?;
    sqlx::any::install_default_drivers();
    let name = format!("authkit_test_{}", uuid_like());
    let mut conn = sqlx::AnyConnection::connect(&admin).await.expect("connect to TEST_DATABASE_URL");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
    let mut url = reqwest::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Server logs in test output only when asked for: `TEST_LOG=1 cargo test`.
fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            let filter =
                std::env::var("TEST_LOG").ok().filter(|f| f.contains('=')).unwrap_or_else(|| "info,sqlx=warn".into());
            tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().init();
        }
    });
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at each hop). A request
/// that hangs fails its test instead of stalling the run.
pub fn browser() -> Client {
    client_builder().build().unwrap()
}

pub fn client_builder() -> reqwest::ClientBuilder {
    // TEST_CLIENT_TIMEOUT (seconds) lengthens it, to catch a hung request in a debugger.
    let timeout = std::env::var("TEST_CLIENT_TIMEOUT").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(timeout))
}

impl TestApp {
    /// Shuts the server down as a signal would (`Application::run`'s shutdown future) and waits until it
    /// has finished, or panics after `within`.
    pub async fn shut_down(&self, within: std::time::Duration) {
        let stop = self.stop.lock().unwrap().take().expect("shut down once");
        let server = self.server.lock().unwrap().take().expect("shut down once");
        stop.send(()).unwrap();
        let ran = tokio::time::timeout(within, server).await.expect("the server finished shutting down in time");
        ran.unwrap().expect("the server ran and stopped without an error");
    }

    /// Runs `authkit admin <args>` (the real binary) against this server's database and data folder, as an
    /// operator would on the same machine: its exit status, standard output and standard error.
    pub async fn admin(&self, args: &[&str]) -> (std::process::ExitStatus, String, String) {
        self.admin_with(args, &[]).await
    }

    /// `admin`, with more settings (as environment variables) than the database and data folder.
    pub async fn admin_with(&self, args: &[&str], env: &[(&str, &str)]) -> (std::process::ExitStatus, String, String) {
        let out = self.admin_command(args, env).output().await.expect("run authkit admin");
        (
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `authkit admin <args>` against this server's database and data folder, with `env` besides, to
    /// start.
    pub fn admin_command(&self, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
        let settings = &self.state.settings;
        let mut cmd = server_binary();
        cmd.arg("admin")
            .args(args)
            .env("APP_DATA_DIR", &settings.app.data_dir)
            .env("APP_BASE_URL", settings.app.base_url.as_str())
            .envs(env.iter().copied());
        if !self.state.db.is_sqlite() {
            cmd.env("DATABASE_URL", settings.database.url()).env("APP_SECRET_KEY", SHARED_SECRET_KEY);
        }
        cmd
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Submits a form the way a browser without JavaScript does.
    pub async fn post_form(&self, client: &Client, endpoint: &str, from_page: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(endpoint))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .header(REFERER, self.url(from_page))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Calls a server function the way the hydrated page does.
    pub async fn call(&self, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> Response {
        client.post(self.url(endpoint)).header(ACCEPT, "application/json").form(form).send().await.expect("request")
    }

    /// Changes the password from the profile's form, as the hydrated page calls it.
    pub async fn change_password(&self, client: &Client, current: &str, new: &str) -> Response {
        let form = [("current_password", current), ("new_password", new), ("new_password_confirm", new)];
        self.call(client, "/api/change_password", &form).await
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).header(ACCEPT, "text/html").send().await.expect("request")
    }

    pub async fn register(&self, client: &Client, name: &str, email: &str, password: &str) -> Response {
        self.post_form(
            client,
            "/api/register",
            "/register",
            &[("name", name), ("email", email), ("password", password)],
        )
        .await
    }

    pub async fn login(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post_form(client, "/api/login", "/login", &[("email", email), ("password", password)]).await
    }

    /// Registers, opens the verification link and confirms it: a signed-in client.
    pub async fn signed_in_user(&self, name: &str, email: &str) -> Client {
        let client = browser();
        assert_redirect(&self.register(&client, name, email, PASSWORD).await, "/check-email");
        let link = self.last_link_to(email);
        assert_redirect(&self.confirm_link(&client, &link).await, "/profile");
        client
    }

    /// Signs an existing, verified user in from another device (a new client with its own user agent).
    pub async fn sign_in_from(&self, email: &str, user_agent: &str) -> Client {
        let client = client_builder().user_agent(user_agent).build().unwrap();
        assert_redirect(&self.login(&client, email, PASSWORD).await, "/profile");
        client
    }

    /// The session list as the hydrated page gets it.
    pub async fn sessions_of(&self, client: &Client) -> serde_json::Value {
        let res = self.call(client, "/api/sessions", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// Asks for a magic link to `email` from a new browser, as the magic-link page does, and returns the
    /// link once its mail is in the outbox.
    pub async fn mailed_sign_in_link(&self, email: &str) -> String {
        let before = self.mails_about(email, "Your sign-in link");
        self.post_form(&browser(), "/api/send_magic_link", "/login-with-magic-link", &[("email", email)]).await;
        self.new_mail_about(email, "Your sign-in link", before).await.link().expect("a link in the mail")
    }

    /// Uses `link` in a new browser and checks that no session came of it.
    pub async fn assert_link_signs_nobody_in(&self, link: &str) {
        let stranger = browser();
        self.confirm_link(&stranger, link).await;
        assert_redirect(&self.get(&stranger, "/profile").await, "/login");
    }

    /// Confirms an emailed link as the confirm form on `/auth-redirect` does.
    pub async fn confirm_link(&self, client: &Client, link: &str) -> Response {
        let token = access_token_of(link);
        self.post_form(client, "/api/sign_in_with_link", "/auth-redirect", &[("access_token", &token)]).await
    }

    fn mail_dir(&self) -> std::path::PathBuf {
        self.data_dir.path().join("mail")
    }

    pub fn outbox(&self) -> Vec<Mail> {
        read_outbox(&self.mail_dir())
    }

    /// How many mails the outbox holds for `to`.
    pub fn mails_to(&self, to: &str) -> usize {
        self.outbox().iter().filter(|m| m.to == to).count()
    }

    /// Waits for a mail to `to` beyond the first `before` (some mails are sent in the background, so the
    /// answer to a request never depends on whether an account exists) and returns it.
    pub async fn new_mail_to(&self, to: &str, before: usize) -> Mail {
        mail_in_outbox(&self.mail_dir(), to, None, before).await
    }

    /// How many mails to `to` with this subject the outbox holds.
    pub fn mails_about(&self, to: &str, subject: &str) -> usize {
        self.outbox().iter().filter(|m| m.to == to && m.subject == subject).count()
    }

    /// Waits for a mail to `to` with this subject beyond the first `before` such, and returns it. Other mails
    /// sent meanwhile in the background (notices) do not count.
    pub async fn new_mail_about(&self, to: &str, subject: &str, before: usize) -> Mail {
        mail_in_outbox(&self.mail_dir(), to, Some(subject), before).await
    }

    /// Makes sure nothing more is mailed to `to`, once the work requests left running is done (mail that
    /// reveals nothing about who has an account is sent after the answer).
    pub async fn assert_no_new_mail_to(&self, to: &str, before: usize) {
        self.background_work_done().await;
        assert_eq!(self.mails_to(to), before, "unexpected mail to {to}");
    }

    /// Waits until the work requests left running after their answers is done.
    pub async fn background_work_done(&self) {
        for _ in 0..1000 {
            if self.state.background.is_empty() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("background work still running after 5 s");
    }

    /// The link in the newest mail to `to`.
    pub fn last_link_to(&self, to: &str) -> String {
        let mail = self.outbox().into_iter().rfind(|m| m.to == to).unwrap_or_else(|| panic!("no mail to {to}"));
        mail.link().unwrap_or_else(|| panic!("no link in mail {:?}", mail.subject))
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(self.state.db.reads()).await.expect("count query")
    }
}

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub modified: std::time::SystemTime,
}

impl Mail {
    /// The 6-digit code a sign-in or verification mail carries beside its link.
    pub fn code(&self) -> Option<String> {
        let line = self.text.lines().find(|l| l.starts_with("Or type this code"))?;
        line.rsplit(' ').next().map(str::to_owned)
    }

    pub fn link(&self) -> Option<String> {
        self.text.split_whitespace().find(|w| w.starts_with("http://") || w.starts_with("https://")).map(str::to_owned)
    }
}

/// Waits until the outbox folder `dir` holds more than `before` mails to `to` (about `subject`, when given)
/// and returns the newest: mail may be written in the background, after the answer.
pub async fn mail_in_outbox(dir: &std::path::Path, to: &str, subject: Option<&str>, before: usize) -> Mail {
    for _ in 0..250 {
        let mut mails: Vec<Mail> = read_outbox(dir)
            .into_iter()
            .filter(|m| m.to == to && subject.is_none_or(|subject| m.subject == subject))
            .collect();
        if mails.len() > before {
            return mails.pop().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no new mail to {to} (subject {subject:?}) within 5 s");
}

/// Every `.eml` file in the outbox, oldest first, parsed with an independent MIME parser.
pub fn read_outbox(dir: &std::path::Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut mails: Vec<Mail> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| {
            let raw = std::fs::read(e.path()).ok()?;
            let msg = mail_parser::MessageParser::default().parse(&raw).expect("whole, parseable mail");
            Some(Mail {
                to: msg.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
                subject: msg.subject().unwrap_or_default().to_owned(),
                text: msg.body_text(0).unwrap_or_default().into_owned(),
                html: msg.body_html(0).unwrap_or_default().into_owned(),
                modified: e.metadata().ok()?.modified().ok()?,
            })
        })
        .collect();
    mails.sort_by_key(|m| m.modified);
    mails
}

/// An address as it appears in a query string.
pub fn encode(value: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("v", value)]).unwrap().query().unwrap()[2..].to_owned()
}

/// The value of `name` in a link's query.
pub fn token_param(link: &str, name: &str) -> String {
    let url = reqwest::Url::parse(link).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap()
}

/// Chooses a new password from a mailed `/reset-password?token=…` link, as the page's form does.
pub async fn reset_password(app: &TestApp, client: &Client, link: &str, password: &str, confirm: &str) -> Response {
    let token = token_param(link, "token");
    app.post_form(
        client,
        "/api/reset_password",
        "/reset-password",
        &[("token", &token), ("new_password", password), ("new_password_confirm", confirm)],
    )
    .await
}

pub fn access_token_of(link: &str) -> String {
    let url = reqwest::Url::parse(link).expect("absolute link");
    url.query_pairs().find(|(k, _)| k == "access_token").map(|(_, v)| v.into_owned()).expect("access_token in link")
}

/// Asserts a redirect whose target starts with `to` (path, optionally with query).
#[track_caller]
pub fn assert_redirect(res: &Response, to: &str) {
    assert!(res.status().is_redirection(), "expected a redirect to {to}, got {}", res.status());
    let location = location(res);
    assert!(location.starts_with(to), "expected a redirect to {to}, got {location}");
}

/// Whether a form without JavaScript came back to `page` with "That code did not work"
/// (`AppError::InvalidCode`, carried in the address as Leptos carries a server function's error).
pub fn refused_code(res: &Response, page: &str) -> bool {
    use base64::Engine as _;
    let url = reqwest::Url::parse(&format!("http://x{}", location(res))).unwrap();
    let err = url.query_pairs().find(|(k, _)| k == "__err").map(|(_, v)| v.into_owned()).unwrap_or_default();
    let err = base64::engine::general_purpose::STANDARD.decode(err).unwrap_or_default();
    url.path() == page && err == br#""InvalidCode""#
}

pub fn location(res: &Response) -> String {
    res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// The cookies a response sets, each with its value left out (random ones differ on every answer),
/// sorted: what two answers must share to look the same.
pub fn cookie_shapes(res: &Response) -> Vec<String> {
    let mut shapes: Vec<String> = set_cookies(res)
        .into_iter()
        .map(|c| match c.split_once('=') {
            Some((name, rest)) => format!("{name}=…{}", rest.find(';').map_or("", |at| &rest[at..])),
            None => c,
        })
        .collect();
    shapes.sort();
    shapes
}

pub fn set_cookies(res: &Response) -> Vec<String> {
    res.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

pub async fn text(res: Response) -> (StatusCode, String) {
    let status = res.status();
    (status, res.text().await.unwrap())
}

/// The compiled server binary with an empty environment (only `PATH`), killed when dropped.
pub fn server_binary() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_authkit"));
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).kill_on_drop(true);
    cmd
}

/// The server's log lines, kept as they come.
pub type ServerLog = Arc<std::sync::Mutex<Vec<String>>>;

/// Starts the binary on a free port (`RUST_LOG=info` unless the command sets it), reads its log until it
/// says where it listens, and returns the process, that address, and the log, which is drained in the
/// background from then on (a full pipe would stall the server).
pub async fn start_listening(mut cmd: tokio::process::Command) -> (tokio::process::Child, String, ServerLog) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    cmd.env("LEPTOS_SITE_ADDR", "127.0.0.1:0").stdout(std::process::Stdio::piped());
    if !cmd.as_std().get_envs().any(|(key, _)| key == "RUST_LOG") {
        cmd.env("RUST_LOG", "info");
    }
    let mut child = cmd.spawn().expect("start the server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout piped")).lines();
    let address = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.trim().to_owned();
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server started within 30 s");
    let log: ServerLog = Arc::default();
    let kept = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            kept.lock().unwrap().push(line);
        }
    });
    (child, address, log)
}

/// The `session=…` pair a response set, without its attributes: what a browser sends back.
pub fn session_cookie(res: &Response) -> String {
    let cookie = set_cookies(res).into_iter().find(|c| c.starts_with("session=")).expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

/// The session of `device` ("Firefox on Windows") in a list from `sessions_of`.
pub fn session<'a>(list: &'a serde_json::Value, device: &str) -> &'a serde_json::Value {
    list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["device"] == device)
        .unwrap_or_else(|| panic!("no {device} in {list}"))
}
