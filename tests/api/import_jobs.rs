//! Imports as jobs (issue 21, item 3): a month's bill and a tracking file go through the job and
//! its page shows the counts; a refused file shows its errors by row and column and changed
//! nothing; workers claim a job exactly once; a job whose worker died is claimed again (and
//! failed after too many tries); each desk sees only its own jobs.

use crate::both;
use crate::helpers::*;
use backoffice::demo::bills::{self, Line};
use backoffice::jobs::imports::{self, LEASE_MS};
use backoffice::storage::import_jobs::{JobResult, MAX_ATTEMPTS};

fn bill_at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00+08:00")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// A WeChat bill of `n` payments no application made (each an unmatched-payment case).
fn month_bill(n: usize) -> Vec<u8> {
    let lines: Vec<Line> = (0..n)
        .map(|i| {
            let order = format!("SZCA{:016X}", 0xB000_0000u64 + i as u64);
            Line::pay(&order, &format!("42{i:026}"), 20000, bill_at())
        })
        .collect();
    bills::wechat(&lines)
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    backoffice::on_pool!(app.storage.read_pool(), |p| sqlx::query_scalar(
        "select count(*) from audit_log where action = $1"
    )
    .bind(action)
    .fetch_one(p)
    .await)
    .unwrap()
}

async fn a_bill_and_a_tracking_file_run_as_jobs(b: Backend) {
    let app = TestApp::spawn(b).await;
    let fin = app.signed_in_staff("qian.li", "finance").await;
    fin.get_page("/finance/bills").await;
    let n = 5_000;
    let started = std::time::Instant::now();
    let (job, page) = upload_and_wait(&fin, "/finance/bills", "wx-202611.csv", month_bill(n)).await;
    eprintln!("{n} bill lines through the job: {:?}", started.elapsed());
    assert!(job.starts_with("/finance/imports/"), "{job}");
    assert!(
        page.contains("导入完成。") && page.contains("wx-202611.csv"),
        "{page}"
    );
    assert!(
        counted(&page, "行数", n as i64) && counted(&page, "无对应申请", n as i64),
        "{page}"
    );
    assert!(
        page.contains(&format!("max=\"{n}\" value=\"{n}\"")),
        "a full bar: {page}"
    );
    assert_eq!(app.storage.bill_imports(10).await.unwrap().len(), 1);
    // Queued and finished, each with its audit record; the import's own record as before.
    assert_eq!(audit_count(&app, "import.queued").await, 1);
    assert_eq!(audit_count(&app, "import.done").await, 1);
    assert_eq!(audit_count(&app, "payments.imported").await, 1);
    // The result stays: the page again later, and the desk's list links to it.
    let again = fin.get_page(&job).await;
    assert!(counted(&again, "行数", n as i64) && !again.contains("data-refresh"));
    assert!(
        fin.get_page("/finance/bills")
            .await
            .contains(&format!("href=\"{job}\""))
    );
    let id = job.rsplit('/').next().unwrap();
    let j = app
        .storage
        .import_job(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (j.state.as_str(), j.done, j.total),
        ("done", n as i64, n as i64)
    );
    assert!(
        app.storage.import_file(j.job_id).await.unwrap().is_none(),
        "the file is dropped"
    );

    // A tracking file: its own desk's job; rows that did not fit listed by row and column.
    let clerk = app.signed_in_staff("zhao.qiang", "fulfillment").await;
    clerk.get_page("/fulfilment/batches").await;
    let mut csv = String::from("订单号,运单号,寄件时间\r\n");
    for i in 0..3 {
        csv.push_str(&format!(
            "WT20990101000{i},SF123456789012{i},2026-11-25 16:30:00\r\n"
        ));
    }
    let bytes = encoding_rs::GBK.encode(&csv).0.into_owned();
    let (tjob, page) = upload_and_wait(&clerk, "/fulfilment/tracking", "t.csv", bytes).await;
    assert!(tjob.starts_with("/fulfilment/imports/"), "{tjob}");
    assert!(counted(&page, "订单号不存在", 3), "{page}");
    assert!(
        page.contains("id=\"job-errors\"")
            && page.contains("<td class=\"num\">4</td><td>订单号</td>")
            && page.contains("WT209901010002"),
        "{page}"
    );
    // Each desk's jobs under its own prefix only: the other's job is not found there.
    let boss = app.signed_in_staff("wang.wei", "supervisor").await;
    let tid = tjob.rsplit('/').next().unwrap();
    assert_eq!(
        boss.get(&format!("/finance/imports/{tid}")).await.status(),
        404
    );
    assert_eq!(
        boss.get(&format!("/fulfilment/imports/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(boss.get(&tjob).await.status(), 200);
    assert_eq!(fin.get(&tjob).await.status(), 403);
    assert_eq!(clerk.get(&job).await.status(), 403);
}

async fn a_refused_file_shows_its_rows_and_changes_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let fin = app.signed_in_staff("qian.li", "finance").await;
    fin.get_page("/finance/bills").await;
    // A bill whose total was edited: refused whole, naming the line.
    let text = String::from_utf8(month_bill(3)).unwrap();
    let edited = text.replacen("`3,`600.00", "`3,`500.00", 1);
    assert_ne!(edited, text, "the bill's total line");
    let (job, page) = upload_and_wait(&fin, "/finance/bills", "x.csv", edited.into_bytes()).await;
    assert!(
        page.contains("未导入，未做任何更改") && page.contains("id=\"job-errors\""),
        "{page}"
    );
    let j = app
        .storage
        .import_job(job.rsplit('/').next().unwrap().parse().unwrap());
    let r: JobResult = j.await.unwrap().unwrap().result().unwrap();
    assert!(r.errors[0].row.is_some(), "{r:?}");
    assert!(app.storage.bill_imports(10).await.unwrap().is_empty());
    assert_eq!(audit_count(&app, "payments.imported").await, 0);
    assert_eq!(audit_count(&app, "import.failed").await, 1);

    // A tracking file with two rows without a waybill: both rows named, with their column.
    let clerk = app.signed_in_staff("zhao.qiang", "fulfillment").await;
    clerk.get_page("/fulfilment/batches").await;
    let csv = "订单号,运单号,寄件时间\r\nWT1,,2026-11-25 16:30\r\nWT2,,2026-11-25 16:30\r\n";
    let bytes = encoding_rs::GBK.encode(csv).0.into_owned();
    let (_, page) = upload_and_wait(&clerk, "/fulfilment/tracking", "t.csv", bytes).await;
    assert!(page.contains("未导入，未做任何更改"), "{page}");
    for row in [2, 3] {
        assert!(
            page.contains(&format!("<td class=\"num\">{row}</td><td>B (运单号)</td>")),
            "row {row}: {page}"
        );
    }
    assert_eq!(audit_count(&app, "tracking.imported").await, 0);
}

async fn workers_claim_each_job_exactly_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let now = app.clock.now().timestamp_millis();
    let mut queued = Vec::new();
    for i in 0..12 {
        let name = format!("{i}.csv");
        let id = app
            .storage
            .queue_import("tracking", &name, b"x", "test", now);
        queued.push(id.await.unwrap());
    }
    // Four workers (on PostgreSQL each on its own connection) claim at once until none is left.
    let claim = |w: usize| {
        let s = app.storage.clone();
        async move {
            let mut got = Vec::new();
            loop {
                let token = format!("worker-{w}-{}", got.len());
                let jobs = s
                    .claim_imports(now, now + LEASE_MS, &token, 2)
                    .await
                    .unwrap();
                if jobs.is_empty() {
                    return got;
                }
                got.extend(jobs.into_iter().map(|j| j.job_id));
            }
        }
    };
    let (a, b2, c, d) = tokio::join!(claim(0), claim(1), claim(2), claim(3));
    let mut all: Vec<i64> = [a, b2, c, d].concat();
    all.sort();
    assert_eq!(all, queued, "every job claimed, none twice");
}

async fn a_job_whose_worker_died_is_claimed_again(b: Backend) {
    let app = TestApp::spawn(b).await;
    let now = app.clock.now().timestamp_millis();
    let bill = month_bill(20);
    let id = app
        .storage
        .queue_import("bills", "b.csv", &bill, "staff:qian.li", now);
    let id = id.await.unwrap();
    // A worker claims it and dies (its claim is all that is left of it).
    let first = app.storage.claim_imports(now, now + LEASE_MS, "dead", 1);
    assert_eq!(first.await.unwrap().len(), 1);
    let j = app.storage.import_job(id).await.unwrap().unwrap();
    assert_eq!(j.state, "running");
    // While its lease runs, nobody else takes it.
    let soon = app
        .storage
        .claim_imports(now + 1000, now + LEASE_MS, "other", 1);
    assert!(soon.await.unwrap().is_empty());
    // After it, the next pass does, and runs it to the end.
    app.clock
        .set(app.clock.now() + chrono::Duration::milliseconds(LEASE_MS + 1));
    assert_eq!(imports::run_all(&app.state.core).await.unwrap(), 1);
    let j = app.storage.import_job(id).await.unwrap().unwrap();
    assert_eq!(j.state, "done", "{:?}", j.result);
    assert_eq!(j.result().unwrap().counts[0], ("lines".to_owned(), 20));
    // The dead worker, back, cannot store a result over it.
    let nothing = JobResult::default();
    let late = app
        .storage
        .finish_import(id, "dead", false, &nothing, (0, 0), now);
    assert!(!late.await.unwrap());
    assert_eq!(
        app.storage.bill_imports(10).await.unwrap().len(),
        1,
        "imported once"
    );

    // A job whose workers die every time is failed after MAX_ATTEMPTS, saying so.
    let t = app.clock.now().timestamp_millis();
    let id = app
        .storage
        .queue_import("tracking", "t.csv", b"x", "test", t);
    let id = id.await.unwrap();
    for k in 0..MAX_ATTEMPTS {
        let at = t + k * (LEASE_MS + 1);
        let c = app.storage.claim_imports(at, at + LEASE_MS, "dies", 1);
        assert_eq!(c.await.unwrap().len(), 1, "attempt {k}");
    }
    let at = t + MAX_ATTEMPTS * (LEASE_MS + 1);
    let c = app.storage.claim_imports(at, at + LEASE_MS, "next", 1);
    assert!(c.await.unwrap().is_empty());
    let j = app.storage.import_job(id).await.unwrap().unwrap();
    assert_eq!(j.state, "failed");
    let why = j.result().unwrap().refusal.unwrap();
    assert!(why.contains("stopped 3 times"), "{why}");
}

both!(
    a_bill_and_a_tracking_file_run_as_jobs,
    a_refused_file_shows_its_rows_and_changes_nothing,
    workers_claim_each_job_exactly_once,
    a_job_whose_worker_died_is_claimed_again,
);
