//! Passkeys (WebAuthn, with webauthn-rs): added from the profile, used to sign in from `/login` (a button,
//! or the browser's autofill on the Email field). A passkey sign-in checks possession of the device and
//! its user verification (a fingerprint, a face, a PIN): both factors at once, and phishing-resistant,
//! since the browser signs for this site's origin only.
//!
//! Each ceremony is two requests: the server's challenge, then the browser's signed answer, within
//! `cookies::Step::LIFETIME` and from the browser that asked (its `cookies::WEBAUTHN`):
//! - A sign-in, which anyone may start, waits sealed with the server's key in that cookie, so starting one
//!   writes nothing. A right answer records it as answered (`webauthn_answered`) in the transaction of its
//!   sign-in: it is answered once, on any number of app servers.
//! - Adding a passkey waits in `passkey_registrations`, for the session that asked (after its password),
//!   and is taken out by the answer: its state lists the account's passkeys and could outgrow a cookie.
//!
//! The relying party is `APP_BASE_URL`: its host is the relying-party id, its origin the only one
//! accepted. Browsers allow passkeys only on a host name (`localhost` included), never an IP address.

use super::activity::{self, Event, Kind, SignInMethod};
use super::credentials::{begin_with_current_password, check_current_password, still_as_checked};
use super::sign_in::{self, Browser};
use super::users;
use crate::domain::{Field, InputError};
use crate::error::AppError;
use crate::routes::paths;
use crate::server::http::cookies::Step;
use crate::server::mail::messages;
use crate::server::platform::clock::{secs, UnixTime};
use crate::server::platform::db::Db;
use crate::server::platform::secrets::{hash_token, is_well_formed, new_id, new_token};
use crate::server::sessions::{user_agents, ClientInfo, CurrentSession};
use crate::server::{AppState, Error};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, Webauthn, WebauthnBuilder,
};

/// The longest name a passkey may have.
pub const NAME_MAX_CHARS: usize = 60;

/// The most passkeys an account may have: each is listed to the browser when another is added (so the
/// same device is not added twice) and kept with the registration waiting for its answer.
pub const MAX_PER_ACCOUNT: usize = 20;

/// A passkey as the profile lists it.
pub struct Listed {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn list<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
) -> Result<Vec<Listed>, sqlx::Error> {
    let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, name, created_at, last_used_at FROM passkeys WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, created_at, last_used_at)| Listed { id, name, created_at, last_used_at })
        .collect())
}

/// The challenge for adding a passkey to the signed-in account, after the current password (a passkey
/// signs in on its own, so a session left open must not be enough to plant one): the options for
/// `navigator.credentials.create` as JSON, and the sealed ceremony for the browser's cookie.
pub async fn start_registration(
    app: &AppState,
    session: &CurrentSession,
    current_password: &str,
) -> Result<(String, String), Error> {
    let rp = relying_party(app)?;
    let user = check_current_password(app, session, current_password).await?;
    let existing: Vec<Passkey> = stored_passkeys(&app.db, &user.id).await?.into_iter().map(|(_, p)| p).collect();
    if existing.len() >= MAX_PER_ACCOUNT {
        return Err(too_many_passkeys());
    }
    let exclude = existing.iter().map(|p| p.cred_id().clone()).collect();
    let (options, state) = rp
        .start_passkey_registration(user_handle(&user.id)?, &user.email, &user.name, Some(exclude))
        .map_err(|e| Error::Internal(format!("could not start a passkey registration: {e}")))?;
    // A passkey the browser can find by itself, with no address typed: what "Sign in with a passkey" and
    // the autofill ask for. (webauthn-rs leaves this to the authenticator; the answer is checked the same.)
    let mut options = serde_json::to_value(&options).map_err(|e| Error::Internal(e.to_string()))?;
    options["publicKey"]["authenticatorSelection"]["residentKey"] = "required".into();
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = true.into();
    let token = new_token();
    sqlx::query(
        "INSERT INTO passkey_registrations (token_hash, user_id, session_id, state, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_token(&token))
    .bind(&session.user_id)
    .bind(&session.session_id)
    .bind(json(&state)?)
    .bind(app.now().saturating_add(secs(Step::LIFETIME)))
    .execute(app.db.writes())
    .await?;
    Ok((json(&options)?, token))
}

/// Adds the passkey the browser made, named after the device (`client`): "Chrome on macOS".
pub async fn finish_registration(
    app: &AppState,
    session: &CurrentSession,
    ceremony: Option<&str>,
    credential: &str,
    client: &ClientInfo,
) -> Result<Listed, Error> {
    let state = take_registration(app, ceremony, session).await?.ok_or(AppError::PasskeyFailed)?;
    let state: PasskeyRegistration = serde_json::from_str(&state).map_err(|e| Error::Internal(e.to_string()))?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_str(credential).map_err(|_| AppError::PasskeyFailed)?;
    let passkey = relying_party(app)?.finish_passkey_registration(&credential, &state).map_err(|e| {
        tracing::info!(error = %e, "a passkey registration was refused");
        AppError::PasskeyFailed
    })?;
    let user = users::get(app.db.reads(), &session.user_id).await?.ok_or(AppError::SessionEnded)?;
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    still_as_checked(&mut tx, &user, session).await?;
    // Counted again under the account's row lock: two registrations started at once cannot both pass.
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
        .bind(&user.id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_PER_ACCOUNT as i64 {
        return Err(too_many_passkeys());
    }
    let name: String = user_agents::describe(client.user_agent.as_deref()).chars().take(NAME_MAX_CHARS).collect();
    let id = new_id();
    sqlx::query(
        "INSERT INTO passkeys (id, user_id, credential_id, passkey, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&user.id)
    .bind(credential_key(passkey.cred_id()))
    .bind(json(&passkey)?)
    .bind(&name)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| match crate::server::platform::db::is_unique_violation(&e) {
        // The authenticator's credential is on an account already.
        true => Error::from(AppError::PasskeyFailed),
        false => e.into(),
    })?;
    activity::record(&mut *tx, now, Event::of_session(Kind::PasskeyAdded, session, client).detail(&name)).await?;
    tx.commit().await?;
    notify(app, &user, &format!("A passkey was added to your account: \"{name}\"."), "A passkey was added");
    Ok(Listed { id, name, created_at: now, last_used_at: None })
}

/// The challenge for signing in with a passkey, for any account (the browser finds the passkey): the
/// options for `navigator.credentials.get` as JSON, and the ceremony's token.
pub async fn start_sign_in(app: &AppState) -> Result<(String, String), Error> {
    let (options, state) = relying_party(app)?
        .start_discoverable_authentication()
        .map_err(|e| Error::Internal(format!("could not start a passkey sign-in: {e}")))?;
    let sealed = seal_sign_in(app, &state)?;
    Ok((json(&options)?, sealed))
}

/// Signs in with the browser's answer, and returns the new session's token. Any failure is
/// `AppError::PasskeyFailed`, which says nothing of whose passkey it was.
pub async fn finish_sign_in(
    app: &AppState,
    ceremony: Option<&str>,
    credential: &str,
    browser: &Browser<'_>,
) -> Result<String, Error> {
    let sealed = ceremony.ok_or(AppError::PasskeyFailed)?;
    let state: DiscoverableAuthentication = open_sign_in(app, sealed).ok_or(AppError::PasskeyFailed)?;
    // Used up by this answer whatever its outcome, as a challenge must be: recorded on its own, before any
    // check, so a refused or rolled-back answer cannot be tried again.
    mark_answered(app.db.writes(), sealed, app.now()).await?;
    let credential: PublicKeyCredential = serde_json::from_str(credential).map_err(|_| AppError::PasskeyFailed)?;
    let rp = relying_party(app)?;
    let (handle, credential_id) =
        rp.identify_discoverable_authentication(&credential).map_err(|_| AppError::PasskeyFailed)?;
    let user_id = handle.simple().to_string();
    let found: Option<(String, String)> =
        sqlx::query_as("SELECT id, passkey FROM passkeys WHERE credential_id = $1 AND user_id = $2")
            .bind(credential_key(credential_id))
            .bind(&user_id)
            .fetch_optional(app.db.reads())
            .await?;
    let (row_id, stored) = found.ok_or(AppError::PasskeyFailed)?;
    let mut passkey: Passkey = serde_json::from_str(&stored).map_err(|e| Error::Internal(e.to_string()))?;
    let result =
        rp.finish_discoverable_authentication(&credential, state, &[DiscoverableKey::from(&passkey)]).map_err(|e| {
            tracing::info!(error = %e, "a passkey sign-in was refused");
            AppError::PasskeyFailed
        })?;
    passkey.update_credential(&result);
    let now = app.now();
    let mut tx = app.db.writes().begin().await?;
    if !users::hold(&mut *tx, &user_id, None).await? {
        return Err(AppError::PasskeyFailed.into());
    }
    // Only over the record that was checked: a removal meanwhile signs nobody in, and of two sign-ins at
    // once the second fails rather than write back an older signature counter.
    let kept = sqlx::query("UPDATE passkeys SET passkey = $2, last_used_at = $3 WHERE id = $1 AND passkey = $4")
        .bind(&row_id)
        .bind(json(&passkey)?)
        .bind(now)
        .bind(&stored)
        .execute(&mut *tx)
        .await?;
    if kept.rows_affected() != 1 {
        return Err(AppError::PasskeyFailed.into());
    }
    sign_in::finish_sign_in(app, tx, &user_id, browser, SignInMethod::Passkey, None).await
}

/// Renames one of the account's passkeys; the name as kept.
pub async fn rename(app: &AppState, session: &CurrentSession, id: &str, name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        let message = format!("Give the passkey a name of 1 to {NAME_MAX_CHARS} characters.");
        return Err(crate::domain::InputError::new(crate::domain::Field::PasskeyName, message).into());
    }
    sqlx::query("UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(&session.user_id)
        .bind(name)
        .execute(app.db.writes())
        .await?;
    Ok(name.to_owned())
}

/// Removes one of the account's passkeys, after the current password.
pub async fn remove(
    app: &AppState,
    session: &CurrentSession,
    client: &ClientInfo,
    id: &str,
    current_password: &str,
) -> Result<(), Error> {
    let (user, mut tx) = begin_with_current_password(app, session, current_password).await?;
    let removed: Option<String> =
        sqlx::query_scalar("DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name")
            .bind(id)
            .bind(&user.id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(name) = &removed {
        let event = Event::of_session(Kind::PasskeyRemoved, session, client).detail(name);
        activity::record(&mut *tx, app.now(), event).await?;
    }
    tx.commit().await?;
    if let Some(name) = removed {
        notify(app, &user, &format!("A passkey was removed from your account: \"{name}\"."), "A passkey was removed");
    }
    Ok(())
}

/// Forgets answered sign-ins once they could no longer be answered anyway, and registrations nobody
/// answered.
pub async fn purge_expired(db: &Db, now: UnixTime) -> Result<u64, sqlx::Error> {
    let mut purged = 0;
    for table in ["webauthn_answered", "passkey_registrations"] {
        let done =
            sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1")).bind(now).execute(db.writes()).await?;
        purged += done.rows_affected();
    }
    Ok(purged)
}

fn too_many_passkeys() -> Error {
    let message =
        format!("You have {MAX_PER_ACCOUNT} passkeys, the most an account can have. Remove one to add another.");
    InputError::new(Field::PasskeyName, message).into()
}

/// This site as a WebAuthn relying party (see the module's comment).
fn relying_party(app: &AppState) -> Result<Webauthn, Error> {
    let origin = &app.settings.app.base_url;
    let rp_id = origin.domain().ok_or(AppError::PasskeysNeedAHostName)?;
    WebauthnBuilder::new(rp_id, origin)
        .and_then(|b| b.rp_name("Authkit").build())
        .map_err(|e| Error::Internal(format!("the passkey settings are wrong: {e}")))
}

/// The account's WebAuthn user handle: its id, which is already a random UUID.
fn user_handle(user_id: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(user_id).map_err(|e| Error::Internal(format!("a user id that is not a UUID: {e}")))
}

/// How a credential id is stored and looked up.
fn credential_key(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn json(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

async fn stored_passkeys(db: &Db, user_id: &str) -> Result<Vec<(String, Passkey)>, Error> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, passkey FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(db.reads())
        .await?;
    rows.into_iter()
        .map(|(id, passkey)| Ok((id, serde_json::from_str(&passkey).map_err(|e| Error::Internal(e.to_string()))?)))
        .collect()
}

/// What the browser's cookie holds between a passkey sign-in's two requests.
#[derive(serde::Serialize, serde::Deserialize)]
struct Waiting<S> {
    state: S,
    expires_at: UnixTime,
}

const SIGN_IN_SEALING: &str = "passkey sign-in";

/// Seals a sign-in's state for the browser's cookie.
fn seal_sign_in(app: &AppState, state: &DiscoverableAuthentication) -> Result<String, Error> {
    let waiting = Waiting { state, expires_at: app.now().saturating_add(secs(Step::LIFETIME)) };
    let waiting = serde_json::to_vec(&waiting).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(app.secret_key.seal(SIGN_IN_SEALING, "", &waiting))
}

/// The state of the sign-in sealed in `sealed`, if it is one and unexpired.
fn open_sign_in(app: &AppState, sealed: &str) -> Option<DiscoverableAuthentication> {
    let waiting = app.secret_key.open(SIGN_IN_SEALING, "", sealed)?;
    let waiting: Waiting<DiscoverableAuthentication> = serde_json::from_slice(&waiting).ok()?;
    (waiting.expires_at > app.now()).then_some(waiting.state)
}

/// Takes the browser's registration out (so it is answered at most once), if it is unexpired and was
/// started by `session`: its state.
async fn take_registration(
    app: &AppState,
    token: Option<&str>,
    session: &CurrentSession,
) -> Result<Option<String>, Error> {
    let Some(token) = token.filter(|t| is_well_formed(t)) else { return Ok(None) };
    let taken: Option<(String, String, i64)> = sqlx::query_as(
        "DELETE FROM passkey_registrations WHERE token_hash = $1 RETURNING session_id, state, expires_at",
    )
    .bind(hash_token(token))
    .fetch_optional(app.db.writes())
    .await?;
    Ok(taken
        .filter(|(asked_by, _, expires_at)| *asked_by == session.session_id && *expires_at > app.now())
        .map(|(_, state, _)| state))
}

/// Records that the sign-in sealed in `sealed` was answered; if it already was (a replay, or the same
/// answer at two app servers at once), the answer fails. Kept twice the ceremony's lifetime: app servers'
/// clocks may differ a little, and a record must outlive the ceremony on each.
async fn mark_answered<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    sealed: &str,
    now: UnixTime,
) -> Result<(), Error> {
    let recorded = sqlx::query(
        "INSERT INTO webauthn_answered (ceremony_hash, expires_at) VALUES ($1, $2) ON CONFLICT (ceremony_hash) DO NOTHING",
    )
    .bind(hash_token(sealed))
    .bind(now.saturating_add(2 * secs(Step::LIFETIME)))
    .execute(db)
    .await?;
    match recorded.rows_affected() {
        1 => Ok(()),
        _ => Err(AppError::PasskeyFailed.into()),
    }
}

/// Mails the account's address about a change to its passkeys, in the background.
fn notify(app: &AppState, user: &users::User, what: &str, subject: &'static str) {
    let reset = app.link(paths::FORGOT_PASSWORD, &[]);
    let mail = messages::security_notice(&user.email, user.name_for_mail(), subject, what, &reset);
    let mailer = app.mailer.clone();
    app.in_background("passkey notice", async move { mailer.send(mail).await });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::platform::secrets::SecretKey;

    /// A sign-in's sealed state is the same size for every account (it lists no passkeys), well within
    /// what `cookies::WEBAUTHN` reads (2,000 characters) and what browsers keep.
    #[test]
    fn a_sealed_sign_in_fits_its_cookie() {
        let rp = WebauthnBuilder::new("example.com", &"https://example.com".parse().unwrap()).unwrap().build().unwrap();
        let (_, state) = rp.start_discoverable_authentication().unwrap();
        let waiting = serde_json::to_vec(&Waiting { state, expires_at: 0 }).unwrap();
        let key = SecretKey::from_text("a test key of at least thirty-two characters");
        let sealed = key.seal(SIGN_IN_SEALING, "", &waiting);
        assert!(sealed.len() <= 1_000, "{} characters", sealed.len());
    }
}
