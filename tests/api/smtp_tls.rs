//! E-mail over TLS, as the README promises for `BACKOFFICE_SMTP_URL`: `smtp://…?tls=required`
//! (STARTTLS) and `smtps://` (TLS from the first byte), each a real TLS conversation with a relay
//! whose certificate is made at test time by the `openssl` command (a private CA and a leaf for
//! 127.0.0.1), trusted through `BACKOFFICE_SMTP_CA_FILE`. The relay records whether each message
//! came over TLS. A STARTTLS URL against a relay that offers no STARTTLS, or a relay whose
//! certificate the CA did not sign, sends nothing in clear.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::Action;
use backoffice::jobs::outbox::deliver_all;
use std::{path::Path, process::Command, sync::Arc, sync::Mutex};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader},
    net::TcpListener,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    },
};

/// A private CA and a server certificate for 127.0.0.1 signed by it, in `dir`:
/// `ca.pem`, `leaf.pem`, `leaf.key`.
pub fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command (Debian's openssl) must be installed");
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Backoffice test relay CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Plain greeting, STARTTLS offered in EHLO, TLS after it.
    StartTls,
    /// TLS from the first byte (port 465 style).
    Wrapped,
}

#[derive(Debug, Clone)]
pub struct TlsReceived {
    pub to: Vec<String>,
    pub data: String,
    /// Whether the message travelled inside TLS.
    pub over_tls: bool,
}

/// A relay speaking SMTP over TLS with the certificate in `dir` (see [`make_certificates`]).
pub struct TlsSink {
    pub port: u16,
    received: Arc<Mutex<Vec<TlsReceived>>>,
    pub handshakes: Arc<std::sync::atomic::AtomicUsize>,
}

impl TlsSink {
    pub async fn start(dir: &Path, mode: Mode) -> TlsSink {
        let certs = CertificateDer::pem_file_iter(dir.join("leaf.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(dir.join("leaf.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (store, hs) = (received.clone(), handshakes.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (store, acceptor, hs) = (store.clone(), acceptor.clone(), hs.clone());
                tokio::spawn(async move {
                    match mode {
                        Mode::Wrapped => {
                            let Ok(tls) = acceptor.accept(sock).await else {
                                return;
                            };
                            hs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let mut s = BufReader::new(tls);
                            let _ = s.write_all(b"220 tls-sink ESMTP\r\n").await;
                            converse(&mut s, true, false, &store).await;
                        }
                        Mode::StartTls => {
                            let mut plain = BufReader::new(sock);
                            let _ = plain.write_all(b"220 tls-sink ESMTP\r\n").await;
                            if converse(&mut plain, false, true, &store).await {
                                let Ok(tls) = acceptor.accept(plain.into_inner()).await else {
                                    return;
                                };
                                hs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                let mut s = BufReader::new(tls);
                                converse(&mut s, true, false, &store).await;
                            }
                        }
                    }
                });
            }
        });
        TlsSink {
            port,
            received,
            handshakes,
        }
    }

    pub fn messages(&self) -> Vec<TlsReceived> {
        self.received.lock().unwrap().clone()
    }
}

/// One SMTP session on `s`; true when the client asked for STARTTLS (answered 220: the caller
/// upgrades the connection and talks again).
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
    over_tls: bool,
    offer_starttls: bool,
    store: &Arc<Mutex<Vec<TlsReceived>>>,
) -> bool {
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if s.read_line(&mut line).await.unwrap_or(0) == 0 {
            return false;
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if cmd.starts_with("EHLO") {
            if offer_starttls {
                b"250-tls-sink\r\n250-8BITMIME\r\n250 STARTTLS\r\n"
            } else {
                b"250-tls-sink\r\n250 8BITMIME\r\n"
            }
        } else if cmd == "STARTTLS" && offer_starttls {
            let _ = s.write_all(b"220 go ahead\r\n").await;
            let _ = s.flush().await;
            return true;
        } else if cmd.starts_with("MAIL FROM") && offer_starttls && !over_tls {
            // A relay that insists on TLS, as real submission ports do.
            b"530 5.7.0 must issue STARTTLS first\r\n"
        } else if cmd.starts_with("HELO")
            || cmd.starts_with("MAIL FROM")
            || cmd.starts_with("RSET")
            || cmd.starts_with("NOOP")
        {
            b"250 ok\r\n"
        } else if cmd.starts_with("RCPT TO") {
            to.push(
                line.trim_end()[8..]
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_owned(),
            );
            b"250 ok\r\n"
        } else if cmd == "DATA" {
            let _ = s.write_all(b"354 go ahead\r\n").await;
            let _ = s.flush().await;
            let mut data = String::new();
            loop {
                line.clear();
                if s.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            store.lock().unwrap().push(TlsReceived {
                to: std::mem::take(&mut to),
                data,
                over_tls,
            });
            b"250 queued\r\n"
        } else if cmd == "QUIT" {
            let _ = s.write_all(b"221 bye\r\n").await;
            let _ = s.flush().await;
            return false;
        } else {
            b"502 not implemented\r\n"
        };
        if s.write_all(reply).await.is_err() || s.flush().await.is_err() {
            return false;
        }
    }
}

/// An accepted application's e-mail waits in the outbox of a server configured with `url`.
async fn app_with_mail(b: Backend, url: String, ca: &Path) -> TestApp {
    let ca = ca.to_path_buf();
    let app = TestApp::spawn_with(b, move |s| {
        s.smtp.url = Some(url);
        s.smtp.ca_file = Some(ca);
    })
    .await;
    let id = app.submit_example().await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.verify_payment(&id).await;
    app.staff_act(&id, Action::Accept, &[]).await;
    app
}

/// The server's own mailer (the one its outbox job builds from the settings).
fn server_mailer(app: &TestApp) -> backoffice::mail::Mailer {
    backoffice::mail::Mailer::from_settings(&app.state.settings.smtp)
        .unwrap()
        .expect("an SMTP URL is configured")
}

async fn starttls_and_smtps_deliver_over_tls(b: Backend) {
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let ca = certs.path().join("ca.pem");
    for (mode, scheme) in [
        (Mode::StartTls, "smtp://127.0.0.1:{}?tls=required"),
        (Mode::Wrapped, "smtps://127.0.0.1:{}"),
    ] {
        let sink = TlsSink::start(certs.path(), mode).await;
        let url = scheme.replace("{}", &sink.port.to_string());
        let app = app_with_mail(b, url.clone(), &ca).await;
        let now = app.clock.now().timestamp_millis();
        let d = deliver_all(&app.storage, &server_mailer(&app), now)
            .await
            .unwrap();
        assert_eq!((d.sent, d.failed), (1, 0), "{url}");
        let msgs = sink.messages();
        assert_eq!(msgs.len(), 1, "{url}");
        assert!(msgs[0].over_tls, "{url}: the message came in clear");
        assert_eq!(msgs[0].to, ["zhangsan@example.com"]);
        assert!(
            msgs[0].data.contains("Content-Type: multipart/alternative"),
            "{}",
            msgs[0].data
        );
        assert_eq!(
            sink.handshakes.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{url}"
        );
        assert_eq!(app.storage.outbox_count("sent").await.unwrap(), 1);
    }
}

async fn tls_is_never_given_up_for_clear_text(b: Backend) {
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let ca = certs.path().join("ca.pem");
    // A relay that offers no STARTTLS: `tls=required` sends nothing.
    let plain = crate::smtp_sink::SmtpSink::start().await;
    let app = app_with_mail(
        b,
        format!("smtp://127.0.0.1:{}?tls=required", plain.port),
        &ca,
    )
    .await;
    let now = app.clock.now().timestamp_millis();
    let d = deliver_all(&app.storage, &server_mailer(&app), now)
        .await
        .unwrap();
    assert_eq!((d.sent, d.failed), (0, 1));
    assert!(plain.messages().is_empty());

    // A relay whose certificate another CA signed (not ours, not a public one): refused.
    let other = tempfile::tempdir().unwrap();
    make_certificates(other.path());
    let stranger = TlsSink::start(other.path(), Mode::Wrapped).await;
    let app = app_with_mail(b, format!("smtps://127.0.0.1:{}", stranger.port), &ca).await;
    let d = deliver_all(&app.storage, &server_mailer(&app), now)
        .await
        .unwrap();
    assert_eq!((d.sent, d.failed), (0, 1));
    assert!(stranger.messages().is_empty());
    let pending = app.storage.outbox_messages("pending", 10).await.unwrap();
    assert!(
        pending[0].last_error.as_deref().unwrap_or("").len() > 3,
        "{:?}",
        pending[0].last_error
    );
}

both!(
    starttls_and_smtps_deliver_over_tls,
    tls_is_never_given_up_for_clear_text
);
