//! Two-factor authentication with an authenticator app (TOTP, RFC 6238) and recovery codes.
//!
//! - Setting up: the account gets a secret (shown as a QR code and as text) that does nothing until a
//!   right code from the app turns it on. The secret is sealed at rest under a key derived from the
//!   server's (`SecretKey::seal`), bound to the account id.
//! - A code is accepted for its 30-second step or one step either side (clock drift), and only for a
//!   step later than the last one accepted: a conditional update, so no code works twice, whichever app
//!   servers it reaches.
//! - Turning it on, and "Get new recovery codes", make 10 recovery codes, each usable once, kept as
//!   HMACs. They are shown once, to the session that asked: sealed for it until its page shows them.
//! - Signing in: a right first factor (a password, or a mailed link) on such an account starts no
//!   session. It gets a challenge instead: a random token for this browser's cookie, stored hashed,
//!   good for `cookies::Step::LIFETIME` and `CHALLENGE_TRIES`, and bound to the password it followed. Only the
//!   second step accepts it, and only the second step makes a session.

use super::activity::{self, Event, Kind, SecondFactor, SignInMethod};
use super::credentials::begin_with_current_password;
use super::sign_in::{finish_sign_in, Browser};
use super::users;
use crate::error::AppError;
use crate::routes::paths;
use crate::server::http::cookies::Step;
use crate::server::mail::messages;
use crate::server::platform::clock::{secs, UnixTime};
use crate::server::platform::db::Db;
use crate::server::platform::rate_limits::Refused;
use crate::server::platform::secrets::{
    hash_token, is_well_formed, new_recovery_code, new_token, random_bytes, typed_code, typed_recovery_code, SecretKey,
};
use crate::server::sessions::{ClientInfo, CurrentSession};
use crate::server::{AppState, Error};
use totp_rs::{Algorithm, TOTP};

/// Seconds per code (RFC 6238's default, which every authenticator app assumes).
const STEP: u64 = 30;
/// How many recovery codes an account gets at a time.
pub const RECOVERY_CODES: usize = 10;
/// Wrong codes after which the second step ends, and the sign-in starts again with the password.
const CHALLENGE_TRIES: i32 = 5;
/// A secret shown for setting up, and not turned on, is replaced after this long, in seconds.
const PENDING_SECRET_KEPT: i64 = 10 * 60;
/// New recovery codes wait this long, in seconds, for the page that shows them.
const CODES_SHOWN_WITHIN: i64 = 10 * 60;

const SECRET_SEALING: &str = "totp secret";
const CODES_SEALING: &str = "recovery codes to show";
const RECOVERY_SIGNING: &str = "recovery code";

/// What the setup page shows: the secret as the app reads it.
pub struct Enrolment {
    /// Base32, as people type it into an app, in groups of four.
    pub secret: String,
    /// The `otpauth://` URL as an SVG QR code, in a `data:` URL for an `<img>`.
    pub qr_code: String,
}

/// Where an account stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Off,
    On { recovery_codes_left: u32 },
}

/// One statement: a page that shows the status reads it with the rest of its data.
pub async fn status<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
) -> Result<Status, sqlx::Error> {
    let (on, codes_left): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM two_factor WHERE user_id = $1 AND enabled_at IS NOT NULL), \
                (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?;
    Ok(if on > 0 { Status::On { recovery_codes_left: u32::try_from(codes_left).unwrap_or(0) } } else { Status::Off })
}

/// Whether signing in to the account takes a second factor.
pub async fn is_on<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>, user_id: &str) -> Result<bool, sqlx::Error> {
    let on: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM two_factor WHERE user_id = $1 AND enabled_at IS NOT NULL")
        .bind(user_id)
        .fetch_one(db)
        .await?;
    Ok(on > 0)
}

/// The secret an account is setting up with: made on the first visit to the setup page, the same on a
/// reload (the app may have scanned it already). `None` once two-factor is on.
pub async fn enrolment(app: &AppState, session: &CurrentSession) -> Result<Option<Enrolment>, Error> {
    let user_id = &session.user_id;
    // 160 bits, as RFC 4226 recommends for HMAC-SHA1.
    let fresh = app.secret_key.seal(SECRET_SEALING, user_id, &random_bytes::<20>());
    // Two first visits racing keep one secret: the first written. A secret shown but not turned on within
    // `PENDING_SECRET_KEPT` is replaced: whoever saw it then (over the owner's shoulder, through a session
    // since ended) must not know the one the owner turns on later.
    sqlx::query(
        "INSERT INTO two_factor (user_id, secret_sealed, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at \
         WHERE two_factor.enabled_at IS NULL AND two_factor.created_at <= $4",
    )
    .bind(user_id)
    .bind(fresh)
    .bind(app.now())
    .bind(app.now() - PENDING_SECRET_KEPT)
    .execute(app.db.writes())
    .await?;
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT secret_sealed, enabled_at FROM two_factor WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(app.db.writes())
            .await?;
    let Some((sealed, None)) = row else { return Ok(None) };
    let totp = authenticator(app, user_id, &session.email, &sealed)?;
    let qr = qrcode::QrCode::new(totp.get_url().as_bytes()).map_err(|e| Error::Internal(e.to_string()))?;
    let svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    use base64::Engine as _;
    let qr_code = format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg));
    let secret = totp.get_secret_base32();
    let secret = secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c)).collect::<Vec<_>>().join(" ");
    Ok(Some(Enrolment { secret, qr_code }))
}

/// Turns two-factor on with a right `code` from the app that was set up, after the current password (a
/// session left open must not let someone else lock the owner out with their own app), and makes the
/// recovery codes, which the setup page then shows this session once (`take_codes_to_show`).
pub async fn turn_on(
    app: &AppState,
    session: &CurrentSession,
    client: &ClientInfo,
    code: &str,
    current_password: &str,
) -> Result<(), Error> {
    let now = app.now();
    let (user, mut tx) = begin_with_current_password(app, session, current_password).await?;
    let row: Option<(String, Option<i64>, i64)> =
        sqlx::query_as("SELECT secret_sealed, enabled_at, last_used_step FROM two_factor WHERE user_id = $1")
            .bind(&user.id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((sealed, None, last_used_step)) = row else { return Err(AppError::InvalidCode.into()) };
    let totp = authenticator(app, &user.id, &user.email, &sealed)?;
    let step =
        typed_code(code).and_then(|code| step_of(&totp, &code, now, last_used_step)).ok_or(AppError::InvalidCode)?;
    sqlx::query("UPDATE two_factor SET enabled_at = $2, last_used_step = $3 WHERE user_id = $1 AND enabled_at IS NULL")
        .bind(&user.id)
        .bind(now)
        .bind(step)
        .execute(&mut *tx)
        .await?;
    replace_recovery_codes(app, &mut tx, &user.id, session, now).await?;
    activity::record(&mut *tx, now, Event::of_session(Kind::TwoFactorOn, session, client)).await?;
    tx.commit().await?;
    notify(app, &user, Change::TurnedOn);
    Ok(())
}

/// Turns two-factor off, after the current password: the secret and the recovery codes are gone.
pub async fn turn_off(
    app: &AppState,
    session: &CurrentSession,
    client: &ClientInfo,
    current_password: &str,
) -> Result<(), Error> {
    let (user, mut tx) = begin_with_current_password(app, session, current_password).await?;
    forget(&mut tx, &user.id).await?;
    activity::record(&mut *tx, app.now(), Event::of_session(Kind::TwoFactorOff, session, client)).await?;
    tx.commit().await?;
    notify(app, &user, Change::TurnedOff);
    Ok(())
}

/// Replaces every recovery code with new ones, after the current password; the setup page shows them.
pub async fn renew_recovery_codes(
    app: &AppState,
    session: &CurrentSession,
    client: &ClientInfo,
    current_password: &str,
) -> Result<(), Error> {
    let now = app.now();
    let (user, mut tx) = begin_with_current_password(app, session, current_password).await?;
    if !is_on(&mut *tx, &user.id).await? {
        return Err(AppError::InvalidCode.into());
    }
    replace_recovery_codes(app, &mut tx, &user.id, session, now).await?;
    activity::record(&mut *tx, now, Event::of_session(Kind::RecoveryCodesRenewed, session, client)).await?;
    tx.commit().await?;
    notify(app, &user, Change::NewRecoveryCodes);
    Ok(())
}

/// The recovery codes made for this session, if it has not shown them yet; they are shown once.
pub async fn take_codes_to_show(app: &AppState, session: &CurrentSession) -> Result<Option<Vec<String>>, Error> {
    let mut tx = app.db.writes().begin().await?;
    if !users::hold(&mut *tx, &session.user_id, None).await? {
        return Ok(None);
    }
    let sealed: Option<Option<String>> = sqlx::query_scalar("SELECT codes_to_show FROM two_factor WHERE user_id = $1")
        .bind(&session.user_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(sealed) = sealed.flatten() else { return Ok(None) };
    let context = codes_context(&session.user_id, &session.session_id);
    let Some(opened) = app.secret_key.open(CODES_SEALING, &context, &sealed) else { return Ok(None) };
    sqlx::query("UPDATE two_factor SET codes_to_show = NULL WHERE user_id = $1")
        .bind(&session.user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let text = String::from_utf8(opened).map_err(|e| Error::Internal(e.to_string()))?;
    let mut lines = text.lines();
    let made_at: i64 = lines.next().and_then(|t| t.parse().ok()).unwrap_or(0);
    if app.now() - made_at > CODES_SHOWN_WITHIN {
        return Ok(None);
    }
    Ok(Some(lines.map(str::to_owned).collect()))
}

/// Starts the second step of a sign-in, in the transaction of the first, and returns the token for the
/// browser's cookie. `password_hash`: the password just checked (`None` after a mailed link).
pub async fn challenge(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    now: UnixTime,
    user_id: &str,
    password_hash: Option<&str>,
    first_factor: SignInMethod,
) -> Result<String, sqlx::Error> {
    let token = new_token();
    sqlx::query(
        "INSERT INTO two_factor_challenges (token_hash, user_id, password_hash, created_at, expires_at, first_factor) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash_token(&token))
    .bind(user_id)
    .bind(password_hash)
    .bind(now)
    .bind(now.saturating_add(secs(Step::LIFETIME)))
    .bind(first_factor.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// Why the second step did not sign in.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong, used, or over the account's limit: try again (`AppError::InvalidCode`).
    WrongCode,
    /// No second step is waiting for this browser (never started, expired, tried too often, or the
    /// password changed): start again from the login page.
    NoChallenge,
}

/// The second step of a sign-in: a code from the app, or a recovery code. Returns the new session's
/// token.
pub async fn complete(
    app: &AppState,
    challenge_token: Option<&str>,
    typed: &str,
    browser: &Browser<'_>,
) -> Result<Result<String, Refusal>, Error> {
    let Some(token) = challenge_token.filter(|t| is_well_formed(t)) else { return Ok(Err(Refusal::NoChallenge)) };
    let now = app.now();
    let token_hash = hash_token(token);
    let found: Option<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT user_id, password_hash, first_factor FROM two_factor_challenges \
         WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(&token_hash)
    .bind(now)
    .fetch_optional(app.db.reads())
    .await?;
    let Some((user_id, password_hash, first_factor)) = found else { return Ok(Err(Refusal::NoChallenge)) };
    app.limits.second_factor_attempt(&user_id).await.map_err(Refused::as_wrong_code)?;
    let mut tx = app.db.writes().begin().await?;
    // The account's row first (`users::hold`), and only with the password this sign-in checked.
    if !users::hold(&mut *tx, &user_id, password_hash.as_deref()).await? {
        sqlx::query("DELETE FROM two_factor_challenges WHERE token_hash = $1")
            .bind(&token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Err(Refusal::NoChallenge));
    }
    let user = users::get(&mut *tx, &user_id).await?.ok_or(AppError::InvalidCode)?;
    let used = match typed_code(typed) {
        Some(code) => use_app_code(app, &mut tx, &user, &code, now).await?.then_some(SecondFactor::AppCode),
        None => match typed_recovery_code(typed) {
            Some(code) => {
                use_recovery_code(app, &mut tx, &user.id, &code, now).await?.then_some(SecondFactor::RecoveryCode)
            }
            None => None,
        },
    };
    let Some(used) = used else {
        let tried =
            sqlx::query("UPDATE two_factor_challenges SET tries = tries + 1 WHERE token_hash = $1 AND expires_at > $2")
                .bind(&token_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM two_factor_challenges WHERE token_hash = $1 AND tries >= $2")
            .bind(&token_hash)
            .bind(CHALLENGE_TRIES)
            .execute(&mut *tx)
            .await?;
        let failed = Event::new(Kind::SignInFailed, &user.id, browser.client).detail(activity::WRONG_SECOND_FACTOR);
        activity::record_failed_sign_in(&mut tx, now, failed).await?;
        tx.commit().await?;
        return Ok(Err(if tried.rows_affected() == 1 { Refusal::WrongCode } else { Refusal::NoChallenge }));
    };
    // The challenge is used up by this very statement: two requests racing with it cannot both sign in.
    let taken = sqlx::query("DELETE FROM two_factor_challenges WHERE token_hash = $1 AND expires_at > $2")
        .bind(&token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if taken.rows_affected() != 1 {
        return Ok(Err(Refusal::NoChallenge));
    }
    if used == SecondFactor::RecoveryCode {
        activity::record(&mut *tx, now, Event::new(Kind::RecoveryCodeUsed, &user.id, browser.client)).await?;
    }
    // A challenge stored before its method was (see the migration's default) counts as a password's.
    let first_factor = SignInMethod::parse(&first_factor).unwrap_or(SignInMethod::Password);
    let session_token = finish_sign_in(app, tx, &user.id, browser, first_factor, Some(used)).await?;
    if used == SecondFactor::RecoveryCode {
        notify(app, &user, Change::RecoveryCodeUsed);
    }
    Ok(Ok(session_token))
}

/// Removes two-factor if it was turned on at `since` or later (`secure_account`); whether it was.
pub(super) async fn turn_off_if_on_since(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    since: UnixTime,
) -> Result<bool, sqlx::Error> {
    let on: Option<i64> =
        sqlx::query_scalar("SELECT enabled_at FROM two_factor WHERE user_id = $1 AND enabled_at >= $2")
            .bind(user_id)
            .bind(since)
            .fetch_optional(&mut **tx)
            .await?;
    if on.is_some() {
        forget(tx, user_id).await?;
    }
    Ok(on.is_some())
}

/// Removes two-factor from an account: the secret, the codes and any sign-in waiting for them.
async fn forget(tx: &mut sqlx::Transaction<'_, sqlx::Any>, user_id: &str) -> Result<(), sqlx::Error> {
    for table in ["two_factor", "recovery_codes", "two_factor_challenges"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1")).bind(user_id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Removes second steps nobody finished, and secrets shown for a setup nobody finished.
pub async fn purge_expired(db: &Db, now: UnixTime) -> Result<u64, sqlx::Error> {
    let steps =
        sqlx::query("DELETE FROM two_factor_challenges WHERE expires_at <= $1").bind(now).execute(db.writes()).await?;
    let setups = sqlx::query("DELETE FROM two_factor WHERE enabled_at IS NULL AND created_at <= $1")
        .bind(now - PENDING_SECRET_KEPT)
        .execute(db.writes())
        .await?;
    Ok(steps.rows_affected() + setups.rows_affected())
}

/// The account's authenticator, from its sealed secret. The label the app shows: this site's host and
/// the account's address.
fn authenticator(app: &AppState, user_id: &str, email: &str, sealed: &str) -> Result<TOTP, Error> {
    let secret = app
        .secret_key
        .open(SECRET_SEALING, user_id, sealed)
        // Only a changed APP_SECRET_KEY does this: docs/deploying.md says to keep it.
        .ok_or_else(|| Error::Internal("a two-factor secret does not open with this APP_SECRET_KEY".into()))?;
    let issuer = app.settings.app.base_url.host_str().unwrap_or("Authkit").replace(':', "");
    TOTP::new(Algorithm::SHA1, 6, 1, STEP, secret, Some(issuer), email.replace(':', ""))
        .map_err(|e| Error::Internal(e.to_string()))
}

/// The step whose code `code` is, within one step of now and after `last_used_step`.
fn step_of(totp: &TOTP, code: &str, now: UnixTime, last_used_step: i64) -> Option<i64> {
    use subtle::ConstantTimeEq as _;
    let now = u64::try_from(now).ok()?;
    let current = now / STEP;
    (current.saturating_sub(1)..=current + 1)
        .filter(|step| i64::try_from(*step).is_ok_and(|s| s > last_used_step))
        .find(|step| bool::from(totp.generate(step * STEP).as_bytes().ct_eq(code.as_bytes())))
        .and_then(|step| i64::try_from(step).ok())
}

/// Accepts a code from the app if it is right and newer than the last one accepted.
async fn use_app_code(
    app: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &users::User,
    code: &str,
    now: UnixTime,
) -> Result<bool, Error> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT secret_sealed, last_used_step FROM two_factor WHERE user_id = $1 AND enabled_at IS NOT NULL",
    )
    .bind(&user.id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((sealed, last_used_step)) = row else { return Ok(false) };
    let totp = authenticator(app, &user.id, &user.email, &sealed)?;
    let Some(step) = step_of(&totp, code, now, last_used_step) else { return Ok(false) };
    // Conditional: of two requests with the same code, on any app servers, one moves the step on.
    let moved = sqlx::query("UPDATE two_factor SET last_used_step = $2 WHERE user_id = $1 AND last_used_step < $2")
        .bind(&user.id)
        .bind(step)
        .execute(&mut **tx)
        .await?;
    Ok(moved.rows_affected() == 1)
}

async fn use_recovery_code(
    app: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    code: &str,
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let used = sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL \
         AND EXISTS (SELECT 1 FROM two_factor WHERE user_id = $1 AND enabled_at IS NOT NULL)",
    )
    .bind(user_id)
    .bind(recovery_hash(&app.secret_key, user_id, code))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(used.rows_affected() == 1)
}

fn recovery_hash(key: &SecretKey, user_id: &str, code: &str) -> String {
    key.sign(RECOVERY_SIGNING, &format!("{user_id}:{code}"))
}

fn codes_context(user_id: &str, session_id: &str) -> String {
    format!("{user_id}:{session_id}")
}

/// Makes the account's recovery codes anew (the old ones stop working) and seals them for `session`'s
/// setup page to show once.
async fn replace_recovery_codes(
    app: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    session: &CurrentSession,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut **tx).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    for code in &codes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(recovery_hash(&app.secret_key, user_id, code))
            .execute(&mut **tx)
            .await?;
    }
    let text = std::iter::once(now.to_string()).chain(codes).collect::<Vec<_>>().join("\n");
    let sealed = app.secret_key.seal(CODES_SEALING, &codes_context(user_id, &session.session_id), text.as_bytes());
    sqlx::query("UPDATE two_factor SET codes_to_show = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(sealed)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Change {
    TurnedOn,
    TurnedOff,
    NewRecoveryCodes,
    RecoveryCodeUsed,
}

/// Mails the account's address about a change to how it signs in. The change is done whatever happens
/// to the mail, so it goes in the background.
fn notify(app: &AppState, user: &users::User, change: Change) {
    let (subject, what) = match change {
        Change::TurnedOn => (
            "Two-factor authentication is on",
            "Two-factor authentication was turned on for your account: signing in now also takes a code \
             from your authenticator app or a recovery code.",
        ),
        Change::TurnedOff => (
            "Two-factor authentication is off",
            "Two-factor authentication was turned off for your account: signing in takes only your \
             password again.",
        ),
        Change::NewRecoveryCodes => {
            ("New recovery codes", "New recovery codes were made for your account; the old ones no longer work.")
        }
        Change::RecoveryCodeUsed => (
            "A recovery code was used",
            "Someone signed in to your account with one of its recovery codes. Each works only once; you \
             can get new ones on your profile.",
        ),
    };
    let reset = app.link(paths::FORGOT_PASSWORD, &[]);
    let mail = messages::security_notice(&user.email, user.name_for_mail(), subject, what, &reset);
    let mailer = app.mailer.clone();
    app.in_background("two-factor notice", async move { mailer.send(mail).await });
}
