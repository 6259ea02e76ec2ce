//! A real SMTP server for the tests: it speaks enough of RFC 5321 for lettre (EHLO, MAIL,
//! RCPT, DATA, QUIT) on a loopback port and keeps every message it accepts.

use base64::Engine;
use std::sync::{Arc, Mutex};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The subject, decoded from RFC 2047 words.
    pub fn subject(&self) -> String {
        let line = self.header("Subject");
        decode_words(&line)
    }

    pub fn header(&self, name: &str) -> String {
        let mut out = String::new();
        let mut lines = self.data.split("\r\n").peekable();
        while let Some(l) = lines.next() {
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix(&format!("{name}: ")) {
                out.push_str(v);
                while lines
                    .peek()
                    .is_some_and(|n| n.starts_with(' ') || n.starts_with('\t'))
                {
                    out.push(' ');
                    out.push_str(lines.next().unwrap().trim_start());
                }
            }
        }
        out
    }

    /// Every text part of the body, decoded (base64 or quoted-printable), joined.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in self.data.split("\r\n\r\n").collect::<Vec<_>>().windows(2) {
            let (head, body) = (part[0], part[1]);
            let body = body.split("\r\n--").next().unwrap_or("");
            if head.contains("Content-Transfer-Encoding: base64") {
                let b64: String = body.lines().map(str::trim).collect();
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
            } else if head.contains("Content-Transfer-Encoding: quoted-printable") {
                out.push_str(&decode_qp(body));
            } else if head.contains("Content-Type: text/") {
                out.push_str(body);
            }
            out.push('\n');
        }
        out
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 2047 words; adjacent encoded words are one text (a character may span two).
fn decode_words(s: &str) -> String {
    let mut out = Vec::new();
    for w in s.split_whitespace() {
        match w
            .strip_prefix("=?utf-8?b?")
            .or_else(|| w.strip_prefix("=?UTF-8?B?"))
            .and_then(|r| r.strip_suffix("?="))
        {
            Some(b64) => out.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default(),
            ),
            None => out.extend_from_slice(w.as_bytes()),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap()).await
    }

    /// Serves on a listener the caller bound (a port is never freed and bound again).
    pub async fn start_on(listener: TcpListener) -> SmtpSink {
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    let mut r = BufReader::new(r);
                    let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                    let mut to = Vec::new();
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            break;
                        }
                        let cmd = line.trim_end().to_ascii_uppercase();
                        let reply: &[u8] = if cmd.starts_with("EHLO") {
                            b"250-sink\r\n250 8BITMIME\r\n"
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
                            let _ = w.write_all(b"354 go ahead\r\n").await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if r.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n"
                                {
                                    break;
                                }
                                data.push_str(
                                    line.strip_prefix('.')
                                        .filter(|_| line.starts_with(".."))
                                        .unwrap_or(&line),
                                );
                            }
                            store.lock().unwrap().push(Received {
                                to: std::mem::take(&mut to),
                                data,
                            });
                            b"250 queued\r\n"
                        } else if cmd == "QUIT" {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            b"502 not implemented\r\n"
                        };
                        if w.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        SmtpSink { port, received }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn mailer(&self) -> backoffice::mail::Mailer {
        mailer_for(self.port)
    }
}

pub fn mailer_for(port: u16) -> backoffice::mail::Mailer {
    let s = backoffice::config::SmtpSettings {
        url: Some(format!("smtp://127.0.0.1:{port}")),
        username: None,
        password: None,
        from: "backoffice@ca.example.cn".into(),
        ca_file: None,
    };
    backoffice::mail::Mailer::from_settings(&s)
        .unwrap()
        .unwrap()
}
