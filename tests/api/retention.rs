//! Retention with a pinned clock: personal data and scans of applications whose certificate
//! expired more than five years ago (by default) are removed and audited; a day short of it,
//! a still-referenced scan, and everything else are kept.

use crate::both;
use crate::helpers::*;
use backoffice::jobs::retention;
use serde_json::Value;

const DAY: i64 = 86_400_000;

/// A submission for one of the registry fixture's holders, its id_back scan given.
fn submission(n: u32, serial: &str, name: &str, id_number: &str, back: Vec<u8>) -> Submission {
    let mut v = example_json();
    v["hall_reference"] = format!("WT20261125000{n}").into();
    v["certificate_serial"] = serial.into();
    v["applicant"]["name"] = name.into();
    v["applicant"]["id_number"] = id_number.into();
    v["mailing_address"]["recipient"] = name.into();
    v["invoice"]["title"] = name.into();
    v["payment"]["out_trade_no"] = format!("SZCA20261125000{n}").into();
    Submission::with_json(v).set("id_back", "back.jpg", "image/jpeg", back)
}

/// Everything the review page reads of an application, as text.
async fn personal(app: &TestApp, id: &str) -> String {
    format!(
        "{:?}",
        app.storage.review_detail(&aid(id)).await.unwrap().unwrap()
    )
}

async fn registry(app: &TestApp, valid_to: [&str; 3]) {
    let csv = format!(
        "serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n\
0150512140479054C03,张三,resident_id,11010519491231002X,natural_person,2016-03-01,{},expired\n\
0150512140479054C04,李四,resident_id,44030519900101123X,natural_person,2016-03-01,{},expired\n\
0150512140479054C05,王五,hk_macau_permit,H12345678,natural_person,2016-03-01,{},expired\n",
        valid_to[0], valid_to[1], valid_to[2]
    );
    backoffice::exchange::certificates::import(&app.storage, csv.as_bytes(), "test", 0)
        .await
        .unwrap();
}

async fn retention_removes_only_what_is_past_it(b: Backend) {
    let app = TestApp::spawn(b).await;
    let shared = jpeg(b"the same back side");
    let mut ids = vec![];
    for (n, serial, name, idn) in [
        (1, "0150512140479054C03", "张三", "11010519491231002X"),
        (2, "0150512140479054C04", "李四", "44030519900101123X"),
    ] {
        // The first one's application form is a real PDF, its page rendered for the review page.
        let form = backoffice::demo::scans::form_pdf("Application form", &[name, idn]);
        let r = app
            .submit(
                &format!("k{n}"),
                submission(n, serial, name, idn, shared.clone())
                    .set("application_form", "form.pdf", "application/pdf", form)
                    .form(),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // A third, still waiting for review: never erased whatever its certificate.
    let r = app
        .submit(
            "k3",
            submission(
                3,
                "0150512140479054C03",
                "张三",
                "11010519491231002X",
                jpeg(b"c"),
            )
            .form(),
        )
        .await;
    assert_eq!(r.status(), 201);
    let waiting = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for id in &ids {
        app.verify_payment(id).await;
        app.staff_act(id, backoffice::domain::status::Action::Claim, &[])
            .await;
        app.staff_act(id, backoffice::domain::status::Action::Accept, &[])
            .await;
    }
    let form_of = |id: &str| {
        let (storage, id) = (app.storage.clone(), id.to_owned());
        async move {
            storage
                .scans(&aid(&id), 1)
                .await
                .unwrap()
                .into_iter()
                .find(|s| s.kind.code() == "application_form")
                .unwrap()
                .sha256
        }
    };
    let first_form = form_of(&ids[0]).await;
    let page = backoffice::desks::scan_pages::ensure(&app.storage, &app.state.scans, &first_form)
        .await
        .unwrap();
    let files = app.stored_scan_files();
    // Now (2026-11-25, Beijing): the first certificate expired 2021-11-24 — five years and a
    // day ago; the second 2021-11-25 — exactly five years: kept through today.
    registry(&app, ["2021-11-24", "2021-11-25", "2030-01-01"]).await;
    let audit_before = app.storage.audit_count().await.unwrap();
    let now = app.clock.now().timestamp_millis();
    let s = retention::run(&app.storage, &app.state.scans, 5, now)
        .await
        .unwrap();
    assert_eq!(s.applications, 1);
    // Four of its five scans go, and its PDF form's page image with it; the id_back it shares
    // with the second application stays.
    assert_eq!(s.scan_files, 5);
    assert_eq!(app.stored_scan_files(), files - 5);
    assert!(app.state.scans.get(&page[0]).await.is_err());
    let first = app
        .get_json(&format!("/api/v1/applications/{}", ids[0]))
        .await;
    assert_eq!(first["status"], "accepted", "the figures stay");
    let kept = app
        .get_json(&format!("/api/v1/applications/{}", ids[1]))
        .await;
    assert_eq!(kept["status"], "accepted");
    let (erased, untouched) = (personal(&app, &ids[0]).await, personal(&app, &ids[1]).await);
    assert!(
        !erased.contains("张三")
            && !erased.contains("11010519491231002X")
            && !erased.contains("13800138000")
            && !erased.contains("科技园路"),
        "{erased}"
    );
    assert!(erased.contains("已按保存期限删除"));
    // Its acceptance SMS, never sent, is parked without the number; the other one still waits.
    let parked = app.storage.sms_messages("parked", 10).await.unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert_eq!(
        parked[0].application_id.as_ref().map(|a| a.as_str()),
        Some(ids[0].as_str())
    );
    assert!(!parked[0].recipient.contains("138") && !parked[0].body_text.contains("WT"));
    assert_eq!(parked[0].last_error.as_deref(), Some("erased by retention"));
    let waiting_sms = app.storage.sms_messages("pending", 10).await.unwrap();
    assert!(waiting_sms.iter().all(|m| m.recipient == "13800138000"));
    assert!(untouched.contains("李四") && untouched.contains("44030519900101123X"));
    assert_eq!(app.audited(&ids[0], "retention.erased").await, 1);
    assert_eq!(app.audited(&ids[1], "retention.erased").await, 0);
    assert_eq!(app.audited(&waiting, "retention.erased").await, 0);
    // The audit trail keeps everything it had, plus the erasure.
    assert_eq!(app.storage.audit_count().await.unwrap(), audit_before + 1);
    // A supervisor opening the erased application is told so (410), not shown an error.
    let sup = app.signed_in_staff("sup.retention", "supervisor").await;
    let r = sup.get(&format!("/review/{}", ids[0])).await;
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("已按保存期限删除"));
    assert_eq!(sup.get(&format!("/review/{}", ids[1])).await.status(), 200);

    // Run again the same day: nothing more.
    let s = retention::run(&app.storage, &app.state.scans, 5, now)
        .await
        .unwrap();
    assert_eq!(s, retention::Summary::default());
    // A day later the second is past it too, and the shared scan goes with it, as does the page
    // image of its PDF form (rendered when the supervisor opened it above).
    let s = retention::run(&app.storage, &app.state.scans, 5, now + DAY)
        .await
        .unwrap();
    assert_eq!((s.applications, s.scan_files), (1, 6));
    // With ten years configured, nothing would have gone.
    let fresh = TestApp::spawn(b).await;
    let r = fresh
        .submit(
            "k1",
            submission(
                1,
                "0150512140479054C03",
                "张三",
                "11010519491231002X",
                jpeg(b"x"),
            )
            .form(),
        )
        .await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    fresh.verify_payment(&id).await;
    fresh
        .staff_act(&id, backoffice::domain::status::Action::Claim, &[])
        .await;
    fresh
        .staff_act(&id, backoffice::domain::status::Action::Accept, &[])
        .await;
    registry(&fresh, ["2018-01-01", "2030-01-01", "2030-01-01"]).await;
    let now = fresh.clock.now().timestamp_millis();
    let s = retention::run(&fresh.storage, &fresh.state.scans, 10, now)
        .await
        .unwrap();
    assert_eq!(s.applications, 0);
    let s = retention::run(&fresh.storage, &fresh.state.scans, 5, now)
        .await
        .unwrap();
    assert_eq!(s.applications, 1);
}

both!(retention_removes_only_what_is_past_it);
