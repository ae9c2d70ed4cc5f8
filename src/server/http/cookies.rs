//! The app's cookies. Every one is HttpOnly, SameSite=Lax, Path=/, without Domain; under https also Secure
//! with the `__Host-` prefix, which makes browsers refuse it from any other host or path (so a sibling
//! subdomain cannot plant one).

use crate::server::platform::secrets::{hash_token, is_well_formed};
use crate::server::platform::settings::Settings;
use std::time::Duration;
use tower_cookies::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use tower_cookies::Cookies;

/// One of the app's cookies, by its names over http and under https.
struct Kind {
    /// Under https the name gets the `__Host-` prefix.
    name: &'static str,
    https_name: &'static str,
}

impl Kind {
    fn name(&self, settings: &Settings) -> &'static str {
        if settings.is_https() {
            self.https_name
        } else {
            self.name
        }
    }

    fn read(&self, cookies: &Cookies, settings: &Settings) -> Option<String> {
        cookies.get(self.name(settings)).map(|c| c.value().to_owned())
    }

    fn set(&self, cookies: &Cookies, settings: &Settings, value: String, lifetime: Duration) {
        cookies.add(build(settings, self.name(settings), value, Some(lifetime)));
    }

    fn clear(&self, cookies: &Cookies, settings: &Settings) {
        cookies.remove(build(settings, self.name(settings), String::new(), None));
    }
}

fn build(settings: &Settings, name: &'static str, value: String, max_age: Option<Duration>) -> Cookie<'static> {
    let mut cookie =
        Cookie::build((name, value)).http_only(true).same_site(SameSite::Lax).path("/").secure(settings.is_https());
    if let Some(max_age) = max_age {
        cookie = cookie.max_age(CookieDuration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX)));
    }
    cookie.build()
}

/// The session: a random token whose hash names a row of `sessions`.
pub mod session {
    use super::*;

    const KIND: Kind = Kind { name: "session", https_name: "__Host-session" };

    pub fn read(cookies: &Cookies, settings: &Settings) -> Option<String> {
        KIND.read(cookies, settings)
    }

    pub fn set(cookies: &Cookies, settings: &Settings, token: String) {
        KIND.set(cookies, settings, token, settings.sessions.absolute_timeout);
    }

    pub fn clear(cookies: &Cookies, settings: &Settings) {
        KIND.clear(cookies, settings);
    }
}

/// "This browser asked for mail to this address": the SHA-256 of the address, set whenever a request
/// mails a link (sign-up, resend, magic link, reset). The page a sign-in link opens continues by itself
/// only in a browser that asked for mail to the address the link was sent to; anywhere else it shows
/// whose account the link is for and waits for a click, so a link sent by someone else (to sign the
/// reader into the sender's account) cannot work unnoticed. "Check your email…" names only this address.
pub mod mail_requested {
    use super::*;

    const KIND: Kind = Kind { name: "mail_requested", https_name: "__Host-mail_requested" };

    pub fn set(cookies: &Cookies, settings: &Settings, address: &str) {
        let tokens = &settings.tokens;
        let lifetime = tokens.verify_email_ttl.max(tokens.magic_link_ttl).max(tokens.reset_password_ttl);
        KIND.set(cookies, settings, hash_token(address), lifetime);
    }

    /// Whether this browser asked for mail to `address` (as stored: trimmed, lower case).
    pub fn is_for(cookies: &Cookies, settings: &Settings, address: &str) -> bool {
        KIND.read(cookies, settings).is_some_and(|hash| hash == hash_token(address))
    }

    pub fn clear(cookies: &Cookies, settings: &Settings) {
        KIND.clear(cookies, settings);
    }
}

/// The browser that signed up for an address: a random secret whose hash the account keeps until the
/// address is confirmed (`users.sign_up_proof`). What a sign-up typed (its password and name) takes effect
/// only when the address is confirmed in that browser: whoever signs up with an address they do not own
/// never gets the account, whatever its owner clicks.
pub mod sign_up {
    use super::*;

    const KIND: Kind = Kind { name: "sign_up", https_name: "__Host-sign_up" };

    /// The browser's secret, if it has a well-formed one.
    pub fn read(cookies: &Cookies, settings: &Settings) -> Option<String> {
        KIND.read(cookies, settings).filter(|s| is_well_formed(s))
    }

    /// Gives the browser `secret` (again), for as long as a verification link lives. One secret serves
    /// every sign-up made in the browser.
    pub fn set(cookies: &Cookies, settings: &Settings, secret: &str) {
        KIND.set(cookies, settings, secret.to_owned(), settings.tokens.verify_email_ttl);
    }

    /// What an account keeps of `secret`.
    pub fn proof_of(secret: &str) -> String {
        hash_token(secret)
    }
}

/// A browser that has signed in before (OWASP's device cookie): a random token, kept for a year, whose
/// hash each account it signed in to remembers (`known_devices`). Failures and mail requests from strangers
/// are counted apart from the account's own devices, so nobody can lock an owner out of their account
/// from somewhere else.
pub mod device {
    use super::*;

    const KIND: Kind = Kind { name: "device", https_name: "__Host-device" };
    pub const LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

    /// The browser's device token, if it has a well-formed one.
    pub fn read(cookies: &Cookies, settings: &Settings) -> Option<String> {
        KIND.read(cookies, settings).filter(|s| is_well_formed(s))
    }

    /// Gives the browser `token` (renewed for another year if it had it already).
    pub fn set(cookies: &Cookies, settings: &Settings, token: &str) {
        KIND.set(cookies, settings, token.to_owned(), LIFETIME);
    }
}

/// A cookie that holds a browser's place in a two-request step for five minutes: the token of a sign-in
/// halfway (`TWO_FACTOR`), or a passkey ceremony (`WEBAUTHN`: a sign-in sealed by the server, or the token
/// of a passkey being added). Only the browser holding it can finish.
pub struct Step(Kind, Holds);

/// What a step's cookie holds, to refuse anything else before it is looked at.
enum Holds {
    /// A token (`secrets::new_token`).
    Token,
    /// A value the server sealed (`SecretKey::seal`), or a token: opening or looking it up checks it.
    SealedOrToken,
}

impl Step {
    /// Also how long the step waits (a second factor's challenge in the database, a sealed ceremony).
    pub const LIFETIME: Duration = Duration::from_secs(5 * 60);

    pub fn read(&self, cookies: &Cookies, settings: &Settings) -> Option<String> {
        self.0.read(cookies, settings).filter(|value| match self.1 {
            Holds::Token => is_well_formed(value),
            // Above a sealed passkey sign-in (its test: under 1,000 characters), below what browsers keep.
            Holds::SealedOrToken => value.len() <= 2_000,
        })
    }

    pub fn set(&self, cookies: &Cookies, settings: &Settings, token: String) {
        self.0.set(cookies, settings, token, Self::LIFETIME);
    }

    pub fn clear(&self, cookies: &Cookies, settings: &Settings) {
        self.0.clear(cookies, settings);
    }
}

/// A sign-in halfway (`accounts::two_factor::challenge`): the first factor was right, the second is
/// awaited on `/login/two-factor`.
pub const TWO_FACTOR: Step = Step(Kind { name: "two_factor", https_name: "__Host-two_factor" }, Holds::Token);

/// A passkey ceremony between its two requests (`accounts::passkeys`).
pub const WEBAUTHN: Step = Step(Kind { name: "webauthn", https_name: "__Host-webauthn" }, Holds::SealedOrToken);
