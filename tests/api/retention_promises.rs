//! Retention's remaining promises, and one of the audit chain's: the sent e-mails of an erased
//! application lose their address and text; two instances running the job at the same moment
//! erase each application once; an application whose certificate is not in the registry is
//! never erased, however old the others; `verify-audit` finds a deleted day anchor.

use crate::audit_chain::{exec, scalar};
use crate::both;
use crate::helpers::*;
use crate::smtp_sink::SmtpSink;
use backoffice::domain::status::Action;
use backoffice::jobs::{outbox::deliver_all, retention};
use serde_json::Value;

const TOMBSTONE: &str = "（已按保存期限删除）";

fn submission(n: u32, serial: &str, name: &str, id_number: &str, email: &str) -> Submission {
    let mut v = example_json();
    v["hall_reference"] = format!("WT20261125000{n}").into();
    v["certificate_serial"] = serial.into();
    v["applicant"]["name"] = name.into();
    v["applicant"]["id_number"] = id_number.into();
    v["applicant"]["email"] = email.into();
    v["mailing_address"]["recipient"] = name.into();
    v["invoice"]["title"] = name.into();
    v["payment"]["out_trade_no"] = format!("SZCA20261125000{n}").into();
    let mut s = Submission::with_json(v);
    // Scans of their own, so that nothing is shared between the two.
    for f in &mut s.files {
        f.3 = jpeg(format!("{} of {n}", f.0).as_bytes());
    }
    s
}

async fn accepted(
    app: &TestApp,
    n: u32,
    serial: &str,
    name: &str,
    idn: &str,
    email: &str,
) -> String {
    let r = app
        .submit(
            &format!("k{n}"),
            submission(n, serial, name, idn, email).form(),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.verify_payment(&id).await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(&id, Action::Accept, &[]).await;
    id
}

async fn erased_once_across_instances_mail_included_unregistered_kept(b: Backend) {
    let app = TestApp::spawn(b).await;
    let gone = accepted(
        &app,
        1,
        "0150512140479054C03",
        "张三",
        "11010519491231002X",
        "zhangsan@example.com",
    )
    .await;
    let unregistered = accepted(
        &app,
        2,
        "0150512140479054C04",
        "李四",
        "44030519900101123X",
        "lisi@example.com",
    )
    .await;
    // Their acceptance e-mails went out.
    let sink = SmtpSink::start().await;
    let now = app.clock.now().timestamp_millis();
    let d = deliver_all(&app.storage, &sink.mailer(), now)
        .await
        .unwrap();
    assert_eq!(d.sent, 2);
    // Both certificates expired long ago; then the second leaves the registry.
    let csv = "serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n\
0150512140479054C03,张三,resident_id,11010519491231002X,natural_person,2010-03-01,2015-03-01,expired\n\
0150512140479054C04,李四,resident_id,44030519900101123X,natural_person,2010-03-01,2015-03-01,expired\n";
    backoffice::exchange::certificates::import(&app.storage, csv.as_bytes(), "test", 0)
        .await
        .unwrap();
    assert_eq!(
        exec(
            &app.database_url,
            "delete from certificates where serial = '0150512140479054C04'"
        )
        .await,
        1
    );

    // Two servers on one database run the job at the same moment.
    let other = TestApp::spawn_on(&app.database_url).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let run = |storage: backoffice::storage::Storage,
               scans: backoffice::storage::scan_files::ScanStore| {
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            retention::run(&storage, &scans, 5, now).await.unwrap()
        })
    };
    let (a, c) = (
        run(app.storage.clone(), app.state.scans.clone()),
        run(other.storage.clone(), other.state.scans.clone()),
    );
    let (a, c) = (a.await.unwrap(), c.await.unwrap());
    assert_eq!(
        a.applications + c.applications,
        1,
        "erased once in all: {a:?} {c:?}"
    );
    assert_eq!(app.audited(&gone, "retention.erased").await, 1);
    assert_eq!(app.audited(&unregistered, "retention.erased").await, 0);

    // The erased application's sent e-mail keeps its kind and dates, not its address or text.
    let sent = app.storage.outbox_messages("sent", 100).await.unwrap();
    let of = |id: &str| {
        sent.iter()
            .filter(|m| m.application_id.as_ref().map(|a| a.as_str()) == Some(id))
            .cloned()
            .collect::<Vec<_>>()
    };
    let erased_mail = of(&gone);
    assert_eq!(erased_mail.len(), 1);
    let m = &erased_mail[0];
    for field in [&m.recipient, &m.subject, &m.body_text, &m.body_html] {
        assert_eq!(field, TOMBSTONE);
    }
    assert!(m.sent_at.is_some());
    // The unregistered one is kept whole, its mail too.
    let kept_mail = of(&unregistered);
    assert_eq!(kept_mail.len(), 1);
    assert_eq!(kept_mail[0].recipient, "lisi@example.com");
    let kept = format!(
        "{:?}",
        app.storage
            .review_detail(&aid(&unregistered))
            .await
            .unwrap()
            .unwrap()
    );
    assert!(kept.contains("李四") && kept.contains("44030519900101123X"));
    let erased = format!(
        "{:?}",
        app.storage
            .review_detail(&aid(&gone))
            .await
            .unwrap()
            .unwrap()
    );
    assert!(!erased.contains("张三") && !erased.contains("zhangsan@example.com"));

    // Again, years later: still never the unregistered one.
    let later = now + 20 * 365 * 86_400_000;
    let s = retention::run(&other.storage, &other.state.scans, 5, later)
        .await
        .unwrap();
    assert_eq!(s, retention::Summary::default());
    assert_eq!(app.audited(&unregistered, "retention.erased").await, 0);
}

fn verify_audit(db: &str, dir: &std::path::Path) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .arg("verify-audit")
        .env("DATABASE_URL", db)
        .env("BACKOFFICE_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

async fn a_deleted_anchor_is_found(b: Backend) {
    let app = TestApp::spawn(b).await;
    let db = app.database_url.clone();
    // Records over three Beijing days (views, as the hotline writes them).
    let day = 86_400_000;
    for i in 0..6 {
        app.storage
            .audit_view(&backoffice::storage::audit::AuditEntry {
                at: test_now().timestamp_millis() + (i / 2) * day + i,
                actor: "staff:hotline",
                action: "hotline_view",
                subject_type: "application",
                subject_id: "BF20261125-000000",
                ..Default::default()
            })
            .await
            .unwrap();
    }
    app.storage.seal_audit(0, true).await.unwrap();
    let (ok, out) = verify_audit(&db, app.dir.path());
    assert!(ok, "{out}");
    // The middle day's anchor deleted.
    let middle = "2026-11-26";
    let last = scalar(
        &db,
        &format!("select last_pos from audit_anchors where day = '{middle}'"),
    )
    .await;
    assert_eq!(
        exec(
            &db,
            &format!("delete from audit_anchors where day = '{middle}'")
        )
        .await,
        1
    );
    let (ok, out) = verify_audit(&db, app.dir.path());
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "the anchor of {middle} is missing (the chain has records of that day up to position {last})"
        )),
        "{out}"
    );
}

both!(
    erased_once_across_instances_mail_included_unregistered_kept,
    a_deleted_anchor_is_found
);
