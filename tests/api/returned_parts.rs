//! Returns by part (issue 22, item 2), over HTTP: the reviewer returns with a part per reason
//! (the catalogue's default preselected, another picked), the hall's status lists exactly the
//! parts to redo, a resubmission leaving one as it was is `422` naming it and changes nothing, a
//! resubmission that fixes them is accepted and the reviewer sees per part what came back;
//! general reasons do not constrain; the admin edits a reason's default part. And the races:
//! two returns at once (one set of parts), two resubmissions at once (the fixing one wins).

use crate::both;
use crate::helpers::*;
use crate::review_concurrency::overlapping_in_act;
use serde_json::{Value, json};

/// The text the applicant sees for a reason, as the catalogue has it.
async fn text_of(app: &TestApp, code: &str) -> String {
    app.storage
        .return_reasons(false)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("no reason {code}"))
        .text_shown
}

/// Claims the application and returns the page the reviewer lands on.
async fn claimed(b: &StaffBrowser, id: &str) -> String {
    let page = b.get_page(&format!("/review/{id}")).await;
    let r = b
        .post_form(
            &format!("/review/{id}/claim"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=claimed"));
    b.follow(r).await
}

/// Posts the return form of `page` with these fields (and the row version the page shows).
async fn send_back(
    b: &StaffBrowser,
    id: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let rv = hidden_field(page, "row_version").unwrap();
    let mut all = vec![("row_version", rv.as_str())];
    all.extend_from_slice(fields);
    b.post_form(&format!("/review/{id}/return"), &all).await
}

/// The example application's scans as first sent (`Submission::example`).
fn first(part: &str) -> Vec<u8> {
    Submission::example()
        .files
        .into_iter()
        .find(|f| f.0 == part)
        .unwrap()
        .3
}

fn new_form() -> (&'static str, &'static str, &'static str, Vec<u8>) {
    (
        "application_form",
        "form.pdf",
        "application/pdf",
        pdf("form, signed this time"),
    )
}

fn resubmission(json: Option<Value>, files: Vec<(&str, &str, &str, Vec<u8>)>) -> Submission {
    let mut s = Submission {
        json: json.map(|j| j.to_string()),
        files: vec![],
    };
    for (part, name, mime, bytes) in files {
        s = s.set(part, name, mime, bytes);
    }
    s
}

/// A refused resubmission: 422 `returned_part_unchanged`, `field` the first part's name and
/// `parts` every one, and nothing stored.
async fn refused_for(app: &TestApp, id: &str, key: &str, sub: Submission, parts: &[&str]) {
    let before = app.storage.intake_footprint().await.unwrap();
    let files = app.stored_scan_files();
    let r = app.resubmit(id, key, sub.form()).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "returned_part_unchanged", "{body}");
    let first = parts[0].split_once(':').unwrap().1;
    assert_eq!(body["error"]["field"], first, "{body}");
    assert_eq!(body["error"]["parts"], json!(parts), "{body}");
    for p in parts {
        assert!(body["error"]["message"].as_str().unwrap().contains(p));
    }
    assert_eq!(app.storage.intake_footprint().await.unwrap(), before);
    assert_eq!(app.stored_scan_files(), files, "no scan stored");
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(
        (status["status"].as_str(), status["version"].as_i64()),
        (Some("returned"), Some(1))
    );
}

async fn scans_returned_by_part_and_fixed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let page = claimed(&rev, &id).await;
    // Each reason has a part select, labelled, with the catalogue's default chosen.
    assert!(page.contains(r#"<option value="form_unsigned=scan:application_form" selected>"#));
    assert!(page.contains(r#"<option value="id_front_unclear=scan:id_front" selected>"#));
    assert!(page.contains(r#"<option value="other=" selected>"#));
    assert!(page.contains("aria-label=\"退回部位："));

    // Form unsigned (its default part), the front's reason moved to the back by the reviewer,
    // and a general "other".
    let r = send_back(
        &rev,
        &id,
        &page,
        &[
            ("reasons", "form_unsigned"),
            ("reasons", "id_front_unclear"),
            ("reasons", "other"),
            ("parts", "form_unsigned=scan:application_form"),
            ("parts", "id_front_unclear=scan:id_back"),
            ("parts", "other="),
            ("note", "国徽面模糊"),
        ],
    )
    .await;
    assert_eq!(location(&r), "/review?msg=returned");
    let (unsigned, unclear, other) = (
        text_of(&app, "form_unsigned").await,
        text_of(&app, "id_front_unclear").await,
        text_of(&app, "other").await,
    );
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(
        status["returned_parts"],
        json!([
            {"part": "scan:application_form", "reasons": [{"code": "form_unsigned", "text": unsigned}]},
            {"part": "scan:id_back", "reasons": [{"code": "id_front_unclear", "text": unclear}]},
        ])
    );
    assert_eq!(status["return_reasons"].as_array().unwrap().len(), 3);
    assert_eq!(
        status["return_reasons"][2],
        json!({"code": "other", "text": other})
    );

    // Nothing of the returned parts sent: both named. Only the form: the back named. The back
    // again, byte for byte: the same.
    refused_for(
        &app,
        &id,
        "r-1",
        resubmission(Some(example_json()), vec![]),
        &["scan:application_form", "scan:id_back"],
    )
    .await;
    refused_for(
        &app,
        &id,
        "r-2",
        resubmission(None, vec![new_form()]),
        &["scan:id_back"],
    )
    .await;
    let same_back = ("id_back", "again.jpg", "image/jpeg", first("id_back"));
    refused_for(
        &app,
        &id,
        "r-3",
        resubmission(None, vec![new_form(), same_back]),
        &["scan:id_back"],
    )
    .await;

    // Both changed (and the key of a refused request is still free): accepted.
    let new_back = (
        "id_back",
        "back.jpg",
        "image/jpeg",
        jpeg(b"a sharp emblem side"),
    );
    let r = app
        .resubmit(
            &id,
            "r-3",
            resubmission(None, vec![new_form(), new_back]).form(),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(status["returned_parts"], json!([]));

    // The reviewer sees, per returned part, the reasons and the scan before and after.
    let page = rev.get_page(&format!("/review/{id}")).await;
    let table = between(&page, "id=\"returned-parts\"", "</table>");
    assert_eq!(
        table.matches("<tr class=\"changed\" data-part=").count(),
        2,
        "{table}"
    );
    for (part, reason) in [
        ("scan:application_form", &unsigned),
        ("scan:id_back", &unclear),
    ] {
        let row = between(table, &format!("data-part=\"{part}\""), "</tr>");
        assert!(row.contains(reason.as_str()), "{row}");
        let kind = part.trim_start_matches("scan:");
        assert!(row.contains(&format!("/review/{id}?compare=1")), "{row}");
        assert!(
            row.contains(&format!("/review/{id}/scans/2/{kind}")),
            "{row}"
        );
        assert!(row.contains("已更改"), "{row}");
    }
    assert!(!table.contains(&other), "a general reason has no row");
    assert_eq!(app.audited(&id, "application.resubmitted").await, 1);
}

async fn field_parts_and_general_reasons(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let page = claimed(&rev, &id).await;
    // The address by its default part; the name's reason made general by the reviewer.
    let r = send_back(
        &rev,
        &id,
        &page,
        &[
            ("reasons", "address_incomplete"),
            ("reasons", "name_mismatch"),
            ("parts", "name_mismatch="),
        ],
    )
    .await;
    assert_eq!(location(&r), "/review?msg=returned");
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    let address = text_of(&app, "address_incomplete").await;
    assert_eq!(
        status["returned_parts"],
        json!([{"part": "field:mailing_address", "reasons": [{"code": "address_incomplete", "text": address}]}])
    );

    // Scans only (the body carries over): the address is unchanged. A body with another
    // e-mail but the same address: still unchanged.
    let face = (
        "liveness_photo",
        "face.jpg",
        "image/jpeg",
        jpeg(b"another face"),
    );
    refused_for(
        &app,
        &id,
        "f-1",
        resubmission(None, vec![face]),
        &["field:mailing_address"],
    )
    .await;
    let mut j = example_json();
    j["applicant"]["email"] = json!("zhang.san@example.net");
    refused_for(
        &app,
        &id,
        "f-2",
        resubmission(Some(j.clone()), vec![]),
        &["field:mailing_address"],
    )
    .await;

    // One field of the address changed: the part changed; the name (general) may stay.
    j["mailing_address"]["detail"] = json!("科技园路1号A栋302室");
    let r = app
        .resubmit(&id, "f-3", resubmission(Some(j), vec![]).form())
        .await;
    assert_eq!(r.status(), 200);
    let page = rev.get_page(&format!("/review/{id}")).await;
    let row = between(&page, "data-part=\"field:mailing_address\"", "</tr>");
    assert!(row.contains(&address), "{row}");
    assert!(
        row.contains("<del class=\"before\">")
            && row.contains("南山区 · 科技园路1号 · 518000</del>"),
        "{row}"
    );
    assert!(row.contains("科技园路1号A栋302室"), "{row}");
    assert_eq!(
        page.matches("data-part=").count(),
        1,
        "the general reason has no row"
    );

    // A form naming a part that is not one is refused and returns nothing.
    let id2 = submit_numbered(&app, 2).await;
    let page = claimed(&rev, &id2).await;
    let r = send_back(
        &rev,
        &id2,
        &page,
        &[
            ("reasons", "address_incomplete"),
            ("parts", "address_incomplete=field:payment"),
        ],
    )
    .await;
    assert_eq!(location(&r), format!("/review/{id2}?msg=bad_part"));
    assert!(rev.follow(r).await.contains("所选退回部位无效"));
    assert_eq!(app.history(&id2).await, ["submitted", "in_review"]);
}

/// The admin sets a reason's default part; the return form preselects it, a return without a
/// pick takes it, and the resubmission must change it.
async fn catalogue_default_part(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in_staff("boss", "admin").await;
    let page = admin.get_page("/admin/reasons").await;
    assert!(page.contains("aria-label=\"默认部位 form_unsigned\""));
    assert!(page.contains(r#"<option value="scan:application_form" selected>"#));
    // A part that is not one is named and saves nothing.
    let r = admin
        .post_form(
            "/admin/reasons",
            &[
                ("code", "mobile_wrong"),
                ("text_shown", "手机号无法接通，请核对"),
                ("default_part", "field:applicant.phone"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("默认部位须为所列之一"));
    assert!(
        !admin
            .get_page("/admin/reasons")
            .await
            .contains("mobile_wrong")
    );
    let r = admin
        .post_form(
            "/admin/reasons",
            &[
                ("code", "mobile_wrong"),
                ("text_shown", "手机号无法接通，请核对"),
                ("default_part", "field:applicant.mobile"),
                ("position", "5"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/reasons?msg=saved");
    let saved = app.storage.audit_recent(50).await.unwrap();
    assert!(saved.iter().any(|a| a.action == "return_reason.saved"
        && a.after_state.as_deref() == Some("手机号无法接通，请核对 [field:applicant.mobile]")));

    let id = app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let page = claimed(&rev, &id).await;
    assert!(page.contains(r#"<option value="mobile_wrong=field:applicant.mobile" selected>"#));
    // No pick sent: the default applies.
    let r = send_back(&rev, &id, &page, &[("reasons", "mobile_wrong")]).await;
    assert_eq!(location(&r), "/review?msg=returned");
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(
        status["returned_parts"],
        json!([{"part": "field:applicant.mobile", "reasons": [{"code": "mobile_wrong", "text": "手机号无法接通，请核对"}]}])
    );
    refused_for(
        &app,
        &id,
        "m-1",
        resubmission(Some(example_json()), vec![]),
        &["field:applicant.mobile"],
    )
    .await;
    let mut j = example_json();
    j["applicant"]["mobile"] = json!("13900139000");
    let r = app
        .resubmit(&id, "m-2", resubmission(Some(j), vec![]).form())
        .await;
    assert_eq!(r.status(), 200);

    // Made general again: a return with it constrains nothing.
    let page = admin.get_page("/admin/reasons").await;
    assert!(page.contains(r#"<option value="field:applicant.mobile" selected>"#));
    admin
        .post_form(
            "/admin/reasons",
            &[
                ("code", "mobile_wrong"),
                ("text_shown", "手机号无法接通，请核对"),
                ("default_part", ""),
                ("position", "5"),
                ("active", "1"),
            ],
        )
        .await;
    let id2 = submit_numbered(&app, 2).await;
    let page = claimed(&rev, &id2).await;
    assert!(page.contains(r#"<option value="mobile_wrong=" selected>"#));
    send_back(&rev, &id2, &page, &[("reasons", "mobile_wrong")]).await;
    let status = app.get_json(&format!("/api/v1/applications/{id2}")).await;
    assert_eq!(status["returned_parts"], json!([]));
    let face = (
        "liveness_photo",
        "face.jpg",
        "image/jpeg",
        jpeg(b"any change"),
    );
    let r = app
        .resubmit(&id2, "g-1", resubmission(None, vec![face]).form())
        .await;
    assert_eq!(r.status(), 200, "a general reason does not constrain");
}

/// A reviewer and a supervisor return the same application at once, each with other parts:
/// exactly one return lands, and the hall sees exactly its parts.
async fn two_returns_at_once_leave_one_set_of_parts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let sup = app.signed_in_staff("boss", "supervisor").await;
    let page_r = claimed(&rev, &id).await;
    let page_s = sup.get_page(&format!("/review/{id}")).await;
    let a = [
        ("reasons", "form_unsigned"),
        ("parts", "form_unsigned=scan:application_form"),
    ];
    let b = [
        ("reasons", "address_incomplete"),
        ("parts", "address_incomplete=field:mailing_address"),
    ];
    let (ra, rb) = overlapping_in_act(
        &app,
        send_back(&rev, &id, &page_r, &a),
        send_back(&sup, &id, &page_s, &b),
    )
    .await;
    let (la, lb) = (location(&ra), location(&rb));
    let won = [&la, &lb]
        .iter()
        .filter(|l| **l == "/review?msg=returned")
        .count();
    assert_eq!(won, 1, "{la} / {lb}");
    let conflict = format!("/review/{id}?msg=conflict");
    assert!(la == conflict || lb == conflict, "{la} / {lb}");
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    let parts: Vec<&str> = status["returned_parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["part"].as_str().unwrap())
        .collect();
    let expected = if la == "/review?msg=returned" {
        "scan:application_form"
    } else {
        "field:mailing_address"
    };
    assert_eq!(parts, [expected]);
    assert_eq!(
        app.history(&id).await,
        ["submitted", "in_review", "returned"]
    );
    assert_eq!(app.audited(&id, "application.returned").await, 1);
}

/// Two resubmissions at once, one fixing the returned part and one leaving it: the fixing one
/// is accepted, the other refused (422 before, 409 after it), one new version.
async fn two_resubmissions_at_once_the_fixing_one_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let page = claimed(&rev, &id).await;
    send_back(&rev, &id, &page, &[("reasons", "id_front_unclear")]).await;
    // Two that leave it, at once: both refused, nothing stored.
    let before = app.storage.intake_footprint().await.unwrap();
    let unchanged = || resubmission(None, vec![new_form()]);
    let (r1, r2) = tokio::join!(
        app.resubmit(&id, "u-1", unchanged().form()),
        app.resubmit(&id, "u-2", unchanged().form()),
    );
    assert_eq!((r1.status().as_u16(), r2.status().as_u16()), (422, 422));
    assert_eq!(app.storage.intake_footprint().await.unwrap(), before);

    let front = (
        "id_front",
        "front.jpg",
        "image/jpeg",
        jpeg(b"a clear front"),
    );
    let fixing = resubmission(None, vec![front]);
    let (fixed, left) = tokio::join!(
        app.resubmit(&id, "x-1", fixing.form()),
        app.resubmit(&id, "x-2", unchanged().form()),
    );
    assert_eq!(fixed.status(), 200);
    let code = left.status().as_u16();
    assert!(code == 422 || code == 409, "{code}");
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(
        (status["status"].as_str(), status["version"].as_i64()),
        (Some("submitted"), Some(2))
    );
    assert_eq!(app.audited(&id, "application.resubmitted").await, 1);
}

/// The check inside the resubmission's transaction (`review::resubmit_in`, which the intake
/// and the demo use), not only the one before the scans are stored: refused, nothing written.
async fn the_transaction_checks_again(backend: Backend) {
    use backoffice::desks::review::{ActionError, resubmit_in};
    use backoffice::domain::{
        intake::NewApplication,
        returned_part::{FieldPart, Part},
    };
    use backoffice::storage::applications;
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let page = claimed(&rev, &id).await;
    send_back(&rev, &id, &page, &[("reasons", "address_incomplete")]).await;
    let body = NewApplication::parse(&example_json(), None).unwrap();
    let mut tx = app.storage.begin().await.unwrap();
    let seen = applications::current(&mut tx, &aid(&id))
        .await
        .unwrap()
        .unwrap();
    let r = resubmit_in(&mut tx, &seen, &body, vec![], 1, 2, "api:test", None).await;
    match r {
        Err(ActionError::Unchanged(parts)) => {
            assert_eq!(parts, [Part::Field(FieldPart::MailingAddress)])
        }
        other => panic!("{other:?}"),
    }
    drop(tx);
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(
        (status["status"].as_str(), status["version"].as_i64()),
        (Some("returned"), Some(1))
    );
}

/// The part of a page between two markers (the first `from`, then the next `to`).
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html.find(from).unwrap_or_else(|| panic!("no {from}"));
    let rest = &html[start..];
    &rest[..rest.find(to).map(|e| e + to.len()).unwrap_or(rest.len())]
}

/// Another application like the contract example, with its own hall reference.
async fn submit_numbered(app: &TestApp, n: u32) -> String {
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT2026112500{n:02}"));
    j["payment"]["out_trade_no"] = json!(format!("SZCA{n:016X}"));
    let r = app
        .submit(&format!("key-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

both!(
    scans_returned_by_part_and_fixed,
    field_parts_and_general_reasons,
    catalogue_default_part,
    two_returns_at_once_leave_one_set_of_parts,
    two_resubmissions_at_once_the_fixing_one_wins,
    the_transaction_checks_again,
);
