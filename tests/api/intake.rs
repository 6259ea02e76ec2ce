//! The hall's happy paths: submit, read the status, replay, resubmit, look up a certificate.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::Action;
use serde_json::{Value, json};

async fn submit_then_read_status(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app.submit("k-1", Submission::example().form()).await;
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "submitted");
    // Wednesday 25 Nov 2026 → Thu, Fri, Mon: 18:00 on Monday 30 Nov.
    assert_eq!(body["review_due_at"], "2026-11-30T18:00:00+08:00");
    let id = body["id"].as_str().unwrap();

    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(status["hall_reference"], "WT202611250001");
    assert_eq!(status["status"], "submitted");
    assert_eq!(status["status_label"], "已提交，等待审核");
    assert_eq!(status["version"], 1);
    assert_eq!(status["shipment"], Value::Null);
    assert_eq!(status["history"][0]["status"], "submitted");
    assert_eq!(status["history"][0]["at"], "2026-11-25T10:06:00+08:00");

    let by_ref = app
        .get_json("/api/v1/applications?hall_reference=WT202611250001")
        .await;
    assert_eq!(by_ref, status);
    assert_error(
        app.get("/api/v1/applications?hall_reference=WT-NOPE").await,
        404,
        "not_found",
        None,
    )
    .await;
    assert_error(
        app.get("/api/v1/applications/BF20261125-0000AA").await,
        404,
        "not_found",
        None,
    )
    .await;

    // The submission wrote its audit record in the same transaction, with the request id.
    let audit = app.storage.audit_recent(10).await.unwrap();
    let rec = audit
        .iter()
        .find(|a| a.action == "application.submitted")
        .unwrap();
    assert_eq!(rec.subject_id, id);
    assert_eq!(rec.actor, "api:online-hall");
    assert!(rec.request_id.as_deref().is_some_and(|r| !r.is_empty()));
    // All five scans are in the store, readable and verified by hash.
    let scans = app.storage.scans(&aid(id), 1).await.unwrap();
    assert_eq!(scans.len(), 5);
    for s in &scans {
        assert_eq!(
            app.state.scans.get(&s.sha256).await.unwrap().len() as i64,
            s.size_bytes
        );
    }
}

async fn same_key_replays_and_other_keys_conflict(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sub = Submission::example();
    let first = app.submit("k-1", sub.form()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app.submit("k-1", sub.form()).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    // The same key with another body: the JSON differs, or only a scan does.
    let mut other = sub.json_value();
    other["applicant"]["email"] = json!("other@example.com");
    assert_error(
        app.submit("k-1", Submission::with_json(other).form()).await,
        409,
        "idempotency_conflict",
        Some("Idempotency-Key"),
    )
    .await;
    let other_scan = sub.clone().set(
        "id_front",
        "front.jpg",
        "image/jpeg",
        jpeg(b"another photo"),
    );
    assert_error(
        app.submit("k-1", other_scan.form()).await,
        409,
        "idempotency_conflict",
        None,
    )
    .await;
    // A new key for a hall reference we have.
    assert_error(
        app.submit("k-2", sub.form()).await,
        409,
        "duplicate_hall_reference",
        Some("hall_reference"),
    )
    .await;
    assert_eq!(app.storage.application_count().await.unwrap(), 1);
}

async fn twenty_concurrent_duplicates_make_one_application(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sub = Submission::example();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, url, token, form) = (
            app.http.clone(),
            app.url("/api/v1/applications"),
            app.token.clone(),
            sub.form(),
        );
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "same-key")
                .multipart(form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert!(status == 201 || status == 200, "{status} {body}");
        created += usize::from(status == 201);
        ids.insert(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1);
    assert_eq!(app.storage.application_count().await.unwrap(), 1);
}

async fn returned_application_is_resubmitted_as_version_two(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let v1 = app.storage.scans(&aid(&id), 1).await.unwrap();
    // Not returned yet: a resubmission is refused.
    let early = Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"clearer photo"));
    assert_error(
        app.resubmit(&id, "r-0", early.form()).await,
        409,
        "invalid_state",
        None,
    )
    .await;

    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(
        &id,
        Action::Return,
        &[("id_front_blurred", "身份证人像面照片模糊，请重新拍摄上传")],
    )
    .await;
    let returned = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["status_label"], "需修改后重新提交");
    assert_eq!(
        returned["return_reasons"],
        json!([{"code": "id_front_blurred", "text": "身份证人像面照片模糊，请重新拍摄上传"}])
    );

    // Friday 27 Nov 09:00: the new window runs Mon, Tue, Wed → 2 Dec 18:00.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-27T09:00:00+08:00")
            .unwrap()
            .into(),
    );
    let new_front = jpeg(b"clearer photo");
    let sub = Submission::empty().set("id_front", "f.jpg", "image/jpeg", new_front.clone());
    let r = app.resubmit(&id, "r-1", sub.form()).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": id, "status": "submitted", "version": 2, "review_due_at": "2026-12-02T18:00:00+08:00"})
    );
    // Replayed with the same key: the same answer, no version 3.
    let again = app.resubmit(&id, "r-1", sub.form()).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), body);

    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(status["version"], 2);
    assert_eq!(status["return_reasons"], json!([]));
    let history: Vec<_> = status["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["submitted", "in_review", "returned", "submitted"]);
    // Version 2 has the new ID front and keeps the other four; version 1 is kept as it was.
    let v2 = app.storage.scans(&aid(&id), 2).await.unwrap();
    assert_eq!(app.storage.scans(&aid(&id), 1).await.unwrap(), v1);
    for (a, b) in v1.iter().zip(&v2) {
        assert_eq!(a.kind, b.kind);
        if a.kind.code() == "id_front" {
            assert_ne!(a.sha256, b.sha256);
            assert_eq!(app.state.scans.get(&b.sha256).await.unwrap(), new_front);
        } else {
            assert_eq!(a.sha256, b.sha256);
        }
    }
    // A changed hall_reference in a new application part is refused.
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(&id, Action::Return, &[("x", "y")]).await;
    let mut j = example_json();
    j["hall_reference"] = json!("WT-OTHER");
    assert_error(
        app.resubmit(&id, "r-2", Submission::with_json(j).form())
            .await,
        400,
        "invalid_field",
        Some("hall_reference"),
    )
    .await;
    assert_error(
        app.resubmit("BF20261125-0000AA", "r-3", Submission::example().form())
            .await,
        404,
        "not_found",
        None,
    )
    .await;
}

async fn certificate_look_up_masks_and_does_not_leak(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ok = app
        .get_json("/api/v1/certificates/0150512140479054c03?id_number=11010519491231002x")
        .await;
    assert_eq!(
        ok,
        json!({"serial": "0150512140479054C03", "type": "natural_person", "holder_name_masked": "张*",
               "valid_from": "2024-03-01", "valid_to": "2027-03-01", "status": "valid"})
    );
    // Someone else's serial and an unknown serial get the same answer.
    let theirs = app
        .get("/api/v1/certificates/0150512140479054C04?id_number=11010519491231002X")
        .await;
    let unknown = app
        .get("/api/v1/certificates/FFFF?id_number=11010519491231002X")
        .await;
    let (a, b2) = (theirs.status(), unknown.status());
    let (ta, tb) = (theirs.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!((a.as_u16(), b2.as_u16()), (404, 404));
    assert_eq!(ta, tb);
    assert_error(
        app.get("/api/v1/certificates/0150512140479054C03").await,
        404,
        "not_found",
        None,
    )
    .await;
}

async fn health_and_unknown_routes(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    // A request id the caller sends comes back.
    let r = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "hall-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "hall-trace-42");
    assert_error(
        app.get("/api/v1/nothing-here").await,
        404,
        "not_found",
        None,
    )
    .await;
    let r = app
        .http
        .delete(app.url("/api/v1/applications"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    // A method the route does not serve: 405 with Allow (api_contract.rs checks the header).
    assert_error(r, 405, "method_not_allowed", None).await;
}

both!(
    submit_then_read_status,
    same_key_replays_and_other_keys_conflict,
    twenty_concurrent_duplicates_make_one_application,
    returned_application_is_resubmitted_as_version_two,
    certificate_look_up_masks_and_does_not_leak,
    health_and_unknown_routes,
);
