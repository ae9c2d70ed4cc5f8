//! Links mailed on request to anyone who types an address: a magic link (sign in) and a password reset.
//! Such requests reveal nothing about who has an account: they answer at once, the same for every
//! address, and the work (finding the account, issuing the link, mailing it) happens in the background.

use super::email_tokens::{self, Purpose};
use super::{audit, users};
use crate::domain::Email;
use crate::routes::paths;
use crate::server::mail::messages;
use crate::server::mail::transport::OutgoingMail;
use crate::server::AppState;

/// Which link to mail.
#[derive(Clone, Copy, Debug)]
pub enum MailedLink {
    /// Signs in (Altogic's `sendMagicLinkEmail`); opening it is `sign_in::sign_in_with_link`, which also
    /// confirms the address.
    MagicLink,
    /// Chooses a new password (`credentials::reset_password`), which also confirms the address.
    PasswordReset,
}

/// The mail that carries a link: to, name, link, its code if it has one, how long they work.
type ComposeLink = fn(&str, &str, &str, Option<&str>, std::time::Duration) -> OutgoingMail;

/// Mails the link if the address has an account; nothing otherwise. Either way it returns at once.
pub fn mail_link(app: &AppState, email: Email, link: MailedLink) {
    let tokens = &app.settings.tokens;
    let (purpose, ttl, page, param, compose, event) = match link {
        MailedLink::MagicLink => (
            Purpose::MagicLink,
            tokens.magic_link_ttl,
            paths::AUTH_REDIRECT,
            "access_token",
            messages::magic_link as ComposeLink,
            "magic_link_sent",
        ),
        MailedLink::PasswordReset => (
            Purpose::ResetPassword,
            tokens.reset_password_ttl,
            paths::RESET_PASSWORD,
            "token",
            messages::reset_password as ComposeLink,
            "password_reset_requested",
        ),
    };
    let task = app.clone();
    app.in_background("mailed link", async move {
        let Some(user) = users::find_by_email(task.db.reads(), &email).await? else { return Ok(()) };
        let (key, now) = (&task.secret_key, task.now());
        let issued = email_tokens::issue(task.db.writes(), key, now, &user.id, purpose, &user.email, ttl).await?;
        let url = task.link(page, &[(param, &issued.token)]);
        task.mailer.send(compose(&user.email, user.name_for_mail(), &url, issued.code.as_deref(), ttl)).await?;
        audit::event(event, &user.id);
        Ok(())
    });
}
