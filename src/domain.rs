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
    /// A one-time code: from a mail, an authenticator app, or a recovery code.
    Code,
    PasskeyName,
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
            Field::Code => "code",
            Field::PasskeyName => "name",
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
        // The mailer must take every address accepted here (`a:b@example.com` it would not), or a sign-up
        // would be kept whose mail can never be sent.
        #[cfg(feature = "ssr")]
        if email.parse::<lettre::message::Mailbox>().is_err() {
            return err("Enter an email address like name@example.com.");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address as a page shows an account it may not be the reader's: every character outside ASCII
    /// written as its code point ("[U+0430]"), so that a look-alike (a Cyrillic "а" for a Latin "a")
    /// cannot pass for the letter it imitates.
    pub fn shown(&self) -> String {
        ascii_or_code_points(&self.0)
    }

    /// "a•••@example.com", non-ASCII shown as in `shown`: enough for its owner to recognise, not enough to
    /// harvest, for an address the reader of a page need not learn.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.graphemes(true).take(1).collect();
        format!("{}•••@{}", ascii_or_code_points(&first), ascii_or_code_points(domain))
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(&self.0, |(local, _)| local)
    }
}

/// `s` with every character outside ASCII written as its code point: "ex[U+0430]mple.com".
fn ascii_or_code_points(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii() { c.to_string() } else { format!("[U+{:04X}]", u32::from(c)) }).collect()
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown on the profile: trimmed, 1 to 80 user-perceived characters, nothing invisible or
/// direction-changing that could make it display as something else, and no character buried under
/// marks stacked on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_GRAPHEMES: usize = 80;
    /// Code points in one user-perceived character at most: a starter and 30 non-starters, the limit of
    /// Unicode's stream-safe text format (UAX #15). Real text never gets near it (a family emoji has 7,
    /// a flag of England 7); without it one "character" could be kilobytes of combining marks.
    pub const MAX_CHARS_PER_GRAPHEME: usize = 31;

    pub fn parse(input: &str) -> Result<Self, InputError> {
        let name = input.trim();
        let err = |m: &str| Err(InputError::new(Field::Name, m));
        if name.chars().all(is_blank) {
            return err("Enter your name.");
        }
        if name.graphemes(true).count() > Self::MAX_GRAPHEMES {
            return err("Use at most 80 characters for your name.");
        }
        if name.chars().any(is_control_bidi_control_or_invisible) {
            return err("Your name contains invisible control characters; please type it again without them.");
        }
        if name.graphemes(true).any(|g| g.chars().nth(Self::MAX_CHARS_PER_GRAPHEME).is_some()) {
            return err(
                "Your name has a character with too many marks stacked on it; please type it again more simply.",
            );
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name an account gets when nobody who proved the address chose one: its address's local part
    /// ("ada" for ada@example.com), which its owner can change on the profile.
    pub fn placeholder_for(email: &Email) -> Self {
        Self::parse(email.local_part()).unwrap_or_else(|_| Self("Account owner".into()))
    }
}

/// What a name may not contain: control characters (Cc), the Bidi_Control set and invisible characters.
fn is_control_bidi_control_or_invisible(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible(c)
}

/// Characters that show as nothing but blank space: white space and the braille blank U+2800. A name of
/// only these is empty. (The zero-width ones a name may hold, joiners and selectors, cannot make a name
/// on their own either.)
fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{2800}' || is_allowed_zero_width(c)
}

/// Zero-width characters that real names and emoji need: ZWNJ and ZWJ (Persian and Indic spelling, emoji
/// sequences), variation selectors (emoji presentation, ideographic variants of CJK names), Mongolian
/// free variation selectors, and tag characters (subdivision flags such as England's).
fn is_allowed_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200C}' | '\u{200D}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{E0100}'..='\u{E01EF}'
            | '\u{180B}'..='\u{180D}'
            | '\u{180F}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Unicode's Bidi_Control set: the marks, embeddings, overrides and isolates that reorder the text around
/// them ("Trojan Source") or flip where it seems to start.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show as nothing (or break the line) yet are not controls: the rest of Unicode's
/// Default_Ignorable_Code_Point set except the zero-width characters names need (see
/// `is_allowed_zero_width`), plus the line and paragraph separators and the interlinear annotation
/// characters. Each lets two names that look the same differ, or a name look empty.
fn is_invisible(c: char) -> bool {
    !is_allowed_zero_width(c)
        && matches!(
            c,
            '\u{00AD}' // soft hyphen
                | '\u{034F}' // combining grapheme joiner
                | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
                | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels
                | '\u{180E}' // Mongolian vowel separator
                | '\u{200B}' // zero-width space
                | '\u{2028}' | '\u{2029}' // line and paragraph separators
                | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, deprecated format characters
                | '\u{FEFF}' // zero-width no-break space (byte order mark)
                | '\u{FFF0}'..='\u{FFFB}' // reserved, interlinear annotation
                | '\u{1BCA0}'..='\u{1BCA3}' // shorthand format controls
                | '\u{1D173}'..='\u{1D17A}' // musical formatting
                | '\u{E0000}'..='\u{E0FFF}' // language tag, reserved (tag characters are allowed above)
        )
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

        /// Every address accepted here is one the mailer takes (it refused `a:b@example.com`).
        #[cfg(feature = "ssr")]
        #[test]
        fn every_accepted_address_is_one_the_mailer_takes(input in "[a-z0-9.!#$%&'*+/=?^_`{|}~:\\[\\]\"()<>,;@ -]{1,40}@[a-z0-9.-]{1,20}|\\PC{0,60}") {
            if let Ok(email) = Email::parse(&input) {
                prop_assert!(email.as_str().parse::<lettre::message::Mailbox>().is_ok(), "{}", email.as_str());
            }
        }

        #[test]
        fn emails_built_from_safe_parts_are_accepted(local in "[a-z0-9]{1,20}(\\.[a-z0-9]{1,10})?", domain in "[a-z0-9]{1,20}\\.[a-z]{2,6}") {
            let address = format!("{local}@{domain}");
            prop_assert_eq!(Email::parse(&address.to_uppercase()).map(|e| e.as_str().to_owned()), Ok(address));
        }

        #[test]
        fn names_are_trimmed_bounded_and_visible(
            input in "\\PC{0,200}|[ \\t\\u{202E}\\u{0000}-\\u{001F}a-z]{0,100}\
                      |[ a-z\\u{00AD}\\u{034F}\\u{061C}\\u{0301}\\u{200B}-\\u{200F}\\u{2028}\\u{2060}\\u{2800}\\u{3164}\\u{FE0F}\\u{FEFF}]{0,100}"
        ) {
            if let Ok(name) = DisplayName::parse(&input) {
                let s = name.as_str();
                prop_assert_eq!(s, s.trim());
                let graphemes = s.graphemes(true).count();
                prop_assert!((1..=DisplayName::MAX_GRAPHEMES).contains(&graphemes));
                prop_assert!(!s.chars().any(is_control_bidi_control_or_invisible));
                prop_assert!(!s.chars().all(is_blank));
                prop_assert!(s.graphemes(true).all(|g| g.chars().count() <= DisplayName::MAX_CHARS_PER_GRAPHEME));
            }
        }

        #[test]
        fn one_refused_character_anywhere_refuses_the_name(
            first in "[A-Za-z]{1,20}",
            bad in prop::sample::select(tests::REFUSED_INSIDE.chars().collect::<Vec<_>>()),
            last in "[a-z]{1,20}",
        ) {
            let refusal = DisplayName::parse(&format!("{first}{bad}{last}")).map_err(|e| e.message);
            prop_assert_eq!(refusal, Err(tests::INVISIBLE.to_owned()));
        }

        #[test]
        fn a_character_carries_at_most_thirty_marks(marks in 0usize..100) {
            // The marks all stack on the "o": one grapheme of 1 + marks code points.
            let name = format!("Zo{}e", "\u{0301}".repeat(marks));
            prop_assert_eq!(DisplayName::parse(&name).is_ok(), marks <= 30, "{} marks", marks);
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
    fn addresses_the_mailer_refuses_are_refused_here() {
        for refused in ["a:b@example.com", "a[b]@example.com"] {
            assert!(Email::parse(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn masked_addresses_show_look_alike_letters_as_code_points() {
        assert_eq!(Email::parse("ada@example.com").unwrap().masked(), "a•••@example.com");
        // A Cyrillic "а" (U+0430) first, and in the domain.
        let look_alike = Email::parse("\u{430}d\u{430}@ex\u{430}mple.com").unwrap();
        assert_eq!(look_alike.masked(), "[U+0430]•••@ex[U+0430]mple.com");
        assert_eq!(look_alike.shown(), "[U+0430]d[U+0430]@ex[U+0430]mple.com");
    }

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

    pub(super) const INVISIBLE: &str =
        "Your name contains invisible control characters; please type it again without them.";

    /// Characters a name may not contain: controls, then the whole Bidi_Control set, then invisible ones.
    pub(super) const REFUSED_INSIDE: &str = "\u{0000}\u{0007}\n\u{0085}\
        \u{061C}\u{200E}\u{200F}\u{202A}\u{202E}\u{2066}\u{2069}\
        \u{00AD}\u{034F}\u{115F}\u{1160}\u{17B4}\u{17B5}\u{180E}\u{200B}\u{2028}\u{2029}\u{2060}\u{2061}\
        \u{2062}\u{2063}\u{2064}\u{206A}\u{206F}\u{3164}\u{FEFF}\u{FFA0}\u{FFF9}\u{FFFA}\u{FFFB}\u{1BCA0}\
        \u{1D173}\u{E0001}\u{E0080}";

    fn refusal(name: &str) -> String {
        DisplayName::parse(name).map(|n| format!("accepted as {:?}", n.as_str())).unwrap_or_else(|e| {
            assert_eq!(e.field, Field::Name);
            e.message
        })
    }

    #[test]
    fn names_refuse_control_bidi_and_invisible_characters() {
        for c in REFUSED_INSIDE.chars() {
            assert_eq!(refusal(&format!("Ali{c}ce")), INVISIBLE, "U+{:04X}", u32::from(c));
        }
        // Effectively empty names are refused too, whatever invisible character they are made of.
        for bad in ["\u{200B}", "\u{FEFF}", "\u{3164}", "\u{115F}\u{1160}", "\u{00AD}"] {
            assert_eq!(refusal(bad), INVISIBLE, "{bad:?}");
        }
        for bad in ["evil\u{202E}gpj.exe", "x\u{2066}y", "Ada\nLovelace", "x\u{2028}y"] {
            assert_eq!(refusal(bad), INVISIBLE, "{bad:?}");
        }
        // Markup is just text here; it is escaped when rendered.
        assert!(DisplayName::parse("<script>alert(1)</script>").is_ok());
    }

    #[test]
    fn names_of_only_blank_characters_are_empty() {
        for blank in ["", "   ", "\t\n ", "\u{2800}", " \u{2800}\u{3000}\u{2800} ", "\u{200D}", "\u{FE0F}\u{200C}"] {
            assert_eq!(refusal(blank), "Enter your name.", "{blank:?}");
        }
    }

    #[test]
    fn names_keep_the_zero_width_characters_writing_and_emoji_need() {
        // A combining mark; ZWNJ in a Persian name and ZWJ in Devanagari; an emoji ZWJ sequence; emoji
        // presentation and ideographic variation selectors; England's flag, made with tag characters.
        for good in [
            "Zoë",
            "Zoe\u{0308}",
            "Mehr\u{200C}dad",
            "क्\u{200D}ष",
            "👨‍👩‍👧‍👦",
            "❤\u{FE0F}",
            "葛\u{E0100}城",
            "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            "A\u{2800}B",
        ] {
            assert_eq!(DisplayName::parse(good).map(|n| n.as_str().to_owned()), Ok(good.to_owned()));
        }
    }

    #[test]
    fn a_character_with_more_than_thirty_marks_stacked_on_it_is_refused() {
        const STACKED: &str =
            "Your name has a character with too many marks stacked on it; please type it again more simply.";
        let zalgo =
            |marks: usize| format!("Zo{}e", "\u{0301}\u{0316}".repeat(marks / 2) + &"\u{0301}".repeat(marks % 2));
        assert!(DisplayName::parse(&zalgo(30)).is_ok());
        assert_eq!(refusal(&zalgo(31)), STACKED);
        // 9,000 code points, 18 KB, one grapheme: short enough by count, refused by its marks.
        assert_eq!(refusal(&zalgo(8999)), STACKED);
        // Emoji sequences are long but far from the limit.
        let family = "👨🏻‍👩🏼‍👧🏽‍👦🏾"; // 11 code points
        assert!(DisplayName::parse(&family.repeat(80)).is_ok());
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
