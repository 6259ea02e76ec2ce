//! A supervisor's bulk actions on rows picked in the queue: each row its own transaction with
//! its audit record, a row changed since the queue was read refused alone, a cap on the size.

use crate::both;
use crate::helpers::*;
use backoffice::storage::pauses::{ACT_BEGIN, ACT_WRITTEN};
use serde_json::json;

/// Another application like the contract example, with its own hall reference, paid.
pub async fn submit_n(app: &TestApp, n: u32) -> String {
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT2026112500{n:02}"));
    j["payment"]["out_trade_no"] = json!(format!("SZCA{n:016X}"));
    let r = app
        .submit(&format!("key-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.verify_payment(&id).await;
    id
}

/// Claims an application at this browser, as the page's button does.
pub async fn claim(b: &StaffBrowser, id: &str) {
    let page = b.get_page(&format!("/review/{id}")).await;
    let rv = hidden_field(&page, "row_version").unwrap();
    let r = b
        .post_form(&format!("/review/{id}/claim"), &[("row_version", &rv)])
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=claimed"));
}

/// The `ID:ROW_VERSION` checkbox values of the queue page, in the queue's order.
pub fn picks(page: &str) -> Vec<String> {
    page.split("name=\"pick\" value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

fn pick_of<'a>(picks: &'a [String], id: &str) -> &'a str {
    picks
        .iter()
        .find(|p| p.starts_with(&format!("{id}:")))
        .unwrap_or_else(|| panic!("{id} is not in the queue"))
}

async fn bulk(b: &StaffBrowser, action: &str, to: &str, picked: &[&str]) -> (u16, String) {
    let mut fields = vec![("action", action), ("to", to)];
    fields.extend(picked.iter().map(|p| ("pick", *p)));
    let r = b.post_form("/review/bulk", &fields).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

fn counts(page: &str) -> (String, String) {
    let after = |id: &str| {
        let m = format!("id=\"{id}\">");
        let s = page.find(&m).unwrap_or_else(|| panic!("{page}")) + m.len();
        page[s..s + page[s..].find('<').unwrap()].to_owned()
    };
    (after("done-count"), after("refused-count"))
}

async fn status(app: &TestApp, id: &str) -> String {
    let v = app.get_json(&format!("/api/v1/applications/{id}")).await;
    v["status"].as_str().unwrap().to_owned()
}

async fn claimed_by(app: &TestApp, id: &str) -> Option<String> {
    app.storage
        .review_detail(&aid(id))
        .await
        .unwrap()
        .unwrap()
        .row
        .claimed_by
}

async fn release_reassign_and_prioritise_many(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids = [
        submit_n(&app, 1).await,
        submit_n(&app, 2).await,
        submit_n(&app, 3).await,
    ];
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    app.create_staff("reviewer2", "reviewer", STAFF_PASSWORD)
        .await;
    for id in &ids {
        claim(&rev, id).await;
    }
    // A reviewer's queue has no checkboxes; the supervisor's has one per row, labelled.
    assert!(picks(&rev.get_page("/review").await).is_empty());
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let page = boss.get_page("/review").await;
    assert!(
        page.contains(&format!("aria-label=\"选择 {}\"", ids[0])),
        "{page}"
    );
    assert!(page.contains("<legend>批量操作"), "{page}");
    let p = picks(&page);
    assert_eq!(p.len(), 3);

    // Release all three: each its own audited step and timeline event.
    let all: Vec<&str> = p.iter().map(String::as_str).collect();
    let (code, result) = bulk(&boss, "release", "", &all).await;
    assert_eq!(code, 200, "{result}");
    assert_eq!(counts(&result), ("3".into(), "0".into()));
    for id in &ids {
        assert_eq!(status(&app, id).await, "submitted");
        assert_eq!(claimed_by(&app, id).await, None);
        assert_eq!(app.audited(id, "application.released").await, 1);
    }

    // Prioritise the last in the queue's order: it comes first, tagged, and "next" takes it.
    let page = boss.get_page("/review").await;
    let p = picks(&page);
    let last = p[2].split(':').next().unwrap().to_owned();
    let (_, result) = bulk(&boss, "prioritise", "", &[&p[2]]).await;
    assert_eq!(counts(&result), ("1".into(), "0".into()));
    let page = boss.get_page("/review").await;
    let p = picks(&page);
    assert!(p[0].starts_with(&format!("{last}:")), "{p:?}");
    assert!(page.contains("<span class=\"tag warn\">优先</span>"));
    assert_eq!(app.audited(&last, "application.prioritised").await, 1);
    // Again: refused as unchanged, nothing recorded.
    let (_, result) = bulk(&boss, "prioritise", "", &[&p[0]]).await;
    assert_eq!(counts(&result), ("0".into(), "1".into()));
    assert!(result.contains("data-reason=\"unchanged\""), "{result}");
    assert_eq!(app.audited(&last, "application.prioritised").await, 1);
    let r = rev.post_form("/review/next", &[]).await;
    assert_eq!(location(&r), format!("/review/{last}?msg=claimed"));

    // Reassign two to reviewer2; the one now claimed by "reviewer" too (a supervisor may).
    let p = picks(&boss.get_page("/review").await);
    let other = ids.iter().find(|i| **i != last).unwrap();
    let two = [pick_of(&p, other), pick_of(&p, &last)];
    let (_, result) = bulk(&boss, "reassign", "reviewer2", &two).await;
    assert_eq!(counts(&result), ("2".into(), "0".into()));
    assert_eq!(
        claimed_by(&app, other).await.as_deref(),
        Some("staff:reviewer2")
    );
    assert_eq!(
        claimed_by(&app, &last).await.as_deref(),
        Some("staff:reviewer2")
    );
    assert_eq!(app.audited(other, "application.reassigned").await, 1);
    // Reassigning to someone who is not an active reviewer changes nothing.
    let p = picks(&boss.get_page("/review").await);
    let r = boss
        .post_form(
            "/review/bulk",
            &[("action", "reassign"), ("to", "boss"), ("pick", &p[0])],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=bulk_invalid");
}

async fn a_row_changed_since_the_queue_was_read_is_refused_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids = [submit_n(&app, 1).await, submit_n(&app, 2).await];
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let p = picks(&boss.get_page("/review").await);
    // A reviewer claims one after the supervisor's queue was read.
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    claim(&rev, &ids[1]).await;
    let all: Vec<&str> = p.iter().map(String::as_str).collect();
    let (_, result) = bulk(&boss, "prioritise", "", &all).await;
    assert_eq!(counts(&result), ("1".into(), "1".into()));
    assert!(
        result.contains(&format!(
            "<li data-reason=\"conflict\"><code>{}</code> — 该申请已被他人处理或已变更</li>",
            ids[1]
        )),
        "{result}"
    );
    assert_eq!(app.audited(&ids[0], "application.prioritised").await, 1);
    assert_eq!(app.audited(&ids[1], "application.prioritised").await, 0);
    // A row whose state does not allow it: released while not claimed.
    let p = picks(&boss.get_page("/review").await);
    let (_, result) = bulk(&boss, "release", "", &[pick_of(&p, &ids[0])]).await;
    assert!(result.contains("data-reason=\"not_allowed\""), "{result}");
}

async fn the_selection_is_capped_and_bulk_is_for_supervisors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = submit_n(&app, 1).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let p = picks(&boss.get_page("/review").await);
    let many: Vec<String> = (0..201)
        .map(|i| {
            if i == 0 {
                p[0].clone()
            } else {
                format!("{id}:{i}")
            }
        })
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (code, page) = bulk(&boss, "prioritise", "", &many).await;
    assert_eq!(code, 422);
    assert!(
        page.contains("一次最多选择 200 件申请，本次选择了 201"),
        "{page}"
    );
    assert_eq!(app.audited(&id, "application.prioritised").await, 0);
    // Exactly the cap is fine (duplicates count once).
    let (code, page) = bulk(&boss, "prioritise", "", &many[..200]).await;
    assert_eq!(code, 200);
    assert_eq!(counts(&page), ("1".into(), "0".into()));
    // Nothing picked; no action.
    let r = boss
        .post_form("/review/bulk", &[("action", "release")])
        .await;
    assert_eq!(location(&r), "/review?msg=nothing_selected");
    let r = boss
        .post_form("/review/bulk", &[("action", "shred"), ("pick", &p[0])])
        .await;
    assert_eq!(location(&r), "/review?msg=bulk_invalid");
    // A reviewer may not.
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    rev.get_page("/review").await;
    let r = rev
        .post_form("/review/bulk", &[("action", "release"), ("pick", &p[0])])
        .await;
    assert_eq!(r.status(), 403);
}

/// The race: a bulk release of three rows while the reviewer holding them accepts one. The
/// reviewer's acceptance is held right after it changed the row (its lock held, not yet
/// committed) until the bulk run has started; the accepted row is refused, the others done.
async fn a_bulk_release_while_a_reviewer_decides_one_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids = [
        submit_n(&app, 1).await,
        submit_n(&app, 2).await,
        submit_n(&app, 3).await,
    ];
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    for id in &ids {
        claim(&rev, id).await;
    }
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let p = picks(&boss.get_page("/review").await);
    let page = rev.get_page(&format!("/review/{}", ids[1])).await;
    let rv = hidden_field(&page, "row_version").unwrap();

    let pauses = app.storage.test_pauses();
    let held = pauses.hold(ACT_WRITTEN);
    let begun = pauses.count(ACT_BEGIN);
    let accept_path = format!("/review/{}/accept", ids[1]);
    let accept_form = [("row_version", rv.as_str())];
    let accept = rev.post_form(&accept_path, &accept_form);
    let all: Vec<&str> = p.iter().map(String::as_str).collect();
    let release = async {
        tokio::time::timeout(std::time::Duration::from_secs(60), held.reached())
            .await
            .expect("the acceptance changed its row");
        let run = bulk(&boss, "release", "", &all);
        let meet = async {
            // The bulk run has begun its first row's transaction: let the acceptance commit.
            tokio::time::timeout(std::time::Duration::from_secs(60), begun.passed(2))
                .await
                .expect("the bulk run started");
            held.release();
        };
        let (r, ()) = tokio::join!(run, meet);
        r
    };
    let (accepted, (code, result)) = tokio::join!(accept, release);
    pauses.clear();
    assert_eq!(location(&accepted), "/review?msg=accepted");
    assert_eq!(code, 200);
    assert_eq!(counts(&result), ("2".into(), "1".into()), "{result}");
    let refused = result.split("<ul class=\"refused\">").nth(1).unwrap();
    assert!(refused.contains(&ids[1]), "{result}");
    assert!(
        refused.contains("data-reason=\"conflict\"")
            || refused.contains("data-reason=\"not_allowed\""),
        "{result}"
    );
    assert_eq!(status(&app, &ids[1]).await, "accepted");
    assert_eq!(app.audited(&ids[1], "application.released").await, 0);
    for id in [&ids[0], &ids[2]] {
        assert_eq!(status(&app, id).await, "submitted");
        assert_eq!(app.audited(id, "application.released").await, 1);
    }
}

both!(
    release_reassign_and_prioritise_many,
    a_row_changed_since_the_queue_was_read_is_refused_alone,
    the_selection_is_capped_and_bulk_is_for_supervisors,
    a_bulk_release_while_a_reviewer_decides_one_row,
);
