//! The review SLA: escalations, warnings and digests driven by a pinned clock, the e-mail
//! outbox over a real SMTP conversation, and the calendar import's effect on deadlines.

use crate::both;
use crate::helpers::*;
use crate::smtp_sink::{SmtpSink, mailer_for};
use backoffice::domain::status::Action;
use backoffice::jobs::{digest, outbox::deliver_all, sla};
use chrono::{DateTime, Utc};

fn at(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&Utc)
        .timestamp_millis()
}

const BASE: &str = "http://backoffice.test";

async fn decisions_reach_the_applicant_by_smtp(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(
        &id,
        Action::Return,
        &[(
            "form_unsigned",
            "申请表未签名，请打印申请表、本人签名后重新上传",
        )],
    )
    .await;
    let sink = SmtpSink::start().await;
    let d = deliver_all(
        &app.storage,
        &sink.mailer(),
        app.clock.now().timestamp_millis(),
    )
    .await
    .unwrap();
    assert_eq!((d.sent, d.failed), (1, 0));
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].to, ["zhangsan@example.com"]);
    assert_eq!(
        msgs[0].subject(),
        "您的数字证书补办申请需要修改后重新提交（WT202611250001）"
    );
    let text = msgs[0].text();
    assert!(
        text.contains("申请表未签名，请打印申请表、本人签名后重新上传"),
        "{text}"
    );
    assert!(text.contains("介质遗失补办"), "{text}");
    assert!(text.contains("<ol>"), "the HTML part is there too: {text}");
    // Nothing is sent twice.
    assert_eq!(
        deliver_all(
            &app.storage,
            &sink.mailer(),
            app.clock.now().timestamp_millis()
        )
        .await
        .unwrap()
        .sent,
        0
    );
    assert_eq!(sink.messages().len(), 1);
}

async fn smtp_down_then_up_delivers_each_message_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.verify_payment(&id).await;
    app.staff_act(&id, Action::Accept, &[]).await;
    // A port bound but not listening: the relay is down (connections are refused). The same
    // socket listens later, so no other process can take the port in between.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let now = app.clock.now().timestamp_millis();
    let d = deliver_all(&app.storage, &mailer_for(port), now)
        .await
        .unwrap();
    assert_eq!((d.sent, d.failed), (0, 1));
    // Backing off: not due again a moment later.
    assert_eq!(
        deliver_all(&app.storage, &mailer_for(port), now + 1000)
            .await
            .unwrap()
            .failed,
        0
    );
    let sink = SmtpSink::start_on(socket.listen(16).unwrap()).await;
    let later = now + 10 * 60_000;
    assert_eq!(
        deliver_all(&app.storage, &sink.mailer(), later)
            .await
            .unwrap()
            .sent,
        1
    );
    assert_eq!(
        deliver_all(&app.storage, &sink.mailer(), later + 3_600_000)
            .await
            .unwrap()
            .sent,
        0
    );
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        msgs[0].subject(),
        "您的数字证书补办申请已成功受理（WT202611250001）"
    );
    assert_eq!(app.storage.outbox_count("sent").await.unwrap(), 1);
}

async fn an_overdue_application_is_escalated_once_per_window(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.create_staff_with_email("boss", "supervisor", "boss@ca.example.cn")
        .await;
    app.create_staff_with_email("deputy", "supervisor", "deputy@ca.example.cn")
        .await;
    let id = app.submit_example().await; // due Monday 2026-11-30 18:00
    assert_eq!(
        sla::sweep(&app.storage, BASE, at("2026-11-30T17:59:00+08:00"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sla::sweep(&app.storage, BASE, at("2026-11-30T18:01:00+08:00"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        sla::sweep(&app.storage, BASE, at("2026-11-30T18:02:00+08:00"))
            .await
            .unwrap(),
        0
    );
    let queued = app.storage.outbox_messages("pending", 10).await.unwrap();
    let mut to: Vec<_> = queued
        .iter()
        .filter(|m| m.kind == "escalation")
        .map(|m| m.recipient.clone())
        .collect();
    to.sort();
    assert_eq!(to, ["boss@ca.example.cn", "deputy@ca.example.cn"]);
    assert!(queued[0].body_text.contains(&format!("{BASE}/review/{id}")));
    let breaches = app.storage.breaches_between(0, i64::MAX, 10).await.unwrap();
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].due_at, at("2026-11-30T18:00:00+08:00"));

    // Returned and resubmitted: a new window, which may be breached (and escalated) once more.
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(&id, Action::Return, &[("other", "其他")])
        .await;
    app.clock.set(
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00+08:00")
            .unwrap()
            .into(),
    );
    let sub = Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"again"));
    assert_eq!(app.resubmit(&id, "r-1", sub.form()).await.status(), 200); // due Fri 2026-12-04 18:00
    assert_eq!(
        sla::sweep(&app.storage, BASE, at("2026-12-04T17:00:00+08:00"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sla::sweep(&app.storage, BASE, at("2026-12-04T18:05:00+08:00"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.storage
            .breaches_between(0, i64::MAX, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    let (windows, breached) = app
        .storage
        .sla_counts(0, at("2026-12-05T00:00:00+08:00"))
        .await
        .unwrap();
    assert_eq!((windows, breached), (2, 2));
}

async fn warning_and_digests_go_out_on_working_days_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.create_staff_with_email("boss", "supervisor", "boss@ca.example.cn")
        .await;
    app.create_staff_with_email("reviewer", "reviewer", "reviewer@ca.example.cn")
        .await;
    let id = app.submit_example().await; // due Monday 2026-11-30 18:00
    let cal = app.storage.load_calendar().await.unwrap();
    // Saturday: no digest, no warning.
    assert_eq!(
        digest::send(
            &app.storage,
            &cal,
            Some("team@ca.example.cn"),
            BASE,
            at("2026-11-28T09:00:00+08:00")
        )
        .await
        .unwrap(),
        0
    );
    // Friday 09:00: unclaimed, so only the team hears of it.
    assert_eq!(
        digest::send(
            &app.storage,
            &cal,
            Some("team@ca.example.cn"),
            BASE,
            at("2026-11-27T09:00:00+08:00")
        )
        .await
        .unwrap(),
        1
    );
    app.staff_act(&id, Action::Claim, &[]).await;
    // Monday 09:00: the reviewer (claimed, due today) and the team (nothing unclaimed: no mail).
    assert_eq!(
        digest::send(
            &app.storage,
            &cal,
            Some("team@ca.example.cn"),
            BASE,
            at("2026-11-30T09:00:00+08:00")
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        digest::send(
            &app.storage,
            &cal,
            Some("team@ca.example.cn"),
            BASE,
            at("2026-11-30T09:30:00+08:00")
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        sla::warn_due_today(&app.storage, &cal, BASE, at("2026-11-30T14:00:00+08:00"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        sla::warn_due_today(&app.storage, &cal, BASE, at("2026-11-30T14:10:00+08:00"))
            .await
            .unwrap(),
        0
    );
    let sink = SmtpSink::start().await;
    deliver_all(
        &app.storage,
        &sink.mailer(),
        at("2026-11-30T14:11:00+08:00"),
    )
    .await
    .unwrap();
    let mut subjects: Vec<_> = sink
        .messages()
        .iter()
        .map(|m| (m.to[0].clone(), m.subject()))
        .collect();
    subjects.sort();
    assert_eq!(subjects.len(), 3);
    assert_eq!(subjects[0].0, "boss@ca.example.cn");
    assert!(subjects[0].1.contains("今日到期"), "{subjects:?}");
    assert_eq!(subjects[1].0, "reviewer@ca.example.cn");
    assert!(subjects[1].1.contains("审核提醒"));
    assert_eq!(subjects[2].0, "team@ca.example.cn");
    assert!(sink.messages().iter().any(|m| m.text().contains(&id)));
}

async fn a_calendar_import_moves_waiting_deadlines(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await; // due Monday 2026-11-30 18:00
    let csv = "日期,类型,名称\n2026-11-27,放假,测试假日\n";
    let s = backoffice::exchange::calendar::import(&app.storage, csv.as_bytes(), "test", 0)
        .await
        .unwrap();
    assert_eq!(
        (s.rows, s.years.clone(), s.deadlines_changed),
        (1, vec![2026], 1)
    );
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(status["review_due_at"], "2026-12-01T18:00:00+08:00");
    // The 2026 schedule that shipped is replaced by the file: National Day is an ordinary week now.
    let cal = app.storage.load_calendar().await.unwrap();
    assert!(cal.is_working_day(chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    let bad = "date,type\n2026-12-01,holiday\n2026-12-02,party\n";
    let err = backoffice::exchange::calendar::import(&app.storage, bad.as_bytes(), "test", 0)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "row 3, column B (type): 'party' is not holiday/放假 or workday/上班"
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/applications/{id}")).await["review_due_at"],
        "2026-12-01T18:00:00+08:00"
    );
}

both!(
    decisions_reach_the_applicant_by_smtp,
    smtp_down_then_up_delivers_each_message_once,
    an_overdue_application_is_escalated_once_per_window,
    warning_and_digests_go_out_on_working_days_once,
    a_calendar_import_moves_waiting_deadlines,
);

/// Two server instances on one PostgreSQL database run every job at the same time: each
/// escalation is recorded once and each message reaches the SMTP sink once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_send_everything_once() {
    let a = TestApp::spawn(Backend::Postgres).await;
    let b = TestApp::spawn_on(&a.database_url).await;
    a.create_staff_with_email("boss", "supervisor", "boss@ca.example.cn")
        .await;
    for i in 0..30 {
        let mut j = example_json();
        j["hall_reference"] = serde_json::json!(format!("WT-TWO-{i}"));
        let inst = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            inst.submit(&format!("k-{i}"), Submission::with_json(j).form())
                .await
                .status(),
            201
        );
    }
    let late = at("2026-12-01T09:00:00+08:00");
    let (ra, rb) = tokio::join!(
        sla::sweep(&a.storage, BASE, late),
        sla::sweep(&b.storage, BASE, late)
    );
    assert_eq!(ra.unwrap() + rb.unwrap(), 30);
    let sink = SmtpSink::start().await;
    let (ma, mb) = (sink.mailer(), sink.mailer());
    let (da, db) = tokio::join!(
        deliver_all(&a.storage, &ma, late),
        deliver_all(&b.storage, &mb, late)
    );
    assert_eq!(da.unwrap().sent + db.unwrap().sent, 30);
    assert_eq!(sink.messages().len(), 30);
    let mut subjects: Vec<_> = sink.messages().iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 30);
}
