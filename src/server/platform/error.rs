//! The backend's error: either something the user caused (shown to them as it is) or a failure inside
//! (logged here with its detail, shown to the user only as "something went wrong").

use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    User(#[from] AppError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("mail error: {0}")]
    Mail(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// Too much CPU-heavy work is waiting already (`cpu_work`): try again in a moment.
    #[error("the server is busy")]
    Busy,
}

impl From<crate::domain::InputError> for Error {
    fn from(e: crate::domain::InputError) -> Self {
        Error::User(e.into())
    }
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        match e {
            Error::User(e) => e,
            Error::Database(e) if is_unreachable(&e) => {
                tracing::error!(error = %e, "the database is unreachable");
                AppError::Unavailable
            }
            Error::Busy => AppError::Unavailable,
            Error::Mail(e) => {
                tracing::error!(error = %e, "mail could not be sent");
                AppError::MailUnavailable
            }
            internal => {
                tracing::error!(error = %internal, "request failed");
                AppError::Unexpected
            }
        }
    }
}

/// For `?` on a query in a server function: as a backend `Error` would become.
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Error::from(e).into()
    }
}

/// The database is down or out of connections (as opposed to a query that failed): a 503, not a 500.
pub fn is_unreachable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    )
}
