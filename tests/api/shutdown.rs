//! Graceful shutdown of the real binary: `backoffice serve` runs as a child process; a
//! submission is held open half-way through its body (the server has answered `100 Continue`,
//! so the handler is reading it); SIGTERM arrives; the server says it is finishing requests in
//! flight and stops accepting new connections, yet the held request, completed afterwards, is
//! answered `201` and stored; then the process exits with status 0.

use crate::both;
use crate::helpers::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn cli(db: &str, dir: &std::path::Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("BACKOFFICE_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `serve` as a child, its JSON log lines (standard error) handed over a channel.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub logs: mpsc::Receiver<serde_json::Value>,
}

impl Server {
    pub fn start(db: &str, dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_backoffice"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", db)
            .env("BACKOFFICE_DATA_DIR", dir)
            .env("BACKOFFICE_LOG_FORMAT", "json")
            .env("BACKOFFICE_PRECHECKS", "off")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let mut s = Server {
            child,
            addr: String::new(),
            logs,
        };
        let serving = s.wait_for_log("serving", 120);
        s.addr = serving["addr"].as_str().unwrap().to_owned();
        s
    }

    /// The first log line whose message is `message` (at most `secs` seconds).
    pub fn wait_for_log(&mut self, message: &str, secs: u64) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.logs.recv_timeout(left) {
                Ok(v) if v["message"] == message => return v,
                Ok(_) => {}
                Err(e) => panic!(
                    "no log line '{message}' within {secs} s ({e}); exited: {:?}",
                    self.child.try_wait()
                ),
            }
        }
    }

    pub fn terminate(&self) {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// The exit status, waiting at most `secs` seconds.
    pub fn wait_exit(&mut self, secs: u64) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit in {secs} s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The contract example as a multipart body, by hand (the test controls every byte it sends).
fn multipart_body(boundary: &str) -> Vec<u8> {
    let sub = Submission::example();
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"application\"\r\n\
             Content-Type: application/json\r\n\r\n{}\r\n",
            sub.json.as_deref().unwrap()
        )
        .as_bytes(),
    );
    for (part, name, mime, bytes) in &sub.files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{name}\"\r\n\
                 Content-Type: {mime}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    body
}

async fn sigterm_finishes_requests_in_flight(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (db, pg) = fresh_database(b, dir.path()).await;
    let csv = dir.path().join("registry.csv");
    std::fs::write(&csv, REGISTRY_CSV).unwrap();
    cli(
        &db,
        dir.path(),
        &["import-certificates", csv.to_str().unwrap()],
    );
    let token = cli(&db, dir.path(), &["create-api-token", "--name", "hall"])
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let mut server = Server::start(&db, dir.path(), &[]);

    // The request starts: headers, then the server asks for the body (100 Continue).
    let boundary = "XyZzYbOuNdArY";
    let body = multipart_body(boundary);
    let mut sock = TcpStream::connect(&server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/applications HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Idempotency-Key: held-open\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        server.addr,
        body.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(30), sock.read(&mut buf))
            .await
            .expect("an answer to the headers")
            .unwrap();
        assert!(n > 0, "closed before 100 Continue");
        got.extend(&buf[..n]);
    }
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    let half = body.len() / 2;
    sock.write_all(&body[..half]).await.unwrap();
    sock.flush().await.unwrap();

    // SIGTERM while the body is half-sent.
    server.terminate();
    server.wait_for_log("shutting down: finishing requests in flight", 30);
    // No new connection is taken any more (the listener is closed once the loop stops).
    let refused = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match TcpStream::connect(&server.addr).await {
                Err(_) => break true,
                Ok(_) if Instant::now() > deadline => break false,
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    };
    assert!(refused, "still accepting connections after SIGTERM");
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited with a request in flight"
    );

    // The rest of the body: the request completes and is answered.
    sock.write_all(&body[half..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), sock.read_to_end(&mut answer))
        .await
        .expect("the answer to the held request")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let json = &answer[answer.find('{').unwrap()..=answer.rfind('}').unwrap()];
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| {
        panic!("{e}: {json}");
    });
    let id = v["id"].as_str().unwrap().to_owned();

    // Then the process ends, with status 0.
    let st = server.wait_exit(60);
    assert_eq!(st.code(), Some(0), "{st:?}");

    // The application is stored: a fresh server sees it.
    let storage = backoffice::storage::Storage::connect(&db).await.unwrap();
    let stored = storage.review_detail(&aid(&id)).await.unwrap();
    assert!(stored.is_some(), "{id} not stored");
    storage.close().await;
    if let Some(name) = pg {
        drop_database(&name);
    }
}

both!(sigterm_finishes_requests_in_flight);
