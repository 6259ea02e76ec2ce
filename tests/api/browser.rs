//! The review desk in headless Chromium (Debian's chromium + chromedriver), driven over the
//! W3C WebDriver protocol: sign in, open the queue, open an application, see all five scans
//! side by side (the PDFs as their pages rendered to images), and save a screenshot.

use crate::both;
use crate::helpers::*;
use backoffice::demo::scans;
use base64::Engine;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    base: String,
    port: u16,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// Ends the WebDriver session first (chromedriver then quits Chromium, which killing the
    /// driver alone would leave running), then stops the driver; the profile folder goes last.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let req = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session, self.port
            );
            if s.write_all(req.as_bytes()).is_ok() {
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install chromium chromium-driver); .ci/run does it");
        let http = reqwest::Client::new();
        let driver_url = format!("http://127.0.0.1:{port}");
        let mut up = false;
        for _ in 0..100 {
            if http
                .get(format!("{driver_url}/status"))
                .send()
                .await
                .is_ok()
            {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(up, "chromedriver did not answer on port {port} within 10 s");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,1000",
                     "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let r: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_owned();
        Browser {
            http,
            base: format!("{driver_url}/session/{session}"),
            port,
            session,
            driver,
            _profile: profile,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if !body.is_null() {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        assert!(v["value"].get("error").is_none(), "WebDriver {path}: {v}");
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            json!({"text": text}),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            json!({}),
        )
        .await;
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Runs an asynchronous script: it ends by calling its last argument with the result.
    pub async fn eval_async(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/async",
            json!({"script": script, "args": []}),
        )
        .await
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let v = self
            .cmd(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Waits until `script` returns true (pages load images asynchronously).
    pub async fn wait_for(&self, script: &str) -> bool {
        for _ in 0..300 {
            if self.eval(script).await == json!(true) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    }
}

/// Where a test's screenshots and PDFs go: `$CARGO_TARGET_DIR/tmp/` for the SQLite run, its
/// `postgres/` folder for the PostgreSQL one (both run at once).
pub fn shots_dir(backend: Backend) -> std::path::PathBuf {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let d = match backend {
        Backend::Sqlite => tmp.to_path_buf(),
        Backend::Postgres => tmp.join("postgres"),
    };
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Scans as the hall sends them, rendered like the real documents.
pub fn realistic_submission(v: Value) -> Submission {
    Submission::with_json(v)
        .set(
            "application_form",
            "form.pdf",
            "application/pdf",
            scans::form_pdf(
                "Application form",
                &["Name: Zhang San", "ID: 11010519491231002X"],
            ),
        )
        .set(
            "eseal_form",
            "eseal.pdf",
            "application/pdf",
            scans::form_pdf("E-seal form", &["Holder: Zhang San"]),
        )
        .set(
            "id_front",
            "front.bmp",
            "image/bmp",
            scans::id_card(true, 7),
        )
        .set("id_back", "back.bmp", "image/bmp", scans::id_card(false, 7))
        .set(
            "liveness_photo",
            "face.bmp",
            "image/bmp",
            scans::liveness_photo(7),
        )
}

async fn reviewer_sees_five_scans_side_by_side(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("li.jing", "reviewer", "a long secret phrase")
        .await;
    let r = app
        .submit("k-browser", realistic_submission(example_json()).form())
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let b = Browser::start().await;
    b.goto(&app.url("/review")).await;
    // Signed out: sent to the sign-in form.
    assert!(b.wait_for("return location.pathname === '/login'").await);
    b.type_into("input[name=username]", "li.jing").await;
    b.type_into("input[name=password]", "a long secret phrase")
        .await;
    b.click("button[type=submit].primary").await;
    assert!(b.wait_for("return location.pathname === '/review'").await);
    assert!(
        b.wait_for(&format!("return document.body.innerText.includes('{id}')"))
            .await
    );
    let tmp = &shots_dir(backend);
    b.screenshot(&tmp.join("review-queue.png")).await;
    b.click(&format!("a[href='/review/{id}']")).await;
    assert!(
        b.wait_for(&format!("return location.pathname === '/review/{id}'"))
            .await
    );

    // All five scans are there as images: three decoded, two PDFs rendered on the server.
    // The path changes when the new document commits, before it is parsed: wait for it.
    assert!(
        b.wait_for("return document.readyState === 'complete'")
            .await,
        "the application page never finished loading"
    );
    assert_eq!(
        b.eval("return document.querySelectorAll('figure.scan').length")
            .await,
        json!(5)
    );
    assert!(
        b.wait_for("return Array.from(document.querySelectorAll('figure.scan img')).every(i => i.complete && i.naturalWidth > 0)").await,
        "images did not load"
    );
    assert_eq!(
        b.eval("return [document.querySelectorAll('figure.scan iframe').length, document.querySelectorAll('figure.scan img.doc').length, document.querySelectorAll('figure.scan a.original').length]")
            .await,
        json!([0, 5, 2]),
        "the PDFs are images, the originals linked"
    );
    // A PDF page zooms like a photo.
    assert_eq!(
        b.eval(
            "const f = document.querySelector('figure.scan[data-kind=application_form]'); \
                f.querySelector('button[data-act=zoom-in]').click(); \
                return f.querySelector('.frame').style.transform"
        )
        .await,
        json!("scale(1.25) rotate(0deg)")
    );
    // Side by side: tiles share rows (at least two tiles on the first row).
    let tops = b.eval("return Array.from(document.querySelectorAll('figure.scan')).map(f => Math.round(f.getBoundingClientRect().top))").await;
    let tops: Vec<i64> = tops
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(
        tops.iter().filter(|t| **t == tops[0]).count() >= 2,
        "tiles stacked: {tops:?}"
    );
    // The typed data sits beside the scans.
    assert!(
        b.eval("return document.body.innerText.includes('11010519491231002X')")
            .await
            == json!(true)
    );
    let shot = shots_dir(backend).join("review-page.png");
    b.screenshot(&shot).await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}

/// The calendar page as an administrator sees it: the 2026 holidays and adjusted working days
/// marked; a click makes a day off and moves the waiting deadlines; the SLA page renders.
async fn admin_marks_a_day_off_on_the_calendar_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("root", "admin", "a long secret phrase")
        .await;
    let id = app.submit_example().await; // due Monday 2026-11-30 18:00
    let b = Browser::start().await;
    b.goto(&app.url("/login")).await;
    b.type_into("input[name=username]", "root").await;
    b.type_into("input[name=password]", "a long secret phrase")
        .await;
    b.click("button[type=submit].primary").await;
    assert!(
        b.wait_for("return location.pathname === '/admin/users'")
            .await
    );
    b.goto(&app.url("/admin/calendar?year=2026")).await;
    let class_of = |d: &str| {
        format!(
            "return document.querySelector(\"input[value='{d}']\").parentElement.querySelector('button').className"
        )
    };
    assert_eq!(b.eval(&class_of("2026-10-01")).await, json!("hol"));
    assert_eq!(b.eval(&class_of("2026-10-10")).await, json!("adj"));
    assert_eq!(b.eval(&class_of("2026-11-27")).await, json!("work"));
    b.eval("document.querySelector(\"input[value='2026-11-27']\").parentElement.querySelector('button').click(); return true").await;
    assert!(
        b.wait_for(&format!("{} === 'hol'", class_of("2026-11-27")))
            .await
    );
    let tmp = &shots_dir(backend);
    b.screenshot(&tmp.join("admin-calendar.png")).await;
    // The waiting application's deadline moved by a working day.
    assert_eq!(
        app.get_json(&format!("/api/v1/applications/{id}")).await["review_due_at"],
        "2026-12-01T18:00:00+08:00"
    );
    b.goto(&app.url("/sla")).await;
    assert!(
        b.wait_for("return document.querySelector('svg.chart') !== null")
            .await
    );
    b.screenshot(&tmp.join("sla.png")).await;
}

/// The finance desk in a browser: the exceptions queue, a case's evidence side by side, linking
/// an orphan payment by typing the application id, the daily report's chart.
async fn finance_clerk_links_an_orphan_payment(backend: Backend) {
    use backoffice::demo::bills::{self, Line};
    let app = TestApp::spawn(backend).await;
    app.create_staff("chen.fang", "finance", "a long secret phrase")
        .await;
    let id = app.submit_example().await;
    let p = app.storage.payment_of(&aid(&id)).await.unwrap().unwrap();
    let at =
        chrono::DateTime::from_timestamp_millis(p.paid_at).unwrap() - chrono::Duration::hours(24);
    // Yesterday's bill holds a payment under an order number the hall never reported, and a
    // short one of another order; today's application is in no bill yet.
    let bill = bills::wechat(&[
        Line::pay(
            "SZCA00000000BEEF0001",
            "4200000000000000000000000071",
            20000,
            at,
        ),
        Line::pay(
            "SZCA00000000BEEF0002",
            "4200000000000000000000000072",
            19000,
            at,
        ),
    ]);
    backoffice::desks::finance::import_bills(
        &app.storage,
        &bill,
        "微信支付账单_20261124.csv",
        None,
        "test",
        app.clock.now().timestamp_millis(),
    )
    .await
    .unwrap();
    let b = Browser::start().await;
    b.goto(&app.url("/login")).await;
    b.type_into("input[name=username]", "chen.fang").await;
    b.type_into("input[name=password]", "a long secret phrase")
        .await;
    b.click("button[type=submit].primary").await;
    assert!(
        b.wait_for("return location.pathname === '/finance/exceptions'")
            .await
    );
    assert!(
        b.wait_for("return document.querySelectorAll('#cases tbody tr').length === 2")
            .await
    );
    let tmp = &shots_dir(backend);
    b.screenshot(&tmp.join("finance-exceptions.png")).await;
    let case = app
        .storage
        .finance_cases(true, &["unmatched_payment"], 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.amount_fen.get() == 20000)
        .unwrap()
        .case_id;
    b.click(&format!("a[href='/finance/exceptions/{case}']"))
        .await;
    assert!(
        b.wait_for("return document.querySelector('#bill-side') !== null")
            .await
    );
    // Evidence side by side: the bill panel and the application panel share a row.
    let tops = b.eval("return [document.querySelector('#bill-side').getBoundingClientRect().top, document.querySelector('#application-side').getBoundingClientRect().top]").await;
    assert_eq!(tops[0], tops[1], "{tops}");
    b.type_into("#link-form input[name=application_id]", &id)
        .await;
    b.type_into("#link-form input[name=note]", "网厅日志显示订单号写错")
        .await;
    b.screenshot(&tmp.join("finance-case.png")).await;
    b.click("#link-form button[type=submit]").await;
    assert!(
        b.wait_for("return location.search.includes('msg=case_closed')")
            .await
    );
    assert!(
        b.wait_for("return document.querySelectorAll('#cases tbody tr').length === 1")
            .await
    );
    assert_eq!(
        app.storage
            .payment_state_of(&aid(&id))
            .await
            .unwrap()
            .as_deref(),
        Some("verified")
    );
    b.goto(&app.url("/finance/report?from=2026-11-20&to=2026-11-25"))
        .await;
    assert!(
        b.wait_for("return document.querySelectorAll('svg.chart rect').length > 0")
            .await
    );
    b.screenshot(&tmp.join("finance-report.png")).await;
}

/// A batch's labels printed to PDF by headless Chromium (`--print-to-pdf`): one page per parcel,
/// each 100 × 150 mm, every order number in the text (pdfinfo, pdftotext).
async fn labels_print_one_per_sheet_of_100_by_150_mm(backend: Backend) {
    use backoffice::exchange::couriers::Courier;
    let app = TestApp::spawn_with(backend, crate::fulfilment::with_sender).await;
    let mut orders = Vec::new();
    let mut items = Vec::new();
    for n in 40..43 {
        let (id, hall) = crate::fulfilment::accepted(&app, n).await;
        orders.push(hall);
        items.push(backoffice::desks::fulfilment::Production {
            application_id: aid(&id),
            certificate_serial: format!("0150512140479057F{n}"),
            medium_no: format!("UK{n}"),
        });
    }
    backoffice::desks::fulfilment::record_production(&app.storage, &items, "staff:x", 1)
        .await
        .unwrap();
    let batch = backoffice::desks::fulfilment::create_batch(
        &app.storage,
        &app.state.settings.courier,
        Courier::Sf,
        None,
        "staff:x",
        2,
    )
    .await
    .unwrap()
    .unwrap();
    let clerk = app.signed_in_staff("zhao.qiang", "fulfillment").await;
    let html = clerk
        .get_page(&format!("/fulfilment/batches/{}/labels", batch.batch_id))
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("labels.html");
    std::fs::write(&page, html).unwrap();
    let pdf = shots_dir(backend).join("labels.pdf");
    let _ = std::fs::remove_file(&pdf);
    let out = std::process::Command::new("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", page.display()),
        ])
        .output()
        .expect("chromium");
    assert!(pdf.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let info = std::process::Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} in {info}"))
            .trim()
            .to_owned()
    };
    assert_eq!(field("Pages:"), "3", "{info}");
    // "283 x 425 pts": 100 × 150 mm, give or take half a millimetre.
    let size: Vec<f64> = field("Page size:")
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let mm = |pt: f64| pt * 25.4 / 72.0;
    assert!(
        (mm(size[0]) - 100.0).abs() < 0.6 && (mm(size[1]) - 150.0).abs() < 0.6,
        "{info}"
    );
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for o in &orders {
        assert!(
            text.contains(o.as_str()),
            "{o} missing from the labels' text"
        );
    }
    assert!(
        !text.contains("13800138000"),
        "the recipient's mobile is masked"
    );
    // The printed barcodes read back by a second Code 128 implementation: the pages rasterised
    // at 600 dpi (pdftoppm), decoded by zbar (zbarimg).
    let prefix = tmp.path().join("page");
    let r = std::process::Command::new("pdftoppm")
        .args(["-r", "600", "-gray", "-png"])
        .arg(&pdf)
        .arg(&prefix)
        .output()
        .expect("pdftoppm (poppler-utils)");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let mut pages: Vec<_> = walk_files(tmp.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pages.sort();
    assert_eq!(pages.len(), 3);
    let mut decoded = Vec::new();
    for page in &pages {
        let read = crate::barcode::zbar(page);
        assert!(!read.is_empty(), "no barcode read on {}", page.display());
        decoded.extend(read);
    }
    for o in &orders {
        assert!(
            decoded.contains(&format!("CODE-128:{o}")),
            "{o} not read from the labels: {decoded:?}"
        );
    }
}

both!(
    reviewer_sees_five_scans_side_by_side,
    admin_marks_a_day_off_on_the_calendar_page,
    finance_clerk_links_an_orphan_payment,
    labels_print_one_per_sheet_of_100_by_150_mm,
);
