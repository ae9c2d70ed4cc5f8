//! Runtime settings: read from `Leptos.toml` (or the file named by `APP_CONFIG`), every key overridable by
//! an environment variable. Anything invalid stops the server at start with a message naming the key.

use lettre::message::Mailbox;
use std::{collections::BTreeMap, fmt, net::SocketAddr, num::NonZeroU32, path::PathBuf, str::FromStr, time::Duration};
use url::Url;

#[derive(Clone, Debug)]
pub struct Settings {
    pub site: SiteSettings,
    pub app: AppSettings,
    pub database: DatabaseSettings,
    pub mail: MailSettings,
    pub sessions: SessionSettings,
    pub tokens: TokenSettings,
    pub storage: StorageSettings,
    pub limits: LimitSettings,
}

/// Attempts allowed per hour, by kind and key.
#[derive(Clone, Debug)]
pub struct LimitSettings {
    pub sign_in_per_account: NonZeroU32,
    pub sign_in_per_ip: NonZeroU32,
    pub sign_up_per_ip: NonZeroU32,
    pub mail_per_account: NonZeroU32,
    pub mail_per_ip: NonZeroU32,
    /// The live hint under a new-password field asks the server while the user types.
    pub password_checks_per_ip: NonZeroU32,
    pub avatar_uploads_per_account: NonZeroU32,
}

#[derive(Clone, Debug)]
pub struct StorageSettings {
    /// Uploads bigger than this are refused (413) before they are read.
    pub avatar_max_bytes: u64,
    /// None: files under `$APP_DATA_DIR/uploads/`. Some: an S3-compatible bucket.
    pub s3: Option<S3Settings>,
}

#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    /// For S3-compatible services (MinIO, R2, moto…); empty for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// From the standard `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`; when absent, `object_store` looks
    /// further (web identity, instance metadata) as the AWS tools do.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct SiteSettings {
    pub addr: SocketAddr,
    /// Where `cargo leptos build` put the compiled site (`pkg/`, CSS, public assets).
    pub root: PathBuf,
    pub environment: Environment,
}

#[derive(Clone, Debug)]
pub struct AppSettings {
    /// The only source of absolute links (emails); never the request's Host header.
    pub base_url: Url,
    pub data_dir: PathBuf,
    /// On: sign-up sends a verification link and sign-in waits for it. Off: sign-up signs in at once.
    pub email_verification: bool,
    /// How many reverse proxies stand in front of the server. With 0 the client address is the socket's;
    /// with N it is the Nth address from the right of `X-Forwarded-For`, the one the outermost trusted
    /// proxy saw. Anything further left was written by the client and can be forged.
    pub trusted_proxy_hops: usize,
    /// `APP_SECRET_KEY`; None: the embedded default's key in the data folder (`secrets::SecretKey`).
    pub secret_key: Option<Secret>,
    /// `/dev/mailbox`, the outbox as a web page: only when asked for, in development, with mail going to
    /// the outbox, and then only for a browser on this machine that came through no proxy.
    pub dev_mailbox: bool,
}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    pub url: Secret,
    /// Connections this app server keeps open at most. With PostgreSQL, all app servers together must stay
    /// under the database's own limit (`max_connections`, 100 by default). With SQLite these serve reads,
    /// and one more connection makes every write (see `db::Db`).
    pub max_connections: NonZeroU32,
}

#[derive(Clone, Debug)]
pub struct MailSettings {
    pub from: Mailbox,
    /// None: mail is written to the outbox folder `$APP_DATA_DIR/mail/`.
    pub smtp_url: Option<Secret>,
    /// How long one SMTP conversation may take before it counts as failed.
    pub smtp_timeout: Duration,
    /// Tries per message before it is given up (and logged as lost); the first retry waits `retry_delay`,
    /// each later one twice as long as the one before.
    pub attempts: NonZeroU32,
    pub retry_delay: Duration,
    /// Messages waiting for SMTP at once. Beyond this a request that mails gets a clear "try again later"
    /// instead of piling up memory while the mail server is down.
    pub queue_limit: NonZeroU32,
}

#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// A session unused for this long ends. At least `MIN_IDLE_TIMEOUT`.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct TokenSettings {
    pub verify_email_ttl: Duration,
    pub magic_link_ttl: Duration,
    pub reset_password_ttl: Duration,
    pub change_email_ttl: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Dev,
    Prod,
}

impl Settings {
    /// Under https the session cookie gets `Secure` and the `__Host-` prefix.
    pub fn is_https(&self) -> bool {
        self.app.base_url.scheme() == "https"
    }

    /// Reads the settings file and the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        let env = |key: &str| std::env::var(key).ok();
        let (path, required) = match env("APP_CONFIG") {
            Some(path) => (PathBuf::from(path), true),
            None => (PathBuf::from("Leptos.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(SettingsError::File(format!("cannot read settings file {}: {e}", path.display()))),
        };
        Self::from_sources(&text, env)
    }

    /// Builds settings from the text of a settings file and an environment lookup. Tests use this
    /// directly, so they exercise the same parsing as the server.
    pub fn from_sources(file_text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let src = Sources::new(file_text, &env)?;
        let data_dir: PathBuf = src.get(&DATA_DIR, "./data", |s| Ok(PathBuf::from(s)))?;
        let default_db = format!("sqlite://{}?mode=rwc", data_dir.join("app.db").display());
        Ok(Settings {
            site: SiteSettings {
                addr: src.get(&SITE_ADDR, "127.0.0.1:3000", |s| {
                    s.parse().map_err(|_| "expected an address and port like 127.0.0.1:3000".into())
                })?,
                root: src.get(&SITE_ROOT, "target/site", |s| Ok(PathBuf::from(s)))?,
                // Production unless told otherwise: development conveniences (the mailbox page, links in the log)
                // must never switch on by accident. The project's Leptos.toml says DEV for `make run`.
                environment: src.get(&ENVIRONMENT, "PROD", parse_environment)?,
            },
            app: AppSettings {
                base_url: src.get(&BASE_URL, "http://127.0.0.1:3000", parse_base_url)?,
                data_dir,
                email_verification: src.get(&EMAIL_VERIFICATION, "true", parse_bool)?,
                trusted_proxy_hops: src.get(&TRUSTED_PROXY_HOPS, "0", |s| {
                    s.parse::<usize>()
                        .ok()
                        .filter(|n| *n <= 10)
                        .ok_or_else(|| format!("'{s}' is not a number of proxies from 0 to 10"))
                })?,
                secret_key: src.get(&SECRET_KEY, "", |s| match s {
                    "" => Ok(None),
                    s if s.chars().count() >= 32 => Ok(Some(Secret(s.to_owned()))),
                    _ => Err("must be at least 32 characters; make one with `openssl rand -hex 32`".into()),
                })?,
                dev_mailbox: src.get(&DEV_MAILBOX, "false", parse_bool)?,
            },
            database: DatabaseSettings {
                url: src.get(&DATABASE_URL, &default_db, parse_database_url)?,
                max_connections: src.get(&DATABASE_MAX_CONNECTIONS, "8", |s| parse_count(s, "connections"))?,
            },
            mail: MailSettings {
                from: src.get(&MAIL_FROM, "Authkit <no-reply@authkit.localhost>", |s| {
                    Mailbox::from_str(s).map_err(|_| "expected a sender like Name <no-reply@example.com>".into())
                })?,
                smtp_url: src.get(&SMTP_URL, "", parse_smtp_url)?,
                smtp_timeout: src.get(&SMTP_TIMEOUT, "10s", parse_duration)?,
                attempts: src.get(&MAIL_ATTEMPTS, "8", |s| parse_count(s, "attempts"))?,
                retry_delay: src.get(&MAIL_RETRY_DELAY, "5s", parse_duration)?,
                queue_limit: src.get(&MAIL_QUEUE_LIMIT, "10000", |s| parse_count(s, "messages"))?,
            },
            sessions: SessionSettings {
                idle_timeout: src.get(&SESSION_IDLE, "7d", parse_idle_timeout)?,
                absolute_timeout: src.get(&SESSION_ABSOLUTE, "30d", parse_duration)?,
            },
            tokens: TokenSettings {
                verify_email_ttl: src.get(&VERIFY_EMAIL_TTL, "24h", parse_duration)?,
                magic_link_ttl: src.get(&MAGIC_LINK_TTL, "15m", parse_duration)?,
                reset_password_ttl: src.get(&RESET_PASSWORD_TTL, "1h", parse_duration)?,
                change_email_ttl: src.get(&CHANGE_EMAIL_TTL, "24h", parse_duration)?,
            },
            limits: LimitSettings {
                sign_in_per_account: src.get(&LIMIT_SIGN_IN_PER_ACCOUNT, "100", parse_per_hour)?,
                sign_in_per_ip: src.get(&LIMIT_SIGN_IN_PER_IP, "300", parse_per_hour)?,
                sign_up_per_ip: src.get(&LIMIT_SIGN_UP_PER_IP, "30", parse_per_hour)?,
                mail_per_account: src.get(&LIMIT_MAIL_PER_ACCOUNT, "5", parse_per_hour)?,
                mail_per_ip: src.get(&LIMIT_MAIL_PER_IP, "50", parse_per_hour)?,
                password_checks_per_ip: src.get(&LIMIT_PASSWORD_CHECKS_PER_IP, "600", parse_per_hour)?,
                avatar_uploads_per_account: src.get(&LIMIT_AVATAR_UPLOADS_PER_ACCOUNT, "30", parse_per_hour)?,
            },
            storage: StorageSettings {
                avatar_max_bytes: src.get(&AVATAR_MAX_BYTES, "5MB", parse_size)?,
                s3: match src.get(&S3_BUCKET, "", |s| Ok(s.to_owned()))? {
                    bucket if bucket.is_empty() => None,
                    bucket => Some(S3Settings {
                        bucket,
                        endpoint: src.get(&S3_ENDPOINT, "", |s| {
                            if s.is_empty() {
                                return Ok(None);
                            }
                            Url::parse(s)
                                .ok()
                                .filter(|u| matches!(u.scheme(), "http" | "https"))
                                .map(|_| Some(s.to_owned()))
                                .ok_or_else(|| format!("'{s}' is not an http:// or https:// address"))
                        })?,
                        region: src.get(&S3_REGION, "us-east-1", |s| Ok(s.to_owned()))?,
                        access_key_id: src
                            .get(&S3_ACCESS_KEY_ID, "", |s| Ok(Some(s.to_owned()).filter(|s| !s.is_empty())))?,
                        secret_access_key: src.get(&S3_SECRET_ACCESS_KEY, "", |s| {
                            Ok(Some(Secret(s.to_owned())).filter(|s| !s.0.is_empty()))
                        })?,
                    }),
                },
            },
        })
    }
}

/// A setting: its key in the settings file (`section.name`) and the environment variable that overrides it.
pub struct Key {
    pub file: &'static str,
    pub env: &'static str,
}

const SITE_ADDR: Key = Key { file: "site.addr", env: "LEPTOS_SITE_ADDR" };
const SITE_ROOT: Key = Key { file: "site.root", env: "LEPTOS_SITE_ROOT" };
const ENVIRONMENT: Key = Key { file: "site.env", env: "LEPTOS_ENV" };
const BASE_URL: Key = Key { file: "app.base_url", env: "APP_BASE_URL" };
const DATA_DIR: Key = Key { file: "app.data_dir", env: "APP_DATA_DIR" };
const EMAIL_VERIFICATION: Key = Key { file: "app.email_verification", env: "APP_EMAIL_VERIFICATION" };
const TRUSTED_PROXY_HOPS: Key = Key { file: "app.trusted_proxy_hops", env: "APP_TRUSTED_PROXY_HOPS" };
const SECRET_KEY: Key = Key { file: "app.secret_key", env: "APP_SECRET_KEY" };
const DEV_MAILBOX: Key = Key { file: "app.dev_mailbox", env: "APP_DEV_MAILBOX" };
const DATABASE_URL: Key = Key { file: "database.url", env: "DATABASE_URL" };
const DATABASE_MAX_CONNECTIONS: Key = Key { file: "database.max_connections", env: "APP_DATABASE_MAX_CONNECTIONS" };
const MAIL_FROM: Key = Key { file: "mail.from", env: "APP_MAIL_FROM" };
const SMTP_URL: Key = Key { file: "mail.smtp_url", env: "SMTP_URL" };
const SMTP_TIMEOUT: Key = Key { file: "mail.smtp_timeout", env: "APP_SMTP_TIMEOUT" };
const MAIL_ATTEMPTS: Key = Key { file: "mail.attempts", env: "APP_MAIL_ATTEMPTS" };
const MAIL_RETRY_DELAY: Key = Key { file: "mail.retry_delay", env: "APP_MAIL_RETRY_DELAY" };
const MAIL_QUEUE_LIMIT: Key = Key { file: "mail.queue_limit", env: "APP_MAIL_QUEUE_LIMIT" };
const SESSION_IDLE: Key = Key { file: "sessions.idle_timeout", env: "APP_SESSION_IDLE_TIMEOUT" };
const SESSION_ABSOLUTE: Key = Key { file: "sessions.absolute_timeout", env: "APP_SESSION_ABSOLUTE_TIMEOUT" };
const VERIFY_EMAIL_TTL: Key = Key { file: "tokens.verify_email_ttl", env: "APP_VERIFY_EMAIL_TTL" };
const MAGIC_LINK_TTL: Key = Key { file: "tokens.magic_link_ttl", env: "APP_MAGIC_LINK_TTL" };
const RESET_PASSWORD_TTL: Key = Key { file: "tokens.reset_password_ttl", env: "APP_RESET_PASSWORD_TTL" };
const CHANGE_EMAIL_TTL: Key = Key { file: "tokens.change_email_ttl", env: "APP_CHANGE_EMAIL_TTL" };

const AVATAR_MAX_BYTES: Key = Key { file: "storage.avatar_max_bytes", env: "APP_AVATAR_MAX_BYTES" };
const S3_BUCKET: Key = Key { file: "storage.s3_bucket", env: "APP_S3_BUCKET" };
const S3_ENDPOINT: Key = Key { file: "storage.s3_endpoint", env: "APP_S3_ENDPOINT" };
const S3_REGION: Key = Key { file: "storage.s3_region", env: "APP_S3_REGION" };
const S3_ACCESS_KEY_ID: Key = Key { file: "storage.s3_access_key_id", env: "AWS_ACCESS_KEY_ID" };
const S3_SECRET_ACCESS_KEY: Key = Key { file: "storage.s3_secret_access_key", env: "AWS_SECRET_ACCESS_KEY" };

const LIMIT_SIGN_IN_PER_ACCOUNT: Key = Key { file: "limits.sign_in_per_account", env: "APP_LIMIT_SIGN_IN_PER_ACCOUNT" };
const LIMIT_SIGN_IN_PER_IP: Key = Key { file: "limits.sign_in_per_ip", env: "APP_LIMIT_SIGN_IN_PER_IP" };
const LIMIT_SIGN_UP_PER_IP: Key = Key { file: "limits.sign_up_per_ip", env: "APP_LIMIT_SIGN_UP_PER_IP" };
const LIMIT_MAIL_PER_ACCOUNT: Key = Key { file: "limits.mail_per_account", env: "APP_LIMIT_MAIL_PER_ACCOUNT" };
const LIMIT_MAIL_PER_IP: Key = Key { file: "limits.mail_per_ip", env: "APP_LIMIT_MAIL_PER_IP" };
const LIMIT_PASSWORD_CHECKS_PER_IP: Key =
    Key { file: "limits.password_checks_per_ip", env: "APP_LIMIT_PASSWORD_CHECKS_PER_IP" };
const LIMIT_AVATAR_UPLOADS_PER_ACCOUNT: Key =
    Key { file: "limits.avatar_uploads_per_account", env: "APP_LIMIT_AVATAR_UPLOADS_PER_ACCOUNT" };

/// Every setting, in the order the README documents them.
pub const KEYS: &[&Key] = &[
    &SITE_ADDR,
    &SITE_ROOT,
    &ENVIRONMENT,
    &BASE_URL,
    &DATA_DIR,
    &EMAIL_VERIFICATION,
    &TRUSTED_PROXY_HOPS,
    &SECRET_KEY,
    &DEV_MAILBOX,
    &DATABASE_URL,
    &DATABASE_MAX_CONNECTIONS,
    &MAIL_FROM,
    &SMTP_URL,
    &SMTP_TIMEOUT,
    &MAIL_ATTEMPTS,
    &MAIL_RETRY_DELAY,
    &MAIL_QUEUE_LIMIT,
    &SESSION_IDLE,
    &SESSION_ABSOLUTE,
    &VERIFY_EMAIL_TTL,
    &MAGIC_LINK_TTL,
    &RESET_PASSWORD_TTL,
    &CHANGE_EMAIL_TTL,
    &AVATAR_MAX_BYTES,
    &S3_BUCKET,
    &S3_ENDPOINT,
    &S3_REGION,
    &S3_ACCESS_KEY_ID,
    &S3_SECRET_ACCESS_KEY,
    &LIMIT_SIGN_IN_PER_ACCOUNT,
    &LIMIT_SIGN_IN_PER_IP,
    &LIMIT_SIGN_UP_PER_IP,
    &LIMIT_MAIL_PER_ACCOUNT,
    &LIMIT_MAIL_PER_IP,
    &LIMIT_PASSWORD_CHECKS_PER_IP,
    &LIMIT_AVATAR_UPLOADS_PER_ACCOUNT,
];

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    File(String),
    #[error("invalid setting `{key}` (environment variable {env}) {origin}: {message}")]
    Invalid { key: &'static str, env: &'static str, origin: &'static str, message: String },
}

/// The settings file flattened to `section.name` → text, plus the environment lookup.
struct Sources<'a> {
    file: BTreeMap<String, String>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Sources<'a> {
    fn new(file_text: &str, env: &'a dyn Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let table: toml::Table = toml::from_str(file_text)
            .map_err(|e| SettingsError::File(format!("the settings file is not valid TOML: {e}")))?;
        let mut file = BTreeMap::new();
        for (section, value) in table {
            let toml::Value::Table(entries) = value else {
                return Err(SettingsError::File(format!("`{section}` in the settings file must be a [section]")));
            };
            for (name, value) in entries {
                let key = format!("{section}.{name}");
                // A misspelt key would otherwise be ignored silently and the default used instead.
                if !KEYS.iter().any(|k| k.file == key) {
                    return Err(SettingsError::File(format!("unknown setting `{key}` in the settings file")));
                }
                let text = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => {
                        return Err(SettingsError::File(format!(
                            "setting `{key}` must be a string, number or boolean, not {}",
                            other.type_str()
                        )))
                    }
                };
                file.insert(key, text);
            }
        }
        Ok(Self { file, env })
    }

    fn get<T>(&self, key: &Key, default: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, SettingsError> {
        let (text, origin) = match (self.env)(key.env).filter(|v| !v.trim().is_empty()) {
            Some(v) => (v, "from the environment"),
            None => match self.file.get(key.file) {
                Some(v) => (v.clone(), "from the settings file"),
                None => (default.to_owned(), "by default"),
            },
        };
        parse(text.trim()).map_err(|message| SettingsError::Invalid { key: key.file, env: key.env, origin, message })
    }
}

fn parse_environment(s: &str) -> Result<Environment, String> {
    match s.to_ascii_lowercase().as_str() {
        "dev" | "development" => Ok(Environment::Dev),
        "prod" | "production" => Ok(Environment::Prod),
        _ => Err(format!("'{s}' is not an environment; use DEV or PROD")),
    }
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(format!("'{s}' is not true or false")),
    }
}

fn parse_base_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|_| format!("'{s}' is not a URL; write it like https://example.com"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("'{s}' must be an http:// or https:// address with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
        return Err(format!("'{s}' must be just the scheme, host and port, with no path or query"));
    }
    Ok(url)
}

fn parse_database_url(s: &str) -> Result<Secret, String> {
    if ["sqlite:", "postgres://", "postgresql://"].iter().any(|scheme| s.starts_with(scheme)) {
        Ok(Secret(s.to_owned()))
    } else {
        Err("expected a sqlite: or postgres:// URL".into())
    }
}

fn parse_smtp_url(s: &str) -> Result<Option<Secret>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let url = Url::parse(s).map_err(|_| "not a URL; write it like smtp://user:password@host:587".to_string())?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host().is_none() {
        return Err("must be an smtp:// or smtps:// address with a host, like smtp://user:password@host:587".into());
    }
    Ok(Some(Secret(s.to_owned())))
}

/// Durations are written as a whole number and a unit: `500ms`, `90s`, `15m`, `24h`, `7d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let problem = || format!("'{s}' is not a duration; write a whole number and a unit, like 90s, 15m, 24h or 7d");
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(problem)?;
    let (number, unit) = s.split_at(split);
    let n: u64 = number.parse().map_err(|_| problem())?;
    let millis = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(problem()),
    };
    if n == 0 {
        return Err(format!("'{s}' must be longer than zero"));
    }
    n.checked_mul(millis).map(Duration::from_millis).ok_or_else(problem)
}

/// The shortest idle timeout. A session's `last_seen_at` moves at most once per
/// `sessions::LAST_SEEN_RESOLUTION_SECS` (60 s), so it can lag the last request by almost that much and a
/// session in use ends up to a minute before its idle timeout is up. With a timeout near that resolution
/// people would be signed out while they work; from 5 minutes on the slack is at most a fifth.
pub const MIN_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
const _: () =
    assert!(MIN_IDLE_TIMEOUT.as_secs() >= 2 * crate::server::sessions::store::LAST_SEEN_RESOLUTION_SECS as u64);

fn parse_idle_timeout(s: &str) -> Result<Duration, String> {
    let timeout = parse_duration(s)?;
    if timeout < MIN_IDLE_TIMEOUT {
        return Err(format!(
            "'{s}' is too short; use at least 5m, because activity is recorded only once a minute and shorter \
             timeouts sign out people who are using the app"
        ));
    }
    Ok(timeout)
}

fn parse_count(s: &str, what: &str) -> Result<NonZeroU32, String> {
    s.parse::<NonZeroU32>().map_err(|_| format!("'{s}' is not a number of {what} (1 or more)"))
}

fn parse_per_hour(s: &str) -> Result<NonZeroU32, String> {
    s.parse::<NonZeroU32>().map_err(|_| format!("'{s}' is not a number of attempts per hour (1 or more)"))
}

/// Sizes are a whole number of bytes, or with a unit: `512KB`, `5MB` (binary: 1 MB = 1024 × 1024 bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let problem = || format!("'{s}' is not a size; write a whole number and a unit, like 512KB or 5MB");
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number.parse().map_err(|_| problem())?;
    let factor = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "K" | "KIB" => 1024,
        "MB" | "M" | "MIB" => 1024 * 1024,
        _ => return Err(problem()),
    };
    match n.checked_mul(factor) {
        Some(0) => Err(format!("'{s}' must be more than zero")),
        Some(bytes) => Ok(bytes),
        None => Err(problem()),
    }
}

/// A value that must never reach a log: database and SMTP URLs carry passwords.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(file: &str, env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_sources(file, |k| env.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_file_and_no_environment() {
        let s = load("", &[]).unwrap();
        assert_eq!(s.site.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(s.app.data_dir, PathBuf::from("./data"));
        assert!(s.app.email_verification);
        assert_eq!(s.sessions.idle_timeout, Duration::from_secs(7 * 86400));
        assert_eq!(s.tokens.magic_link_ttl, Duration::from_secs(15 * 60));
        assert!(s.database.url.expose().starts_with("sqlite://./data/app.db"));
        assert_eq!(s.database.max_connections.get(), 8);
        assert!(!s.is_https());
        assert_eq!(s.site.environment, Environment::Prod, "development features are opt-in");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = "[app]\nemail_verification = false\n[sessions]\nidle_timeout = \"2h\"\n";
        let s = load(file, &[("APP_SESSION_IDLE_TIMEOUT", "30m")]).unwrap();
        assert!(!s.app.email_verification);
        assert_eq!(s.sessions.idle_timeout, Duration::from_secs(1800));
    }

    #[test]
    fn errors_name_the_key_and_its_variable() {
        let e = load("", &[("APP_SESSION_IDLE_TIMEOUT", "soon")]).unwrap_err().to_string();
        assert!(e.contains("sessions.idle_timeout") && e.contains("APP_SESSION_IDLE_TIMEOUT"), "{e}");
        let e = load("[app]\nbase_url = \"ftp://x\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("app.base_url") && e.contains("settings file"), "{e}");
        let e = load("", &[("APP_DATABASE_MAX_CONNECTIONS", "0")]).unwrap_err().to_string();
        assert!(e.contains("database.max_connections") && e.contains("not a number of connections"), "{e}");
        let e = load("[app]\nbase_ulr = \"http://x\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("unknown setting `app.base_ulr`"), "{e}");
    }

    #[test]
    fn the_idle_timeout_is_at_least_five_minutes() {
        let e = load("", &[("APP_SESSION_IDLE_TIMEOUT", "90s")]).unwrap_err().to_string();
        assert!(e.contains("sessions.idle_timeout") && e.contains("APP_SESSION_IDLE_TIMEOUT"), "{e}");
        assert!(e.contains("'90s' is too short; use at least 5m"), "{e}");
        let e = load("[sessions]\nidle_timeout = \"4m\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("sessions.idle_timeout") && e.contains("from the settings file"), "{e}");
        assert!(load("", &[("APP_SESSION_IDLE_TIMEOUT", "299s")]).is_err());
        let s = load("", &[("APP_SESSION_IDLE_TIMEOUT", "5m")]).unwrap();
        assert_eq!(s.sessions.idle_timeout, MIN_IDLE_TIMEOUT);
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("5MB").unwrap(), 5 * 1024 * 1024);
        assert_eq!(parse_size("512KB").unwrap(), 512 * 1024);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        for bad in ["", "MB", "0MB", "5 GB", "-1KB", "1.5MB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604800));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        for bad in ["", "7", "d", "7 weeks", "-1h", "0m", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s = load("", &[("SMTP_URL", "smtp://me:hunter2@mail.example.com:587")]).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
