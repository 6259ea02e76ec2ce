//! Per-client limits through the real server: a client over its rate gets 429 with Retry-After
//! while another client is served; a 100 MB body is refused before it is read (the answer comes
//! while the upload is still going, and the server's memory does not grow by the body); uploads
//! in flight are capped; the admin page shows use and edits limits, audited.

use crate::both;
use crate::helpers::*;
use backoffice::storage::tokens::Limits;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The token id of the most recent token of `name`.
async fn token_id(app: &TestApp, name: &str) -> i64 {
    app.storage
        .api_clients()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.name == name)
        .map(|c| c.token_id)
        .max()
        .unwrap()
}

async fn set(app: &TestApp, name: &str, rate: i64, uploads: i64, body: i64) {
    let id = token_id(app, name).await;
    let limits = Limits {
        rate_per_minute: rate,
        max_concurrent_uploads: uploads,
        max_body_bytes: body,
    };
    assert!(
        app.storage
            .set_api_limits(id, limits, 0, "test")
            .await
            .unwrap()
    );
}

/// The real server binary on the test's database, in a process of its own: its memory is the
/// server's alone (the test binary runs other tests beside this one).
struct ServerProcess {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    fn start(app: &TestApp) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backoffice"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", &app.database_url)
            .env("BACKOFFICE_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn,backoffice::startup=info")
            .env("BACKOFFICE_LOG_FORMAT", "json")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // The port it bound is in its "serving" line.
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                let v: serde_json::Value = serde_json::from_str(&l).ok()?;
                (v["message"] == "serving").then(|| v["addr"].as_str().map(str::to_owned))?
            })
            .expect("the server says where it listens");
        // Keep reading its log, so a full pipe never stalls it.
        std::thread::spawn(move || lines.for_each(drop));
        ServerProcess {
            child,
            addr,
            _dir: dir,
        }
    }

    /// The process's peak resident memory so far (VmHWM), in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        s.lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the token has `n` uploads in flight.
pub async fn wait_for_uploads(app: &TestApp, token_id: i64, n: i64) {
    let limiter = &app.state.api_limits;
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while limiter.uploads_in_flight(token_id) != n {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{n} uploads in flight never came"));
}

async fn a_client_over_its_rate_is_refused_while_another_is_served(b: Backend) {
    let app = TestApp::spawn(b).await;
    let other = app
        .storage
        .create_api_token("other-hall", 0, "test")
        .await
        .unwrap();
    // 6 a minute: a burst of one request, then one every ten seconds.
    set(&app, "online-hall", 6, 32, 10 << 20).await;
    let path = "/api/v1/certificates/0150512140479054C03?id_number=11010519491231002X";
    assert_eq!(app.get(path).await.status(), 200);
    let r = app.get(path).await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "Retry-After {retry}");
    assert_error(r, 429, "rate_limited", None).await;
    // The other client is still served, several times over.
    for _ in 0..5 {
        let r = app
            .http
            .get(app.url(path))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // The use is counted and shown to admins.
    app.state.api_limits.flush(&app.storage).await.unwrap();
    let day = app.storage.api_usage_since("2000-01-01").await.unwrap();
    let mine_id = token_id(&app, "online-hall").await;
    let mine = day.iter().find(|u| u.token_id == mine_id);
    let mine = mine.expect("counted");
    assert_eq!((mine.requests, mine.errors, mine.limited), (2, 1, 1));
    let admin = app.signed_in_staff("a.admin", "admin").await;
    let page = admin.get_page("/admin/api-clients").await;
    assert!(
        page.contains("other-hall") && page.contains("5 / 0 / 0"),
        "{page}"
    );
    assert!(page.contains("2 / 1 / 1"));
}

/// Offers `total` bytes of body over a raw connection (declared by Content-Length, or chunked)
/// and reads the answer while still sending. Returns the answer and whether the whole body had
/// gone out before the answer came.
async fn offer(app: &TestApp, key: &str, total: u64, chunked: bool) -> (String, bool) {
    offer_to(
        app.addr.trim_start_matches("http://"),
        &app.token,
        key,
        total,
        chunked,
    )
    .await
}

/// Offers `total` bytes to the server at `addr`; the answer, and whether all was sent first.
async fn offer_to(addr: &str, token: &str, key: &str, total: u64, chunked: bool) -> (String, bool) {
    let addr = addr.to_owned();
    let s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let length = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {total}")
    };
    let head = format!(
        "POST /api/v1/applications HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Idempotency-Key: {key}\r\nContent-Type: multipart/form-data; boundary=X\r\n{length}\r\n\r\n",
        token
    );
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(head.as_bytes()).await.unwrap();
    let sender = tokio::spawn(async move {
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0u64;
        while sent < total {
            let r = if chunked {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                wr.write_all(&framed).await
            } else {
                wr.write_all(&chunk).await
            };
            if r.is_err() {
                break;
            }
            sent += chunk.len() as u64;
        }
        sent
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("}}") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), rd.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    // The whole body went out before the answer only if the sender had finished and sent it
    // all (it also stops early when the server closes the connection).
    let finished_first = if sender.is_finished() {
        sender.await.unwrap() >= total
    } else {
        sender.abort();
        false
    };
    (String::from_utf8_lossy(&answer).to_string(), finished_first)
}

async fn an_oversized_body_is_refused_before_it_is_read(b: Backend) {
    let app = TestApp::spawn(b).await;
    set(&app, "online-hall", 600, 32, 1 << 20).await;
    const TOTAL: u64 = 100 * 1024 * 1024;
    let (text, finished_first) = offer(&app, "big-1", TOTAL, false).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"body_too_large\""), "{text}");
    assert!(
        !finished_first,
        "the answer came only after the whole body was sent"
    );
    // The server's own memory, in a process of its own, while 100 MB are offered to it.
    let server = ServerProcess::start(&app);
    let before = server.peak_rss_kib();
    for (n, chunked) in [(1, false), (2, true)] {
        let key = format!("big-process-{n}");
        let (text, _) = offer_to(&server.addr, &app.token, &key, TOTAL, chunked).await;
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    }
    let grown = server.peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 50 * 1024,
        "the server's peak memory grew by {grown} KiB while 100 MB were offered twice"
    );
    drop(server);

    // Without a Content-Length the body is cut off at the limit while it streams.
    let (text, finished_first) = offer(&app, "big-2", TOTAL, true).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"body_too_large\""), "{text}");
    assert!(!finished_first);
    assert_eq!(app.stored_scan_files(), 0);
}

async fn uploads_in_flight_are_capped(b: Backend) {
    let app = TestApp::spawn(b).await;
    set(&app, "online-hall", 600, 1, 10 << 20).await;
    let addr = app.addr.trim_start_matches("http://").to_owned();
    // One upload that stalls half-way holds the only slot.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/applications HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Idempotency-Key: slow-1\r\nContent-Type: multipart/form-data; boundary=X\r\n\
         Content-Length: 100000\r\n\r\n--X\r\nContent-Disposition: form-data; name=\"application_form\"\r\n\r\n%PDF-",
        app.token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // The stalled upload holds its slot: seen in the limiter, not assumed after a sleep.
    let id = token_id(&app, "online-hall").await;
    wait_for_uploads(&app, id, 1).await;
    let r = app.submit("second", Submission::example().form()).await;
    assert!(r.headers().contains_key("retry-after"));
    assert_error(r, 429, "too_many_uploads", None).await;
    // Reads are not uploads.
    assert_eq!(
        app.get("/api/v1/certificates/0150512140479054C03?id_number=11010519491231002X")
            .await
            .status(),
        200
    );
    drop(s);
    // The slot is free again once the stalled upload is gone.
    wait_for_uploads(&app, id, 0).await;
    assert_eq!(
        app.submit("third", Submission::example().form())
            .await
            .status(),
        201
    );
}

async fn admins_edit_limits_audited(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = token_id(&app, "online-hall").await;
    let admin = app.signed_in_staff("a.admin", "admin").await;
    let path = format!("/admin/api-clients/{id}");
    let bad = admin
        .post_form(
            &path,
            &[
                ("rate_per_minute", "0"),
                ("max_concurrent_uploads", "2"),
                ("max_body_bytes", "1024"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("每分钟请求数须为 1–100000 的整数")
    );
    let before = app.storage.api_clients().await.unwrap();
    assert_eq!(
        before
            .iter()
            .find(|c| c.token_id == id)
            .unwrap()
            .rate_per_minute,
        600
    );
    let ok = admin
        .post_form(
            &path,
            &[
                ("rate_per_minute", "30"),
                ("max_concurrent_uploads", "2"),
                ("max_body_bytes", "1024"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    let after = app.storage.api_clients().await.unwrap();
    let row = after.iter().find(|c| c.token_id == id).unwrap();
    assert_eq!(
        (
            row.rate_per_minute,
            row.max_concurrent_uploads,
            row.max_body_bytes
        ),
        (30, 2, 1024)
    );
    assert_eq!(
        app.audited(&id.to_string(), "api_token.limits_changed")
            .await,
        1
    );
    // The new body limit holds at once: the example's ~1 KB scans are over 1 KiB together.
    let r = app.submit("k", Submission::example().form()).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "body_too_large");
}

/// Reads what the server sends until it closes the connection (or `secs` pass: `None`).
async fn until_closed(s: &mut tokio::net::TcpStream, secs: u64) -> Option<String> {
    let mut got = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(secs),
        s.read_to_end(&mut got),
    )
    .await
    .ok()?
    .ok()?;
    Some(String::from_utf8_lossy(&got).to_string())
}

/// A client that stops half-way through its headers is cut off after the header read time-out,
/// one that stops half-way through its body is answered after the body time-out, and neither
/// keeps the server from answering others meanwhile.
async fn stalled_clients_are_cut_off(b: Backend) {
    let app = TestApp::spawn_with(b, |s| {
        s.header_read_timeout_secs = 1;
        s.body_read_timeout_secs = 1;
    })
    .await;
    let addr = app.addr.trim_start_matches("http://").to_owned();

    let mut headers = tokio::net::TcpStream::connect(&addr).await.unwrap();
    headers
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .await
        .unwrap();
    let mut body = tokio::net::TcpStream::connect(&addr).await.unwrap();
    body.write_all(
        format!(
            "POST /api/v1/applications HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Idempotency-Key: stall-1\r\nContent-Type: multipart/form-data; boundary=X\r\n\
             Content-Length: 100000\r\nConnection: close\r\n\r\n--X\r\n",
            app.token
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // Others are served while both stall (on new connections: with a 1 s header time-out the
    // server also closes idle kept-alive ones, which a pooled client could race).
    let fresh = || async {
        reqwest::Client::new()
            .get(format!("{}/healthz", app.addr))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(fresh().await, 200);

    let text = until_closed(&mut headers, 20)
        .await
        .expect("a client that never finishes its headers holds its connection");
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    let text = until_closed(&mut body, 20)
        .await
        .expect("a client that stalls in its body holds its connection");
    assert!(text.starts_with("HTTP/1.1 4"), "{text}");
    assert!(
        text.contains("\"error\""),
        "the contract's error body: {text}"
    );
    assert_eq!(app.stored_scan_files(), 0);
    assert_eq!(fresh().await, 200);
}

both!(
    a_client_over_its_rate_is_refused_while_another_is_served,
    an_oversized_body_is_refused_before_it_is_read,
    uploads_in_flight_are_capped,
    admins_edit_limits_audited,
    stalled_clients_are_cut_off,
);
