//! Observability: `/metrics` scraped with its token and parsed (requests by route pattern and
//! status, latency histograms, database figures, job runs); refused without it; request ids
//! returned as a header and written into the audit records of the request, also where the
//! code path did not pass one; JSON logs carry the request id on the request's lines.

use crate::both;
use crate::helpers::*;
use std::collections::HashMap;

/// (metric name, sorted labels) → value.
type Samples = HashMap<(String, Vec<(String, String)>), f64>;

const TOKEN: &str = "scrape-0123456789abcdef";

/// A small parser of the text format: `name{a="x",b="y"} value` → (name, labels) → value.
/// Comment lines must be `# HELP`, `# TYPE`, `# UNIT` or `# EOF`; anything else fails.
fn parse(body: &str) -> Samples {
    let mut out = HashMap::new();
    for line in body.lines().filter(|l| !l.is_empty()) {
        if let Some(c) = line.strip_prefix("# ") {
            assert!(
                ["HELP ", "TYPE ", "UNIT "].iter().any(|p| c.starts_with(p)) || c == "EOF",
                "bad comment line: {line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name and value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), vec![]),
            Some((n, rest)) => {
                let inner = rest.strip_suffix('}').expect("closing brace");
                let mut labels = vec![];
                for pair in inner.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").expect("label=\"value\"");
                    labels.push((k.to_owned(), v.trim_end_matches('"').to_owned()));
                }
                labels.sort();
                (n.to_owned(), labels)
            }
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name {name}"
        );
        out.insert((name, labels), value);
    }
    out
}

fn get(m: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut l: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    *m.get(&(name.to_owned(), l))
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut r = app.http.get(app.url("/metrics"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

async fn metrics_are_scraped_and_parsed(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.metrics_token = Some(TOKEN.into())).await;
    // Refused without the token, with another token, and to a signed-in admin.
    assert_eq!(scrape(&app, None).await.status(), 401);
    assert_eq!(
        scrape(&app, Some("scrape-wrong-wrong-wrong"))
            .await
            .status(),
        401
    );
    assert_eq!(scrape(&app, Some(&app.token)).await.status(), 401);
    let admin = app.signed_in_staff("zhao.admin", "admin").await;
    assert_eq!(admin.get("/metrics").await.status(), 403);

    let id = app.submit_example().await;
    assert_eq!(
        app.get(&format!("/api/v1/applications/{id}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/applications/BF20261125-0000000")
            .await
            .status(),
        404
    );
    backoffice::jobs::run_seal(&app.state).await;
    // One e-mail waiting in the outbox, so its gauge has something to count.
    let mut tx = app.storage.begin().await.unwrap();
    let queued = backoffice::storage::outbox::enqueue(
        &mut tx,
        &backoffice::storage::outbox::NewMessage {
            dedup_key: "metrics-test",
            channel: backoffice::storage::outbox::EMAIL,
            kind: "test",
            recipient: "ops@ca.example.cn",
            subject: "s",
            body_text: "t",
            body_html: "<p>t</p>",
            application_id: None,
        },
        test_now().timestamp_millis(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(queued);

    let r = scrape(&app, Some(TOKEN)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("text")
    );
    let body = r.text().await.unwrap();
    assert!(!body.contains(&id), "raw paths must not become labels");
    let m = parse(&body);
    let req = "backoffice_http_requests_total";
    assert_eq!(
        get(
            &m,
            req,
            &[
                ("route", "/api/v1/applications"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        1.0
    );
    let one = [("route", "/api/v1/applications/{id}"), ("method", "GET")];
    assert_eq!(get(&m, req, &[one[0], one[1], ("status", "200")]), 1.0);
    assert_eq!(get(&m, req, &[one[0], one[1], ("status", "404")]), 1.0);
    assert_eq!(
        get(
            &m,
            req,
            &[("route", "/metrics"), ("method", "GET"), ("status", "401")]
        ),
        3.0
    );
    let lat = "backoffice_http_request_duration_seconds";
    assert_eq!(get(&m, &format!("{lat}_count"), &one), 2.0);
    assert_eq!(
        get(
            &m,
            &format!("{lat}_bucket"),
            &[one[0], one[1], ("le", "+Inf")]
        ),
        2.0
    );
    assert!(get(&m, &format!("{lat}_sum"), &one) > 0.0);
    assert_eq!(
        get(&m, "backoffice_applications", &[("status", "submitted")]),
        1.0
    );
    assert_eq!(get(&m, "backoffice_overdue_applications", &[]), 0.0);
    assert_eq!(
        get(&m, "backoffice_imports", &[("kind", "certificates")]),
        1.0
    );
    assert_eq!(get(&m, "backoffice_imports", &[("kind", "payments")]), 0.0);
    assert_eq!(
        get(&m, "backoffice_job_runs_total", &[("job", "audit_seal")]),
        1.0
    );
    assert_eq!(get(&m, "backoffice_audit_unsealed", &[]), 0.0);
    assert_eq!(app.storage.outbox_count("pending").await.unwrap(), 1);
    assert_eq!(
        get(&m, "backoffice_outbox_messages", &[("status", "pending")]),
        1.0
    );

    // Past the deadline, the application counts as overdue.
    app.clock.set(test_now() + chrono::Duration::days(10));
    let m = parse(&scrape(&app, Some(TOKEN)).await.text().await.unwrap());
    assert_eq!(get(&m, "backoffice_overdue_applications", &[]), 1.0);
    assert_eq!(
        get(
            &m,
            req,
            &[("route", "/metrics"), ("method", "GET"), ("status", "200")]
        ),
        1.0
    );
}

/// Every response carries its request id (a caller's is kept); audit records written while
/// serving the request carry it, also from code that does not pass it on by hand.
async fn request_ids_reach_the_audit_trail(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.signed_in_staff("zhao.admin", "admin").await;
    admin.get_page("/admin/users").await;
    let csrf = admin.csrf();
    let r = admin
        .http
        .post(admin.url("/admin/users"))
        .header("x-request-id", "ops-trace-0001")
        .form(&[
            ("username", "qian.new"),
            ("display_name", "钱新"),
            ("role", "reviewer"),
            ("password", "a long secret phrase"),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["x-request-id"], "ops-trace-0001");
    let rec = app
        .storage
        .audit_recent(50)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.action == "staff.created" && a.subject_id == "qian.new")
        .expect("audited");
    assert_eq!(rec.request_id.as_deref(), Some("ops-trace-0001"));

    // Without one, the server makes one, returns it, and the intake's record carries it.
    let r = app.submit("key-rid", Submission::example().form()).await;
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(rid.len(), 36, "a UUID");
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let recs = app.storage.audit_recent(50).await.unwrap();
    let mine: Vec<_> = recs.iter().filter(|a| a.subject_id == id).collect();
    assert!(!mine.is_empty());
    assert!(
        mine.iter()
            .all(|a| a.request_id.as_deref() == Some(rid.as_str()))
    );
    // Records written outside any request (a job, the CLI) carry none.
    app.storage
        .audit_view(&backoffice::storage::audit::AuditEntry {
            at: 0,
            actor: "cli",
            action: "test.outside",
            subject_type: "none",
            subject_id: "x",
            ..Default::default()
        })
        .await
        .unwrap();
    let rec = app.storage.audit_recent(1).await.unwrap().remove(0);
    assert_eq!(
        (rec.action.as_str(), rec.request_id),
        ("test.outside", None)
    );
}

both!(
    metrics_are_scraped_and_parsed,
    request_ids_reach_the_audit_trail
);

/// `BACKOFFICE_LOG_FORMAT=json`: the binary's log lines are JSON objects, and each line
/// logged while serving a request names its request id.
async fn json_logs_carry_the_request_id(b: Backend) {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let (db, pg) = fresh_database(b, dir.path()).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &db)
        .env("BACKOFFICE_DATA_DIR", dir.path())
        .env("BACKOFFICE_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,backoffice=info,tower_http=debug")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server logs before serving")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        if v["message"] == "serving" {
            break v["addr"].as_str().unwrap().to_owned();
        }
    };
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .header("x-request-id", "log-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Stop the server (SIGTERM-like via kill is SIGKILL here; the lines are already written).
    let mut seen = 0;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        if v["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("tower_http"))
        {
            assert_eq!(v["span"]["request_id"], "log-trace-42", "{line}");
            seen += 1;
            if line.contains("finished processing request") {
                break;
            }
        }
    }
    assert!(seen >= 2, "the request's start and end lines");
    child.kill().unwrap();
    child.wait().unwrap();
    if let Some(name) = pg {
        drop_database(&name);
    }
}

both!(json_logs_carry_the_request_id);
