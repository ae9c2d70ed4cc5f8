//! Sending mail. By default every message is written as an RFC 5322 `.eml` file to the outbox folder
//! `$APP_DATA_DIR/mail/` (one command, no mail server needed); `SMTP_URL` switches to real SMTP.

use super::error::Error;
use super::settings::{Environment, Settings};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

/// A message ready to send: subject, plain text and an HTML alternative.
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The link the message carries, logged in development so a developer can click it from the console.
    pub link: Option<String>,
}

enum Transport {
    /// The outbox folder.
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// Only in development with the outbox: the link is a secret, and production logs must not hold it.
    log_links: bool,
}

impl Mailer {
    pub fn outbox_dir(settings: &Settings) -> PathBuf {
        settings.app.data_dir.join("mail")
    }

    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let transport = match &settings.mail.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("invalid setting `mail.smtp_url` (environment variable SMTP_URL): {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build(),
            ),
            None => {
                let dir = Self::outbox_dir(settings);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create the mail outbox {}: {e}", dir.display()))?;
                Transport::Outbox(dir)
            }
        };
        let log_links = matches!(transport, Transport::Outbox(_)) && settings.site.environment == Environment::Dev;
        Ok(Self { transport, from: settings.mail.from.clone(), log_links })
    }

    /// True when mail goes to the outbox folder rather than a mail server.
    pub fn uses_outbox(&self) -> bool {
        matches!(self.transport, Transport::Outbox(_))
    }

    pub async fn send(&self, mail: OutgoingMail) -> Result<(), Error> {
        let to: Mailbox = mail.to.parse().map_err(|e| Error::Mail(format!("bad recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html)),
            )
            .map_err(|e| Error::Mail(format!("cannot build message: {e}")))?;
        match &self.transport {
            Transport::Outbox(dir) => {
                // Written under a temporary name, then renamed: whoever reads the outbox (the dev mailbox,
                // the tests) sees whole messages only.
                let id = super::secrets::new_id();
                let (partial, done) = (dir.join(format!(".{id}.tmp")), dir.join(format!("{id}.eml")));
                tokio::fs::write(&partial, message.formatted()).await.map_err(|e| Error::Mail(e.to_string()))?;
                tokio::fs::rename(&partial, &done).await.map_err(|e| Error::Mail(e.to_string()))?;
                if self.log_links {
                    tracing::info!(subject = %mail.subject, file = %format!("{id}.eml"), link = ?mail.link, "mail written to the outbox");
                } else {
                    tracing::info!(subject = %mail.subject, file = %format!("{id}.eml"), "mail written to the outbox");
                }
            }
            Transport::Smtp(t) => {
                t.send(message).await.map_err(|e| Error::Mail(e.to_string()))?;
                tracing::info!(subject = %mail.subject, "mail sent");
            }
        }
        Ok(())
    }
}
