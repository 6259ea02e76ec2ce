//! The README's first command: `backoffice demo` on a fresh data directory, then `backoffice
//! serve`, both as child processes; every printed password signs its user in and lands on that
//! role's desk, which has the demo's work on it; the printed API token works; `/healthz` is ok.
//! Between the two, the pre-checks of what the demo queued: each planted defect found once, the
//! clean drawn applications clean.

use crate::both;
use crate::helpers::*;
use crate::shutdown::Server;
use std::collections::BTreeMap;
use std::process::Command;

async fn demo_then_serve_signs_in_every_role(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (db, pg) = fresh_database(b, dir.path()).await;
    let o = Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .arg("demo")
        .env("DATABASE_URL", &db)
        .env("BACKOFFICE_DATA_DIR", dir.path())
        .env("RUST_LOG", "warn")
        // A few drawn (the planted ones among them), so a debug build pre-checks them quickly.
        .env("BACKOFFICE_DEMO_DRAWN", DRAWN.to_string())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "demo failed: {}\n{out}",
        String::from_utf8_lossy(&o.stderr)
    );
    // "  username     role         password", one per role, after the heading.
    let users: BTreeMap<String, (String, String)> = out
        .lines()
        .skip_while(|l| !l.starts_with("Demo users"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].to_owned(), (f[1].to_owned(), f[2].to_owned()))
        })
        .collect();
    let names: Vec<&str> = users.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "admin",
            "finance",
            "fulfillment",
            "hotline",
            "reviewer",
            "reviewer2",
            "supervisor"
        ],
        "{out}"
    );
    let token = out
        .lines()
        .skip_while(|l| !l.starts_with("API token for the demo hall client"))
        .nth(1)
        .expect("the API token is printed")
        .trim()
        .to_owned();

    // A desk on a normal day: most waiting applications due in the coming working days, a
    // handful overdue; a quarter of history, so the thirteen weeks of the SLA page have data.
    let storage = backoffice::storage::Storage::connect(&db).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let applications = storage.application_count().await.unwrap();
    let waiting = storage.count_due_between(0, i64::MAX).await.unwrap();
    let overdue = storage.count_due_between(0, now).await.unwrap();
    assert!(waiting >= 100, "{waiting} waiting");
    assert!(
        overdue >= 1 && overdue * 10 <= waiting,
        "{overdue} of {waiting} waiting are overdue"
    );
    let week = 7 * 24 * 3_600_000;
    let mut weeks_with_data = 0;
    for w in 0..13 {
        let (all, _) = storage
            .sla_counts(now - (w + 1) * week, now - w * week)
            .await
            .unwrap();
        weeks_with_data += usize::from(all > 0);
    }
    assert!(weeks_with_data >= 10, "{weeks_with_data} of 13 weeks");
    assert!(applications >= 600, "{applications} applications");

    // Run again: nothing added, no password changed, and it says so (exit 0, so that the
    // README's `demo && serve` still serves).
    let again = Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .arg("demo")
        .env("DATABASE_URL", &db)
        .env("BACKOFFICE_DATA_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{err}");
    assert!(
        err.contains(&format!("already holds {applications} applications"))
            && err.contains("added nothing"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&again.stdout).contains("Demo users"));
    assert_eq!(storage.application_count().await.unwrap(), applications);

    prechecks_find_each_planted_defect_once(&storage, dir.path()).await;
    drop(storage);

    let server = Server::start(&db, dir.path(), &[]);
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap().trim(), "ok");
    let r = http
        .get(format!(
            "{base}/api/v1/applications?hall_reference=NONE-0000"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 401, "the demo token is accepted");

    // Each role: the printed password signs in, the start page is the role's desk.
    let desk = |role: &str| match role {
        "reviewer" | "supervisor" => ("/review", "审核队列"),
        "admin" => ("/admin/users", "用户与角色"),
        "hotline" => ("/hotline", "客服查询"),
        "finance" => ("/finance/exceptions", "对账异常"),
        "fulfillment" => ("/fulfilment", "制作与寄送"),
        other => panic!("unexpected role {other}"),
    };
    for (user, (role, password)) in &users {
        let browser = StaffBrowser::new(&base);
        let r = browser.try_sign_in(user, password).await;
        assert_eq!(r.status(), 303, "{user} with the printed password");
        let (path, heading) = desk(role);
        let mut page = String::new();
        let mut at = location(&r);
        for _ in 0..3 {
            let r = browser.get(&at).await;
            if r.status() == 303 {
                at = location(&r);
                continue;
            }
            assert_eq!(r.status(), 200, "{user} at {at}");
            page = r.text().await.unwrap();
            break;
        }
        assert_eq!(at, path, "{user} lands on {path}");
        assert!(page.contains(heading), "{user}: {heading} on {path}");
        match role.as_str() {
            // "the review queue is full of work"
            "reviewer" | "supervisor" => {
                let rows = page.matches("<a href=\"/review/BF").count();
                assert!(rows >= 20, "{user}: {rows} applications in the queue");
            }
            "admin" => {
                for u in users.keys() {
                    assert!(page.contains(u.as_str()), "{u} listed for the admin");
                }
            }
            "finance" => {
                assert!(
                    page.matches("href=\"/finance/exceptions/").count() >= 1,
                    "the demo's payment exceptions to resolve"
                );
            }
            "fulfillment" => {
                assert!(page.contains("BF"), "accepted applications to produce");
            }
            _ => {}
        }
        // And no other role's desk: the hotline reaches neither the queue nor the scans.
        if role == "hotline" {
            assert_eq!(browser.get("/review").await.status(), 403);
        }
    }
    drop(server);
    if let Some(name) = pg {
        drop_database(&name);
    }
}

/// Applications drawn: the six planted, the one whose photo is reused, three clean.
const DRAWN: usize = 10;

/// The defects the demo plants, one application each, as the pre-checks flag them: (scan, check,
/// outcome).
const PLANTED: [(&str, &str, &str); 6] = [
    ("id_front", "id_number", "mismatch"),
    ("application_form", "signature_blank", "blank"),
    ("id_front", "blurred", "flagged"),
    ("id_front", "rotation", "rotated"),
    ("id_back", "valid_until", "expired"),
    ("liveness_photo", "reused_photo", "reused"),
];

/// The pre-checks of everything the demo queued, run as `serve`'s worker runs them (on both
/// cores): only the drawn applications are queued (the quarter's history and the applications
/// with placeholder scans were pre-checked at intake); their scans come out clean, except that
/// each planted defect is found once, on an application of its own, and the queue's ⚑ filter
/// lists exactly those.
async fn prechecks_find_each_planted_defect_once(
    storage: &backoffice::storage::Storage,
    data_dir: &std::path::Path,
) {
    use backoffice::jobs::prechecks::run_all;
    use backoffice::storage::{paging::PageReq, queue::QueueFilter};
    let scans = backoffice::storage::scan_files::ScanStore::local(data_dir.join("scans")).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let (a, b) = tokio::join!(run_all(storage, &scans, now), run_all(storage, &scans, now));
    let checked = a.unwrap() + b.unwrap();
    // The drawn ones, and the second version of those returned and sent again.
    assert!(
        (DRAWN..=DRAWN + 3).contains(&checked),
        "{checked} versions pre-checked"
    );
    // Every application in the queue (pages of 50): its current version's flags, and those of
    // its earlier versions (a clean application returned and sent again was pre-checked twice).
    let mut rows = Vec::new();
    let mut req = PageReq::first(50);
    loop {
        let page = storage
            .queue_page(&QueueFilter::default(), &req)
            .await
            .unwrap();
        rows.extend(page.rows);
        match page.next {
            Some(next) => req = PageReq::new(Some(next), None, Some(50)),
            None => break,
        }
    }
    let mut found: Vec<&(&str, &str, &str)> = Vec::new();
    let mut flags_seen = 0;
    let mut report = String::new();
    let mut clean_but_flagged: Vec<(String, String)> = Vec::new();
    for row in &rows {
        for version in 1..=row.version {
            let findings = storage
                .findings_of(&row.application_id, version)
                .await
                .unwrap();
            let flags: Vec<(&str, &str, &str)> = findings
                .iter()
                .filter(|f| f.flagged)
                .map(|f| (f.kind.as_str(), f.check_name.as_str(), f.outcome.as_str()))
                .collect();
            if flags.is_empty() {
                continue;
            }
            report.push_str(&format!("{} v{version}: {flags:?}\n", row.application_id));
            flags_seen += flags.len() as i64;
            let planted: Vec<_> = PLANTED.iter().filter(|p| flags.contains(p)).collect();
            // The planted ones wait unclaimed (version 1); an earlier version is a clean one's.
            if version < row.version || planted.is_empty() {
                clean_but_flagged.extend(flags.iter().map(|f| (f.1.to_owned(), f.2.to_owned())));
                continue;
            }
            assert!(planted.len() <= 1, "two planted defects on one application");
            found.extend(planted);
        }
    }
    // The queue's ⚑ filter lists exactly the applications whose current version is flagged.
    let flagged = storage
        .queue_page(
            &QueueFilter {
                with_findings: true,
                ..Default::default()
            },
            &PageReq::first(50),
        )
        .await
        .unwrap();
    let expected: std::collections::BTreeSet<String> = rows
        .iter()
        .filter(|r| r.findings > 0)
        .map(|r| r.application_id.as_str().to_owned())
        .collect();
    let listed: std::collections::BTreeSet<String> = flagged
        .rows
        .iter()
        .map(|r| r.application_id.as_str().to_owned())
        .collect();
    assert_eq!(listed, expected, "the ⚑ filter:\n{report}");
    found.sort();
    let mut planted: Vec<_> = PLANTED.iter().collect();
    planted.sort();
    assert_eq!(found, planted, "each planted defect found once:\n{report}");
    // A clean application may carry a flag of reading only — its name read wrong or not at all,
    // its form's signature label not found (issue 20, items 1 and 2: not yet reliable on every
    // drawn card and form) — never a defect it does not have.
    for (check, outcome) in &clean_but_flagged {
        assert!(
            check == "name" || (check == "signature_blank" && outcome == "unreadable"),
            "a clean application flagged for {check} {outcome}:\n{report}"
        );
    }
    // And nothing flagged anywhere else (decided applications, the quarter's history).
    let everywhere: i64 = storage
        .precheck_precision()
        .await
        .unwrap()
        .iter()
        .map(|r| r.flagged)
        .sum();
    assert_eq!(everywhere, flags_seen, "flags outside the queue:\n{report}");
}

both!(demo_then_serve_signs_in_every_role);
