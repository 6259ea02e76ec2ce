//! The intake API's published contract: the OpenAPI document and its reference page are served
//! without a token, the live answers have exactly the documented fields, and what schemathesis
//! found is fixed (surrounding whitespace refused, unknown methods 405 with Allow).

use crate::both;
use crate::helpers::*;
use serde_json::{Value, json};

/// The documented (required and optional) properties of a component schema.
fn documented(doc: &Value, schema: &str) -> (Vec<String>, Vec<String>) {
    let s = &doc["components"]["schemas"][schema];
    let props = s["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{schema} has properties"))
        .keys()
        .cloned()
        .collect();
    let required = s["required"]
        .as_array()
        .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (props, required)
}

fn fits(doc: &Value, schema: &str, body: &Value) {
    let (props, required) = documented(doc, schema);
    let obj = body.as_object().unwrap();
    for k in obj.keys() {
        assert!(props.contains(k), "{schema}: '{k}' is not documented");
    }
    for k in &required {
        assert!(
            obj.contains_key(k),
            "{schema}: required '{k}' is missing in {body}"
        );
    }
}

async fn the_document_is_served_and_the_answers_fit_it(b: Backend) {
    let app = TestApp::spawn(b).await;
    // No token needed: the hall's developers read it in a browser.
    let r = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/api/v1/applications",
        "/api/v1/applications/{id}",
        "/api/v1/applications/{id}/resubmission",
        "/api/v1/certificates/{serial}",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} documented");
    }
    let page = app.http.get(app.url("/api/v1/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("POST /api/v1/applications"));
    assert!(html.contains("/static/app.css") && !html.contains("<script"));

    // The live answers against the documented schemas.
    let r = app.submit("k1", Submission::example().form()).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    fits(&doc, "Submitted", &created);
    let id = created["id"].as_str().unwrap();
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    fits(&doc, "ApplicationStatus", &status);
    let cert = app
        .get_json("/api/v1/certificates/0150512140479054C03?id_number=11010519491231002X")
        .await;
    fits(&doc, "CertificateView", &cert);
    let r = app.get("/api/v1/applications/BF20261125-0000000").await;
    let err: Value = r.json().await.unwrap();
    fits(&doc, "ErrorBody", &err);
    fits(&doc, "ErrorDetail", &err["error"]);
}

async fn surrounding_whitespace_is_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let before = app.storage.intake_footprint().await.unwrap();
    for (path, value, field) in [
        (
            &["applicant", "mobile"][..],
            " 13800138000",
            "applicant.mobile",
        ),
        (&["hall_reference"][..], "WT202611250001 ", "hall_reference"),
        (
            &["certificate_serial"][..],
            "\t0150512140479054C03",
            "certificate_serial",
        ),
        (
            &["mailing_address", "detail"][..],
            "科技园路1号 ",
            "mailing_address.detail",
        ),
    ] {
        let mut body = example_json();
        let mut cur = &mut body;
        for k in &path[..path.len() - 1] {
            cur = cur.get_mut(*k).unwrap();
        }
        cur[path[path.len() - 1]] = json!(value);
        let r = app
            .submit(&format!("ws-{field}"), Submission::with_json(body).form())
            .await;
        assert_error(r, 400, "invalid_field", Some(field)).await;
    }
    let r = app.get("/api/v1/applications?hall_reference=%20WT1").await;
    assert_error(r, 400, "invalid_field", Some("hall_reference")).await;
    assert_eq!(app.storage.intake_footprint().await.unwrap(), before);
    assert_eq!(app.stored_scan_files(), 0);
}

async fn an_unknown_method_is_405_with_allow(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app
        .http
        .delete(app.url("/api/v1/applications"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let allow = r.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_error(r, 405, "method_not_allowed", None).await;
    // Without a token the answer is still 401.
    let r = app
        .http
        .delete(app.url("/api/v1/applications"))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthorized", None).await;
}

/// The additions of returns by part: `returned_parts` in the status and the `422` of a
/// resubmission that leaves a returned part, documented and fitting the document.
async fn returned_parts_fit_the_document(b: Backend) {
    let app = TestApp::spawn(b).await;
    let doc: Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let put = &doc["paths"]["/api/v1/applications/{id}/resubmission"]["put"];
    assert!(put["responses"]["422"].is_object(), "422 documented");
    assert!(
        doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("returned_part_unchanged"))
    );
    let id = app.submit_example().await;
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(status["returned_parts"], json!([]));
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let page = rev.get_page(&format!("/review/{id}")).await;
    let r = rev
        .post_form(
            &format!("/review/{id}/claim"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    let page = rev.follow(r).await;
    let r = rev
        .post_form(
            &format!("/review/{id}/return"),
            &[
                ("row_version", &hidden_field(&page, "row_version").unwrap()),
                ("reasons", "form_unsigned"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=returned");
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    fits(&doc, "ApplicationStatus", &status);
    fits(&doc, "ReturnedPart", &status["returned_parts"][0]);
    assert_eq!(status["returned_parts"][0]["part"], "scan:application_form");
    let r = app
        .resubmit(
            &id,
            "r-1",
            Submission::with_json(example_json())
                .without("application_form")
                .form(),
        )
        .await;
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await.unwrap();
    fits(&doc, "ErrorBody", &err);
    fits(&doc, "ErrorDetail", &err["error"]);
    assert_eq!(err["error"]["parts"], json!(["scan:application_form"]));
}

both!(
    returned_parts_fit_the_document,
    the_document_is_served_and_the_answers_fit_it,
    surrounding_whitespace_is_refused,
    an_unknown_method_is_405_with_allow,
);
