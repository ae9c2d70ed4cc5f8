//! Runtime settings: `Leptos.toml` (or the file named by `APP_CONFIG`), every key overridable by the
//! environment variable named beside it in `KEYS`, layered and typed with figment. Unknown keys are
//! refused, and anything invalid stops the server at start with a message naming the key, its variable
//! and where the value came from.

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use lettre::message::Mailbox;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, time::Duration};
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

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteSettings {
    pub addr: SocketAddr,
    /// Where `cargo leptos build` put the compiled site (`pkg/`, CSS, public assets).
    pub root: PathBuf,
    #[serde(rename = "env")]
    pub environment: Environment,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppSettings {
    /// The only source of absolute links (emails); never the request's Host header.
    pub base_url: Url,
    pub data_dir: PathBuf,
    /// On: sign-up sends a verification link and sign-in waits for it. Off: sign-up signs in at once.
    #[serde(deserialize_with = "flag")]
    pub email_verification: bool,
    /// How many reverse proxies stand in front of the server. With 0 the client address is the socket's;
    /// with N it is the Nth address from the right of `X-Forwarded-For`, the one the outermost trusted
    /// proxy saw. Anything further left was written by the client and can be forged.
    pub trusted_proxy_hops: usize,
    /// `APP_SECRET_KEY`; None: the embedded default's key in the data folder (`secrets::SecretKey`).
    pub secret_key: Option<SecretString>,
    /// `/dev/mailbox`, the outbox as a web page: only when asked for, in development, with mail going to
    /// the outbox, and then only for a browser on this machine that came through no proxy.
    #[serde(deserialize_with = "flag")]
    pub dev_mailbox: bool,
    /// An account's security activity (`accounts::activity`) is purged when this old.
    #[serde(with = "humantime_serde")]
    pub activity_kept_for: Duration,
    /// How long a deleted account waits, locked, before it is erased (`accounts::deletion`): its owner can
    /// cancel until then with the mailed link.
    #[serde(with = "humantime_serde")]
    pub deletion_grace: Duration,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// None: `app.db` in the data folder.
    pub url: Option<SecretString>,
    /// Connections this app server keeps open at most. With PostgreSQL, all app servers together must stay
    /// under the database's own limit (`max_connections`, 100 by default). With SQLite these serve reads,
    /// and one more connection makes every write (see `db::Db`).
    pub max_connections: NonZeroU32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    #[serde(deserialize_with = "mailbox")]
    pub from: Mailbox,
    /// None: mail is written to the outbox folder `$APP_DATA_DIR/mail/`.
    pub smtp_url: Option<SecretString>,
    /// How long one SMTP conversation may take before it counts as failed.
    #[serde(with = "humantime_serde")]
    pub smtp_timeout: Duration,
    /// Tries per message before it is given up (and logged as lost); the first retry waits `retry_delay`,
    /// each later one twice as long as the one before.
    pub attempts: NonZeroU32,
    #[serde(with = "humantime_serde")]
    pub retry_delay: Duration,
    /// Messages waiting for SMTP at once. Beyond this a request that mails gets a clear "try again later"
    /// instead of piling up memory while the mail server is down.
    pub queue_limit: NonZeroU32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// A session unused for this long ends. At least `MIN_IDLE_TIMEOUT`.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    #[serde(with = "humantime_serde")]
    pub absolute_timeout: Duration,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    #[serde(with = "humantime_serde")]
    pub verify_email_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub magic_link_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub reset_password_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub change_email_ttl: Duration,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Uploads bigger than this are refused (413) before they are read.
    pub avatar_max_bytes: bytesize::ByteSize,
    /// Unset: files under `$APP_DATA_DIR/uploads/`. Set: an S3-compatible bucket.
    pub s3_bucket: Option<String>,
    /// For S3-compatible services (MinIO, R2, moto…); unset for AWS itself.
    pub s3_endpoint: Option<Url>,
    pub s3_region: String,
    /// From the standard `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`; when absent, `object_store` looks
    /// further (web identity, instance metadata) as the AWS tools do.
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<SecretString>,
}

/// Attempts allowed per hour, by kind and key (`rate_limits`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    pub sign_in_per_account: NonZeroU32,
    pub sign_in_per_ip: NonZeroU32,
    pub sign_up_per_ip: NonZeroU32,
    pub mail_per_account: NonZeroU32,
    pub mail_per_ip: NonZeroU32,
    /// The live hint under a new-password field asks the server while the user types.
    pub password_checks_per_ip: NonZeroU32,
    pub avatar_uploads_per_account: NonZeroU32,
    /// One-time codes typed for an account (from a mail; later an authenticator or a recovery code), right
    /// or wrong: a 6-digit code must not be guessable by trying.
    pub code_attempts_per_account: NonZeroU32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Dev,
    Prod,
}

impl<'de> Deserialize<'de> for Environment {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.to_ascii_lowercase().as_str() {
            "dev" | "development" => Ok(Environment::Dev),
            "prod" | "production" => Ok(Environment::Prod),
            other => Err(serde::de::Error::custom(format!("'{other}' is not an environment; use DEV or PROD"))),
        }
    }
}

/// A switch: `true`/`false`, or as environment variables are often written, `on`/`off`, `yes`/`no`, `1`/`0`.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Bool(bool),
        Number(i64),
        Text(String),
    }
    match Written::deserialize(d)? {
        Written::Bool(b) => Ok(b),
        Written::Number(1) => Ok(true),
        Written::Number(0) => Ok(false),
        Written::Text(t) if matches!(t.to_ascii_lowercase().as_str(), "true" | "on" | "yes") => Ok(true),
        Written::Text(t) if matches!(t.to_ascii_lowercase().as_str(), "false" | "off" | "no") => Ok(false),
        _ => Err(serde::de::Error::custom("expected true or false")),
    }
}

/// A sender as people write it: `Name <no-reply@example.com>`.
fn mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<Mailbox, D::Error> {
    String::deserialize(d)?.parse().map_err(|e| serde::de::Error::custom(format!("not a sender ({e})")))
}

/// The shortest idle timeout. A session's `last_seen_at` moves at most once per
/// `sessions::LAST_SEEN_RESOLUTION_SECS` (60 s), so it can lag the last request by almost that much and a
/// session in use ends up to a minute before its idle timeout is up. With a timeout near that resolution
/// people would be signed out while they work; from 5 minutes on the slack is at most a fifth.
pub const MIN_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
const _: () =
    assert!(MIN_IDLE_TIMEOUT.as_secs() >= 2 * crate::server::sessions::store::LAST_SEEN_RESOLUTION_SECS as u64);

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            root: "target/site".into(),
            // Production unless told otherwise: development conveniences (links in the log, the mailbox
            // page) must never switch on by accident. The project's Leptos.toml says DEV for `make run`.
            environment: Environment::Prod,
        }
    }
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            base_url: Url::parse("http://localhost:3000").expect("a valid URL"),
            data_dir: "./data".into(),
            email_verification: true,
            trusted_proxy_hops: 0,
            secret_key: None,
            dev_mailbox: false,
            activity_kept_for: Duration::from_secs(365 * 86_400),
            deletion_grace: Duration::from_secs(14 * 86_400),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: None, max_connections: NonZeroU32::new(8).expect("not zero") }
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            from: "Authkit <no-reply@authkit.localhost>".parse().expect("a valid mailbox"),
            smtp_url: None,
            smtp_timeout: Duration::from_secs(10),
            attempts: NonZeroU32::new(8).expect("not zero"),
            retry_delay: Duration::from_secs(5),
            queue_limit: NonZeroU32::new(10_000).expect("not zero"),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { idle_timeout: Duration::from_secs(7 * 86_400), absolute_timeout: Duration::from_secs(30 * 86_400) }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            verify_email_ttl: Duration::from_secs(24 * 3600),
            magic_link_ttl: Duration::from_secs(15 * 60),
            reset_password_ttl: Duration::from_secs(3600),
            change_email_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            avatar_max_bytes: bytesize::ByteSize::mib(5),
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
        }
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        let per_hour = |n| NonZeroU32::new(n).expect("not zero");
        Self {
            sign_in_per_account: per_hour(100),
            sign_in_per_ip: per_hour(300),
            sign_up_per_ip: per_hour(30),
            mail_per_account: per_hour(5),
            mail_per_ip: per_hour(50),
            password_checks_per_ip: per_hour(600),
            avatar_uploads_per_account: per_hour(30),
            code_attempts_per_account: per_hour(30),
        }
    }
}

/// A setting: its key in the settings file (`section.name`), the environment variable that overrides it,
/// and how to write it, for the message when it is written wrong.
pub struct Key {
    pub file: &'static str,
    pub env: &'static str,
    hint: &'static str,
}

const DURATION: &str = "write a number and a unit, like 500ms, 90s, 15m, 24h or 7d";
const SIZE: &str = "write a number and a unit, like 512KiB or 5MiB (KB and MB are 1000 and 1000000 bytes)";
const PER_HOUR: &str = "write a number of attempts per hour, 1 or more";

/// Every setting, in the order docs/settings.md lists them.
pub const KEYS: &[Key] = &[
    Key { file: "site.addr", env: "LEPTOS_SITE_ADDR", hint: "write an address and port like 127.0.0.1:3000" },
    Key { file: "site.root", env: "LEPTOS_SITE_ROOT", hint: "write a folder" },
    Key { file: "site.env", env: "LEPTOS_ENV", hint: "use DEV or PROD" },
    Key { file: "app.base_url", env: "APP_BASE_URL", hint: "write it like https://example.com" },
    Key { file: "app.data_dir", env: "APP_DATA_DIR", hint: "write a folder" },
    Key { file: "app.email_verification", env: "APP_EMAIL_VERIFICATION", hint: "write true or false" },
    Key { file: "app.trusted_proxy_hops", env: "APP_TRUSTED_PROXY_HOPS", hint: "write a number from 0 to 10" },
    Key { file: "app.secret_key", env: "APP_SECRET_KEY", hint: "make one with `openssl rand -hex 32`" },
    Key { file: "app.dev_mailbox", env: "APP_DEV_MAILBOX", hint: "write true or false" },
    Key { file: "app.activity_kept_for", env: "APP_ACTIVITY_KEPT_FOR", hint: DURATION },
    Key { file: "app.deletion_grace", env: "APP_DELETION_GRACE", hint: DURATION },
    Key { file: "database.url", env: "DATABASE_URL", hint: "write a sqlite: or postgres:// URL" },
    Key {
        file: "database.max_connections",
        env: "APP_DATABASE_MAX_CONNECTIONS",
        hint: "write a number of connections, 1 or more",
    },
    Key { file: "mail.from", env: "APP_MAIL_FROM", hint: "write a sender like Name <no-reply@example.com>" },
    Key { file: "mail.smtp_url", env: "SMTP_URL", hint: "write it like smtp://user:password@host:587" },
    Key { file: "mail.smtp_timeout", env: "APP_SMTP_TIMEOUT", hint: DURATION },
    Key { file: "mail.attempts", env: "APP_MAIL_ATTEMPTS", hint: "write a number of attempts, 1 or more" },
    Key { file: "mail.retry_delay", env: "APP_MAIL_RETRY_DELAY", hint: DURATION },
    Key { file: "mail.queue_limit", env: "APP_MAIL_QUEUE_LIMIT", hint: "write a number of messages, 1 or more" },
    Key { file: "sessions.idle_timeout", env: "APP_SESSION_IDLE_TIMEOUT", hint: DURATION },
    Key { file: "sessions.absolute_timeout", env: "APP_SESSION_ABSOLUTE_TIMEOUT", hint: DURATION },
    Key { file: "tokens.verify_email_ttl", env: "APP_VERIFY_EMAIL_TTL", hint: DURATION },
    Key { file: "tokens.magic_link_ttl", env: "APP_MAGIC_LINK_TTL", hint: DURATION },
    Key { file: "tokens.reset_password_ttl", env: "APP_RESET_PASSWORD_TTL", hint: DURATION },
    Key { file: "tokens.change_email_ttl", env: "APP_CHANGE_EMAIL_TTL", hint: DURATION },
    Key { file: "storage.avatar_max_bytes", env: "APP_AVATAR_MAX_BYTES", hint: SIZE },
    Key { file: "storage.s3_bucket", env: "APP_S3_BUCKET", hint: "write a bucket name" },
    Key { file: "storage.s3_endpoint", env: "APP_S3_ENDPOINT", hint: "write an http:// or https:// address" },
    Key { file: "storage.s3_region", env: "APP_S3_REGION", hint: "write a region like us-east-1" },
    Key { file: "storage.s3_access_key_id", env: "AWS_ACCESS_KEY_ID", hint: "write the key's id" },
    Key { file: "storage.s3_secret_access_key", env: "AWS_SECRET_ACCESS_KEY", hint: "write the secret" },
    Key { file: "limits.sign_in_per_account", env: "APP_LIMIT_SIGN_IN_PER_ACCOUNT", hint: PER_HOUR },
    Key { file: "limits.sign_in_per_ip", env: "APP_LIMIT_SIGN_IN_PER_IP", hint: PER_HOUR },
    Key { file: "limits.sign_up_per_ip", env: "APP_LIMIT_SIGN_UP_PER_IP", hint: PER_HOUR },
    Key { file: "limits.mail_per_account", env: "APP_LIMIT_MAIL_PER_ACCOUNT", hint: PER_HOUR },
    Key { file: "limits.mail_per_ip", env: "APP_LIMIT_MAIL_PER_IP", hint: PER_HOUR },
    Key { file: "limits.password_checks_per_ip", env: "APP_LIMIT_PASSWORD_CHECKS_PER_IP", hint: PER_HOUR },
    Key { file: "limits.avatar_uploads_per_account", env: "APP_LIMIT_AVATAR_UPLOADS_PER_ACCOUNT", hint: PER_HOUR },
    Key { file: "limits.code_attempts_per_account", env: "APP_LIMIT_CODE_ATTEMPTS_PER_ACCOUNT", hint: PER_HOUR },
];

/// Settings that older versions read and this one does not: a settings file that still has one starts,
/// with a warning that says why it no longer matters.
const REMOVED: &[(&str, &str)] = &[
    ("limits.app_servers", "rate limits are counted in the shared database when several app servers run"),
    ("app.page_cache_size", "pages are rendered on every view"),
];

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    File(String),
    #[error("invalid setting `{key}` (environment variable {env}) {origin}: {message}")]
    Invalid { key: &'static str, env: &'static str, origin: &'static str, message: String },
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
        let mut file: toml::Table = toml::from_str(file_text)
            .map_err(|e| SettingsError::File(format!("the settings file is not valid TOML: {e}")))?;
        for (removed, why) in REMOVED {
            let (section, name) = removed.split_once('.').expect("section.name");
            if let Some(toml::Value::Table(entries)) = file.get_mut(section) {
                if entries.remove(name).is_some() {
                    tracing::warn!("the setting `{removed}` in the settings file is no longer used: {why}");
                }
            }
        }
        let overrides =
            EnvOverrides(KEYS.iter().filter_map(|k| Some((k, env(k.env).filter(|v| !v.trim().is_empty())?))).collect());
        let from_env: Vec<&str> = overrides.0.iter().map(|(k, _)| k.file).collect();
        let origin = |key: &str| -> &'static str {
            if from_env.contains(&key) {
                "from the environment"
            } else if file_has(&file, key) {
                "from the settings file"
            } else {
                "by default"
            }
        };
        let invalid = |key: &'static str, message: String| {
            let env = KEYS.iter().find(|k| k.file == key).map_or("", |k| k.env);
            SettingsError::Invalid { key, env, origin: origin(key), message }
        };
        let file_text = toml::to_string(&file).map_err(|e| SettingsError::File(e.to_string()))?;
        let figment = Figment::from(Toml::string(&file_text)).merge(overrides);
        let section = |name: &'static str| figment.focus(name);
        macro_rules! extract {
            ($section:literal) => {
                section($section).extract().map_err(|e| figment_error($section, e, &invalid))?
            };
        }
        if let Some(unknown) = file.keys().find(|s| !KEYS.iter().any(|k| k.file.starts_with(&format!("{s}.")))) {
            return Err(SettingsError::File(format!("unknown section `[{unknown}]` in the settings file")));
        }
        let site: SiteSettings = extract!("site");
        let app: AppSettings = extract!("app");
        let mut database: DatabaseSettings = extract!("database");
        let mail: MailSettings = extract!("mail");
        let sessions: SessionSettings = extract!("sessions");
        let tokens: TokenSettings = extract!("tokens");
        let storage: StorageSettings = extract!("storage");
        let limits: LimitSettings = extract!("limits");

        // What a type cannot say by itself.
        check_base_url(&app.base_url).map_err(|m| invalid("app.base_url", m))?;
        if app.trusted_proxy_hops > 10 {
            return Err(invalid("app.trusted_proxy_hops", "use a number of proxies from 0 to 10".into()));
        }
        if app.secret_key.as_ref().is_some_and(|k| k.expose_secret().chars().count() < 32) {
            return Err(invalid(
                "app.secret_key",
                "must be at least 32 characters; make one with `openssl rand -hex 32`".into(),
            ));
        }
        let default_db = format!("sqlite://{}?mode=rwc", app.data_dir.join("app.db").display());
        let url = database.url.get_or_insert_with(|| default_db.into());
        if !["sqlite:", "postgres://", "postgresql://"].iter().any(|s| url.expose_secret().starts_with(s)) {
            return Err(invalid("database.url", "expected a sqlite: or postgres:// URL".into()));
        }
        if let Some(smtp) = &mail.smtp_url {
            check_smtp_url(smtp.expose_secret()).map_err(|m| invalid("mail.smtp_url", m))?;
        }
        if sessions.idle_timeout < MIN_IDLE_TIMEOUT {
            return Err(invalid(
                "sessions.idle_timeout",
                format!(
                    "'{}' is too short; use at least 5m, because activity is recorded only once a minute and \
                     shorter timeouts sign out people who are using the app",
                    humantime::format_duration(sessions.idle_timeout)
                ),
            ));
        }
        for (key, duration) in [
            ("mail.smtp_timeout", mail.smtp_timeout),
            ("mail.retry_delay", mail.retry_delay),
            ("sessions.absolute_timeout", sessions.absolute_timeout),
            ("tokens.verify_email_ttl", tokens.verify_email_ttl),
            ("tokens.magic_link_ttl", tokens.magic_link_ttl),
            ("tokens.reset_password_ttl", tokens.reset_password_ttl),
            ("tokens.change_email_ttl", tokens.change_email_ttl),
        ] {
            if duration.is_zero() {
                return Err(invalid(key, "must be longer than zero".into()));
            }
        }
        if storage.avatar_max_bytes.as_u64() == 0 {
            return Err(invalid("storage.avatar_max_bytes", "must be more than zero".into()));
        }
        if storage.s3_endpoint.as_ref().is_some_and(|u| !matches!(u.scheme(), "http" | "https")) {
            return Err(invalid("storage.s3_endpoint", "must be an http:// or https:// address".into()));
        }
        Ok(Settings { site, app, database, mail, sessions, tokens, storage, limits })
    }
}

impl DatabaseSettings {
    /// The database's URL (with its password: never log it).
    pub fn url(&self) -> &str {
        self.url.as_ref().map_or("", |u| u.expose_secret())
    }
}

impl StorageSettings {
    pub fn avatar_max_bytes(&self) -> u64 {
        self.avatar_max_bytes.as_u64()
    }
}

fn file_has(file: &toml::Table, key: &str) -> bool {
    let (section, name) = key.split_once('.').unwrap_or((key, ""));
    file.get(section).and_then(|s| s.as_table()).is_some_and(|s| s.contains_key(name))
}

/// A figment error about `section` as the settings error that names its key and variable.
fn figment_error(
    section: &'static str,
    e: figment::Error,
    invalid: &impl Fn(&'static str, String) -> SettingsError,
) -> SettingsError {
    use figment::error::Kind;
    let name = match &e.kind {
        Kind::UnknownField(field, _) => {
            return SettingsError::File(format!("unknown setting `{section}.{field}` in the settings file"))
        }
        Kind::MissingField(field) => field.to_string(),
        _ => e.path.last().cloned().unwrap_or_default(),
    };
    let Some(key) = KEYS.iter().find(|k| k.file == format!("{section}.{name}")) else {
        return SettingsError::File(format!("invalid section `[{section}]`: {e}"));
    };
    invalid(key.file, format!("{}; {}", e.kind, key.hint))
}

/// The environment's values for the keys it sets, as a figment provider: each goes to its place in the
/// settings, a number or a switch as such, anything else as text.
struct EnvOverrides<'a>(Vec<(&'a Key, String)>);

impl Provider for EnvOverrides<'_> {
    fn metadata(&self) -> Metadata {
        Metadata::named("the environment")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut settings = Dict::new();
        for (key, text) in &self.0 {
            let (section, name) = key.file.split_once('.').expect("section.name");
            let text = text.trim();
            let value = match (text.parse::<i64>(), text) {
                (Ok(n), _) => Value::from(n),
                (_, "true") => Value::from(true),
                (_, "false") => Value::from(false),
                _ => Value::from(text.to_owned()),
            };
            let Value::Dict(_, entries) =
                settings.entry(section.to_owned()).or_insert_with(|| Value::from(Dict::new()))
            else {
                unreachable!("sections are dictionaries")
            };
            entries.insert(name.to_owned(), value);
        }
        Ok(Profile::Default.collect(settings))
    }
}

fn check_base_url(url: &Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("'{url}' must be an http:// or https:// address with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
        return Err(format!("'{url}' must be just the scheme, host and port, with no path or query"));
    }
    Ok(())
}

fn check_smtp_url(s: &str) -> Result<(), String> {
    let url = Url::parse(s).map_err(|_| "not a URL; write it like smtp://user:password@host:587".to_string())?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host().is_none() {
        return Err("must be an smtp:// or smtps:// address with a host, like smtp://user:password@host:587".into());
    }
    Ok(())
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
        assert!(s.database.url().starts_with("sqlite://./data/app.db"));
        assert_eq!(s.database.max_connections.get(), 8);
        assert_eq!(s.storage.avatar_max_bytes(), 5 * 1024 * 1024);
        assert!(!s.is_https());
        assert_eq!(s.site.environment, Environment::Prod, "development features are opt-in");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = "[app]\nemail_verification = false\n[sessions]\nidle_timeout = \"2h\"\n";
        let s = load(file, &[("APP_SESSION_IDLE_TIMEOUT", "30m"), ("APP_DEV_MAILBOX", "on")]).unwrap();
        assert!(!s.app.email_verification);
        assert!(s.app.dev_mailbox);
        assert_eq!(s.sessions.idle_timeout, Duration::from_secs(1800));
        let s = load("", &[("APP_LIMIT_MAIL_PER_IP", "7"), ("APP_AVATAR_MAX_BYTES", "100KiB")]).unwrap();
        assert_eq!((s.limits.mail_per_ip.get(), s.storage.avatar_max_bytes()), (7, 100 * 1024));
    }

    #[test]
    fn errors_name_the_key_and_its_variable() {
        let e = load("", &[("APP_SESSION_IDLE_TIMEOUT", "soon")]).unwrap_err().to_string();
        assert!(e.contains("sessions.idle_timeout") && e.contains("APP_SESSION_IDLE_TIMEOUT"), "{e}");
        assert!(e.contains("from the environment") && e.contains("like 500ms, 90s"), "{e}");
        let e = load("[app]\nbase_url = \"ftp://x\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("app.base_url") && e.contains("settings file"), "{e}");
        let e = load("", &[("APP_DATABASE_MAX_CONNECTIONS", "0")]).unwrap_err().to_string();
        assert!(e.contains("database.max_connections") && e.contains("number of connections"), "{e}");
        let e = load("[app]\nbase_ulr = \"http://x\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("unknown setting `app.base_ulr`"), "{e}");
        let e = load("[apps]\nbase_url = \"http://x\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("unknown section `[apps]`"), "{e}");
        let e = load("", &[("APP_SECRET_KEY", "short")]).unwrap_err().to_string();
        assert!(e.contains("app.secret_key") && e.contains("at least 32 characters"), "{e}");
    }

    #[test]
    fn settings_older_versions_read_are_ignored_with_a_warning() {
        let s = load("[limits]\napp_servers = 2\nmail_per_ip = 9\n[app]\npage_cache_size = \"32MB\"\n", &[]).unwrap();
        assert_eq!(s.limits.mail_per_ip.get(), 9);
    }

    #[test]
    fn the_idle_timeout_is_at_least_five_minutes() {
        let e = load("", &[("APP_SESSION_IDLE_TIMEOUT", "90s")]).unwrap_err().to_string();
        assert!(e.contains("sessions.idle_timeout") && e.contains("APP_SESSION_IDLE_TIMEOUT"), "{e}");
        assert!(e.contains("'1m 30s' is too short; use at least 5m"), "{e}");
        let e = load("[sessions]\nidle_timeout = \"4m\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("sessions.idle_timeout") && e.contains("from the settings file"), "{e}");
        assert!(load("", &[("APP_SESSION_IDLE_TIMEOUT", "299s")]).is_err());
        let s = load("", &[("APP_SESSION_IDLE_TIMEOUT", "5m")]).unwrap();
        assert_eq!(s.sessions.idle_timeout, MIN_IDLE_TIMEOUT);
    }

    #[test]
    fn sizes_and_durations_need_a_unit_and_more_than_zero() {
        for (size, bytes) in [("5MiB", 5 * 1024 * 1024), ("512KiB", 512 * 1024), ("5MB", 5_000_000), ("1000", 1000)] {
            let s = load(&format!("[storage]\navatar_max_bytes = \"{size}\"\n"), &[]).unwrap();
            assert_eq!(s.storage.avatar_max_bytes(), bytes, "{size}");
        }
        for bad in ["MB", "0MB", "5 parsecs", "-1KB"] {
            assert!(load(&format!("[storage]\navatar_max_bytes = \"{bad}\"\n"), &[]).is_err(), "{bad}");
        }
        for bad in ["7", "d", "-1h", "0m"] {
            assert!(load("", &[("APP_MAGIC_LINK_TTL", bad)]).is_err(), "{bad}");
        }
        let s = load("", &[("APP_MAGIC_LINK_TTL", "250ms")]).unwrap();
        assert_eq!(s.tokens.magic_link_ttl, Duration::from_millis(250));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s = load("", &[("SMTP_URL", "smtp://me:hunter2@mail.example.com:587")]).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
