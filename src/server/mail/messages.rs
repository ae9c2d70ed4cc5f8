//! The text of every mail the app sends. Each says what its link does, when it expires, and what to do
//! if the reader did not ask for it. Every mail has a plain-text body and a simple HTML alternative,
//! both made by `compose` from the same parts.

use crate::server::mail::transport::OutgoingMail;
use crate::time_format::exact_length;
use html_escape::encode_quoted_attribute;
use std::time::Duration;

/// The parts of a mail: a greeting, what happened, an optional button, and what to do if it was not you.
struct Parts<'a> {
    to: &'a str,
    subject: &'a str,
    name: &'a str,
    body: &'a str,
    action: Option<(&'a str, &'a str)>,
    /// A one-time code that does what the action's link does, typed on the page that asked for the mail.
    code: Option<&'a str>,
    footer: &'a str,
}

pub fn verify_email(to: &str, name: &str, link: &str, code: Option<&str>, valid_for: Duration) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Verify your email address",
        name,
        body: "Please confirm that this is your email address. The link signs you in.",
        action: Some(("Verify email address", link)),
        code,
        footer: &format!(
            "The link and the code work once and expire in {}. If you did not create an account, ignore this \
             message: nothing happens without them.",
            exact_length(valid_for)
        ),
    })
}

/// Sent instead of a verification mail when someone signs up with an address that already has an account,
/// so the sign-up page can answer the same either way without revealing who is registered.
pub fn account_exists(to: &str, name: &str, login_link: &str) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "You already have an account",
        name,
        body: "Someone (probably you) tried to create an account with this email address, but you already have one.",
        action: Some(("Log in", login_link)),
        code: None,
        footer: "If it was not you, you can ignore this message: your account has not changed.",
    })
}

pub fn magic_link(to: &str, name: &str, link: &str, code: Option<&str>, valid_for: Duration) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Your sign-in link",
        name,
        body: "Use the link below to log in. No password needed.",
        action: Some(("Log in", link)),
        code,
        footer: &format!(
            "The link and the code work once and expire in {}. If you did not ask for them, ignore this \
             message, and never tell anyone the code: nobody can log in without one of them.",
            exact_length(valid_for)
        ),
    })
}

/// A reset carries no code: choosing a password takes the link's page anyway.
pub fn reset_password(to: &str, name: &str, link: &str, _code: Option<&str>, valid_for: Duration) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Reset your password",
        name,
        body: "Someone (probably you) asked to reset the password of your account. Choose a new one here:",
        action: Some(("Choose a new password", link)),
        code: None,
        footer: &format!(
            "The link works once and expires in {}. If you did not ask for it, ignore this message: your \
             password stays as it is.",
            exact_length(valid_for)
        ),
    })
}

pub fn password_changed(to: &str, name: &str, reset_link: &str) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Your password was changed",
        name,
        body: "The password of your account was just changed, and your other devices were signed out.",
        action: None,
        code: None,
        footer: &format!(
            "If you did not do this, reset your password now at {reset_link} and check the sessions on your profile."
        ),
    })
}

/// To the account's address after a change to how it signs in (two-factor turned on or off, new recovery
/// codes, a recovery code used): `what` says which.
pub fn security_notice(to: &str, name: &str, subject: &str, what: &str, reset_link: &str) -> OutgoingMail {
    compose(Parts {
        to,
        subject,
        name,
        body: what,
        action: None,
        code: None,
        footer: &format!(
            "If you did not do this, someone else may be signed in to your account: reset your password now \
             at {reset_link} and check the sessions on your profile."
        ),
    })
}

/// To the account's address when it signs in from a browser it has not used before: where and when,
/// and "This wasn't me", which secures the account (`secure_account`).
pub fn new_sign_in(
    to: &str,
    name: &str,
    sign_in: &NewSignIn<'_>,
    secure_link: &str,
    valid_for: Duration,
) -> OutgoingMail {
    let NewSignIn { device, ip, at } = sign_in;
    compose(Parts {
        to,
        subject: "New sign-in to your account",
        name,
        body: &format!(
            "Your account was just signed in to from a device it has not used before.\n\nDevice: {device}\nNetwork address: {ip}\nTime: {at}\n\nIf this was you, there is nothing to do."
        ),
        action: Some(("This wasn't me", secure_link)),
        code: None,
        footer: &format!(
            "\"This wasn't me\" signs your account out everywhere and sends you a link to choose a new password. \
             It works once and expires in {}.",
            exact_length(valid_for)
        ),
    })
}

/// After "Secure my account": the way back in.
pub fn account_secured(to: &str, name: &str, reset_link: &str, valid_for: Duration) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Your account is secured",
        name,
        body: "As you asked, your account was signed out on every device, and its password no longer works. \
               Choose a new password to sign in again:",
        action: Some(("Choose a new password", reset_link)),
        code: None,
        footer: &format!(
            "The link works once and expires in {}. Then check the sign-in methods and the security activity on \
             your profile.",
            exact_length(valid_for)
        ),
    })
}

/// After "Delete account": when it will be erased, and the way back until then.
pub fn deletion_scheduled(to: &str, name: &str, erase_on: &str, cancel_link: &str) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Your account will be deleted",
        name,
        body: &format!(
            "Your account was deleted: it is signed out everywhere and nobody can sign in to it. On {erase_on} \
             it will be erased with everything it holds. Changed your mind? Keep it:"
        ),
        action: Some(("Cancel deletion", cancel_link)),
        code: None,
        footer: &format!(
            "The link works once, until {erase_on}. If you did not delete your account, open it now, then change \
             your password."
        ),
    })
}

/// After "Cancel deletion": the account is back.
pub fn deletion_cancelled(to: &str, name: &str, login_link: &str) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Your account was kept",
        name,
        body: "The deletion of your account was cancelled. Everything it held is as it was; sign in again to use it.",
        action: Some(("Log in", login_link)),
        code: None,
        footer: "If you did not cancel it, change your password and look at the security activity on your profile.",
    })
}

/// What a new-sign-in alert says about the sign-in.
pub struct NewSignIn<'a> {
    /// "Firefox on Windows".
    pub device: &'a str,
    pub ip: &'a str,
    /// "2026-12-05 03:21 UTC".
    pub at: &'a str,
}

/// To the new address of an email change. It greets no name: nobody has proved yet that this inbox
/// belongs to the account, and anyone can give their account any name (see `User::name_for_mail`).
pub fn confirm_email_change(to: &str, link: &str, valid_for: Duration) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Confirm your new email address",
        name: "",
        body: "Please confirm that your account should use this email address from now on.",
        action: Some(("Confirm new address", link)),
        code: None,
        footer: &format!(
            "The link works once and expires in {}. Until it is used, your account keeps its current \
             address. If you did not ask for this, ignore this message.",
            exact_length(valid_for)
        ),
    })
}

/// To the current address, when a change to another one is requested.
pub fn email_change_requested(to: &str, name: &str, new_email: &str, reset_link: &str) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "A change of your email address was requested",
        name,
        body: &format!(
            "Someone signed in to your account asked to change its email address to {new_email}. \
             Nothing changes until the link sent to that address is used."
        ),
        action: None,
        code: None,
        footer: &format!(
            "If it was not you, reset your password now at {reset_link}: whoever asked knows your current password."
        ),
    })
}

/// To the old address, once the change is done: the last word that address gets from us.
pub fn email_changed(to: &str, name: &str, new_email: &str, reset_link: &str) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Your email address was changed",
        name,
        body: &format!("Your account now uses {new_email}. Mail about it will go there from now on."),
        action: None,
        code: None,
        footer: &format!(
            "If you did not do this, someone else controls your account: reset your password at {reset_link} \
             (the link goes to the new address, so contact us if you cannot reach it)."
        ),
    })
}

/// To a new address that already belongs to another account: the change cannot go ahead, and the
/// requester is not told why (that would reveal who has an account).
pub fn email_in_use(to: &str) -> OutgoingMail {
    compose(Parts {
        to,
        subject: "Someone tried to use your email address",
        name: "",
        body: "Someone tried to move another account to this email address. It already belongs to your \
               account, so nothing was changed.",
        action: None,
        code: None,
        footer: "You do not need to do anything.",
    })
}

fn compose(p: Parts) -> OutgoingMail {
    let greeting = if p.name.is_empty() { "Hello,".to_owned() } else { format!("Hello {},", p.name) };
    let mut text = format!("{greeting}\n\n{}\n\n", p.body);
    let mut html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1f2933\">\
         <p>{}</p><p>{}</p>",
        encode_quoted_attribute(&greeting),
        encode_quoted_attribute(p.body).replace('\n', "<br>")
    );
    if let Some((label, link)) = p.action {
        text.push_str(&format!("{label}: {link}\n\n"));
        let link = encode_quoted_attribute(link);
        html.push_str(&format!(
            "<p><a href=\"{link}\" style=\"display:inline-block;padding:10px 18px;background:#3346b8;color:#fff;\
             border-radius:6px;text-decoration:none\">{}</a></p>\
             <p style=\"font-size:14px\">Or paste this address into your browser:<br>{link}</p>",
            encode_quoted_attribute(label)
        ));
        if let Some(code) = p.code {
            text.push_str(&format!("Or type this code on the page that asked for this message: {code}\n\n"));
            html.push_str(&format!(
                "<p>Or type this code on the page that asked for this message:</p>\
                 <p style=\"font-size:28px;font-weight:700;letter-spacing:6px;font-family:ui-monospace,monospace\">{}</p>",
                encode_quoted_attribute(code)
            ));
        }
    }
    text.push_str(p.footer);
    text.push('\n');
    html.push_str(&format!(
        "<p style=\"font-size:14px;color:#52606d\">{}</p></body></html>",
        encode_quoted_attribute(p.footer)
    ));
    OutgoingMail {
        to: p.to.to_owned(),
        subject: p.subject.to_owned(),
        text,
        html,
        link: p.action.map(|(_, link)| link.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_html() {
        let mail =
            verify_email("a@example.com", "<b>Ada</b>", "http://x/?a=1&b=2", Some("012345"), Duration::from_secs(60));
        assert!(mail.html.contains("&lt;b&gt;Ada&lt;/b&gt;") && !mail.html.contains("<b>Ada"));
        assert!(mail.html.contains("a=1&amp;b=2"));
        assert!(mail.text.contains("Verify email address: http://x/?a=1&b=2\n"));
        assert!(
            mail.text.contains("on the page that asked for this message: 012345\n") && mail.html.contains(">012345<")
        );
    }
}
