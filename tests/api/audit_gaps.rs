//! Audit records where they were missing (issue 17, item 7): each fetch of a scan (every kind,
//! every version), a quality verdict, a sample drawn, a sign-out; and printing labels or a
//! packing list is a POST that records, while the same page fetched by GET records nothing.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::Action;
use backoffice::exchange::couriers::Courier;

const KINDS: [&str; 5] = [
    "application_form",
    "eseal_form",
    "id_front",
    "id_back",
    "liveness_photo",
];

/// The records of `action` on `subject`, newest first: (actor, after).
async fn records(app: &TestApp, subject: &str, action: &str) -> Vec<(String, Option<String>)> {
    app.storage
        .audit_recent(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.subject_id == subject && a.action == action)
        .map(|a| (a.actor, a.after_state))
        .collect()
}

async fn every_scan_fetch_is_audited(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    for kind in KINDS {
        let r = boss.get(&format!("/review/{id}/scans/1/{kind}")).await;
        assert_eq!(r.status(), 200, "{kind}");
    }
    // The same image again is a second view.
    let r = boss.get(&format!("/review/{id}/scans/1/id_front")).await;
    assert_eq!(r.status(), 200);
    // A second version's scans are audited the same way.
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(
        &id,
        Action::Return,
        &[("id_front_unclear", "身份证人像面照片不清晰")],
    )
    .await;
    let sub = Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"again"));
    assert_eq!(app.resubmit(&id, "r-2", sub.form()).await.status(), 200);
    assert_eq!(
        boss.get(&format!("/review/{id}/scans/2/id_front"))
            .await
            .status(),
        200
    );
    // A scan that is not there is no view.
    assert_eq!(
        boss.get(&format!("/review/{id}/scans/9/id_front"))
            .await
            .status(),
        404
    );
    let mut seen: Vec<String> = records(&app, &id, "scan.viewed")
        .await
        .into_iter()
        .map(|(actor, after)| {
            assert_eq!(actor, "staff:boss");
            after.unwrap()
        })
        .collect();
    seen.sort();
    let mut expected: Vec<String> = KINDS.iter().map(|k| format!("v1/{k}")).collect();
    expected.push("v1/id_front".into());
    expected.push("v2/id_front".into());
    expected.sort();
    assert_eq!(seen, expected);
}

async fn quality_draws_verdicts_and_sign_out_are_audited(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.verify_payment(&id).await;
    app.staff_act(&id, Action::Accept, &[]).await; // decided in the week of Monday 2026-11-23
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let r = boss
        .post_form(
            "/supervision/quality",
            &[("week", "2026-11-25"), ("n", "3"), ("seed", "7")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let drawn = records(&app, "2026-11-23", "quality.sample_drawn").await;
    assert_eq!(drawn.len(), 1);
    assert_eq!(drawn[0].1.as_deref(), Some("n=3 seed=7 added=1"));
    let sample = app.storage.samples_of_week("2026-11-23").await.unwrap()[0].sample_id;
    for verdict in ["disagree", "agree"] {
        let r = boss
            .post_form(
                &format!("/supervision/quality/{sample}"),
                &[("verdict", verdict), ("week", "2026-11-23")],
            )
            .await;
        assert_eq!(r.status(), 303);
    }
    let verdicts = app
        .storage
        .audit_recent(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "quality.verdict_recorded" && a.subject_id == sample.to_string())
        .map(|a| (a.actor, a.before_state, a.after_state))
        .collect::<Vec<_>>();
    assert_eq!(
        verdicts,
        [
            (
                "staff:boss".to_owned(),
                Some("disagree".to_owned()),
                Some("agree".to_owned())
            ),
            ("staff:boss".to_owned(), None, Some("disagree".to_owned())),
        ]
    );
    // Signing out is recorded once; the session is gone.
    assert_eq!(boss.sign_out().await.status(), 303);
    assert_eq!(
        records(&app, "boss", "staff.signed_out").await,
        [("staff:boss".to_owned(), None)]
    );
    assert_ne!(boss.get("/supervision/quality").await.status(), 200);
}

/// The notes on the application's timeline.
async fn timeline_notes(app: &TestApp, id: &str) -> Vec<String> {
    let d = app.storage.review_detail(&aid(id)).await.unwrap().unwrap();
    d.events.into_iter().filter_map(|e| e.note).collect()
}

async fn printing_is_a_post_and_looking_records_nothing(b: Backend) {
    let app = TestApp::spawn_with(b, crate::fulfilment::with_sender).await;
    let (id, _) = crate::fulfilment::accepted(&app, 1).await;
    backoffice::desks::fulfilment::record_production(
        &app.storage,
        &[backoffice::desks::fulfilment::Production {
            application_id: aid(&id),
            certificate_serial: "0150512140479058A1".into(),
            medium_no: "UK1".into(),
        }],
        "staff:x",
        1,
    )
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
    let (bid, no) = (batch.batch_id, batch.batch_no.clone());
    let events = timeline_notes(&app, &id).await;
    let clerk = app.signed_in_staff("zhao.qiang", "fulfillment").await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    // Links, prefetches and a supervisor's look: the pages show, nothing is recorded.
    for who in [&clerk, &boss] {
        for what in ["labels", "packing"] {
            let page = who
                .get_page(&format!("/fulfilment/batches/{bid}/{what}"))
                .await;
            assert!(page.contains(&no), "{page}");
        }
    }
    assert_eq!(timeline_notes(&app, &id).await, events);
    assert!(records(&app, &no, "courier_batch.printed").await.is_empty());
    // The batch page prints by POST (the clerk's buttons), with the CSRF token.
    let page = clerk.get_page(&format!("/fulfilment/batches/{bid}")).await;
    assert!(
        page.contains(&format!(
            "method=\"post\" action=\"/fulfilment/batches/{bid}/labels\""
        )),
        "{page}"
    );
    let r = clerk
        .post_form(&format!("/fulfilment/batches/{bid}/labels"), &[])
        .await;
    assert_eq!(r.status(), 200);
    let labels = r.text().await.unwrap();
    assert_eq!(labels.matches("class=\"label\"").count(), 1, "{labels}");
    let r = clerk
        .post_form(&format!("/fulfilment/batches/{bid}/packing"), &[])
        .await;
    assert_eq!(r.status(), 200);
    let notes = timeline_notes(&app, &id).await;
    assert_eq!(notes.len(), events.len() + 2, "{notes:?}");
    assert!(
        notes.iter().any(|n| n.starts_with("面单已打印")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("装箱单已打印")),
        "{notes:?}"
    );
    let printed: Vec<Option<String>> = records(&app, &no, "courier_batch.printed")
        .await
        .into_iter()
        .map(|(_, after)| after)
        .collect();
    assert_eq!(
        printed,
        [
            Some("装箱单已打印".to_owned()),
            Some("面单已打印".to_owned())
        ]
    );
    // Printing is the clerk's: a supervisor may look but not record a print.
    let r = boss
        .post_form(&format!("/fulfilment/batches/{bid}/labels"), &[])
        .await;
    assert_eq!(r.status(), 403);
}

both!(
    every_scan_fetch_is_audited,
    quality_draws_verdicts_and_sign_out_are_audited,
    printing_is_a_post_and_looking_records_nothing,
);
