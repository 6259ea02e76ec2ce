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

/// The same TLS mode as the URL asks for (`smtps://` wrapped, `?tls=required` or
/// `?tls=opportunistic` STARTTLS), verified against the public roots and those of `ca_file`.
fn trust_private_roots(
    builder: AsyncSmtpTransportBuilder,
    url: &str,
    ca_file: &std::path::Path,
) -> anyhow::Result<AsyncSmtpTransportBuilder> {
    #[derive(Clone, Copy)]
    enum Mode {
        Wrapper,
        Required,
        Opportunistic,
    }
    let parsed = url::Url::parse(url)?;
    let tls = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let mode = match (parsed.scheme(), tls.as_deref()) {
        ("smtps", _) => Mode::Wrapper,
        ("smtp", Some("required")) => Mode::Required,
        ("smtp", Some("opportunistic")) => Mode::Opportunistic,
        _ => anyhow::bail!(
            "smtp.ca_file is set but BACKOFFICE_SMTP_URL uses no TLS (smtps://, or smtp:// with ?tls=required)"
        ),
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("BACKOFFICE_SMTP_URL names no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let pem = std::fs::read(ca_file)
        .map_err(|e| anyhow::anyhow!("smtp.ca_file {}: {e}", ca_file.display()))?;
    let no_certificate = |e: String| {
        anyhow::anyhow!(
            "smtp.ca_file {} holds no certificate: {e}",
            ca_file.display()
        )
    };
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(no_certificate("no PEM certificate block".into()));
    }
    let params = TlsParameters::builder(host)
        .add_root_certificate(
            Certificate::from_pem(&pem).map_err(|e| no_certificate(e.to_string()))?,
        )
        .build()
        .map_err(|e| no_certificate(e.to_string()))?;
    Ok(match mode {
        Mode::Wrapper => builder.tls(Tls::Wrapper(params)),
        Mode::Required => builder.tls(Tls::Required(params)),
        Mode::Opportunistic => builder.tls(Tls::Opportunistic(params)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, ca: &std::path::Path) -> SmtpSettings {
        SmtpSettings {
            url: Some(url.into()),
            from: "backoffice@ca.example.cn".into(),
            ca_file: Some(ca.to_path_buf()),
            ..Default::default()
        }
    }

    /// A CA file only makes sense with TLS; a missing or empty one stops the start, named.
    #[test]
    fn a_ca_file_needs_tls_and_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let err = |r: anyhow::Result<Option<Mailer>>| format!("{:#}", r.err().expect("refused"));
        assert!(
            err(Mailer::from_settings(&settings(
                "smtps://relay:465",
                &missing
            )))
            .contains("nope.pem")
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        assert!(
            err(Mailer::from_settings(&settings(
                "smtps://relay:465",
                &empty
            )))
            .contains("holds no certificate")
        );
        let pem = dir.path().join("ca.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(
            err(Mailer::from_settings(&settings("smtp://relay:25", &pem))).contains("uses no TLS")
        );
    }
}
