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
/// An application id from a test's text (an answer's `id`, a page's link).
pub fn aid(s: &str) -> backoffice::domain::ids::ApplicationId {
    backoffice::domain::ids::ApplicationId::parse(s).expect("an application id")
}

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
        Self::spawn_with(backend, |_| {}).await
    }

    /// With settings changed before start.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg_name) = fresh_database(backend, dir.path()).await;
        Self::start(backend, dir, database_url, pg_name, true, tweak).await
    }

    /// A second instance on an existing database (its own data directory and port).
    pub async fn spawn_on(database_url: &str) -> TestApp {
        Self::spawn_on_with(database_url, |_| {}).await
    }

    /// A further instance on an existing database, with settings changed before start.
    pub async fn spawn_on_with(database_url: &str, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let backend = if database_url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        Self::start(
            backend,
            tempfile::tempdir().unwrap(),
            database_url.to_owned(),
            None,
            false,
            tweak,
        )
        .await
    }

    async fn start(
        backend: Backend,
        dir: tempfile::TempDir,
        database_url: String,
        pg_name: Option<String>,
        fixtures: bool,
        tweak: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let env = |k: &str| match k {
            "DATABASE_URL" => Some(database_url.clone()),
            "BACKOFFICE_LISTEN" => Some("127.0.0.1:0".into()),
            _ => None,
        };
        let overrides = Overrides {
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let mut settings = Settings::load_from(&overrides, env).unwrap();
        // Tests drive the jobs by hand, with the pinned clock.
        settings.run_jobs = false;
        tweak(&mut settings);
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
        if fixtures {
            backoffice::exchange::certificates::import(
                &storage,
                REGISTRY_CSV.as_bytes(),
                "test",
                0,
            )
            .await
            .unwrap();
        }
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

    /// Scan files stored so far, including any left behind in `scans/tmp` (an upload the
    /// store did not finish or clean up counts: a test expecting none must see none).
    pub fn stored_scan_files(&self) -> usize {
        walk_files(&self.scans_dir()).len()
    }

    /// Files in the store's own temporary directory (uploads in flight, or left behind).
    pub fn scan_tmp_files(&self) -> usize {
        walk_files(&self.scans_dir().join("tmp")).len()
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

    /// The application's payment as it shows in a WeChat Pay bill, imported: verified.
    pub async fn verify_payment(&self, id: &str) {
        let p = self.storage.payment_of(&aid(id)).await.unwrap().unwrap();
        let at = chrono::DateTime::from_timestamp_millis(p.paid_at).unwrap();
        let tx = format!(
            "42000{}",
            &backoffice::desks::finance::sha256_hex(id.as_bytes())[..8]
        );
        let bill = backoffice::demo::bills::wechat(&[backoffice::demo::bills::Line::pay(
            &p.out_trade_no,
            &tx,
            p.amount_fen.get(),
            at,
        )]);
        backoffice::desks::finance::import_bills(&self.storage, &bill, "test.csv", None, "test", 0)
            .await
            .unwrap();
        assert_eq!(
            self.storage
                .payment_state_of(&aid(id))
                .await
                .unwrap()
                .as_deref(),
            Some("verified")
        );
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
        let actor = backoffice::desks::review::Actor {
            name: "staff:reviewer",
            request_id: None,
            may_override: false,
        };
        let at = self.clock.now().timestamp_millis();
        backoffice::desks::review::act(
            &self.storage,
            &aid(id),
            action,
            &backoffice::desks::review::Step {
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

/// The password every test member of staff signs in with.
pub const STAFF_PASSWORD: &str = "a long secret phrase";

/// A member of staff at a browser: cookies kept, redirects shown rather than followed (as
/// 303s), and the CSRF token of the last page opened remembered for the next form.
pub struct StaffBrowser {
    pub http: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    base: String,
    csrf: std::sync::Mutex<String>,
}

/// The value of the first `<input type="hidden" name="{name}" value="…">` on a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].to_owned())
}

/// Where a 303 points.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Posts one file as a desk's upload form does (field `file`, the session's CSRF token):
/// (status, page).
pub async fn upload_file(
    b: &StaffBrowser,
    path: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let r = b
        .http
        .post(b.url(&format!("{path}?_csrf={}", b.csrf())))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Uploads one file as a desk's upload form does; the import is queued as a job and the answer
/// sends the browser to the job's page (303), which is opened until the job has finished:
/// (the job page's path, its last page).
pub async fn upload_and_wait(
    b: &StaffBrowser,
    path: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (String, String) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let r = b
        .http
        .post(b.url(&format!("{path}?_csrf={}", b.csrf())))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let job = location(&r);
    let page = r.text().await.unwrap();
    assert!(job.contains("/imports/"), "not queued as a job: {page}");
    let page = wait_for_job(b, &job).await;
    (job, page)
}

/// Whether an import job's page counts `n` of `what` (a row of its result table).
pub fn counted(page: &str, what: &str, n: i64) -> bool {
    page.contains(&format!(
        "<th scope=\"row\">{what}</th><td class=\"num\">{n}</td>"
    ))
}

/// Opens an import job's page until the job is done or failed (the page stops reloading).
pub async fn wait_for_job(b: &StaffBrowser, job: &str) -> String {
    for _ in 0..3000 {
        let page = b.get_page(job).await;
        assert!(page.contains("data-import-job"), "{page}");
        if !page.contains("data-refresh") {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import job {job} did not finish in five minutes");
}

impl StaffBrowser {
    pub fn new(base: &str) -> StaffBrowser {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        StaffBrowser {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar,
            base: base.to_owned(),
            csrf: std::sync::Mutex::new(String::new()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same browser (cookies and all) pointed at another instance.
    pub fn at(&self, base: &str) -> StaffBrowser {
        StaffBrowser {
            http: self.http.clone(),
            jar: self.jar.clone(),
            base: base.to_owned(),
            csrf: std::sync::Mutex::new(self.csrf.lock().unwrap().clone()),
        }
    }

    /// The value of a cookie the browser holds for the server.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let all = self.jar.cookies(&self.base.parse().unwrap())?;
        all.to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    /// The CSRF token of the last page opened.
    pub fn csrf(&self) -> String {
        self.csrf.lock().unwrap().clone()
    }

    /// A plain GET: whatever answers.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// Opens a page that must answer 200; remembers its CSRF token; returns the HTML.
    pub async fn get_page(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        self.read_page(r).await
    }

    async fn read_page(&self, r: reqwest::Response) -> String {
        let body = r.text().await.unwrap();
        if let Some(t) = hidden_field(&body, "_csrf") {
            *self.csrf.lock().unwrap() = t;
        }
        body
    }

    /// Follows a 303 (and any after it) to the page it leads to, as a browser would.
    pub async fn follow(&self, mut r: reqwest::Response) -> String {
        for _ in 0..5 {
            if r.status() != 303 {
                break;
            }
            let to = location(&r);
            r = self.get(&to).await;
        }
        assert_eq!(r.status(), 200, "{}", r.url());
        self.read_page(r).await
    }

    /// Sends a form with exactly these fields (repeat a name for a multi-value field).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Submits a form as the page would: these fields and the page's `_csrf`.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf();
        let mut all = fields.to_vec();
        all.push(("_csrf", &csrf));
        self.post_raw(path, &all).await
    }

    /// Opens the sign-in page and submits it; returns the answer (303 when signed in).
    pub async fn try_sign_in(&self, username: &str, password: &str) -> reqwest::Response {
        self.get_page("/login").await;
        self.post_form(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }

    /// Signs in and lands on the member's start page.
    pub async fn sign_in(&self, username: &str, password: &str) -> String {
        let r = self.try_sign_in(username, password).await;
        assert_eq!(r.status(), 303, "sign-in of {username} refused");
        self.follow(r).await
    }

    pub async fn sign_out(&self) -> reqwest::Response {
        self.post_form("/logout", &[]).await
    }
}

impl TestApp {
    /// A browser that has not signed in.
    pub fn browser(&self) -> StaffBrowser {
        StaffBrowser::new(&self.addr)
    }

    /// A new member of staff with [`STAFF_PASSWORD`], signed in at a browser of their own.
    pub async fn signed_in_staff(&self, username: &str, role: &str) -> StaffBrowser {
        self.create_staff(username, role, STAFF_PASSWORD).await;
        let b = self.browser();
        b.sign_in(username, STAFF_PASSWORD).await;
        b
    }

    pub async fn staff_exists(&self, username: &str) -> bool {
        let row = self.storage.staff_by_username(username).await.unwrap();
        row.is_some()
    }

    pub async fn staff_id(&self, username: &str) -> i64 {
        self.storage
            .staff_by_username(username)
            .await
            .unwrap()
            .expect("existing member of staff")
            .staff_id
    }

    /// The statuses the hall sees in the application's history, oldest first.
    pub async fn history(&self, id: &str) -> Vec<String> {
        let v = self.get_json(&format!("/api/v1/applications/{id}")).await;
        v["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["status"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Audit records of `action` on this application.
    pub async fn audited(&self, id: &str, action: &str) -> usize {
        self.storage
            .audit_recent(10_000)
            .await
            .unwrap()
            .iter()
            .filter(|a| a.subject_id == id && a.action == action)
            .count()
    }
}

impl TestApp {
    pub async fn create_staff_with_email(&self, username: &str, role: &str, email: &str) {
        let hash = backoffice::auth::hash_password("a long secret phrase").unwrap();
        let s = backoffice::storage::staff::NewStaff {
            username,
            display_name: username,
            email: Some(email),
            role,
            password_hash: &hash,
        };
        self.storage.create_staff(&s, 0, "test").await.unwrap();
    }
}
