//! Every page's path and who may see it. The server's guard middleware and the pages both read this, so
//! the rules live in one place.

pub mod paths {
    pub const HOME: &str = "/";
    pub const LOGIN: &str = "/login";
    pub const REGISTER: &str = "/register";
    pub const CHECK_EMAIL: &str = "/check-email";
    pub const MAGIC_LINK: &str = "/login-with-magic-link";
    pub const AUTH_REDIRECT: &str = "/auth-redirect";
    pub const FORGOT_PASSWORD: &str = "/forgot-password";
    pub const PROFILE: &str = "/profile";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Anyone,
    /// Signed-in users are sent to their profile instead.
    GuestsOnly,
    /// Guests are sent to the login page.
    SignedIn,
}

pub fn access(path: &str) -> Access {
    match path.trim_end_matches('/') {
        "" | paths::LOGIN | paths::REGISTER | paths::MAGIC_LINK | paths::FORGOT_PASSWORD => Access::GuestsOnly,
        paths::PROFILE => Access::SignedIn,
        _ => Access::Anyone,
    }
}

/// Why the login page was opened, shown there as a banner. Carried as `?notice=…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    SessionEnded,
    SignedOut,
}

impl Notice {
    pub fn as_query(self) -> &'static str {
        match self {
            Notice::SessionEnded => "session_ended",
            Notice::SignedOut => "signed_out",
        }
    }

    pub fn from_query(s: &str) -> Option<Self> {
        [Notice::SessionEnded, Notice::SignedOut].into_iter().find(|n| n.as_query() == s)
    }

    pub fn message(self) -> &'static str {
        match self {
            Notice::SessionEnded => "Your session has ended. Please log in again.",
            Notice::SignedOut => "You have been logged out.",
        }
    }

    pub fn login_url(self) -> String {
        format!("{}?notice={}", paths::LOGIN, self.as_query())
    }
}
