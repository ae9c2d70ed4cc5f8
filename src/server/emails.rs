//! The text of every mail the app sends. Each says what the link does, when it expires, and what to do if
//! the reader did not ask for it.

use super::mail::OutgoingMail;
use std::time::Duration;

pub fn verify_email(to: &str, name: &str, link: &str, valid_for: Duration) -> OutgoingMail {
    let valid = describe(valid_for);
    OutgoingMail {
        to: to.to_owned(),
        subject: "Verify your email address".into(),
        text: format!(
            "Hello {name},\n\n\
             Please confirm that this is your email address by opening the link below. It signs you in.\n\n\
             {link}\n\n\
             The link works once and expires in {valid}.\n\n\
             If you did not create an account, ignore this message: nothing happens without the link.\n"
        ),
        html: layout(
            &format!("Hello {},", escape(name)),
            "Please confirm that this is your email address. The button signs you in.",
            "Verify email address",
            link,
            &format!("The link works once and expires in {valid}. If you did not create an account, ignore this message: nothing happens without the link."),
        ),
        link: Some(link.to_owned()),
    }
}

/// Sent instead of a verification mail when someone signs up with an address that already has an account,
/// so the sign-up page can answer the same either way without revealing who is registered.
pub fn account_exists(to: &str, name: &str, login_link: &str) -> OutgoingMail {
    OutgoingMail {
        to: to.to_owned(),
        subject: "You already have an account".into(),
        text: format!(
            "Hello {name},\n\n\
             Someone (probably you) tried to create an account with this email address, but you already have one.\n\
             Log in here: {login_link}\n\n\
             If it was not you, you can ignore this message: your account has not changed.\n"
        ),
        html: layout(
            &format!("Hello {},", escape(name)),
            "Someone (probably you) tried to create an account with this email address, but you already have one.",
            "Log in",
            login_link,
            "If it was not you, you can ignore this message: your account has not changed.",
        ),
        link: None,
    }
}

fn layout(greeting: &str, body: &str, button: &str, link: &str, footer: &str) -> String {
    let link = escape(link);
    format!(
        "<!DOCTYPE html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1f2933\">\
         <p>{greeting}</p><p>{body}</p>\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 18px;background:#3451b2;color:#fff;\
         border-radius:6px;text-decoration:none\">{button}</a></p>\
         <p style=\"font-size:14px\">Or paste this address into your browser:<br>{link}</p>\
         <p style=\"font-size:14px;color:#52606d\">{footer}</p></body></html>"
    )
}

/// User input (names, addresses) in HTML is text, never markup.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// "15 minutes", "24 hours", "7 days".
pub fn describe(d: Duration) -> String {
    let s = d.as_secs();
    // Up to two days read better in hours ("24 hours", not "1 day").
    let (n, unit) = if s.is_multiple_of(86400) && s > 2 * 86400 {
        (s / 86400, "day")
    } else if s.is_multiple_of(3600) {
        (s / 3600, "hour")
    } else if s.is_multiple_of(60) {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(describe(Duration::from_secs(900)), "15 minutes");
        assert_eq!(describe(Duration::from_secs(86400)), "24 hours");
        assert_eq!(describe(Duration::from_secs(7 * 86400)), "7 days");
        assert_eq!(describe(Duration::from_secs(3600)), "1 hour");
    }

    #[test]
    fn names_are_escaped_in_html() {
        let mail = verify_email("a@example.com", "<b>Ada</b>", "http://x/?a=1&b=2", Duration::from_secs(60));
        assert!(mail.html.contains("&lt;b&gt;Ada&lt;/b&gt;") && !mail.html.contains("<b>Ada"));
        assert!(mail.html.contains("a=1&amp;b=2"));
    }
}
