//! Every error code of the intake contract, provoked; afterwards the database holds nothing new
//! and no scan file was written.

use crate::both;
use crate::helpers::*;
use backoffice::domain::scan::MAX_SCAN_BYTES;
use serde_json::{Value, json};

fn with(path: &[&str], v: Value) -> Submission {
    let mut body = example_json();
    let mut cur = &mut body;
    for k in &path[..path.len() - 1] {
        cur = cur.get_mut(*k).unwrap();
    }
    cur[path[path.len() - 1]] = v;
    Submission::with_json(body)
}

async fn bad_input_is_refused_and_changes_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let revoked = app
        .storage
        .create_api_token("old-hall", 0, "test")
        .await
        .unwrap();
    app.storage
        .revoke_api_tokens("old-hall", 0, "test")
        .await
        .unwrap();
    let before = app.storage.intake_footprint().await.unwrap();
    let ok = Submission::example();
    let post = |token: Option<&str>, key: Option<&str>| {
        let mut r = app.http.post(app.url("/api/v1/applications"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        r
    };

    // Authentication.
    let r = post(None, Some("k"))
        .multipart(ok.form())
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthorized", None).await;
    let r = post(Some("bo_not-a-token"), Some("k"))
        .multipart(ok.form())
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthorized", None).await;
    let r = post(Some(&revoked), Some("k"))
        .multipart(ok.form())
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthorized", None).await;

    // Headers and body shape.
    let r = post(Some(&app.token), None)
        .multipart(ok.form())
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_field", Some("Idempotency-Key")).await;
    let r = post(Some(&app.token), Some(&"k".repeat(65)))
        .multipart(ok.form())
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_field", Some("Idempotency-Key")).await;
    let r = post(Some(&app.token), Some("k"))
        .json(&example_json())
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_field", Some("body")).await;

    // Parts.
    let mut broken = Submission::example();
    broken.json = Some("{\"hall_reference\": \"WT1\",".into());
    assert_error(
        app.submit("k", broken.form()).await,
        400,
        "invalid_field",
        Some("application"),
    )
    .await;
    assert_error(
        app.submit("k", ok.clone().without("application").form())
            .await,
        400,
        "missing_part",
        Some("application"),
    )
    .await;
    assert_error(
        app.submit("k", ok.clone().without("id_back").form()).await,
        400,
        "missing_part",
        Some("id_back"),
    )
    .await;
    let unknown = ok.clone().set("selfie", "s.jpg", "image/jpeg", jpeg(b"x"));
    assert_error(
        app.submit("k", unknown.form()).await,
        400,
        "invalid_field",
        Some("selfie"),
    )
    .await;

    // Files: typed by content, never by name or declared type.
    let lying = ok.clone().set(
        "id_front",
        "front.jpg",
        "image/jpeg",
        b"MZ\x90\x00 this is a Windows program".to_vec(),
    );
    assert_error(
        app.submit("k", lying.form()).await,
        415,
        "unsupported_file_type",
        Some("id_front"),
    )
    .await;
    let text_as_pdf = ok.clone().set(
        "application_form",
        "form.pdf",
        "application/pdf",
        b"just some text".to_vec(),
    );
    assert_error(
        app.submit("k", text_as_pdf.form()).await,
        415,
        "unsupported_file_type",
        Some("application_form"),
    )
    .await;
    let empty = ok
        .clone()
        .set("eseal_form", "eseal.pdf", "application/pdf", vec![]);
    assert_error(
        app.submit("k", empty.form()).await,
        400,
        "invalid_field",
        Some("eseal_form"),
    )
    .await;
    let truncated = ok.clone().set(
        "id_back",
        "back.jpg",
        "image/jpeg",
        vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00],
    );
    assert_error(
        app.submit("k", truncated.form()).await,
        415,
        "unsupported_file_type",
        Some("id_back"),
    )
    .await;
    let mut big = jpeg(&[]);
    big.resize(MAX_SCAN_BYTES + 1, 0x55);
    let too_large = ok
        .clone()
        .set("liveness_photo", "face.jpg", "image/jpeg", big.clone());
    assert_error(
        app.submit("k", too_large.form()).await,
        413,
        "file_too_large",
        Some("liveness_photo"),
    )
    .await;
    // Exactly 2 MiB is still accepted by the size rule (it fails later, on the registry, here).
    big.truncate(MAX_SCAN_BYTES);
    let at_limit = with(&["certificate_serial"], json!("FFFF")).set(
        "liveness_photo",
        "face.jpg",
        "image/jpeg",
        big,
    );
    assert_error(
        app.submit("k", at_limit.form()).await,
        400,
        "invalid_field",
        Some("certificate_serial"),
    )
    .await;

    // Fields.
    let cases = [
        (
            with(&["applicant", "id_number"], json!("110105194912310021")),
            "applicant.id_number",
        ),
        (
            with(&["applicant", "id_number"], json!("110105194902300028")),
            "applicant.id_number",
        ),
        (
            with(&["applicant", "id_type"], json!("passport")),
            "applicant.id_type",
        ),
        (
            with(&["applicant", "mobile"], json!("12800138000")),
            "applicant.mobile",
        ),
        (
            with(&["applicant", "email"], json!("zhangsan@")),
            "applicant.email",
        ),
        (
            with(&["invoice", "tax_id"], json!("91350100M000100Y44")),
            "invoice.tax_id",
        ),
        (
            with(&["payment", "channel"], json!("unionpay")),
            "payment.channel",
        ),
        (
            with(&["payment", "amount_fen"], json!("200.00")),
            "payment.amount_fen",
        ),
        (
            with(&["submitted_at"], json!("2026-11-25T10:12:00+08:00")),
            "submitted_at",
        ),
        (
            with(&["submitted_at"], json!("2026-10-25T10:05:00+08:00")),
            "submitted_at",
        ),
        (
            with(&["consents", "sensitive_pi_authorization"], json!(false)),
            "consents.sensitive_pi_authorization",
        ),
        (with(&["hall_reference"], json!("WT 1")), "hall_reference"),
        // Well-formed, but not in the registry, or someone else's certificate.
        (
            with(&["certificate_serial"], json!("0150512140479054FFF")),
            "certificate_serial",
        ),
        (
            with(&["certificate_serial"], json!("0150512140479054C04")),
            "certificate_serial",
        ),
    ];
    for (sub, field) in cases {
        assert_error(
            app.submit("k", sub.form()).await,
            400,
            "invalid_field",
            Some(field),
        )
        .await;
    }

    // Nothing was stored: no rows, no audit records, no scan files.
    assert_eq!(app.storage.intake_footprint().await.unwrap(), before);
    assert_eq!(app.stored_scan_files(), 0);
    // And the key "k" was never consumed: the good request now succeeds with it.
    assert_eq!(app.submit("k", ok.form()).await.status(), 201);
}

/// After one good submission: every refusal that comes later (conflicts, wrong state, unknown
/// id, no token) leaves the database and the scan store as they were.
async fn refusals_after_a_submission_change_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sub = Submission::example();
    let id = app
        .submit("k-1", sub.form())
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = (
        app.storage.intake_footprint().await.unwrap(),
        app.stored_scan_files(),
    );

    let new_scan = |s: &Submission, tag: &str| {
        s.clone()
            .set("id_front", "f.jpg", "image/jpeg", jpeg(tag.as_bytes()))
    };
    assert_error(
        app.submit("k-1", new_scan(&sub, "conflict").form()).await,
        409,
        "idempotency_conflict",
        None,
    )
    .await;
    assert_error(
        app.submit("k-2", new_scan(&sub, "duplicate").form()).await,
        409,
        "duplicate_hall_reference",
        Some("hall_reference"),
    )
    .await;
    let resub = Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"too early"));
    assert_error(
        app.resubmit(&id, "r-1", resub.form()).await,
        409,
        "invalid_state",
        None,
    )
    .await;
    assert_error(
        app.resubmit("BF20261125-0000AA", "r-2", resub.form()).await,
        404,
        "not_found",
        None,
    )
    .await;
    assert_error(
        app.resubmit(&id, "r-3", Submission::empty().form()).await,
        400,
        "invalid_field",
        Some("body"),
    )
    .await;
    let r = app
        .http
        .put(app.url(&format!("/api/v1/applications/{id}/resubmission")))
        .bearer_auth(&app.token)
        .multipart(resub.form())
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_field", Some("Idempotency-Key")).await;
    for path in [
        format!("/api/v1/applications/{id}"),
        "/api/v1/applications?hall_reference=WT202611250001".into(),
        "/api/v1/certificates/0150512140479054C03?id_number=11010519491231002X".into(),
    ] {
        assert_error(
            app.http.get(app.url(&path)).send().await.unwrap(),
            401,
            "unauthorized",
            None,
        )
        .await;
    }
    assert_eq!(
        (
            app.storage.intake_footprint().await.unwrap(),
            app.stored_scan_files()
        ),
        before
    );

    // A retry long after (outside the 30-day window for submitted_at) is still answered from
    // its record, not checked again.
    app.clock.set(test_now() + chrono::Duration::days(40));
    assert_eq!(app.submit("k-1", sub.form()).await.status(), 200);
}

/// PNG, GIF and BMP are accepted by content; a key may hold spaces (printable ASCII).
async fn every_allowed_type_and_key_shape_is_accepted(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    png.extend_from_slice(&[
        0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
    ]);
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let sub = Submission::example()
        .set("id_front", "front.png", "image/png", png)
        .set("id_back", "back.gif", "image/gif", gif)
        .set(
            "liveness_photo",
            "face.bmp",
            "image/bmp",
            backoffice::demo::scans::liveness_photo(1),
        );
    let r = app.submit("hall retry 7 / 2026-11-25", sub.form()).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let types: Vec<_> = app
        .storage
        .scans(&aid(&id), 1)
        .await
        .unwrap()
        .iter()
        .map(|s| s.media_type.mime())
        .collect();
    assert_eq!(
        types,
        [
            "application/pdf",
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/bmp"
        ]
    );
}

both!(
    bad_input_is_refused_and_changes_nothing,
    refusals_after_a_submission_change_nothing,
    every_allowed_type_and_key_shape_is_accepted,
);
