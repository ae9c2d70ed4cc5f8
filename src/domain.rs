//! Parsed user input: `Email`, `DisplayName`, `Password`.
//!
//! Each type can only be built through `parse`, which refuses bad input with a message the user can act on.
//! The same code runs in the browser (to show problems as the user types) and on the server (where it
//! decides), so both always agree.

use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_segmentation::UnicodeSegmentation;

/// Which form field an input error belongs to, so the page can show the message next to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    Name,
    Email,
    Password,
    CurrentPassword,
    NewPassword,
    NewPasswordConfirm,
    NewEmail,
}

impl Field {
    /// The `name` attribute of the field's `<input>`, also used to build element ids.
    pub fn input_name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Email => "email",
            Field::Password => "password",
            Field::CurrentPassword => "current_password",
            Field::NewPassword => "new_password",
            Field::NewPasswordConfirm => "new_password_confirm",
            Field::NewEmail => "new_email",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub field: Field,
    pub message: String,
}

impl InputError {
    pub fn new(field: Field, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }

    /// The same problem, reported on another field (a new password is checked like any password, but
    /// its message belongs next to the "New password" input).
    pub fn on(self, field: Field) -> Self {
        Self { field, ..self }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An email address, trimmed and lower-cased so that one mailbox maps to one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// RFC 5321 caps a forward path at 256 octets including the angle brackets.
    pub const MAX_LEN: usize = 254;

    pub fn parse(input: &str) -> Result<Self, InputError> {
        let email = input.trim().to_lowercase();
        let err = |m: &str| Err(InputError::new(Field::Email, m));
        if email.is_empty() {
            return err("Enter your email address.");
        }
        if email.len() > Self::MAX_LEN {
            return err("That email address is too long.");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return err("Enter an email address like name@example.com.");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let chars_ok = email.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | '"' | ',' | ';' | '(' | ')' | '\\')
        });
        if !(local_ok && labels_ok && chars_ok) || domain.contains('@') {
            return err("Enter an email address like name@example.com.");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "a•••@example.com": enough for its owner to recognise, not enough to harvest.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.graphemes(true).take(1).collect();
        format!("{first}•••@{domain}")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown on the profile: trimmed, 1 to 80 user-perceived characters, nothing invisible or
/// direction-changing that could make it display as something else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_GRAPHEMES: usize = 80;

    pub fn parse(input: &str) -> Result<Self, InputError> {
        let name = input.trim();
        let err = |m: &str| Err(InputError::new(Field::Name, m));
        if name.is_empty() {
            return err("Enter your name.");
        }
        if name.graphemes(true).count() > Self::MAX_GRAPHEMES {
            return err("Use at most 80 characters for your name.");
        }
        if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return err("Your name contains invisible control characters; please type it again without them.");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Explicit embedding, override and isolate characters reorder the text around them ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A new password as chosen by the user. Only length is enforced here: composition rules make passwords
/// weaker in practice (NIST SP 800-63B §5.1.1.2). Existing passwords are never parsed, only verified, so
/// a policy change never locks anyone out.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(input: &str) -> Result<Self, InputError> {
        let chars = input.chars().count();
        let err = |m: String| Err(InputError::new(Field::Password, m));
        if chars < Self::MIN_CHARS {
            return err(format!(
                "Use at least {} characters for your password ({} so far). A few unrelated words make a strong one.",
                Self::MIN_CHARS,
                chars
            ));
        }
        if chars > Self::MAX_CHARS {
            return err(format!("Use at most {} characters for your password.", Self::MAX_CHARS));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A new password typed twice, as on the reset and change forms.
    pub fn parse_new(password: &str, confirmation: &str) -> Result<Self, InputError> {
        let password = Self::parse(password).map_err(|e| e.on(Field::NewPassword))?;
        if confirmation != password.expose() {
            return Err(InputError::new(
                Field::NewPasswordConfirm,
                "The two passwords do not match. Type the new password again.",
            ));
        }
        Ok(password)
    }
}

/// Never print a password, not even by accident in a `{:?}`.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn email_parsing_never_panics_and_keeps_its_promises(input in "\\PC{0,300}") {
            if let Ok(email) = Email::parse(&input) {
                let s = email.as_str();
                prop_assert!(s.len() <= Email::MAX_LEN);
                prop_assert_eq!(s, s.trim());
                prop_assert_eq!(s.to_lowercase(), s);
                prop_assert_eq!(s.matches('@').count(), 1);
                prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
            }
        }

        #[test]
        fn emails_built_from_safe_parts_are_accepted(local in "[a-z0-9]{1,20}(\\.[a-z0-9]{1,10})?", domain in "[a-z0-9]{1,20}\\.[a-z]{2,6}") {
            let address = format!("{local}@{domain}");
            prop_assert_eq!(Email::parse(&address.to_uppercase()).map(|e| e.as_str().to_owned()), Ok(address));
        }

        #[test]
        fn names_are_trimmed_bounded_and_visible(input in "\\PC{0,200}|[ \\t\\u{202E}\\u{0000}-\\u{001F}a-z]{0,100}") {
            if let Ok(name) = DisplayName::parse(&input) {
                let s = name.as_str();
                prop_assert_eq!(s, s.trim());
                let graphemes = s.graphemes(true).count();
                prop_assert!((1..=DisplayName::MAX_GRAPHEMES).contains(&graphemes));
                prop_assert!(!s.chars().any(|c| c.is_control() || is_bidi_control(c)));
            }
        }

        #[test]
        fn passwords_are_accepted_exactly_by_length(input in "\\PC{0,300}") {
            let chars = input.chars().count();
            prop_assert_eq!(Password::parse(&input).is_ok(), (Password::MIN_CHARS..=Password::MAX_CHARS).contains(&chars));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
    }

    #[test]
    fn masked_addresses_keep_the_first_letter_and_the_domain() {
        assert_eq!(Email::parse("ada.lovelace@example.com").unwrap().masked(), "a•••@example.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_a_message() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a b@example.com",
            "ada@exa_mple.com",
            ".ada@example.com",
            "ada..b@example.com",
            "ada@-example.com",
            "<ada@example.com>",
        ] {
            let e = Email::parse(bad).unwrap_err();
            assert_eq!(e.field, Field::Email, "{bad}");
            assert!(!e.message.is_empty());
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn names_count_graphemes_not_bytes() {
        // A family emoji is one grapheme made of several code points.
        let family = "👨‍👩‍👧‍👦";
        assert!(DisplayName::parse(&family.repeat(80)).is_ok());
        assert!(DisplayName::parse(&family.repeat(81)).is_err());
        assert_eq!(DisplayName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
    }

    #[test]
    fn names_refuse_empty_control_and_bidi_characters() {
        for bad in ["", "   ", "Ada\u{0007}", "Ada\nLovelace", "evil\u{202E}gpj.exe", "x\u{2066}y"] {
            assert_eq!(DisplayName::parse(bad).unwrap_err().field, Field::Name, "{bad:?}");
        }
        // Markup is just text here; it is escaped when rendered.
        assert!(DisplayName::parse("<script>alert(1)</script>").is_ok());
    }

    #[test]
    fn passwords_are_checked_by_length_in_characters() {
        assert!(Password::parse("elevenchars").is_err());
        assert!(Password::parse("twelve chars").is_ok());
        assert!(Password::parse(&"é".repeat(12)).is_ok());
        assert!(Password::parse(&"x".repeat(256)).is_ok());
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert_eq!(format!("{:?}", Password::parse("twelve chars").unwrap()), "Password(..)");
    }
}
