//! A flood of requests with invented methods: the request metrics keep the standard methods and
//! `other` only, so `/metrics` stays small and the server's memory stays put. The server runs
//! as its own process (`backoffice serve`) so its resident memory is read honestly from
//! `/proc/<pid>/status`.

use crate::both;
use crate::helpers::*;
use rand::Rng;
use std::time::Duration;

const TOKEN: &str = "scrape-0123456789abcdef";

/// `backoffice serve` on a free loopback port, killed on drop.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(database_url: &str, dir: &std::path::Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_backoffice"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("BACKOFFICE_DATA_DIR", dir)
            .env("BACKOFFICE_LISTEN", format!("127.0.0.1:{port}"))
            .env("BACKOFFICE_METRICS_TOKEN", TOKEN)
            .env("BACKOFFICE_PRECHECKS", "off")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..300 {
            if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await
                && r.status() == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not start");
    }

    /// Resident memory of the server process, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }

    async fn metrics(&self, http: &reqwest::Client) -> String {
        let r = http
            .get(format!("{}/metrics", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }
}

fn method_labels(body: &str) -> std::collections::BTreeSet<String> {
    body.split("method=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// 1,500 requests with 1,500-character random methods, on routed and unrouted paths.
async fn invented_methods_do_not_grow_the_metrics_or_the_server(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = fresh_database(b, dir.path()).await;
    let server = Server::start(&url, dir.path()).await;
    let http = reqwest::Client::new();
    // Warm up: every ordinary route the flood will hit, and /metrics itself.
    for path in ["/healthz", "/login", "/review", "/no/such/page"] {
        for _ in 0..50 {
            let _ = http.get(format!("{}{path}", server.base)).send().await;
        }
    }
    let before_body = server.metrics(&http).await;
    let _ = server.metrics(&http).await;
    let rss_before = server.rss_kib();

    let flood = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut rng = rand::rng();
    for i in 0..1500 {
        let method: String = (0..1500)
            .map(|_| rng.random_range(b'A'..=b'Z') as char)
            .collect();
        let path = ["/healthz", "/login", "/review", "/no/such/page"][i % 4];
        let r = flood
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", server.base),
            )
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error() || r.status().is_redirection());
    }
    let after_body = server.metrics(&http).await;
    let rss_after = server.rss_kib();
    eprintln!(
        "metrics {} → {} bytes; server RSS {rss_before} → {rss_after} KiB",
        before_body.len(),
        after_body.len()
    );
    let labels = method_labels(&after_body);
    assert!(
        labels.iter().all(|m| [
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"
        ]
        .contains(&m.as_str())),
        "{labels:?}"
    );
    assert!(labels.contains("other"));
    assert!(
        !after_body.contains("/no/such/page"),
        "raw paths never become labels"
    );
    // The flood added a handful of series (method `other` on four routes), not 1,500.
    assert!(
        after_body.len() < before_body.len() + 40_000,
        "{} → {} bytes",
        before_body.len(),
        after_body.len()
    );
    // Unbounded labels (before the fix) made a 45 MB `/metrics` here and grew the server by
    // 6.2 MB of label strings kept for good; bounded, the flood leaves it within ~100 KiB.
    assert!(
        rss_after < rss_before + 3 * 1024,
        "server RSS {rss_before} → {rss_after} KiB"
    );
    drop(server);
    if let Some(name) = pg {
        drop_database(&name);
    }
}

both!(invented_methods_do_not_grow_the_metrics_or_the_server);
