//! Sending e-mail: a lettre SMTP transport built from `BACKOFFICE_SMTP_URL`
//! (`smtp://host:port` plain to a local relay, `smtp://host:587?tls=required` for STARTTLS,
//! `smtps://host:465`), credentials in the URL or in `smtp.username` / `smtp.password`.

use crate::config::SmtpSettings;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::authentication::Credentials,
};
use std::time::Duration;

/// A whole send (connect, greeting, MAIL, RCPT, DATA, the answer) must finish within this;
/// a slower server is abandoned and the message tried again later. Well inside the outbox's
/// lease (`jobs::outbox::LEASE_MS`), so no other worker takes over a message still being sent.
pub const SEND_TIME_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    time_limit: Duration,
}

/// One message as the outbox holds it.
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

impl Mailer {
    /// None when no SMTP URL is configured: messages then wait in the outbox.
    pub fn from_settings(s: &SmtpSettings) -> anyhow::Result<Option<Mailer>> {
        let Some(url) = &s.url else { return Ok(None) };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("smtp.from '{}' is not an address: {e}", s.from))?;
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            time_limit: SEND_TIME_LIMIT,
        }))
    }

    /// The same mailer with a shorter bound on a whole send (at most `SEND_TIME_LIMIT`).
    pub fn with_time_limit(mut self, limit: Duration) -> Mailer {
        self.time_limit = limit.min(SEND_TIME_LIMIT);
        self
    }

    pub async fn send(&self, m: &Outgoing<'_>) -> anyhow::Result<()> {
        // The error names no address: it is logged and kept with the message.
        let to: Mailbox =
            m.to.parse()
                .map_err(|e| anyhow::anyhow!("the recipient is not an e-mail address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject)
            .multipart(MultiPart::alternative_plain_html(
                m.text.to_owned(),
                m.html.to_owned(),
            ))?;
        match tokio::time::timeout(self.time_limit, self.transport.send(message)).await {
            Ok(r) => {
                r?;
                Ok(())
            }
            // Dropping the send closes the connection: the server never sees the end of DATA.
            Err(_) => anyhow::bail!(
                "the SMTP server did not finish within {} s; the message will be tried again",
                self.time_limit.as_secs_f32()
            ),
        }
    }
}
