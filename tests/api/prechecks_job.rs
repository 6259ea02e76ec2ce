//! The pre-check job on both databases: queued by intake (the request does not wait for it),
//! claimed under a lease so a version is checked exactly once even when a worker dies or two run
//! at once, a reused photo found across two applications, and a resubmission checked again.

use crate::both;
use crate::corpus::{self, Damage, Person};
use crate::helpers::*;
use backoffice::domain::status::Action;
use backoffice::jobs::prechecks::{LEASE_MS, run_all, run_pending};
use backoffice::storage::prechecks::FindingRow;

/// The contract example's applicant, as the corpus draws them.
fn zhang_san() -> Person {
    Person {
        name: "张三".into(),
        id_number: "11010519491231002X".into(),
        ..corpus::person(1)
    }
}

/// The example submission with real scans: the card of `card`, a form signed or not, a photo.
fn submission(reference: &str, card: &Person, signed: bool, photo: Vec<u8>) -> Submission {
    let mut j = example_json();
    j["hall_reference"] = reference.into();
    j["payment"]["out_trade_no"] = format!("T{reference}").into();
    let jpg = |img: &image::RgbImage| corpus::encode(img, Damage::None);
    Submission::with_json(j)
        .set(
            "id_front",
            "front.jpg",
            "image/jpeg",
            jpg(&corpus::id_front(card, 5)),
        )
        .set(
            "id_back",
            "back.jpg",
            "image/jpeg",
            jpg(&corpus::id_back(card)),
        )
        .set(
            "application_form",
            "form.jpg",
            "image/jpeg",
            jpg(&corpus::form(card, signed, 1)),
        )
        .set("liveness_photo", "face.jpg", "image/jpeg", photo)
}

fn finding<'a>(rows: &'a [FindingRow], kind: &str, check: &str) -> &'a FindingRow {
    rows.iter()
        .find(|r| r.kind == kind && r.check_name == check)
        .unwrap_or_else(|| panic!("no {kind}/{check} finding in {rows:#?}"))
}

async fn submit(app: &TestApp, sub: Submission) -> String {
    let r = app
        .submit(&uuid::Uuid::new_v4().to_string(), sub.form())
        .await;
    assert_eq!(r.status(), 201);
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn prechecks_run_after_intake_exactly_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, scans) = (&app.storage, &app.state.scans);
    let now = app.clock.now().timestamp_millis();
    let photo = corpus::encode(&corpus::liveness_photo(5), Damage::None);
    let id = submit(&app, submission("HR-PC-1", &zhang_san(), false, photo)).await;
    // Queued by intake, not run in the request.
    assert_eq!(
        s.precheck_status(&aid(&id), 1).await.unwrap().as_deref(),
        Some("pending")
    );
    assert!(s.findings_of(&aid(&id), 1).await.unwrap().is_empty());

    // A worker claims the version and dies: nobody else takes it while its lease runs…
    let dead = s
        .claim_prechecks(now, now + LEASE_MS, "dead-worker", 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(run_pending(s, scans, now + 1000, 10).await.unwrap(), 0);
    // …then two workers (as after a restart, on two instances) race for it: one stores it.
    let later = now + LEASE_MS + 1;
    let (a, b2) = tokio::join!(
        run_pending(s, scans, later, 10),
        run_pending(s, scans, later, 10)
    );
    assert_eq!(a.unwrap() + b2.unwrap(), 1);
    // The dead worker waking up cannot store its findings over them.
    assert!(
        !s.finish_precheck(&dead[0], "dead-worker", &[], &[], later)
            .await
            .unwrap()
    );
    assert_eq!(run_all(s, scans, later + LEASE_MS * 2).await.unwrap(), 0);
    assert_eq!(
        s.precheck_status(&aid(&id), 1).await.unwrap().as_deref(),
        Some("done")
    );
    assert_eq!(
        app.audited(&format!("{id}/1"), "application.prechecked")
            .await,
        1
    );

    let rows = s.findings_of(&aid(&id), 1).await.unwrap();
    let number = finding(&rows, "id_front", "id_number");
    assert_eq!((number.outcome.as_str(), number.flagged), ("match", false));
    assert!(number.region.is_some());
    assert_eq!(finding(&rows, "id_front", "name").outcome, "match");
    let sig = finding(&rows, "application_form", "signature_blank");
    assert_eq!((sig.outcome.as_str(), sig.flagged), ("blank", true));
    let back = finding(&rows, "id_back", "valid_until");
    assert_eq!(
        back.detail.as_deref(),
        zhang_san()
            .valid_until
            .map(|d| d.to_string())
            .as_deref()
            .or(Some("long_term"))
    );
    for kind in ["id_front", "id_back", "application_form", "liveness_photo"] {
        assert!(!finding(&rows, kind, "blurred").flagged, "{kind}");
        assert!(!finding(&rows, kind, "reused_photo").flagged, "{kind}");
    }
    // The e-seal form of the example is not an image this check reads: said so, not failed.
    assert!(finding(&rows, "eseal_form", "unreadable_file").flagged);

    // Typed data that differs from the card: a mismatch, with what was read.
    let other = Person {
        name: "李四".into(),
        id_number: "44030519900101123X".into(),
        ..zhang_san()
    };
    let photo = corpus::encode(&corpus::liveness_photo(6), Damage::None);
    let id2 = submit(&app, submission("HR-PC-2", &other, true, photo)).await;
    let _ = id2;
    assert_eq!(run_all(s, scans, later).await.unwrap(), 1);
    let rows = s.findings_of(&aid(&id2), 1).await.unwrap();
    let number = finding(&rows, "id_front", "id_number");
    assert_eq!(
        (number.outcome.as_str(), number.flagged),
        ("mismatch", true)
    );
    assert_eq!(number.detail.as_deref(), Some("44030519900101123X"));
    assert_eq!(
        finding(&rows, "application_form", "signature_blank").outcome,
        "signed"
    );
}

async fn a_reused_photo_is_found_across_two_applications(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, scans) = (&app.storage, &app.state.scans);
    let now = app.clock.now().timestamp_millis();
    let face = corpus::liveness_photo(11);
    let first = submit(
        &app,
        submission(
            "HR-RU-1",
            &zhang_san(),
            true,
            corpus::encode(&face, Damage::None),
        ),
    )
    .await;
    assert_eq!(run_all(s, scans, now).await.unwrap(), 1);
    // The same face again, re-encoded as PNG (another SHA-256), on another application.
    let second = submit(
        &app,
        submission("HR-RU-2", &zhang_san(), true, corpus::png(&face)),
    )
    .await;
    let third = submit(
        &app,
        submission(
            "HR-RU-3",
            &zhang_san(),
            true,
            corpus::encode(&corpus::liveness_photo(12), Damage::None),
        ),
    )
    .await;
    assert_eq!(run_all(s, scans, now).await.unwrap(), 2);
    let rows = s.findings_of(&aid(&second), 1).await.unwrap();
    let reused = finding(&rows, "liveness_photo", "reused_photo");
    assert!(reused.flagged);
    assert_eq!(reused.detail.as_deref(), Some(first.as_str()));
    let rows = s.findings_of(&aid(&third), 1).await.unwrap();
    assert!(!finding(&rows, "liveness_photo", "reused_photo").flagged);
}

async fn a_resubmission_is_prechecked_again(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, scans) = (&app.storage, &app.state.scans);
    let now = app.clock.now().timestamp_millis();
    let photo = corpus::encode(&corpus::liveness_photo(21), Damage::None);
    let id = submit(&app, submission("HR-RS-1", &zhang_san(), false, photo)).await;
    assert_eq!(run_all(s, scans, now).await.unwrap(), 1);
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(
        &id,
        Action::Return,
        &[("id_front_blurred", "身份证人像面照片模糊，请重新拍摄上传")],
    )
    .await;
    let signed = corpus::encode(&corpus::form(&zhang_san(), true, 1), Damage::None);
    let sub = Submission::empty().set("application_form", "form.jpg", "image/jpeg", signed);
    assert_eq!(app.resubmit(&id, "rs-1", sub.form()).await.status(), 200);
    assert_eq!(
        s.precheck_status(&aid(&id), 2).await.unwrap().as_deref(),
        Some("pending")
    );
    assert_eq!(run_all(s, scans, now).await.unwrap(), 1);
    let v1 = s.findings_of(&aid(&id), 1).await.unwrap();
    let v2 = s.findings_of(&aid(&id), 2).await.unwrap();
    assert_eq!(
        finding(&v1, "application_form", "signature_blank").outcome,
        "blank"
    );
    assert_eq!(
        finding(&v2, "application_form", "signature_blank").outcome,
        "signed"
    );
    // The scans carried over are checked again with the version, and are not "reused" from itself.
    assert_eq!(finding(&v2, "id_front", "id_number").outcome, "match");
    assert!(!finding(&v2, "liveness_photo", "reused_photo").flagged);
}

both!(
    prechecks_run_after_intake_exactly_once,
    a_reused_photo_is_found_across_two_applications,
    a_resubmission_is_prechecked_again,
);

/// The review page shows each scan's findings (the region read outlined, a turned card shown
/// upright), the queue filters on findings, reviewers judge them and supervisors see precision.
async fn reviewers_see_and_judge_the_findings(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, scans) = (&app.storage, &app.state.scans);
    let now = app.clock.now().timestamp_millis();
    // Li Si's card, turned a quarter clockwise, on Zhang San's typed data.
    let li_si = Person {
        name: "李四".into(),
        id_number: "44030519900101123X".into(),
        ..zhang_san()
    };
    let turned = corpus::damage(&corpus::id_front(&li_si, 3), Damage::Turned(90));
    let photo = corpus::encode(&corpus::liveness_photo(31), Damage::None);
    let id = submit(
        &app,
        submission("HR-PG-1", &li_si, true, photo).set(
            "id_front",
            "front.jpg",
            "image/jpeg",
            corpus::encode(&turned, Damage::None),
        ),
    )
    .await;
    let reviewer = app.signed_in_staff("li.jing", "reviewer").await;
    let page = reviewer.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("机审尚未完成"));
    assert!(!reviewer.get_page("/review?findings=1").await.contains(&id));

    assert_eq!(run_all(s, scans, now).await.unwrap(), 1);
    assert!(reviewer.get_page("/review?findings=1").await.contains(&id));
    let page = reviewer.get_page(&format!("/review/{id}")).await;
    assert!(!page.contains("机审尚未完成"));
    assert!(
        page.contains(r#"data-kind="id_front" data-rot="270""#),
        "shown upright"
    );
    assert!(page.contains("frame rot-270"));
    assert!(page.contains("证件号码不一致，识别为 44030519900101123X"));
    assert!(page.contains("姓名不一致，识别为 李四"));
    assert!(
        page.contains("<rect class=\"region flagged\""),
        "the number read is outlined"
    );

    // Verdicts: the number's hint was right, the name's (say) a false alarm.
    for (check, verdict) in [("id_number", "confirmed"), ("name", "dismissed")] {
        let r = reviewer
            .post_form(
                &format!("/review/{id}/findings"),
                &[
                    ("version", "1"),
                    ("kind", "id_front"),
                    ("check", check),
                    ("verdict", verdict),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{check}");
    }
    // A check that flagged nothing cannot be judged; nothing changes.
    let r = reviewer
        .post_form(
            &format!("/review/{id}/findings"),
            &[
                ("version", "1"),
                ("kind", "id_front"),
                ("check", "blurred"),
                ("verdict", "confirmed"),
            ],
        )
        .await;
    assert_eq!(r.status(), 404);
    let page = reviewer.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("已确认属实") && page.contains("已标为误报"));
    assert_eq!(
        app.audited(&format!("{id}/1/id_front/id_number"), "precheck.verdict")
            .await,
        1
    );

    let supervisor = app.signed_in_staff("zhao.min", "supervisor").await;
    let precision = supervisor.get_page("/supervision/prechecks").await;
    let row = |check: &str| {
        let at = precision.find(&format!(r#"data-check="{check}""#)).unwrap();
        precision[at..at + precision[at..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row("id_number").contains("100.0%"));
    assert!(row("name").contains("0.0%"));
}

both!(reviewers_see_and_judge_the_findings);
