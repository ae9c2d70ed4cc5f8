//! Links mailed on request to anyone who types an address: a magic link (sign in) and a password reset.
//! Such requests reveal nothing about who has an account: they answer at once, the same for every
//! address, and the work (finding the account, issuing the link, mailing it) happens in the background.

use super::email_tokens::{self, Purpose};
use super::{audit, users};
use crate::domain::Email;
use crate::routes::paths;
use crate::server::mail::messages;
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

/// Mails the link if the address has an account; nothing otherwise. Either way it returns at once.
pub fn mail_link(app: &AppState, email: Email, link: MailedLink) {
    let app = app.clone();
    app.clone().in_background("mailed link", async move {
        let Some(user) = users::find_by_email(&app.db, &email).await? else { return Ok(()) };
        let tokens = &app.settings.tokens;
        let (purpose, ttl, page, param) = match link {
            MailedLink::MagicLink => (Purpose::MagicLink, tokens.magic_link_ttl, paths::AUTH_REDIRECT, "access_token"),
            MailedLink::PasswordReset => {
                (Purpose::ResetPassword, tokens.reset_password_ttl, paths::RESET_PASSWORD, "token")
            }
        };
        let token = email_tokens::issue(app.db.writes(), app.now(), &user.id, purpose, &user.email, ttl).await?;
        let url = app.link(page, &[(param, &token)]);
        let name = user.name_for_mail();
        let mail = match link {
            MailedLink::MagicLink => messages::magic_link(&user.email, name, &url, ttl),
            MailedLink::PasswordReset => messages::reset_password(&user.email, name, &url, ttl),
        };
        app.mailer.send(mail).await?;
        let event = match link {
            MailedLink::MagicLink => "magic_link_sent",
            MailedLink::PasswordReset => "password_reset_requested",
        };
        audit::event(event, &user.id);
        Ok(())
    });
}
