//! Sending e-mail: a lettre SMTP transport built from `BACKOFFICE_SMTP_URL`
//! (`smtp://host:port` plain to a local relay, `smtp://host:587?tls=required` for STARTTLS,
//! `smtps://host:465`), credentials in the URL or in `smtp.username` / `smtp.password`; a relay
//! whose certificate comes from a private CA is trusted with `smtp.ca_file` (PEM roots).

use crate::config::SmtpSettings;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        AsyncSmtpTransportBuilder,
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};
use std::time::Duration;

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
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
        if let Some(ca) = &s.ca_file {
            builder = trust_private_roots(builder, url, ca)?;
        }
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
        }))
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
        self.transport.send(message).await?;
        Ok(())
    }
}

/// The same TLS mode as the URL asks for (`smtps://` wrapped, `?tls=required` or
/// `?tls=opportunistic` STARTTLS), verified against the public roots and those of `ca_file`.
fn trust_private_roots(
    builder: AsyncSmtpTransportBuilder,
    url: &str,
    ca_file: &std::path::Path,
) -> anyhow::Result<AsyncSmtpTransportBuilder> {
    let pem = std::fs::read(ca_file)
        .map_err(|e| anyhow::anyhow!("smtp.ca_file {}: {e}", ca_file.display()))?;
    let parsed = url::Url::parse(url)?;
    let host = parsed
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("BACKOFFICE_SMTP_URL names no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let params = TlsParameters::builder(host)
        .add_root_certificate(Certificate::from_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "smtp.ca_file {} holds no certificate: {e}",
                ca_file.display()
            )
        })?)
        .build()?;
    let mode = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    Ok(match (parsed.scheme(), mode.as_deref()) {
        ("smtps", _) => builder.tls(Tls::Wrapper(params)),
        ("smtp", Some("required")) => builder.tls(Tls::Required(params)),
        ("smtp", Some("opportunistic")) => builder.tls(Tls::Opportunistic(params)),
        _ => anyhow::bail!(
            "smtp.ca_file is set but BACKOFFICE_SMTP_URL uses no TLS (smtps://, or smtp:// with ?tls=required)"
        ),
    })
}
