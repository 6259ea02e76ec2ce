//! The scheduler's own wiring, with jobs on (every other test turns them off with
//! `settings.run_jobs = false` and calls the jobs by hand): a server started after the digest's
//! time (the tests' clock says 10:06 on a working Wednesday, the digest is at 09:00) catches up
//! once at start — the team's digest arrives by SMTP without anybody calling a job — a second
//! server started the same day does not send it again, and the outbox job registered with
//! tokio-cron-scheduler delivers a message queued after the start by itself, within its
//! ten-second period, and the sealer's and outbox's counters grow without anybody calling them.

use crate::both;
use crate::helpers::*;
use crate::smtp_sink::SmtpSink;
use backoffice::domain::status::Action;
use std::time::{Duration, Instant};

const TEAM: &str = "team@ca.example.cn";

fn jobs_on(sink_port: u16) -> impl Fn(&mut backoffice::config::Settings) + Clone {
    move |s: &mut backoffice::config::Settings| {
        s.run_jobs = true;
        // The scans' OCR is not what this test is about (and needs no SMTP).
        s.prechecks = false;
        s.smtp.url = Some(format!("smtp://127.0.0.1:{sink_port}"));
        s.team_email = Some(TEAM.into());
        s.metrics_token = Some(METRICS_TOKEN.into());
    }
}

/// Waits (at most `secs`) until `pred` holds of the sink's messages.
async fn wait_for(sink: &SmtpSink, secs: u64, what: &str, pred: impl Fn(&SmtpSink) -> bool) {
    let start = Instant::now();
    while !pred(sink) {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{what}: not seen in {secs} s; received {:?}",
            sink.messages()
                .iter()
                .map(|m| (m.to.clone(), m.subject()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    secs: u64,
    what: &str,
    pred: impl Fn() -> F,
) {
    let start = Instant::now();
    while !pred().await {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{what}: not within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const METRICS_TOKEN: &str = "scheduler-test-metrics-token";

/// How often the instance ran `job` (its own counter, from `/metrics`).
async fn job_runs(app: &TestApp, job: &str) -> u64 {
    let body = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = format!("backoffice_job_runs_total{{job=\"{job}\"}} ");
    body.lines()
        .find_map(|l| l.strip_prefix(&key))
        .map_or(0, |v| v.trim().parse().unwrap())
}

fn team_digests(sink: &SmtpSink) -> usize {
    sink.messages()
        .iter()
        .filter(|m| m.to == [TEAM] && m.subject().starts_with("【待认领】2026-11-25"))
        .count()
}

async fn jobs_catch_up_once_and_fire_on_their_own(b: Backend) {
    // The data exists before any server with jobs starts: one unclaimed application.
    let first = TestApp::spawn(b).await;
    let id = first.submit_example().await;
    let sink = SmtpSink::start().await;

    // A server started at 10:06, after the 09:00 digest: it catches up at start.
    let second = TestApp::spawn_on_with(&first.database_url, jobs_on(sink.port)).await;
    wait_for(&sink, 30, "the team digest caught up at start", |s| {
        team_digests(s) >= 1
    })
    .await;
    let digest = sink
        .messages()
        .into_iter()
        .find(|m| m.to == [TEAM])
        .unwrap();
    // (The sink's RFC 2047 decoding drops the spaces between encoded words.)
    assert_eq!(
        digest.subject().replace(' ', ""),
        "【待认领】2026-11-25共1件补办申请尚未认领"
    );
    assert!(digest.text().contains(&id), "{}", digest.text());

    // A message queued after the start (a decision's e-mail to the applicant) is delivered by
    // the outbox job on its schedule: nobody calls `deliver` here.
    first.staff_act(&id, Action::Claim, &[]).await;
    first
        .staff_act(
            &id,
            Action::Return,
            &[(
                "form_unsigned",
                "申请表未签名，请打印申请表、本人签名后重新上传",
            )],
        )
        .await;
    wait_for(&sink, 40, "the outbox job delivering on its own", |s| {
        s.messages()
            .iter()
            .any(|m| m.to == ["zhangsan@example.com"])
    })
    .await;

    // The jobs registered with the scheduler ran on their own, each more than its one pass at
    // start: the outbox (every 10 s) and the audit sealing (every 5 s).
    wait_until(
        30,
        "scheduled passes of the outbox and the sealer",
        || async {
            job_runs(&second, "outbox").await >= 2 && job_runs(&second, "audit_seal").await >= 2
        },
    )
    .await;

    // A third server started the same day catches up too (its start-up pass runs the digest
    // job, retention last), but the digest went out already.
    let third = TestApp::spawn_on_with(&first.database_url, jobs_on(sink.port)).await;
    wait_until(30, "the third server's start-up pass", || async {
        job_runs(&third, "retention").await >= 1
    })
    .await;
    assert_eq!(job_runs(&third, "digest").await, 1);
    assert_eq!(team_digests(&sink), 1, "the digest is sent once a day");
    let sent: Vec<_> = first
        .storage
        .outbox_messages("sent", 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "team_digest")
        .collect();
    assert_eq!(sent.len(), 1);
    // Every message exactly once, although two instances run the schedule.
    let mut to: Vec<_> = sink.messages().iter().map(|m| m.to.join(",")).collect();
    to.sort();
    let n = to.len();
    to.dedup();
    assert_eq!(to.len(), n, "a message sent twice: {to:?}");
    drop((second, third));
}

both!(jobs_catch_up_once_and_fire_on_their_own);
