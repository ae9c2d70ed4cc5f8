//! What a server function knows about the request it serves: the app, the session, the cookies, the
//! client. The session was already looked up by `http::guards::resolve_session`.
//!
//! A server function reads its request here, calls the backend, and returns `?`-style: the status an
//! `AppError` gets is set in one place for every function (`http::headers::error_statuses`).

use crate::domain::Email;
use crate::error::AppError;
use crate::routes::Notice;
use crate::server::accounts::known_devices;
use crate::server::accounts::sign_in::Browser;
use crate::server::http::cookies;
use crate::server::platform::rate_limits::{Refused, Verdict};
use crate::server::platform::secrets;
use crate::server::sessions::{ClientInfo, CurrentSession, Lookup};
use crate::server::AppState;
use axum::http::{header, request::Parts};
use leptos::prelude::{expect_context, use_context};
use leptos::server_fn::error::ServerFnUrlError;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use tower_cookies::Cookies;

pub struct RequestContext {
    pub app: AppState,
    pub client: ClientInfo,
    lookup: Lookup,
    cookies: Option<Cookies>,
    /// A plain HTML form post (JavaScript off) rather than a call from the hydrated page.
    from_html_form: bool,
    /// The device token the browser brought (`cookies::device`), if any.
    device_cookie: Option<String>,
    /// The device token a sign-in here remembers: the one brought, or a new one. Made when first needed
    /// (most requests sign nobody in), as are the two below.
    device: OnceLock<String>,
    /// The sign-up secret the browser brought (`cookies::sign_up`), if any.
    sign_up_cookie: Option<String>,
    /// The sign-up secret a sign-up here gives the browser (the one it brought, or a new one), and what an
    /// account keeps of it.
    sign_up_secret: OnceLock<(String, String)>,
}

impl RequestContext {
    pub fn get() -> Self {
        let parts = use_context::<Parts>();
        let ext = |parts: &Parts| {
            (
                parts.extensions.get::<Lookup>().cloned(),
                parts.extensions.get::<ClientInfo>().cloned(),
                parts.extensions.get::<Cookies>().cloned(),
            )
        };
        let (lookup, client, cookies) = parts.as_ref().map(ext).unwrap_or_default();
        let from_html_form = parts
            .as_ref()
            .and_then(|p| p.headers.get(header::ACCEPT))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        let app = expect_context::<AppState>();
        let device_cookie = cookies.as_ref().and_then(|c| cookies::device::read(c, &app.settings));
        let sign_up_cookie = cookies.as_ref().and_then(|c| cookies::sign_up::read(c, &app.settings));
        Self {
            client: client.unwrap_or_default(),
            lookup: lookup.unwrap_or(Lookup::Guest),
            cookies,
            from_html_form,
            device_cookie,
            device: OnceLock::new(),
            sign_up_cookie,
            sign_up_secret: OnceLock::new(),
            app,
        }
    }

    /// The browser, as signing in sees it.
    pub fn browser(&self) -> Browser<'_> {
        Browser { client: &self.client, device: self.device(), sign_up_proof: &self.sign_up_secret().1 }
    }

    fn device(&self) -> &str {
        self.device.get_or_init(|| self.device_cookie.clone().unwrap_or_else(secrets::new_token))
    }

    fn sign_up_secret(&self) -> &(String, String) {
        self.sign_up_secret.get_or_init(|| {
            let secret = self.sign_up_cookie.clone().unwrap_or_else(secrets::new_token);
            let proof = cookies::sign_up::proof_of(&secret);
            (secret, proof)
        })
    }

    fn ip(&self) -> Option<IpAddr> {
        self.client.ip.as_deref().and_then(|ip| ip.parse().ok())
    }

    /// The signed-in session, or the error (and a redirect to the login page) for a guest.
    pub fn session(&self) -> Result<Arc<CurrentSession>, AppError> {
        match &self.lookup {
            Lookup::Active(session) => Ok(session.clone()),
            Lookup::Guest => {
                leptos_axum::redirect(crate::routes::paths::LOGIN);
                Err(AppError::SignInRequired)
            }
            Lookup::Ended => {
                leptos_axum::redirect(&Notice::SessionEnded.login_url());
                Err(AppError::SessionEnded)
            }
        }
    }

    /// The signed-in session, if there is one, without redirecting guests anywhere.
    pub fn session_if_active(&self) -> Option<Arc<CurrentSession>> {
        self.lookup.active().cloned()
    }

    /// Hands the browser a new session, and keeps its device token (`cookies::device`), which the sign-in
    /// remembered for the account. A session the browser already had ends, so signing in again never
    /// leaves an orphan behind.
    pub async fn start_session(&self, token: String) {
        if let Lookup::Active(old) = &self.lookup {
            if let Err(e) = crate::server::sessions::store::end(self.app.db.writes(), &old.session_id).await {
                tracing::warn!(error = %e, "could not end the previous session");
            }
        }
        if let Some(cookies) = &self.cookies {
            cookies::session::set(cookies, &self.app.settings, token);
            cookies::device::set(cookies, &self.app.settings, self.device());
        }
    }

    /// Over a limit: 429 with `Retry-After` for the hydrated page, the message on the form without
    /// JavaScript (`http::headers::error_statuses` sets both).
    fn refused(refused: Refused) -> AppError {
        match refused {
            Refused::Wait(wait) => AppError::RateLimited { retry_after_secs: wait.as_secs().max(1) },
            Refused::Unavailable => AppError::Unavailable,
        }
    }

    /// The device token's hash, if the account of `address` knows this browser (`known_devices`).
    async fn known_device_of(&self, address: &Email) -> Option<String> {
        let known =
            known_devices::known_for_address(&self.app.db, address, self.device_cookie.as_deref(), self.app.now());
        known.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not look up a known device");
            None
        })
    }

    /// Counts a password sign-in for `typed` (the address as typed) against the limits.
    pub async fn limit_sign_in(&self, typed: &str) -> Result<(), AppError> {
        let address = Email::parse(typed).ok();
        let device = match &address {
            Some(address) => self.known_device_of(address).await,
            None => None,
        };
        let address = address.as_ref().map(Email::as_str);
        self.app.limits.sign_in(self.ip(), address, device.as_deref()).await.map_err(Self::refused)
    }

    /// Counts a check of the signed-in account's current password against the session's own limit.
    pub async fn limit_reauthentication(&self, session: &CurrentSession) -> Result<(), AppError> {
        self.app.limits.reauthenticate(&session.session_id).await.map_err(Self::refused)
    }

    /// Counts a sign-up. `Ok(false)`: answer as usual and do nothing (`Verdict::Quietly`).
    pub async fn limit_sign_up(&self, address: &Email) -> Result<bool, AppError> {
        self.go_or_quietly(self.app.limits.sign_up(self.ip(), address.as_str()).await)
    }

    /// Counts a request that mails a link to `address`. `Ok(false)`: answer as usual and send nothing.
    pub async fn limit_mail(&self, address: &Email) -> Result<bool, AppError> {
        let device = self.known_device_of(address).await;
        self.go_or_quietly(self.app.limits.mail(self.ip(), address.as_str(), device.as_deref()).await)
    }

    /// Counts mail to the address a signed-in account asks to move to.
    pub async fn limit_mail_to_new_address(&self, session: &CurrentSession, address: &Email) -> Result<(), AppError> {
        self.app.limits.mail_to_new_address(&session.user_id, address.as_str()).await.map_err(Self::refused)
    }

    /// Counts a one-time code typed for `account` (see `RateLimits::code_attempt`). Past the limit the
    /// answer is the one a wrong code gets: a guesser learns nothing from it.
    pub async fn limit_code_attempt(&self, account: &str) -> Result<(), AppError> {
        self.app.limits.code_attempt(account).await.map_err(Refused::as_wrong_code)
    }

    /// Counts a code typed to turn two-factor on for the session's account (`RateLimits::second_factor_attempt`).
    pub async fn limit_second_factor_attempt(&self, session: &CurrentSession) -> Result<(), AppError> {
        self.app.limits.second_factor_attempt(&session.user_id).await.map_err(Refused::as_wrong_code)
    }

    /// Counts a passkey ceremony started from this client's network.
    pub async fn limit_passkey_ceremony(&self) -> Result<(), AppError> {
        self.app.limits.passkey_ceremony(self.ip()).await.map_err(Self::refused)
    }

    /// Counts a check of a new password's strength.
    pub async fn limit_password_check(&self) -> Result<(), AppError> {
        self.app.limits.password_check(self.ip()).await.map_err(Self::refused)
    }

    fn go_or_quietly(&self, verdict: Verdict) -> Result<bool, AppError> {
        match verdict {
            Verdict::Go => Ok(true),
            Verdict::Quietly => Ok(false),
            Verdict::Wait(wait) => Err(Self::refused(Refused::Wait(wait))),
            Verdict::Unavailable => Err(AppError::Unavailable),
        }
    }

    /// Remembers that this browser asked for mail to `address` (see `cookies::mail_requested`).
    pub fn mark_mail_requested(&self, address: &Email) {
        if let Some(cookies) = &self.cookies {
            cookies::mail_requested::set(cookies, &self.app.settings, address.as_str());
        }
    }

    /// Whether this browser asked for mail to `address`.
    pub fn mail_requested_for(&self, address: &str) -> bool {
        self.cookies.as_ref().is_some_and(|c| cookies::mail_requested::is_for(c, &self.app.settings, address))
    }

    pub fn clear_mail_requested(&self) {
        if let Some(cookies) = &self.cookies {
            cookies::mail_requested::clear(cookies, &self.app.settings);
        }
    }

    /// Gives the browser its sign-up secret, once a sign-up here was taken: a refused one changes nothing.
    pub fn keep_sign_up_secret(&self) {
        if let Some(cookies) = &self.cookies {
            cookies::sign_up::set(cookies, &self.app.settings, &self.sign_up_secret().0);
        }
    }

    /// Sends the browser to the second step of its sign-in, holding `challenge` (`cookies::TWO_FACTOR`).
    pub fn await_second_factor(&self, challenge: String) {
        if let Some(cookies) = &self.cookies {
            cookies::TWO_FACTOR.set(cookies, &self.app.settings, challenge);
        }
        leptos_axum::redirect(crate::routes::paths::LOGIN_TWO_FACTOR);
    }

    /// The second step this browser holds, if any.
    pub fn second_factor_challenge(&self) -> Option<String> {
        self.cookies.as_ref().and_then(|c| cookies::TWO_FACTOR.read(c, &self.app.settings))
    }

    pub fn clear_second_factor(&self) {
        if let Some(cookies) = &self.cookies {
            cookies::TWO_FACTOR.clear(cookies, &self.app.settings);
        }
    }

    /// Gives the browser the passkey ceremony it was just challenged for (`accounts::passkeys`).
    pub fn hold_passkey_ceremony(&self, sealed: String) {
        if let Some(cookies) = &self.cookies {
            cookies::WEBAUTHN.set(cookies, &self.app.settings, sealed);
        }
    }

    /// The passkey ceremony this browser holds, which the answer takes (see `accounts::passkeys`).
    pub fn take_passkey_ceremony(&self) -> Option<String> {
        let cookies = self.cookies.as_ref()?;
        let sealed = cookies::WEBAUTHN.read(cookies, &self.app.settings);
        cookies::WEBAUTHN.clear(cookies, &self.app.settings);
        sealed
    }

    pub fn clear_session_cookie(&self) {
        if let Some(cookies) = &self.cookies {
            cookies::session::clear(cookies, &self.app.settings);
        }
    }

    /// Where a plain form post (JavaScript off) lands afterwards. The hydrated page stays where it is and
    /// updates itself, so it gets no redirect.
    pub fn redirect_html_form(&self, path: &str) {
        if self.from_html_form {
            leptos_axum::redirect(path);
        }
    }

    /// Runs a form's work; if it fails, a plain form post (JavaScript off) goes back to `page` with the
    /// error (see `fail_back_to`). The work uses `?` for every failure.
    pub async fn form<T>(
        &self,
        page: &str,
        server_fn_path: &str,
        work: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        match work.await {
            Ok(done) => Ok(done),
            Err(e) => self.fail_back_to(page, server_fn_path, e),
        }
    }

    /// Returns `error`, and sends a plain form post (JavaScript off) back to `page` (path and query) with
    /// it, as Leptos otherwise does through the referer: for pages that send no referrer (their URL
    /// carries a token), and to bring back what the user typed (`/login?email=…`), which the referer lacks.
    pub fn fail_back_to<T>(&self, page: &str, server_fn_path: &str, error: impl Into<AppError>) -> Result<T, AppError> {
        let error = error.into();
        if self.from_html_form {
            let origin = self.app.settings.app.base_url.origin().ascii_serialization();
            match ServerFnUrlError::new(server_fn_path, error.clone()).to_url(&format!("{origin}{page}")) {
                // The path only: the browser stays on this site's origin, whatever it used.
                Ok(url) => {
                    let target = match url.query() {
                        Some(q) => format!("{}?{q}", url.path()),
                        None => url.path().to_owned(),
                    };
                    leptos_axum::redirect(&target)
                }
                Err(e) => tracing::warn!(error = %e, "could not build the form's return address"),
            }
        }
        Err(error)
    }
}
