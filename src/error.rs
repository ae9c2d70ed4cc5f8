//! The one error type every server function returns: what the user sees, never how it broke inside.

use crate::domain::{Field, InputError};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A field was filled in wrong; the message says how to fix it.
    #[error("{message}")]
    Invalid { field: Field, message: String },
    /// Any failed sign-in: never says which half was wrong.
    #[error("Incorrect email or password.")]
    InvalidCredentials,
    /// Right password, but the address was never confirmed.
    #[error("Please verify your email address first: open the link we sent you, or ask for a new one below.")]
    EmailNotVerified,
    /// Right credentials, but an operator locked the account.
    #[error("This account is locked. Contact the site's operator to have it unlocked.")]
    AccountLocked,
    /// Right credentials, but the owner deleted the account; it is erased after the grace period.
    #[error("This account is being deleted. To keep it, open the \"Cancel deletion\" link we emailed you.")]
    AccountBeingDeleted,
    /// Only when email verification is off: there is no mail to hide behind, so say it plainly.
    #[error("An account with this email already exists. Log in instead.")]
    EmailTaken,
    #[error("This link is invalid, was already used, or has expired. Ask for a new one.")]
    InvalidLink,
    /// Any one-time code that did not work: wrong, used, expired, or too many tries. Never says which.
    #[error("That code did not work. Check that it is the newest one we sent, or use the link in the message.")]
    InvalidCode,
    /// The second step of a sign-in is gone (waited too long, tried too often, or never started).
    #[error("Your sign-in waited too long for its code, or was tried too often. Please log in again.")]
    SignInAgain,
    /// A passkey ceremony that did not work: refused by the authenticator's checks, unknown here, answered
    /// late or twice, or from another browser. Never says which, or whose.
    #[error("That passkey did not work here. Try again, or log in with your email and password.")]
    PasskeyFailed,
    /// `APP_BASE_URL` names an IP address: browsers allow passkeys only on a host name.
    #[error("Passkeys work only when this site is opened by its name (such as localhost), not by an IP address.")]
    PasskeysNeedAHostName,
    #[error("Please log in to continue.")]
    SignInRequired,
    #[error("Your session has ended. Please log in again.")]
    SessionEnded,
    /// Too many attempts from this address or for this account; the same answer whatever the password.
    #[error("Too many attempts. Please wait {} and try again.", crate::time_format::wait(*retry_after_secs))]
    RateLimited { retry_after_secs: u64 },
    /// The database cannot be reached right now; nothing was changed.
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    /// The email could not be handed to the mail system (the outbox is not writable, or the SMTP queue is
    /// full because the mail server has been down for a while). Anything else the request did stands.
    #[error("We could not send the email right now. Please try again in a few minutes.")]
    MailUnavailable,
    /// Something broke on the server; the details are in the server log only.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Unexpected,
    /// The request never got a proper answer (offline, server restarting, malformed request).
    #[error("We could not reach the server. Check your connection and try again.")]
    Transport(String),
}

impl AppError {
    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            AppError::Invalid { field, .. } => Some(*field),
            AppError::InvalidCode => Some(Field::Code),
            _ => None,
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status an API client gets with this error (`server::http::headers::error_statuses`).
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Invalid { .. }
            | AppError::InvalidLink
            | AppError::InvalidCode
            | AppError::PasskeyFailed
            | AppError::PasskeysNeedAHostName
            | AppError::Transport(_) => StatusCode::BAD_REQUEST,
            AppError::InvalidCredentials
            | AppError::SignInRequired
            | AppError::SessionEnded
            | AppError::SignInAgain => StatusCode::UNAUTHORIZED,
            AppError::EmailNotVerified | AppError::AccountLocked | AppError::AccountBeingDeleted => {
                StatusCode::FORBIDDEN
            }
            AppError::EmailTaken => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unexpected => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable | AppError::MailUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<InputError> for AppError {
    fn from(e: InputError) -> Self {
        AppError::Invalid { field: e.field, message: e.message }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
