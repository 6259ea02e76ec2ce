//! Returned applications never resubmitted expire after the configured calendar days: closed as
//! `expired` (in words to the hall and in the hotline's script), the applicant mailed, a paid one
//! owed its money back on the finance desk; exactly once, whether the job runs twice or on two
//! instances at once.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::Action;
use serde_json::json;

async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    backoffice::on_pool!(app.storage.read_pool(), |p| sqlx::query_scalar::<_, i64>(
        sql
    )
    .bind(id)
    .fetch_one(p)
    .await
    .unwrap())
}

/// Another application like the contract example, with its own hall reference and order.
async fn submit_numbered(app: &TestApp, n: u32) -> String {
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT2026112500{n:02}"));
    j["payment"]["out_trade_no"] = json!(format!("SZCA{n:016X}"));
    let r = app
        .submit(&format!("key-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201);
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn returned(app: &TestApp, id: &str) {
    app.staff_act(id, Action::Claim, &[]).await;
    app.staff_act(id, Action::Return, &[("form_unsigned", "申请表未签名")])
        .await;
}

async fn returned_applications_expire_once(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.review.returned_expiry_days = 10).await;
    let paid = submit_numbered(&app, 1).await;
    app.verify_payment(&paid).await;
    let unpaid = submit_numbered(&app, 2).await;
    let resubmitted = submit_numbered(&app, 3).await;
    for id in [&paid, &unpaid, &resubmitted] {
        returned(&app, id).await;
    }
    let start = app.clock.now();
    // Day 9: nothing is due; the third is resubmitted.
    app.clock.set(start + chrono::Duration::days(9));
    let sub = Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"clearer photo"));
    assert_eq!(
        app.resubmit(&resubmitted, "r-3", sub.form()).await.status(),
        200
    );
    assert_eq!(
        backoffice::jobs::expiry::run_once(&app.state)
            .await
            .unwrap(),
        Some(0)
    );
    // Day 10 and a minute: the two left returned expire; the job's hour is claimed once.
    app.clock
        .set(start + chrono::Duration::days(10) + chrono::Duration::minutes(1));
    assert_eq!(
        backoffice::jobs::expiry::run_once(&app.state)
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        backoffice::jobs::expiry::run_once(&app.state)
            .await
            .unwrap(),
        None
    );
    // Two instances at once (the job's function run twice together) close nothing twice.
    let now = app.clock.now().timestamp_millis();
    let (a, c) = tokio::join!(
        backoffice::desks::expiry::run(&app.storage, 10, now),
        backoffice::desks::expiry::run(&app.storage, 10, now)
    );
    assert_eq!((a.unwrap(), c.unwrap()), (0, 0));

    for id in [&paid, &unpaid] {
        let h = app.get_json(&format!("/api/v1/applications/{id}")).await;
        assert_eq!(h["status"], "expired");
        assert_eq!(h["status_label"], "已过期关闭（退回后未在期限内重新提交）");
        assert_eq!(app.history(id).await.last().unwrap(), "expired");
        assert_eq!(app.audited(id, "application.expired").await, 1);
        let mails = "select count(*) from outbox where application_id = $1 and kind = \
            'applicant_expired'";
        assert_eq!(count(&app, mails, id).await, 1);
    }
    let refunds = "select count(*) from finance_cases where application_id = $1 and kind = \
        'refund_owed' and state = 'open'";
    assert_eq!(count(&app, refunds, &paid).await, 1);
    assert_eq!(count(&app, refunds, &unpaid).await, 0);
    let h = app
        .get_json(&format!("/api/v1/applications/{resubmitted}"))
        .await;
    assert_eq!(h["status"], "submitted");
    // An expired application cannot be resubmitted.
    let sub = Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"late photo"));
    assert_error(
        app.resubmit(&paid, "r-late", sub.form()).await,
        409,
        "invalid_state",
        None,
    )
    .await;
}

/// The OpenAPI document's status values: every earlier one kept, `expired` added.
async fn the_contract_grows_by_expired_only(b: Backend) {
    let app = TestApp::spawn(b).await;
    let doc: serde_json::Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let values: Vec<&str> = doc["components"]["schemas"]["ApiStatus"]["enum"]
        .as_array()
        .expect("ApiStatus is an enum of strings")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        [
            "submitted",
            "in_review",
            "returned",
            "accepted",
            "in_production",
            "shipped",
            "withdrawn",
            "expired"
        ]
    );
}

async fn the_expiry_mail_says_why_and_the_refund(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    app.verify_payment(&id).await;
    returned(&app, &id).await;
    app.clock.set(app.clock.now() + chrono::Duration::days(31));
    let now = app.clock.now().timestamp_millis();
    assert_eq!(
        backoffice::desks::expiry::run(&app.storage, 30, now)
            .await
            .unwrap(),
        1
    );
    let rows = app.storage.outbox_messages("pending", 10).await.unwrap();
    let m = rows
        .iter()
        .find(|m| m.kind == "applicant_expired")
        .expect("the expiry mail is queued");
    assert!(m.subject.contains("已过期关闭"), "{}", m.subject);
    assert!(m.body_text.contains("30 天内未重新提交"), "{}", m.body_text);
    assert!(m.body_text.contains("原支付方式退回"), "{}", m.body_text);
    // The hotline reads it to the caller in words.
    let agent = app.signed_in_staff("zhou.min", "hotline").await;
    let page = agent.get_page(&format!("/hotline/{id}")).await;
    assert!(
        page.contains("因退回后未在期限内重新提交已过期关闭"),
        "{page}"
    );
}

both!(
    returned_applications_expire_once,
    the_contract_grows_by_expired_only,
    the_expiry_mail_says_why_and_the_refund
);
