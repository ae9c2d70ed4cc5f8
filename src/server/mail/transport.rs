//! Sending mail. By default every message is written as an RFC 5322 `.eml` file to the outbox folder
//! `$APP_DATA_DIR/mail/` (one command, no mail server needed); `SMTP_URL` switches to real SMTP.
//!
//! A file write is local and quick, so the outbox is written before the request answers. A mail server is
//! neither: SMTP messages go to a delivery queue in the background, so a slow or absent mail server never
//! holds up a request, and each message is retried with growing delays until it is sent or given up.
//! The queue lives in memory on purpose: the messages carry sign-in links, which the database only ever
//! holds hashed. Mail still waiting when the server stops gets a short grace period (see `finish_sending`);
//! a message lost anyway is logged, and its link can be asked for again from the page that sent it.

use crate::server::platform::error::Error;
use crate::server::platform::settings::{Environment, Settings};
use lettre::address::Envelope;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Retries back off by doubling, up to this.
const LONGEST_RETRY_DELAY: Duration = Duration::from_secs(300);

/// A message ready to send: subject, plain text and an HTML alternative.
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The link the message carries, logged in development so a developer can click it from the console.
    pub link: Option<String>,
}

/// A message built and ready to go (`Mailer::prepare`).
pub struct PreparedMail {
    message: Message,
    subject: String,
    link: Option<String>,
}

enum Transport {
    /// The outbox folder.
    Outbox(PathBuf),
    Smtp(Arc<SmtpQueue>),
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
            Some(url) => Transport::Smtp(Arc::new(SmtpQueue {
                // The URL carries the TLS choice: smtps:// is TLS from the first byte, smtp://…?tls=required
                // is STARTTLS, plain smtp:// is for a relay on the same machine or network.
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(secrecy::ExposeSecret::expose_secret(url))
                    .map_err(|e| format!("invalid setting `mail.smtp_url` (environment variable SMTP_URL): {e}"))?
                    .timeout(Some(settings.mail.smtp_timeout))
                    .build(),
                attempts: settings.mail.attempts.get(),
                first_retry_delay: settings.mail.retry_delay,
                limit: settings.mail.queue_limit.get() as usize,
                waiting: AtomicUsize::new(0),
            })),
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

    /// Builds the message: fails for an address the mailer cannot write to, before anything is sent.
    pub fn prepare(&self, mail: OutgoingMail) -> Result<PreparedMail, Error> {
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
        Ok(PreparedMail { message, subject: mail.subject, link: mail.link })
    }

    /// Writes a built message to the outbox, or hands it to the SMTP queue.
    pub async fn deliver(&self, mail: PreparedMail) -> Result<(), Error> {
        let PreparedMail { message, subject, link } = mail;
        match &self.transport {
            Transport::Outbox(dir) => {
                // Written under a temporary name, then renamed: whoever reads the outbox (the dev mailbox,
                // the tests) sees whole messages only.
                let id = crate::server::platform::secrets::new_id();
                let (partial, done) = (dir.join(format!(".{id}.tmp")), dir.join(format!("{id}.eml")));
                tokio::fs::write(&partial, message.formatted()).await.map_err(|e| Error::Mail(e.to_string()))?;
                tokio::fs::rename(&partial, &done).await.map_err(|e| Error::Mail(e.to_string()))?;
                if self.log_links {
                    tracing::info!(%subject, file = %format!("{id}.eml"), link = ?link, "mail written to the outbox");
                } else {
                    tracing::info!(%subject, file = %format!("{id}.eml"), "mail written to the outbox");
                }
            }
            Transport::Smtp(queue) => SmtpQueue::push(queue, message, subject)?,
        }
        Ok(())
    }

    pub async fn send(&self, mail: OutgoingMail) -> Result<(), Error> {
        self.deliver(self.prepare(mail)?).await
    }

    /// Waits up to `grace` for queued mail to go out; called when the server stops. What is still
    /// waiting then is lost, and logged.
    pub async fn finish_sending(&self, grace: Duration) {
        let Transport::Smtp(queue) = &self.transport else { return };
        let deadline = tokio::time::Instant::now() + grace;
        while queue.waiting.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let lost = queue.waiting.load(Ordering::Acquire);
        if lost > 0 {
            tracing::error!(count = lost, "stopping with mail not yet sent; it is lost");
        }
    }
}

/// SMTP delivery in the background, one task per message (lettre's connection pool bounds the
/// connections to the server).
struct SmtpQueue {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    attempts: u32,
    first_retry_delay: Duration,
    /// Most messages waiting at once.
    limit: usize,
    waiting: AtomicUsize,
}

impl SmtpQueue {
    /// Takes the message for delivery, or refuses at once when too much mail is already waiting (the mail
    /// server has been down for a while): the user is told to try later rather than the memory growing.
    fn push(queue: &Arc<Self>, message: Message, subject: String) -> Result<(), Error> {
        if queue.waiting.fetch_add(1, Ordering::AcqRel) >= queue.limit {
            queue.waiting.fetch_sub(1, Ordering::AcqRel);
            tracing::error!(limit = queue.limit, %subject, "mail queue full; message refused");
            return Err(Error::Mail("the mail queue is full".into()));
        }
        let (envelope, bytes) = (message.envelope().clone(), message.formatted());
        let queue = queue.clone();
        tokio::spawn(async move {
            queue.deliver(&envelope, &bytes, &subject).await;
            queue.waiting.fetch_sub(1, Ordering::AcqRel);
        });
        Ok(())
    }

    async fn deliver(&self, envelope: &Envelope, message: &[u8], subject: &str) {
        let mut delay = self.first_retry_delay;
        for attempt in 1..=self.attempts {
            match self.transport.send_raw(envelope, message).await {
                Ok(_) => {
                    tracing::info!(%subject, attempt, "mail sent");
                    return;
                }
                // 5xx: the server will never take this message (no such mailbox, refused sender).
                Err(e) if e.is_permanent() => {
                    tracing::error!(%subject, to = ?envelope.to(), error = %e, "the mail server refused the message");
                    return;
                }
                Err(e) if attempt < self.attempts => {
                    tracing::warn!(%subject, attempt, retry_in = ?delay, error = %e, "mail not sent yet; will retry");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(LONGEST_RETRY_DELAY);
                }
                Err(e) => {
                    tracing::error!(%subject, to = ?envelope.to(), attempts = self.attempts, error = %e, "mail not sent; giving up");
                }
            }
        }
    }
}
