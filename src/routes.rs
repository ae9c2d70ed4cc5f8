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
    pub const RESET_PASSWORD: &str = "/reset-password";
    pub const CONFIRM_EMAIL_CHANGE: &str = "/confirm-email-change";
    /// "This wasn't me", from a new-sign-in alert.
    pub const SECURE_ACCOUNT: &str = "/secure-account";
    pub const PROFILE: &str = "/profile";
    /// The second step of a sign-in on an account with two-factor on.
    pub const LOGIN_TWO_FACTOR: &str = "/login/two-factor";
    /// Setting up two-factor, and the recovery codes once it is on.
    pub const TWO_FACTOR: &str = "/profile/two-factor";
    /// The account's security activity.
    pub const ACTIVITY: &str = "/profile/activity";
    /// "Download your data": the page that asks for the password, then posts to `EXPORT_DOWNLOAD` for a
    /// ZIP of everything the account holds.
    pub const EXPORT: &str = "/profile/export";
    pub const EXPORT_DOWNLOAD: &str = "/api/export";
    /// "Cancel deletion", from the mail sent when an account is deleted.
    pub const CANCEL_DELETION: &str = "/cancel-deletion";
    /// A signed-in tab's event stream (`server::sessions::live`).
    pub const LIVE: &str = "/api/live";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Anyone,
    /// Signed-in users are sent to their profile instead, with a notice where the page must say why.
    GuestsOnly(Option<Notice>),
    /// Guests are sent to the login page.
    SignedIn,
}

pub fn access(path: &str) -> Access {
    match path.trim_end_matches('/') {
        "" | paths::LOGIN | paths::REGISTER | paths::MAGIC_LINK | paths::FORGOT_PASSWORD | paths::LOGIN_TWO_FACTOR => {
            Access::GuestsOnly(None)
        }
        // A signed-in user changes the password on the profile; a reset link opened while signed in is
        // not used up, and works once they log out (as in Phoenix, Laravel and Devise; the profile says so).
        paths::RESET_PASSWORD => Access::GuestsOnly(Some(Notice::ResetLinkNotUsed)),
        paths::PROFILE | paths::TWO_FACTOR | paths::ACTIVITY | paths::EXPORT => Access::SignedIn,
        _ => Access::Anyone,
    }
}

/// Pages whose URL carries a secret token: they send no referrer, so the token never leaks to another
/// site through a link or a loaded resource.
pub fn carries_token(path: &str) -> bool {
    matches!(
        path,
        paths::AUTH_REDIRECT
            | paths::RESET_PASSWORD
            | paths::CONFIRM_EMAIL_CHANGE
            | paths::SECURE_ACCOUNT
            | paths::CANCEL_DELETION
    )
}

/// Where a page with a mailed link goes when the link fails: its own address without the token, saying
/// whether the link was bad (`error=invalid_link`) or the server failed (`error=failed`).
pub fn link_error_url(page: &str, error: &crate::error::AppError) -> String {
    let code = if *error == crate::error::AppError::InvalidLink { "invalid_link" } else { "failed" };
    format!("{page}?error={code}")
}

/// A message a page shows once, carried as `?notice=…` after a redirect: on the login page after signing
/// out or resetting the password, on the profile after a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    SessionEnded,
    SignedOut,
    PasswordReset,
    PasswordChanged,
    EmailChangeRequested,
    EmailChanged,
    /// A password reset link opened while signed in: not used, and still good after logging out.
    ResetLinkNotUsed,
    TwoFactorOff,
    /// The second step of a sign-in waited too long or was tried too often.
    SignInAgain,
    /// "Secure my account" was pressed.
    AccountSecured,
    /// "Delete account": signed out, waiting to be erased.
    AccountDeleted,
    /// "Cancel deletion" from the mail.
    DeletionCancelled,
}

impl Notice {
    const ALL: [Notice; 12] = [
        Notice::SessionEnded,
        Notice::SignedOut,
        Notice::PasswordReset,
        Notice::PasswordChanged,
        Notice::EmailChangeRequested,
        Notice::EmailChanged,
        Notice::ResetLinkNotUsed,
        Notice::TwoFactorOff,
        Notice::SignInAgain,
        Notice::AccountSecured,
        Notice::AccountDeleted,
        Notice::DeletionCancelled,
    ];

    pub fn as_query(self) -> &'static str {
        match self {
            Notice::SessionEnded => "session_ended",
            Notice::SignedOut => "signed_out",
            Notice::PasswordReset => "password_reset",
            Notice::PasswordChanged => "password_changed",
            Notice::EmailChangeRequested => "email_change_requested",
            Notice::EmailChanged => "email_changed",
            Notice::ResetLinkNotUsed => "reset_link_not_used",
            Notice::TwoFactorOff => "two_factor_off",
            Notice::SignInAgain => "sign_in_again",
            Notice::AccountSecured => "account_secured",
            Notice::AccountDeleted => "account_deleted",
            Notice::DeletionCancelled => "deletion_cancelled",
        }
    }

    pub fn from_query(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_query() == s)
    }

    pub fn message(self) -> &'static str {
        match self {
            Notice::SessionEnded => "Your session has ended. Please log in again.",
            Notice::SignedOut => "You have been logged out.",
            Notice::PasswordReset => "Your password has been reset. Log in with your new password.",
            Notice::PasswordChanged => "Your password was changed. Your other devices were signed out.",
            Notice::EmailChangeRequested => {
                "Almost done: open the link we sent to your new address to confirm the change."
            }
            Notice::EmailChanged => "Your email address was changed.",
            Notice::ResetLinkNotUsed => {
                "You are logged in, so the password reset link was not used. To reset the password, log out \
                 and open the link again; this account's password can also be changed under Account settings."
            }
            Notice::TwoFactorOff => "Two-factor authentication is off. Signing in takes only your password again.",
            Notice::SignInAgain => {
                "Your sign-in waited too long for its code, or was tried too often. Please log in again."
            }
            Notice::AccountSecured => {
                "Your account is secured: it was signed out everywhere and its password no longer works. We \
                 emailed you a link to choose a new one."
            }
            Notice::AccountDeleted => {
                "Your account is deleted and signed out everywhere. We emailed you the date it will be erased, \
                 with a link to cancel the deletion until then."
            }
            Notice::DeletionCancelled => "Your account is kept, as it was. Log in to use it.",
        }
    }

    /// Successes read as successes; the rest are plain information.
    pub fn is_success(self) -> bool {
        !matches!(
            self,
            Notice::SessionEnded
                | Notice::SignedOut
                | Notice::ResetLinkNotUsed
                | Notice::SignInAgain
                | Notice::AccountDeleted
        )
    }

    /// `path?notice=…`
    pub fn on(self, path: &str) -> String {
        format!("{path}?notice={}", self.as_query())
    }

    pub fn login_url(self) -> String {
        self.on(paths::LOGIN)
    }
}

/// Which link a "Check your email…" page is waiting for. Carried as `?purpose=…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailSent {
    Verification,
    MagicLink,
    PasswordReset,
}

impl MailSent {
    pub fn as_query(self) -> &'static str {
        match self {
            MailSent::Verification => "verify",
            MailSent::MagicLink => "magic-link",
            MailSent::PasswordReset => "reset",
        }
    }

    pub fn from_query(s: &str) -> Self {
        [MailSent::MagicLink, MailSent::PasswordReset]
            .into_iter()
            .find(|m| m.as_query() == s)
            .unwrap_or(MailSent::Verification)
    }
}

/// `/check-email?email=…&purpose=…`, the page that says a link is on its way.
pub fn check_email_url(email: &str, sent: MailSent, resent: bool) -> String {
    let mut url = format!("{}?email={}&purpose={}", paths::CHECK_EMAIL, encode_query_value(email), sent.as_query());
    if resent {
        url.push_str("&resent=1");
    }
    url
}

/// Everything but RFC 3986's unreserved characters is percent-encoded, so a value is always a valid part
/// of a query and of a header.
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A value for a query string, percent-encoded.
pub fn encode_query_value(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// `path?name=value&…`, each value percent-encoded.
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = path.to_owned();
    for (i, (name, value)) in pairs.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        url.push_str(&encode_query_value(value));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::{encode_query_value, with_query};
    use proptest::prelude::*;

    #[test]
    fn query_values_keep_unreserved_characters_and_encode_every_other_byte() {
        assert_eq!(encode_query_value("Az09-._~"), "Az09-._~");
        assert_eq!(encode_query_value("a b&c=d/é+"), "a%20b%26c%3Dd%2F%C3%A9%2B");
        assert_eq!(encode_query_value(""), "");
        assert_eq!(with_query("/login", &[("email", "a@b.c"), ("x", "1 2")]), "/login?email=a%40b.c&x=1%202");
    }

    proptest! {
        #[test]
        fn every_query_value_decodes_back_to_what_was_encoded(value in any::<String>()) {
            let encoded = encode_query_value(&value);
            prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)), "{}", encoded);
            let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().expect("utf-8");
            prop_assert_eq!(decoded, value);
        }
    }
}
