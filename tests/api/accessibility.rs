//! axe-core on every page as every role: the npm package's `axe.min.js` (installed by `npm ci`
//! in `tests/browser/`, which `.ci/run` does) injected into each page over WebDriver, `axe.run()`
//! executed, and every critical or serious violation listed (rule, page, role, first node).
//! The pages are every GET route of `ROUTES` that answers with HTML, filled with real rows
//! (an application with its pre-checks, a resubmission, claimed ones, a finance case, an
//! invoice batch, a courier batch with a shipped parcel, a quality sample), visited by each
//! role the route × role matrix allows; one Chromium session per role.

use crate::authz_matrix::EXPECTED;
use crate::both;
use crate::browser::{Browser, realistic_submission, shots_dir};
use crate::helpers::*;
use backoffice::web::ROUTES;
use serde_json::{Value, json};

/// The roles, and a signed-out browser (`anon`), as the route × role matrix names them.
const SUBJECTS: [&str; 7] = [
    "anon",
    "hotline",
    "reviewer",
    "supervisor",
    "finance",
    "fulfillment",
    "admin",
];

/// GET routes that answer with something other than a page: files, JSON, redirects' targets
/// only. Every other GET route of `ROUTES` is a page and is checked.
const NOT_PAGES: &[&str] = &[
    "/healthz",
    "/metrics",
    "/static/app.css",
    "/static/app.js",
    "/review/{id}/scans/{version}/{kind}",
    "/reports/{name}/{format}",
    "/finance/refunds.xlsx",
    "/finance/report.xlsx",
    "/finance/invoices/batches/{id}",
    "/invoice-files/{token}",
    "/fulfilment/batches/{id}/file",
    "/revocations/serials.xlsx",
    "/api/v1/applications",
    "/api/v1/applications/{id}",
    "/api/v1/certificates/{serial}",
    "/api/v1/openapi.json",
];

/// Where `npm ci` puts axe-core.
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/browser/node_modules/axe-core/axe.min.js"
);

/// The rows the pages show.
struct Rows {
    /// Waiting, unclaimed, pre-checked: scans with findings.
    app: String,
    /// Version 2 after a return: the comparison view.
    resubmitted: String,
    /// Claimed by the reviewer and by the supervisor: the decision panel.
    claimed: Vec<(&'static str, String)>,
    /// Accepted by the reviewer, awaiting a second one's approval: the approval panel.
    awaiting: String,
    case: String,
    courier_batch: String,
    reports: Vec<String>,
    /// Import jobs' pages: a bill import, a tracking import with a row that did not fit.
    bill_job: String,
    tracking_job: String,
    /// The hall's API client (a token id): its webhook deliveries page.
    api_client: i64,
}

fn id_of(r: &Value) -> String {
    r["id"].as_str().unwrap().to_owned()
}

/// The example submission made unique by `n` (hall reference, order number).
async fn submit_n(app: &TestApp, n: u32) -> String {
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT2026112570{n:02}"));
    j["payment"]["out_trade_no"] = json!(format!("SZCA{:016X}", 0xA000u64 + u64::from(n)));
    let r = app
        .submit(&format!("a11y-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201);
    id_of(&r.json().await.unwrap())
}

/// The first number after `prefix` in a page.
fn number_after(page: &str, prefix: &str) -> Option<String> {
    let start = page.find(prefix)? + prefix.len();
    let n: String = page[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!n.is_empty()).then_some(n)
}

async fn claim(b: &StaffBrowser, id: &str) {
    let page = b.get_page(&format!("/review/{id}")).await;
    let rv = hidden_field(&page, "row_version").unwrap();
    let r = b
        .post_form(&format!("/review/{id}/claim"), &[("row_version", &rv)])
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=claimed"));
}

/// Every desk with work on it, made through the desks' own forms where they have one.
async fn fill(app: &TestApp) -> Rows {
    let mut signed_in = Vec::new();
    for role in &SUBJECTS[1..] {
        signed_in.push(app.signed_in_staff(&format!("a11y.{role}"), role).await);
    }
    let [_, reviewer, supervisor, finance, clerk, admin] = &signed_in[..] else {
        unreachable!()
    };

    // The application page with real scans and the pre-checks' findings on them.
    let r = app
        .submit("a11y-real", realistic_submission(example_json()).form())
        .await;
    assert_eq!(r.status(), 201);
    let main = id_of(&r.json().await.unwrap());
    let now = app.clock.now().timestamp_millis();
    backoffice::jobs::prechecks::run_all(&app.storage, &app.state.scans, now)
        .await
        .unwrap();

    // A note mentioning the reviewer (and a name that matches nobody): the notes on the
    // application page, the mention in the reviewer's inbox; a saved view as a tab of each.
    supervisor.get_page(&format!("/review/{main}")).await;
    let r = supervisor
        .post_form(
            &format!("/review/{main}/notes"),
            &[("note", "请 @a11y.reviewer 核对地址，@nobody 不存在")],
        )
        .await;
    assert_eq!(location(&r), format!("/review/{main}?msg=note_unresolved"));
    for b in [reviewer, supervisor] {
        b.get_page("/review").await;
        let r = b
            .post_form("/review/views", &[("name", "超期"), ("query", "overdue=1")])
            .await;
        assert_eq!(location(&r), "/review?overdue=1&msg=view_saved");
    }

    // Returned with reasons, then resubmitted: version 2 and the previous version's scans.
    let resubmitted = submit_n(app, 1).await;
    claim(reviewer, &resubmitted).await;
    let page = reviewer.get_page(&format!("/review/{resubmitted}")).await;
    let r = reviewer
        .post_form(
            &format!("/review/{resubmitted}/return"),
            &[
                ("row_version", &hidden_field(&page, "row_version").unwrap()),
                ("reasons", "form_unsigned"),
                ("note", "签名框空白"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=returned");
    let mut j = example_json();
    j["hall_reference"] = json!("WT202611257001");
    j["payment"]["out_trade_no"] = json!(format!("SZCA{:016X}", 0xA001u64));
    j["applicant"]["email"] = json!("zhang.san@example.net");
    let sub = Submission {
        json: Some(j.to_string()),
        files: vec![],
    }
    .set(
        "id_front",
        "front.jpg",
        "image/jpeg",
        jpeg(b"a clearer front"),
    )
    // The part `form_unsigned` is about: the page then shows the returned parts' table.
    .set(
        "application_form",
        "form.pdf",
        "application/pdf",
        pdf("form, signed"),
    );
    let r = app
        .resubmit(&resubmitted, "a11y-resubmit", sub.form())
        .await;
    assert_eq!(r.status(), 200);

    // Claimed by each reviewing role: the decision panel (unverified payment: the supervisor's
    // override field).
    let mine = submit_n(app, 2).await;
    claim(reviewer, &mine).await;
    let boss = submit_n(app, 3).await;
    claim(supervisor, &boss).await;

    // Accepted applications: one to produce, one produced, two in a batch (one shipped).
    let mut accepted = Vec::new();
    for n in 71..75 {
        accepted.push(crate::fulfilment::accepted(app, n).await);
    }
    clerk.get_page("/fulfilment").await;
    let mut produce = Vec::new();
    for (i, (id, _)) in accepted[1..].iter().enumerate() {
        produce.push(("ids".to_owned(), id.clone()));
        produce.push((format!("serial.{id}"), format!("0150512140479055E0{i}")));
        produce.push((format!("medium.{id}"), format!("UK-2026-{i:05}")));
    }
    let pairs: Vec<(&str, &str)> = produce[..6]
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = clerk.post_form("/fulfilment/production", &pairs).await;
    assert_eq!(location(&r), "/fulfilment?msg=produced");
    clerk.get_page("/fulfilment").await;
    let r = clerk
        .post_form(
            "/fulfilment/batches",
            &[("courier", "sf"), ("scope", "all")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let courier_batch = number_after(&location(&r), "/fulfilment/batches/")
        .unwrap_or_else(|| panic!("no batch in {}", location(&r)));
    let pairs: Vec<(&str, &str)> = produce[6..]
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    clerk.get_page("/fulfilment").await;
    let r = clerk.post_form("/fulfilment/production", &pairs).await;
    assert_eq!(r.status(), 303);
    let tracking = format!(
        "订单号,运单号,寄件时间\r\n{},SF1234567890123,2026-11-25 16:30:00\r\n\
        WT209901010001,SF1234567890125,2026-11-25 16:30:00\r\n",
        accepted[1].1
    );
    clerk.get_page("/fulfilment/batches").await;
    let (tracking_job, _) = upload_and_wait(
        clerk,
        "/fulfilment/tracking",
        "t.csv",
        encoding_rs::GBK.encode(&tracking).0.into_owned(),
    )
    .await;

    // A bill with a payment the hall never reported: a finance case.
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00+08:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    use backoffice::demo::bills::{self, Line};
    let bill = bills::wechat(&[Line::pay(
        "SZCA00000000BEEF0001",
        "4200000000000000000000000071",
        20000,
        at,
    )]);
    finance.get_page("/finance/bills").await;
    let (bill_job, _) = upload_and_wait(finance, "/finance/bills", "wx-20261124.csv", bill).await;
    let page = finance.get_page("/finance/exceptions").await;
    let case = number_after(&page, "href=\"/finance/exceptions/").expect("a finance case");

    // The accepted applications asked for invoices: a batch of requests.
    finance.get_page("/finance/invoices").await;
    let r = finance.post_form("/finance/invoices/batches", &[]).await;
    assert!(
        location(&r).starts_with("/finance/invoices?msg=batch_created"),
        "{}",
        location(&r)
    );

    // The week's quality sample.
    supervisor.get_page("/supervision/quality").await;
    let r = supervisor
        .post_form(
            "/supervision/quality",
            &[("week", "2026-11-23"), ("n", "3"), ("seed", "7")],
        )
        .await;
    assert_eq!(r.status(), 303);

    // Every report the reports page lists.
    let page = supervisor.get_page("/reports").await;
    let mut reports: Vec<String> = page
        .split("href=\"/reports/")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .filter(|s| !s.contains('/'))
        .collect();
    reports.dedup();
    assert!(!reports.is_empty());

    // Four eyes: the rules page saved (every acceptance sampled), one acceptance held.
    admin.get_page("/admin/four-eyes").await;
    let r = admin
        .post_form(
            "/admin/four-eyes",
            &[("sample_percent", "100"), ("sample_seed", "1")],
        )
        .await;
    assert_eq!(location(&r), "/admin/four-eyes?msg=saved");
    let awaiting = submit_n(app, 4).await;
    app.verify_payment(&awaiting).await;
    claim(reviewer, &awaiting).await;
    let page = reviewer.get_page(&format!("/review/{awaiting}")).await;
    let rv = hidden_field(&page, "row_version").unwrap();
    let r = reviewer
        .post_form(
            &format!("/review/{awaiting}/accept"),
            &[("row_version", &rv)],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=approval_requested");

    Rows {
        awaiting,
        app: main,
        resubmitted,
        claimed: vec![("reviewer", mine), ("supervisor", boss)],
        case,
        courier_batch,
        reports,
        bill_job,
        tracking_job,
        api_client: app.storage.api_tokens_of("online-hall").await.unwrap()[0],
    }
}

/// The pages of a GET route pattern, with the rows filled in.
fn pages_of(pattern: &str, who: &str, rows: &Rows) -> Vec<String> {
    let one = |s: String| vec![s];
    match pattern {
        "/review/{id}" => {
            let mut v = vec![
                format!("/review/{}", rows.app),
                format!("/review/{}?compare=1", rows.resubmitted),
                format!("/review/{}", rows.awaiting),
            ];
            v.extend(
                rows.claimed
                    .iter()
                    .filter(|(role, _)| *role == who)
                    .map(|(_, id)| format!("/review/{id}")),
            );
            v
        }
        "/review" => vec!["/review".into(), "/review?overdue=1&q=WT".into()],
        "/hotline/{id}" => one(format!("/hotline/{}", rows.app)),
        "/supervision/applications" => {
            one("/supervision/applications?f=waiting&from=0&to=4102444800000".into())
        }
        "/reports/{name}" => rows
            .reports
            .iter()
            .map(|n| format!("/reports/{n}"))
            .collect(),
        "/finance/exceptions" => vec![
            "/finance/exceptions".into(),
            "/finance/exceptions?state=closed".into(),
        ],
        "/finance/exceptions/{id}" => one(format!("/finance/exceptions/{}", rows.case)),
        "/finance/report" => one("/finance/report?from=2026-11-20&to=2026-11-25".into()),
        "/finance/imports/{id}" => one(rows.bill_job.clone()),
        "/fulfilment/imports/{id}" => one(rows.tracking_job.clone()),
        "/admin/api-clients/{id}/deliveries" => {
            one(format!("/admin/api-clients/{}/deliveries", rows.api_client))
        }
        p if p.starts_with("/fulfilment/batches/{id}") => {
            one(p.replace("{id}", &rows.courier_batch))
        }
        p => {
            assert!(!p.contains('{'), "{p}: which row does this page show?");
            one(p.to_owned())
        }
    }
}

/// Pages besides the routes' own: the error pages.
fn extra_pages(who: &str) -> Vec<String> {
    match who {
        // Refused (403) and not found (404), in the page shell of a member.
        "reviewer" => vec!["/admin/users".into(), "/review/BF00000000000000".into()],
        _ => vec![],
    }
}

/// One page's critical and serious violations: (rule id, impact, nodes, first node's target).
async fn axe_page(b: &Browser, axe: &str) -> Vec<(String, String, usize, String)> {
    assert_eq!(
        b.eval(&format!("{axe}\n;return typeof window.axe")).await,
        json!("object")
    );
    let r = b
        .eval_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations'], iframes: false})
               .then(r => done(r.violations.map(v => [v.id, v.impact || '', v.nodes.length,
                                                       v.nodes.length ? v.nodes[0].target.join(' ') : ''])))
               .catch(e => done({error: String(e)}));",
        )
        .await;
    let list = r
        .as_array()
        .unwrap_or_else(|| panic!("axe.run failed: {r}"));
    list.iter()
        .map(|v| {
            (
                v[0].as_str().unwrap().to_owned(),
                v[1].as_str().unwrap().to_owned(),
                v[2].as_u64().unwrap() as usize,
                v[3].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(_, impact, _, _)| impact == "critical" || impact == "serious")
        .collect()
}

fn slug(path: &str) -> String {
    path.trim_start_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

async fn every_page_passes_axe_as_every_role(backend: Backend) {
    let axe = std::fs::read_to_string(AXE)
        .unwrap_or_else(|e| panic!("{AXE}: {e}; run `npm ci` in tests/browser (.ci/run does it)"));
    // Every GET route is a page here or named as not one.
    for p in NOT_PAGES {
        assert!(ROUTES.contains(&("GET", *p)), "{p} is not a route");
    }
    let app = TestApp::spawn_with(backend, crate::fulfilment::with_sender).await;
    let rows = fill(&app).await;
    let shots = shots_dir(backend).join("a11y");
    std::fs::create_dir_all(&shots).unwrap();

    let mut problems = Vec::new();
    let (mut checked, mut nodes) = (0, 0);
    for who in SUBJECTS {
        let mut paths: Vec<String> = Vec::new();
        for (method, pattern) in ROUTES {
            if *method != "GET" || NOT_PAGES.contains(pattern) {
                continue;
            }
            let (_, _, allowed) = EXPECTED
                .iter()
                .find(|(m, p, _)| m == method && p == pattern)
                .unwrap_or_else(|| panic!("GET {pattern}: no expectation in authz_matrix"));
            if allowed.split_whitespace().any(|w| w == who) {
                paths.extend(pages_of(pattern, who, &rows));
            }
        }
        paths.extend(extra_pages(who));

        let b = Browser::start().await;
        if who != "anon" {
            b.goto(&app.url("/login")).await;
            b.type_into("input[name=username]", &format!("a11y.{who}"))
                .await;
            b.type_into("input[name=password]", STAFF_PASSWORD).await;
            b.click("button[type=submit].primary").await;
            assert!(
                b.wait_for("return location.pathname !== '/login'").await,
                "{who} could not sign in"
            );
        }
        for path in &paths {
            b.goto(&app.url(path)).await;
            assert!(
                b.wait_for("return document.readyState === 'complete'")
                    .await,
                "{who} {path} never finished loading"
            );
            let at = b.eval("return location.pathname").await;
            if path != "/login" {
                assert_ne!(at, json!("/login"), "{who} {path}: sent to sign in");
            }
            let found = axe_page(&b, &axe).await;
            b.screenshot(&shots.join(format!("{who}-{}.png", slug(path))))
                .await;
            for (rule, impact, n, target) in found {
                nodes += n;
                problems.push(format!(
                    "{rule} ({impact}, {n} nodes) on {path} as {who}: {target}"
                ));
            }
            checked += 1;
        }
    }
    println!(
        "axe-core: {checked} page visits, {} critical or serious violations ({nodes} nodes)",
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "{} critical or serious violations over {checked} page visits ({nodes} nodes):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

both!(every_page_passes_axe_as_every_role);
