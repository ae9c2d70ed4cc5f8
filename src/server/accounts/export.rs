//! "Download your data": everything the account holds, as one ZIP written while it is sent, never whole
//! in memory. `account.json` has the profile, the sign-in methods (names and dates), the sessions and the
//! security activity, read a page at a time; `avatar.jpg` is the uploaded picture, if there is one. No
//! secret is in it: no password hash, token, key, code, or passkey credential.
//!
//! `POST /api/export` (the "Download" button of `/profile/export`, after the current password: a session
//! left open on a shared computer must not be enough to take everything) and `authkit admin export` write
//! it through `write_zip`. Each download is recorded in the account's security activity, and limited per
//! account (`RateLimits::export`: a download reads the whole history) and per app server (`Downloads`: a
//! few at once, one per account, each cut off when its client stops reading).

use super::activity::{self, Event, Kind};
use super::credentials::check_current_password;
use super::{passkeys, two_factor, users};
use crate::error::AppError;
use crate::routes::paths;
use crate::server::sessions::{self, user_agents, ClientInfo, Lookup};
use crate::server::{AppState, Error};
use crate::time_format::iso_utc;
use async_zip::tokio::write::ZipFileWriter;
use async_zip::{Compression, ZipDateTimeBuilder, ZipEntryBuilder};
use axum::body::Body;
use axum::extract::{Form, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use futures_util::AsyncWriteExt as _;
use serde::Serialize;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio_io_timeout::TimeoutWriter;

/// Security events read per query while the file is written.
const ACTIVITY_PAGE: u32 = 500;

/// Room between writing the file and sending it: the writer waits while a slow client reads.
const PIPE_BYTES: usize = 64 * 1024;

/// A download still unfinished after this is cut off, so a client that stops reading cannot hold its
/// writer for ever.
const DOWNLOAD_TIME_LIMIT: Duration = Duration::from_secs(10 * 60);

/// A download whose client takes nothing for this long is cut off: a client that stops reading must not
/// hold a place (`Downloads`) for the whole `DOWNLOAD_TIME_LIMIT`.
const STALLED_FOR: Duration = Duration::from_secs(30);

/// How many downloads one app server writes at once. Each holds a pipe and a compressor and reads the
/// account's whole history; the limit per account does not stop many accounts asking at once.
pub const DOWNLOADS_AT_ONCE: usize = 4;

/// The accounts whose download this server is writing: at most `DOWNLOADS_AT_ONCE`, and one each, so one
/// account cannot take every place.
#[derive(Clone, Default)]
pub struct Downloads(Arc<Mutex<HashSet<String>>>);

/// Why a download cannot start now.
enum NoPlace {
    /// The account's previous download is still being written.
    ThisAccount,
    /// Every place on this server is taken.
    Server,
}

impl Downloads {
    fn take(&self, user_id: &str) -> Result<Place, NoPlace> {
        let mut writing = self.0.lock().expect("downloads lock");
        if writing.contains(user_id) {
            return Err(NoPlace::ThisAccount);
        }
        if writing.len() >= DOWNLOADS_AT_ONCE {
            return Err(NoPlace::Server);
        }
        writing.insert(user_id.to_owned());
        Ok(Place { downloads: self.clone(), user_id: user_id.to_owned() })
    }
}

/// A download's place, given back when it ends (written, cut off, or the client gone).
struct Place {
    downloads: Downloads,
    user_id: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.downloads.0.lock().expect("downloads lock").remove(&self.user_id);
    }
}

/// The name the file is saved under, e.g. `authkit-data-2026-12-05.zip`.
pub fn file_name(now: i64) -> String {
    format!("authkit-data-{}.zip", &iso_utc(now)[..10])
}

/// What "Download" on `/profile/export` posts: the current password, as for any change that gives what a
/// session left open should not (here, everything the account holds).
#[derive(serde::Deserialize)]
pub struct DownloadForm {
    #[serde(default)]
    current_password: String,
}

/// `POST /api/export`: the signed-in account's data as a download, after its current password. Refused
/// from another site by `refuse_cross_site`, as every POST is. A refusal goes back to the page with why
/// (`?error=…`); the download itself leaves the page where it is.
pub async fn download(
    State(app): State<AppState>,
    Extension(lookup): Extension<Lookup>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<DownloadForm>,
) -> Response {
    let Some(session) = lookup.active().cloned() else { return Redirect::to(paths::LOGIN).into_response() };
    let refused = |problem: &str| Redirect::to(&format!("{}?error={problem}", paths::EXPORT)).into_response();
    // The password can be guessed here too: counted per session, as on every form that asks for it.
    if app.limits.reauthenticate(&session.session_id).await.is_err() {
        return refused("too_many");
    }
    match check_current_password(&app, &session, &form.current_password).await {
        Ok(_) => {}
        Err(Error::User(AppError::Invalid { .. })) => return refused("wrong_password"),
        Err(Error::User(AppError::SessionEnded)) => return Redirect::to(paths::LOGIN).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not check the password for a data export");
            return refused("failed");
        }
    }
    // Before the account's allowance is used: a busy server costs the owner nothing.
    let place = match app.downloads.take(&session.user_id) {
        Ok(place) => place,
        Err(NoPlace::ThisAccount) => return refused("in_progress"),
        Err(NoPlace::Server) => return refused("busy"),
    };
    if app.limits.export(&session.user_id).await.is_err() {
        return refused("too_many");
    }
    let now = app.now();
    let recorded = Event::of_session(Kind::DataExported, &session, &client);
    if let Err(e) = activity::record(app.db.writes(), now, recorded).await {
        tracing::error!(error = %e, "could not record a data export");
        return refused("failed");
    }
    let (writer, reader) = tokio::io::duplex(PIPE_BYTES);
    let user_id = session.user_id.clone();
    tokio::spawn(async move {
        let _place = place;
        let writer = cut_off_when_stalled(writer, STALLED_FOR);
        match tokio::time::timeout(DOWNLOAD_TIME_LIMIT, write_zip(&app, &user_id, writer)).await {
            Ok(Ok(_)) => {}
            // The client went away or stopped reading, or the database went away: the file ends short, and
            // an unzip says it is broken.
            Ok(Err(e)) => tracing::warn!(user_id, error = %e, "a data export stopped"),
            Err(_) => tracing::warn!(user_id, "a data export took too long and was cut off"),
        }
    });
    let disposition = format!("attachment; filename=\"{}\"", file_name(now));
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response()
}

/// The download's way to its client: a write that waits longer than `limit` for the client to take
/// something fails, and the download ends.
fn cut_off_when_stalled<W: AsyncWrite>(writer: W, limit: Duration) -> Pin<Box<TimeoutWriter<W>>> {
    let mut writer = TimeoutWriter::new(writer);
    writer.set_timeout(Some(limit));
    Box::pin(writer)
}

/// What a finished export wrote.
pub struct Written {
    pub events: u64,
    pub avatar: bool,
}

/// Writes the account's data as a ZIP to `out`, reading as it writes.
pub async fn write_zip<W: AsyncWrite + Unpin>(app: &AppState, user_id: &str, out: W) -> Result<Written, Error> {
    let now = app.now();
    let user = users::get(app.db.reads(), user_id).await?.ok_or_else(|| Error::Internal("no such account".into()))?;
    let modified = zip_time(now);
    let mut zip = ZipFileWriter::with_tokio(out);
    let entry =
        ZipEntryBuilder::new("account.json".to_owned().into(), Compression::Deflate).last_modification_date(modified);
    let mut json = zip.write_entry_stream(entry).await.map_err(zip_error)?;

    let avatar = match &user.avatar_key {
        Some(key) => app.storage.get_avatar(key).await?,
        None => None,
    };
    let sessions = sessions::list_for_user(app.db.reads(), now, &app.settings.sessions, user_id).await?;
    let passkeys = passkeys::list(app.db.reads(), user_id).await?;
    let two_factor = two_factor::status(app.db.reads(), user_id).await?;
    let head = Head {
        format: "authkit-account-data/1",
        exported_at: iso_utc(now),
        profile: Profile {
            id: &user.id,
            email: &user.email,
            name: &user.name,
            created_at: iso_utc(user.created_at),
            updated_at: iso_utc(user.updated_at),
            email_verified_at: user.email_verified_at.map(iso_utc),
            last_sign_in_at: user.last_login_at.map(iso_utc),
            avatar: avatar.is_some().then_some(AVATAR_FILE),
            deletion_erases_at: user.erase_after.map(iso_utc),
        },
        sign_in_methods: SignInMethods {
            two_factor: match two_factor {
                two_factor::Status::Off => TwoFactor { on: false, recovery_codes_left: None },
                two_factor::Status::On { recovery_codes_left } => {
                    TwoFactor { on: true, recovery_codes_left: Some(recovery_codes_left) }
                }
            },
            passkeys: passkeys
                .iter()
                .map(|p| Passkey {
                    name: &p.name,
                    added_at: iso_utc(p.created_at),
                    last_used_at: p.last_used_at.map(iso_utc),
                })
                .collect(),
        },
        sessions: sessions
            .iter()
            .map(|s| Session {
                signed_in_at: iso_utc(s.created_at),
                last_active_at: iso_utc(s.last_seen_at),
                expires_at: iso_utc(s.expires_at),
                device: user_agents::describe(s.user_agent.as_deref()),
                ip: s.ip.as_deref(),
                user_agent: s.user_agent.as_deref(),
            })
            .collect(),
    };
    // The head as an object whose last member, the activity, is written a page at a time after it.
    let head = serde_json::to_string_pretty(&head).map_err(|e| Error::Internal(e.to_string()))?;
    let open = head.trim_end().strip_suffix('}').unwrap_or(&head).trim_end();
    json.write_all(format!("{open},\n  \"security_activity\": [").as_bytes()).await.map_err(io_error)?;

    let mut events = 0u64;
    let mut cursor = None;
    loop {
        let (page, next) = activity::page_for_export(&app.db, user_id, cursor.as_ref(), ACTIVITY_PAGE).await?;
        let mut text = String::new();
        for event in &page {
            text.push_str(if events == 0 { "\n    " } else { ",\n    " });
            let shown = ActivityEvent {
                at: iso_utc(event.at),
                event: &event.kind,
                description: &event.what,
                device: user_agents::describe(event.user_agent.as_deref()),
                ip: event.ip.as_deref(),
                user_agent: event.user_agent.as_deref(),
                times: event.repeats,
                last_at: event.last_at.map(iso_utc),
            };
            text.push_str(&serde_json::to_string(&shown).map_err(|e| Error::Internal(e.to_string()))?);
            events += 1;
        }
        json.write_all(text.as_bytes()).await.map_err(io_error)?;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    json.write_all(if events == 0 { b"]\n}\n" } else { b"\n  ]\n}\n" }).await.map_err(io_error)?;
    json.close().await.map_err(zip_error)?;

    if let Some(avatar) = &avatar {
        // Already compressed: stored as it is.
        let entry =
            ZipEntryBuilder::new(AVATAR_FILE.to_owned().into(), Compression::Stored).last_modification_date(modified);
        zip.write_entry_whole(entry, avatar).await.map_err(zip_error)?;
    }
    let mut out = zip.close().await.map_err(zip_error)?.into_inner();
    tokio::io::AsyncWriteExt::shutdown(&mut out).await.map_err(io_error)?;
    Ok(Written { events, avatar: avatar.is_some() })
}

const AVATAR_FILE: &str = "avatar.jpg";

/// Writing failed: usually the client went away (its download stopped) or the disk is full.
fn io_error(e: std::io::Error) -> Error {
    Error::Internal(format!("writing the ZIP failed: {e}"))
}

fn zip_error(e: async_zip::error::ZipError) -> Error {
    Error::Internal(format!("writing the ZIP failed: {e}"))
}

/// A ZIP entry's time (ZIP keeps local date and time; we write UTC).
fn zip_time(now: i64) -> async_zip::ZipDateTime {
    let t = time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    ZipDateTimeBuilder::new()
        .year(t.year())
        .month(u8::from(t.month()).into())
        .day(t.day().into())
        .hour(t.hour().into())
        .minute(t.minute().into())
        .second(t.second().into())
        .build()
}

#[derive(Serialize)]
struct Head<'a> {
    format: &'static str,
    exported_at: String,
    profile: Profile<'a>,
    sign_in_methods: SignInMethods<'a>,
    sessions: Vec<Session<'a>>,
}

#[derive(Serialize)]
struct Profile<'a> {
    id: &'a str,
    email: &'a str,
    name: &'a str,
    created_at: String,
    updated_at: String,
    email_verified_at: Option<String>,
    last_sign_in_at: Option<String>,
    /// The picture's file in the ZIP.
    avatar: Option<&'static str>,
    /// Set while the account is deleted and waiting to be erased.
    deletion_erases_at: Option<String>,
}

#[derive(Serialize)]
struct SignInMethods<'a> {
    two_factor: TwoFactor,
    passkeys: Vec<Passkey<'a>>,
}

#[derive(Serialize)]
struct TwoFactor {
    on: bool,
    recovery_codes_left: Option<u32>,
}

#[derive(Serialize)]
struct Passkey<'a> {
    name: &'a str,
    added_at: String,
    last_used_at: Option<String>,
}

#[derive(Serialize)]
struct Session<'a> {
    signed_in_at: String,
    last_active_at: String,
    expires_at: String,
    device: String,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
}

#[derive(Serialize)]
struct ActivityEvent<'a> {
    at: String,
    event: &'a str,
    description: &'a str,
    device: String,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    /// Repeats folded into one event (failed sign-ins within the hour).
    times: i32,
    /// When the last of them happened (`at` is the first), with `times` above 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_client_that_stops_reading_is_cut_off() {
        let (writer, _reader) = tokio::io::duplex(16);
        let mut out = cut_off_when_stalled(writer, Duration::from_millis(200));
        out.write_all(&[0; 16]).await.expect("the pipe takes what fits");
        let started = std::time::Instant::now();
        let cut_off = tokio::time::timeout(Duration::from_secs(10), out.write_all(&[0; 1]));
        let error = cut_off.await.expect("cut off, not left waiting").expect_err("nobody reads");
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_slow_client_that_keeps_reading_is_not_cut_off() {
        let (writer, mut reader) = tokio::io::duplex(16);
        let reading = tokio::spawn(async move {
            let mut got = 0;
            let mut byte = [0; 1];
            while reader.read(&mut byte).await.unwrap() > 0 {
                got += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            got
        });
        let mut out = cut_off_when_stalled(writer, Duration::from_millis(500));
        // 64 bytes at one every 20 ms: over a second in all, far longer than the limit, never stalled for it.
        out.write_all(&[0; 64]).await.expect("the client keeps reading");
        out.shutdown().await.unwrap();
        drop(out);
        assert_eq!(reading.await.unwrap(), 64);
    }

    #[test]
    fn a_server_writes_a_few_downloads_at_once_and_one_per_account() {
        let downloads = Downloads::default();
        let places: Vec<Place> =
            (0..DOWNLOADS_AT_ONCE).map(|n| downloads.take(&format!("user {n}")).ok().unwrap()).collect();
        assert!(matches!(downloads.take("user 0"), Err(NoPlace::ThisAccount)));
        assert!(matches!(downloads.take("someone else"), Err(NoPlace::Server)));
        drop(places);
        let again = downloads.take("user 0").ok().expect("places are given back");
        assert!(matches!(downloads.take("user 0"), Err(NoPlace::ThisAccount)));
        drop(again);
        assert!(downloads.take("user 0").is_ok());
    }
}
