//! `TestApp`: the real application on a loopback port with its own database, a registry
//! fixture and an API token; helpers named for what the hall and staff do.

#![allow(dead_code)]

use backoffice::{
    clock::Clock,
    config::{Overrides, Settings},
    startup::Application,
    storage::Storage,
    web::state::AppState,
};
use chrono::{DateTime, Utc};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Expands `async fn name(backend: Backend)` into `name::sqlite` and `name::postgres` tests.
/// The PostgreSQL variant fails (it is never skipped) when no server answers.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own for one test: a SQLite file in `dir`, or a new PostgreSQL database.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> (String, Option<String>) {
    match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join("backoffice.db").display()),
            None,
        ),
        Backend::Postgres => {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let admin = postgres_admin_url();
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .expect("PostgreSQL must run on 127.0.0.1:5432 for the test suite (see README)");
            sqlx::Executor::execute(&mut conn, format!("create database {name}").as_str())
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            (format!("{base}/{name}"), Some(name))
        }
    }
}

pub fn drop_database(name: &str) {
    let name = name.to_owned();
    // Drop runs outside any runtime we may block, so use a thread with its own.
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(mut conn) =
                <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_admin_url()).await
            {
                let _ = sqlx::Executor::execute(
                    &mut conn,
                    format!("drop database if exists {name} with (force)").as_str(),
                )
                .await;
            }
        })
    })
    .join();
}

/// The instant the tests live at: a minute after the contract example's `submitted_at`.
pub fn test_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T10:06:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

pub struct TestApp {
    pub backend: Backend,
    pub addr: String,
    pub http: reqwest::Client,
    pub token: String,
    pub state: AppState,
    pub storage: Storage,
    pub clock: Clock,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pg_name: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The registry fixture: the contract example's certificate and two more.
pub const REGISTRY_CSV: &str = "serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n\
0150512140479054C03,张三,resident_id,11010519491231002X,natural_person,2024-03-01,2027-03-01,valid\n\
0150512140479054C04,李四,resident_id,44030519900101123X,natural_person,2024-03-01,2027-03-01,valid\n\
0150512140479054C05,王五,hk_macau_permit,H12345678,natural_person,2024-03-01,2027-03-01,valid\n";

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg_name) = fresh_database(backend, dir.path()).await;
        let env = |k: &str| match k {
            "DATABASE_URL" => Some(database_url.clone()),
            "BACKOFFICE_LISTEN" => Some("127.0.0.1:0".into()),
            _ => None,
        };
        let overrides = Overrides {
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let settings = Settings::load_from(&overrides, env).unwrap();
        if std::env::var("TEST_LOG").is_ok() {
            backoffice::telemetry::init(&settings.log_format);
        }
        let clock = Clock::pinned(test_now());
        let app = Application::build(settings, clock.clone())
            .await
            .expect("the application starts");
        let addr = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        let storage = state.storage.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        backoffice::exchange::certificates::import(&storage, REGISTRY_CSV.as_bytes(), "test", 0)
            .await
            .unwrap();
        let token = storage
            .create_api_token("online-hall", 0, "test")
            .await
            .unwrap();
        TestApp {
            backend,
            addr,
            http: reqwest::Client::new(),
            token,
            state,
            storage,
            clock,
            dir,
            database_url,
            pg_name,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.addr)
    }

    pub fn scans_dir(&self) -> PathBuf {
        self.dir.path().join("scans")
    }

    /// Scan files stored so far (not counting the store's own directories).
    pub fn stored_scan_files(&self) -> usize {
        walk_files(&self.scans_dir())
            .into_iter()
            .filter(|p| !p.starts_with(self.scans_dir().join("tmp")))
            .count()
    }

    pub async fn submit(&self, key: &str, form: Form) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/applications"))
            .bearer_auth(&self.token)
            .header("Idempotency-Key", key)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn resubmit(&self, id: &str, key: &str, form: Form) -> reqwest::Response {
        self.http
            .put(self.url(&format!("/api/v1/applications/{id}/resubmission")))
            .bearer_auth(&self.token)
            .header("Idempotency-Key", key)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// Submits the contract example with fresh scans; returns the new id.
    pub async fn submit_example(&self) -> String {
        let r = self
            .submit("key-example", Submission::example().form())
            .await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A reviewer's action through the same code path the review desk uses.
    pub async fn staff_act(
        &self,
        id: &str,
        action: backoffice::domain::status::Action,
        reasons: &[(&str, &str)],
    ) {
        let reasons = reasons
            .iter()
            .map(|(c, t)| (c.to_string(), t.to_string()))
            .collect();
        let actor = backoffice::workflow::Actor {
            name: "staff:reviewer",
            request_id: None,
        };
        let at = self.clock.now().timestamp_millis();
        backoffice::workflow::act(
            &self.storage,
            id,
            action,
            &backoffice::workflow::Step {
                reasons,
                ..Default::default()
            },
            &actor,
            at,
        )
        .await
        .unwrap();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            s.abort();
        }
        if let Some(name) = &self.pg_name {
            drop_database(name);
        }
    }
}

pub fn walk_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A small but real JPEG header (SOI + JFIF APP0) followed by `body` and EOI.
pub fn jpeg(body: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ];
    v.extend_from_slice(body);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

pub fn pdf(body: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {body}\n%%EOF\n").into_bytes()
}

/// One multipart submission: the JSON and the five scans, each replaceable.
#[derive(Clone)]
pub struct Submission {
    pub json: Option<String>,
    pub files: Vec<(String, String, String, Vec<u8>)>, // part, file name, declared type, bytes
}

pub fn example_json() -> Value {
    serde_json::from_str(include_str!("fixtures/application.json")).unwrap()
}

impl Submission {
    pub fn example() -> Self {
        Self::with_json(example_json())
    }

    pub fn with_json(v: Value) -> Self {
        let seed = v["hall_reference"].as_str().unwrap_or("x").to_owned();
        Submission {
            json: Some(v.to_string()),
            files: vec![
                (
                    "application_form".into(),
                    "form.pdf".into(),
                    "application/pdf".into(),
                    pdf(&format!("form {seed}")),
                ),
                (
                    "eseal_form".into(),
                    "eseal.jpg".into(),
                    "image/jpeg".into(),
                    jpeg(format!("eseal {seed}").as_bytes()),
                ),
                (
                    "id_front".into(),
                    "front.jpg".into(),
                    "image/jpeg".into(),
                    jpeg(format!("front {seed}").as_bytes()),
                ),
                (
                    "id_back".into(),
                    "back.jpg".into(),
                    "image/jpeg".into(),
                    jpeg(format!("back {seed}").as_bytes()),
                ),
                (
                    "liveness_photo".into(),
                    "face.jpg".into(),
                    "image/jpeg".into(),
                    jpeg(format!("face {seed}").as_bytes()),
                ),
            ],
        }
    }

    pub fn empty() -> Self {
        Submission {
            json: None,
            files: vec![],
        }
    }

    pub fn json_value(&self) -> Value {
        serde_json::from_str(self.json.as_deref().unwrap()).unwrap()
    }

    pub fn set(mut self, part: &str, name: &str, mime: &str, bytes: Vec<u8>) -> Self {
        self.files.retain(|f| f.0 != part);
        self.files
            .push((part.into(), name.into(), mime.into(), bytes));
        self
    }

    pub fn without(mut self, part: &str) -> Self {
        if part == "application" {
            self.json = None;
        }
        self.files.retain(|f| f.0 != part);
        self
    }

    pub fn form(&self) -> Form {
        let mut f = Form::new();
        if let Some(j) = &self.json {
            f = f.part(
                "application",
                Part::text(j.clone()).mime_str("application/json").unwrap(),
            );
        }
        for (part, name, mime, bytes) in &self.files {
            f = f.part(
                part.clone(),
                Part::bytes(bytes.clone())
                    .file_name(name.clone())
                    .mime_str(mime)
                    .unwrap(),
            );
        }
        f
    }
}

/// The contract's error body, checked.
pub async fn assert_error(r: reqwest::Response, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(r.status().as_u16(), status, "status");
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    if let Some(f) = field {
        assert_eq!(body["error"]["field"], f, "{body}");
    }
}

impl TestApp {
    /// A staff account with a known password (the same path as `create-user`).
    pub async fn create_staff(&self, username: &str, role: &str, password: &str) {
        let hash = backoffice::auth::hash_password(password).unwrap();
        let s = backoffice::storage::staff::NewStaff {
            username,
            display_name: username,
            email: Some("staff@example.com"),
            role,
            password_hash: &hash,
        };
        self.storage.create_staff(&s, 0, "test").await.unwrap();
    }
}
