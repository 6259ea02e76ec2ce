//! The four-eyes flow in headless Chromium (issue 22, item 1): a reviewer's acceptance held by a
//! rule waits under «待复核» in the queue; the maker's own page has no approval forms; a second
//! reviewer finds it by the queue's status filter, reads why it waits, approves with a note and
//! the application is accepted.

use crate::both;
use crate::browser::{Browser, shots_dir};
use crate::four_eyes::{claim_and_accept, state_of};
use crate::helpers::*;
use serde_json::json;

/// A browser signed in as an existing member.
async fn signed_in(app: &TestApp, user: &str) -> Browser {
    let b = Browser::start().await;
    b.goto(&app.url("/login")).await;
    b.type_into("input[name=username]", user).await;
    b.type_into("input[name=password]", STAFF_PASSWORD).await;
    b.click("button[type=submit].primary").await;
    assert!(
        b.wait_for("return location.pathname === '/review'").await,
        "sign-in of {user}"
    );
    b
}

async fn a_second_reviewer_approves_a_held_acceptance(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.review.four_eyes.sample_percent = 100).await;
    let id = app.submit_example().await;
    app.verify_payment(&id).await;
    let maker = app.signed_in_staff("li.jing", "reviewer").await;
    assert_eq!(
        claim_and_accept(&maker, &id, &[]).await,
        "/review?msg=approval_requested"
    );

    // The maker, in the browser: the application waits for someone else, no forms to decide.
    let own = signed_in(&app, "li.jing").await;
    own.goto(&app.url(&format!("/review/{id}"))).await;
    assert!(
        own.wait_for("return document.querySelector('section.approval') !== null")
            .await
    );
    assert_eq!(
        own.eval("return [document.querySelectorAll('#approve-form, #reject-approval-form').length, document.querySelector('section.approval').innerText.includes('须由另一位审核员或主管复核')]")
            .await,
        json!([0, true])
    );
    drop(own);
    app.create_staff("wang.fang", "reviewer", STAFF_PASSWORD)
        .await;
    let b = signed_in(&app, "wang.fang").await;
    b.goto(&app.url("/review?status=awaiting_approval")).await;
    assert!(
        b.wait_for(&format!(
            "return document.querySelector(\"a[href='/review/{id}']\") !== null"
        ))
        .await,
        "the held application is listed under 待复核"
    );
    b.click(&format!("a[href='/review/{id}']")).await;
    assert!(
        b.wait_for("return document.querySelector('#approve-form') !== null")
            .await
    );
    assert_eq!(
        b.eval("return document.querySelector('section.approval .maker').innerText")
            .await,
        json!("li.jing")
    );
    assert!(
        b.eval("return document.querySelector('section.approval').innerText.includes('随机抽样')")
            .await
            == json!(true),
        "why it waits"
    );
    b.screenshot(&shots_dir(backend).join("four-eyes-approval.png"))
        .await;
    // Rejecting needs a note: the browser will not send the form without one.
    b.click("#reject-approval").await;
    assert_eq!(
        b.eval("return document.querySelector('#reject-approval-form input[name=note]').validity.valueMissing")
            .await,
        json!(true)
    );
    assert_eq!(state_of(&app, &id).await, "awaiting_approval");
    b.type_into("#approve-form input[name=note]", "证件与申请一致")
        .await;
    b.click("#approve").await;
    assert!(
        b.wait_for("return !document.querySelector('#approve-form')")
            .await,
        "the page after approving"
    );
    assert_eq!(state_of(&app, &id).await, "accepted");
    assert_eq!(app.audited(&id, "application.approved").await, 1);
}

both!(a_second_reviewer_approves_a_held_acceptance);
