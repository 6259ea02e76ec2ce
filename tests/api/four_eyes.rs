//! Four eyes over HTTP on both databases: each rule (an unresolved pre-check finding, a payment
//! overridden, the random sample) holds an acceptance in `awaiting_approval`, which the hall
//! sees as in review; the reviewer who accepted cannot approve it; another reviewer approves
//! (accepted, with its mail, its review window closed at the second decision) or rejects it
//! (back in review with the note); a withdrawal cancels the request and a resubmission cannot
//! slip in; of two approvers at once exactly one wins.

use crate::both;
use crate::helpers::*;
use crate::review_concurrency::overlapping;
use backoffice::domain::status::Action;
use backoffice::storage::prechecks::FindingRow;

/// One number from the database: `sql` with the application id as `$1`.
async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    backoffice::on_pool!(app.storage.read_pool(), |p| sqlx::query_scalar::<_, i64>(
        sql
    )
    .bind(id)
    .fetch_one(p)
    .await
    .unwrap())
}

async fn mails(app: &TestApp, id: &str, kind: &str) -> i64 {
    let sql = format!(
        "select count(*) from outbox where application_id = $1 and kind = '{kind}' \
        and channel = 'email'"
    );
    count(app, &sql, id).await
}

pub async fn state_of(app: &TestApp, id: &str) -> String {
    app.storage
        .application_status(&aid(id))
        .await
        .unwrap()
        .unwrap()
        .code()
        .to_owned()
}

/// The pre-check job of version 1 done, with a flagged finding of `check` on the ID front.
async fn plant_finding(app: &TestApp, check: &str) {
    let s = &app.storage;
    let now = app.clock.now().timestamp_millis();
    let jobs = s.claim_prechecks(now, now + 60_000, "t", 10).await.unwrap();
    for job in jobs {
        let f = FindingRow {
            kind: "id_front".into(),
            check_name: check.into(),
            outcome: "mismatch".into(),
            flagged: true,
            detail: None,
            region: None,
            verdict: None,
        };
        assert!(s.finish_precheck(&job, "t", &[f], &[], now).await.unwrap());
    }
}

/// Claims and accepts as `b`; returns where the accept sent the browser.
pub async fn claim_and_accept(b: &StaffBrowser, id: &str, extra: &[(&str, &str)]) -> String {
    let page = b.get_page(&format!("/review/{id}")).await;
    let rv = hidden_field(&page, "row_version").unwrap();
    let r = b
        .post_form(&format!("/review/{id}/claim"), &[("row_version", &rv)])
        .await;
    let page = b.follow(r).await;
    let rv = hidden_field(&page, "row_version").unwrap();
    let mut form = vec![("row_version", rv.as_str())];
    form.extend_from_slice(extra);
    let r = b.post_form(&format!("/review/{id}/accept"), &form).await;
    assert_eq!(r.status(), 303);
    location(&r)
}

async fn approval_form(b: &StaffBrowser, id: &str, what: &str, note: &str) -> reqwest::Response {
    let page = b.get_page(&format!("/review/{id}")).await;
    // The maker's page has no approval forms: a hand-made request carries no row version.
    let mut form = vec![("note", note.to_owned())];
    if let Some(rv) = hidden_field(&page, "row_version") {
        form.push(("row_version", rv));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(&format!("/review/{id}/{what}"), &form).await
}

async fn hall_status(app: &TestApp, id: &str) -> serde_json::Value {
    app.get_json(&format!("/api/v1/applications/{id}")).await
}

async fn a_finding_holds_and_another_reviewer_approves(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.review.four_eyes.unresolved_findings = true).await;
    let id = app.submit_example().await;
    app.verify_payment(&id).await;
    plant_finding(&app, "id_number").await;
    let maker = app.signed_in_staff("li.jing", "reviewer").await;
    let checker = app.signed_in_staff("wang.fang", "reviewer").await;
    let accepted_at = app.clock.now();
    assert_eq!(
        claim_and_accept(&maker, &id, &[("note", "号码核对无误")]).await,
        "/review?msg=approval_requested"
    );
    assert_eq!(state_of(&app, &id).await, "awaiting_approval");
    // The dashboard still counts it as waiting and due (the summary's triggers), as it counts
    // what the tables hold.
    let summary = app.storage.all_supervision_counts().await.unwrap();
    assert_eq!(
        summary,
        app.storage.recomputed_supervision_counts().await.unwrap()
    );
    for figure in ["waiting", "due"] {
        let n: i64 = summary
            .iter()
            .filter(|c| c.figure == figure)
            .map(|c| c.n)
            .sum();
        assert_eq!(n, 1, "{figure}");
    }
    // The hall sees it in review, in words too; nothing of the acceptance happened yet.
    let h = hall_status(&app, &id).await;
    assert_eq!(
        (h["status"].as_str(), h["status_label"].as_str()),
        (Some("in_review"), Some("审核中"))
    );
    assert!(
        !app.history(&id)
            .await
            .contains(&"awaiting_approval".to_owned())
    );
    assert_eq!(mails(&app, &id, "applicant_accepted").await, 0);
    let windows = "select count(*) from review_windows where application_id = $1";
    assert_eq!(
        count(&app, windows, &id).await,
        0,
        "the SLA clock still runs"
    );
    // Overdue while it waits, it is escalated like any application waiting for review.
    let overdue = app.storage.overdue_unescalated(i64::MAX, 10).await.unwrap();
    assert!(overdue.iter().any(|d| d.application_id.as_str() == id));
    // It stays in the queue, as awaiting approval.
    let queue = checker.get_page("/review?status=awaiting_approval").await;
    assert!(queue.contains(&format!("<code>{id}</code>")));

    // The maker sees why, but no approve form; an approval sent anyway is refused.
    let page = maker.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("id=\"approval-h\""));
    assert!(!page.contains("id=\"approve-form\""));
    let r = approval_form(&maker, &id, "approve", "").await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("不能复核自己受理的申请"));
    let r = approval_form(&maker, &id, "reject-approval", "再看看").await;
    assert_eq!(r.status(), 403);
    assert_eq!(state_of(&app, &id).await, "awaiting_approval");

    // Another reviewer sees who accepted and why, and approves 20 minutes later.
    let page = checker.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("<strong class=\"maker\">li.jing</strong>"));
    assert!(page.contains("机审提示未处理"));
    assert!(page.contains("id=\"approve-form\""));
    app.clock.set(accepted_at + chrono::Duration::minutes(20));
    let r = approval_form(&checker, &id, "approve", "复核无误").await;
    assert_eq!(location(&r), "/review?msg=approved");
    assert_eq!(state_of(&app, &id).await, "accepted");
    assert_eq!(hall_status(&app, &id).await["status"], "accepted");
    assert_eq!(mails(&app, &id, "applicant_accepted").await, 1);
    // The review window closed at the second decision, the decision is the maker's.
    let decided = "select decided_at from review_windows where application_id = $1";
    assert_eq!(
        count(&app, decided, &id).await,
        app.clock.now().timestamp_millis()
    );
    let by_maker = "select count(*) from decisions where application_id = $1 and \
        decided_by = 'staff:li.jing' and outcome = 'accepted'";
    assert_eq!(count(&app, by_maker, &id).await, 1);
    assert_eq!(app.audited(&id, "application.approval_requested").await, 1);
    assert_eq!(app.audited(&id, "application.approved").await, 1);
    // Once decided, nobody approves it again.
    let r = approval_form(&checker, &id, "approve", "").await;
    assert_eq!(location(&r), format!("/review/{id}?msg=not_allowed"));
}

/// Another application like the example (its own hall reference and payment).
async fn submit_nth(app: &TestApp, n: u32) -> String {
    let mut j = example_json();
    j["hall_reference"] = serde_json::json!(format!("WT20261200{n:04}"));
    j["payment"]["out_trade_no"] = serde_json::json!(format!("FOUR{n:08}"));
    let r = app
        .submit(&format!("four-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn dismiss(by: &StaffBrowser, id: &str, check: &str) {
    let r = by
        .post_form(
            &format!("/review/{id}/findings"),
            &[
                ("version", "1"),
                ("kind", "id_front"),
                ("check", check),
                ("verdict", "dismissed"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
}

/// A finding a colleague dismissed no longer holds; one the maker dismissed still does (the
/// maker cannot lift the control alone), and so does a version whose pre-check has not run.
async fn a_dismissed_finding_does_not_hold(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.review.four_eyes.unresolved_findings = true).await;
    let maker = app.signed_in_staff("li.jing", "reviewer").await;
    let colleague = app.signed_in_staff("wang.fang", "reviewer").await;

    // Not pre-checked yet: held.
    let unchecked = submit_nth(&app, 1).await;
    app.verify_payment(&unchecked).await;
    assert_eq!(
        claim_and_accept(&maker, &unchecked, &[]).await,
        "/review?msg=approval_requested"
    );
    assert_eq!(state_of(&app, &unchecked).await, "awaiting_approval");

    // Dismissed by the maker: held.
    let id = submit_nth(&app, 2).await;
    app.verify_payment(&id).await;
    plant_finding(&app, "name").await;
    dismiss(&maker, &id, "name").await;
    assert_eq!(
        claim_and_accept(&maker, &id, &[]).await,
        "/review?msg=approval_requested"
    );
    assert_eq!(state_of(&app, &id).await, "awaiting_approval");

    // Dismissed by a colleague: it takes effect at once.
    let id = submit_nth(&app, 3).await;
    app.verify_payment(&id).await;
    plant_finding(&app, "name").await;
    dismiss(&colleague, &id, "name").await;
    assert_eq!(
        claim_and_accept(&maker, &id, &[]).await,
        "/review?msg=accepted"
    );
    assert_eq!(state_of(&app, &id).await, "accepted");
}

async fn a_payment_override_holds_and_the_rules_page_sets_it(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let admin = app.signed_in_staff("admin.a", "admin").await;
    let page = admin.get_page("/admin/four-eyes").await;
    assert!(page.contains("BACKOFFICE_FOUR_EYES_PAYMENT_OVERRIDE=off"));
    let r = admin
        .post_form(
            "/admin/four-eyes",
            &[
                ("payment_override", "1"),
                ("sample_percent", "0"),
                ("sample_seed", "7"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/four-eyes?msg=saved");
    let r = admin
        .post_form(
            "/admin/four-eyes",
            &[("sample_percent", "101"), ("sample_seed", "7")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let saved = app
        .storage
        .audit_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "four_eyes.rules_saved")
        .count();
    assert_eq!(saved, 1);

    // A supervisor accepts an unverified payment with a reason: held; they cannot approve it.
    let sup = app.signed_in_staff("zhao.min", "supervisor").await;
    assert_eq!(
        claim_and_accept(&sup, &id, &[("payment_override", "客户出示支付凭证")]).await,
        "/review?msg=approval_requested"
    );
    let page = sup.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("付款未经账单核实，由主管放行"));
    let r = approval_form(&sup, &id, "approve", "").await;
    assert_eq!(r.status(), 403);
    // A reviewer rejects without a note: asked for one; with a note: back in review.
    let checker = app.signed_in_staff("wang.fang", "reviewer").await;
    let r = approval_form(&checker, &id, "reject-approval", " ").await;
    assert_eq!(location(&r), format!("/review/{id}?msg=need_approval_note"));
    let r = approval_form(&checker, &id, "reject-approval", "凭证不足，请等账单").await;
    assert_eq!(location(&r), "/review?msg=approval_rejected");
    assert_eq!(state_of(&app, &id).await, "in_review");
    let page = sup.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("rejected: 凭证不足，请等账单"));
    assert!(
        page.contains("id=\"accept-form\""),
        "back with the maker to decide again"
    );
    assert_eq!(app.audited(&id, "application.approval_rejected").await, 1);
    assert_eq!(mails(&app, &id, "applicant_accepted").await, 0);
}

async fn the_sample_holds_by_its_seed_and_a_withdrawal_cancels(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.review.four_eyes.sample_percent = 100).await;
    let id = app.submit_example().await;
    app.verify_payment(&id).await;
    let maker = app.signed_in_staff("li.jing", "reviewer").await;
    assert_eq!(
        claim_and_accept(&maker, &id, &[]).await,
        "/review?msg=approval_requested"
    );
    let page = maker.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("随机抽样复核"));
    // A resubmission cannot slip in while it waits: the hall is told it is not returned.
    let early = Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"clearer"));
    let r = app.resubmit(&id, "resub-1", early.form()).await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("this one is in_review"), "{body}");
    assert_eq!(state_of(&app, &id).await, "awaiting_approval");
    // A withdrawal cancels the pending approval in its own transaction.
    let actor = backoffice::desks::review::Actor {
        name: "api:online-hall",
        request_id: None,
        may_override: false,
    };
    let at = app.clock.now().timestamp_millis();
    backoffice::desks::review::act(
        &app.storage,
        &aid(&id),
        Action::Withdraw,
        &Default::default(),
        &actor,
        at,
    )
    .await
    .unwrap();
    let pending = "select count(*) from approvals where application_id = $1 and state = 'pending'";
    assert_eq!(count(&app, pending, &id).await, 0);
    let cancelled =
        "select count(*) from approvals where application_id = $1 and state = 'cancelled'";
    assert_eq!(count(&app, cancelled, &id).await, 1);
    assert_eq!(app.audited(&id, "application.approval_cancelled").await, 1);
    let checker = app.signed_in_staff("wang.fang", "reviewer").await;
    let page = checker.get_page(&format!("/review/{id}")).await;
    assert!(!page.contains("id=\"approve-form\""));

    // The same seed draws the same applications; 0 % holds none.
    let rules = |pct| backoffice::domain::four_eyes::Rules {
        sample_percent: pct,
        sample_seed: 42,
        ..Default::default()
    };
    let facts = |i: i64| backoffice::domain::four_eyes::Facts {
        application_id: "A",
        version: i,
        unresolved_findings: 0,
        payment_overridden: false,
    };
    let draw = |pct| {
        (0..200)
            .filter(|i| !backoffice::domain::four_eyes::reasons(&rules(pct), &facts(*i)).is_empty())
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(30), draw(30));
    assert!(draw(0).is_empty());
}

async fn two_approvers_at_once_one_wins(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.review.four_eyes.sample_percent = 100).await;
    let id = app.submit_example().await;
    app.verify_payment(&id).await;
    let maker = app.signed_in_staff("li.jing", "reviewer").await;
    claim_and_accept(&maker, &id, &[]).await;
    let one = app.signed_in_staff("wang.fang", "reviewer").await;
    let two = app.signed_in_staff("zhao.min", "supervisor").await;
    let page = format!("/review/{id}");
    let rv = hidden_field(&one.get_page(&page).await, "row_version").unwrap();
    assert_eq!(
        Some(rv.clone()),
        hidden_field(&two.get_page(&page).await, "row_version")
    );
    let url = format!("/review/{id}/approve");
    let form = [("row_version", rv.as_str()), ("note", "")];
    let (ra, rb, _) =
        overlapping(&app, one.post_form(&url, &form), two.post_form(&url, &form)).await;
    let mut got = [location(&ra), location(&rb)];
    got.sort();
    assert_eq!(
        got,
        [
            format!("/review/{id}?msg=conflict"),
            "/review?msg=approved".to_owned(),
        ]
    );
    assert_eq!(state_of(&app, &id).await, "accepted");
    assert_eq!(app.audited(&id, "application.approved").await, 1);
    assert_eq!(mails(&app, &id, "applicant_accepted").await, 1);
    let approved =
        "select count(*) from approvals where application_id = $1 and state = 'approved'";
    assert_eq!(count(&app, approved, &id).await, 1);
}

both!(
    a_finding_holds_and_another_reviewer_approves,
    a_dismissed_finding_does_not_hold,
    a_payment_override_holds_and_the_rules_page_sets_it,
    the_sample_holds_by_its_seed_and_a_withdrawal_cancels,
    two_approvers_at_once_one_wins,
);
