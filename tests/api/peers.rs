//! The outside services a scaled-out deployment talks to, each started here as a real process on
//! loopback: an SMTP server (aiosmtpd), an S3-compatible store (moto), and a TCP relay in front of the
//! database that the tests can cut, as a network or database outage would. `scripts/setup.sh --for-tests`
//! installs the Python ones into `~/.cache/authkit/test-peers` (`$XDG_CACHE_HOME` if set).

use crate::helpers::{read_outbox, Mail};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::AbortHandle;

fn python() -> PathBuf {
    let python = std::env::var_os("TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
        cache.join("authkit/test-peers/bin/python")
    });
    assert!(python.exists(), "{} is missing: run scripts/setup.sh --for-tests", python.display());
    python
}

/// A free loopback port (for servers that cannot be told to pick one themselves).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An SMTP server that keeps every message it accepts as a file; see `tests/support/smtp_sink.py`.
pub struct SmtpSink {
    pub url: String,
    dir: tempfile::TempDir,
    /// How many messages it answered with a permanent failure (550, mail to `bounce@…`).
    permanent_refusals: Arc<AtomicUsize>,
    _process: Child,
}

impl SmtpSink {
    /// `refuse_first`: how many messages it answers with a temporary failure before accepting any.
    pub async fn start(refuse_first: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut process = Command::new(python())
            .arg(script)
            .arg(dir.path())
            .args(["--refuse-first", &refuse_first.to_string()])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink");
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let port = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink starts")
            .unwrap()
            .and_then(|line| line.strip_prefix("listening on ").map(str::to_owned))
            .expect("the SMTP sink says its port");
        let permanent_refusals = Arc::new(AtomicUsize::new(0));
        let counted = permanent_refusals.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("(550)") {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Self { url: format!("smtp://127.0.0.1:{port}"), dir, permanent_refusals, _process: process }
    }

    pub fn permanent_refusals(&self) -> usize {
        self.permanent_refusals.load(Ordering::SeqCst)
    }

    pub fn mails(&self) -> Vec<Mail> {
        read_outbox(self.dir.path())
    }

    /// Waits (up to `within`) for a mail to `to` with this subject.
    pub async fn mail_to(&self, to: &str, subject: &str, within: Duration) -> Mail {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(mail) = self.mails().into_iter().rfind(|m| m.to == to && m.subject == subject) {
                return mail;
            }
            assert!(tokio::time::Instant::now() < deadline, "no mail to {to} about {subject:?} within {within:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// moto's S3-compatible server. It accepts any credentials, as a test double of the protocol should.
pub struct S3Server {
    pub endpoint: String,
    _process: Child,
}

impl S3Server {
    pub async fn start() -> Self {
        let port = free_port();
        let process = Command::new(python())
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start moto's S3 server");
        let endpoint = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if reqwest::get(&endpoint).await.is_ok() {
                return Self { endpoint, _process: process };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto's S3 server did not start within 20 s");
    }

    pub async fn create_bucket(&self, bucket: &str) {
        let res = reqwest::Client::new().put(format!("{}/{bucket}", self.endpoint)).send().await.unwrap();
        assert!(res.status().is_success(), "create bucket: {}", res.status());
    }

    /// The objects in the bucket, key and size, read over the S3 API (ListObjectsV2) rather than through
    /// the app.
    pub async fn objects(&self, bucket: &str) -> Vec<(String, usize)> {
        let xml = reqwest::get(format!("{}/{bucket}?list-type=2", self.endpoint)).await.unwrap().text().await.unwrap();
        let field = |entry: &str, tag: &str| {
            entry
                .split(&format!("<{tag}>"))
                .nth(1)
                .and_then(|rest| rest.split(&format!("</{tag}>")).next())
                .map(str::to_owned)
        };
        xml.split("<Contents>")
            .skip(1)
            .filter_map(|entry| Some((field(entry, "Key")?, field(entry, "Size")?.parse().ok()?)))
            .collect()
    }
}

/// A TCP relay to `upstream` that can be cut (every connection dropped, new ones closed at once) and
/// mended: the database going away mid-run, as a failover or network fault makes it, without touching the
/// database server other tests share. Or stalled: new connections are taken and never answered, as a
/// service that hangs, to hold a client mid-request.
pub struct Relay {
    pub port: u16,
    up: Arc<AtomicBool>,
    stalled: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Relay {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let stalled = Arc::new(AtomicBool::new(false));
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (up2, stalled2, held2, connections2) = (up.clone(), stalled.clone(), held.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                if stalled2.load(Ordering::SeqCst) {
                    held2.lock().unwrap().push(client);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections2.lock().unwrap().push(task.abort_handle());
            }
        })
        .abort_handle();
        Self { port, up, stalled, held, connections, accept }
    }

    /// From now on, connections are taken and never answered.
    pub fn stall(&self) {
        self.stalled.store(true, Ordering::SeqCst);
    }

    /// Whether a connection is being held by the stall.
    pub fn holds_a_connection(&self) -> bool {
        self.connections_held() > 0
    }

    /// How many connections the stall holds.
    pub fn connections_held(&self) -> usize {
        self.held.lock().unwrap().len()
    }

    /// Ends the stall: the connections it held close unanswered, and new ones pass again.
    pub fn release(&self) {
        self.stalled.store(false, Ordering::SeqCst);
        self.held.lock().unwrap().clear();
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn mend(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
