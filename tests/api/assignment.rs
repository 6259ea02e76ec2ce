//! Assignment by the server over HTTP on both databases: switched on by a supervisor (audited),
//! each new or resubmitted application goes to the available reviewer with the fewest open
//! claims, up to the cap, nearest deadline first; reviewers away get nothing; their claims go
//! back to the pool in one action; switched off, nothing is assigned. Races: a pass against a
//! reviewer's own claim, and (PostgreSQL) two instances assigning at once.

use crate::both;
use crate::helpers::*;
use backoffice::desks::{assignment, review::Actor};
use backoffice::domain::assignment::Rules;
use backoffice::jobs::assignment::run_once;
use backoffice::storage::pauses::ACT_BEGIN;
use serde_json::json;

/// An application like the example, submitted on `day` of November 2026 (its deadline follows).
async fn submit_on(app: &TestApp, n: u32, day: u32) -> String {
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT-ASGN-{n:04}"));
    j["payment"]["out_trade_no"] = json!(format!("ASGN{n:08}"));
    j["submitted_at"] = json!(format!("2026-11-{day:02}T10:05:00+08:00"));
    let r = app
        .submit(&format!("asgn-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn holder(app: &TestApp, id: &str) -> Option<String> {
    app.storage
        .review_detail(&aid(id))
        .await
        .unwrap()
        .unwrap()
        .row
        .claimed_by
}

async fn due(app: &TestApp, id: &str) -> i64 {
    let d = app.storage.review_detail(&aid(id)).await.unwrap().unwrap();
    d.row.review_due_at
}

async fn open_of(app: &TestApp, who: &str) -> usize {
    app.storage
        .open_claims_of(&format!("staff:{who}"))
        .await
        .unwrap()
        .len()
}

/// The supervisor saves the setting; where the save sent the browser.
async fn switch(boss: &StaffBrowser, on: bool, cap: &str) -> String {
    boss.get_page("/supervision/assignment").await;
    let mut form = vec![("cap", cap)];
    if on {
        form.push(("enabled", "1"));
    }
    location(&boss.post_form("/supervision/assignment", &form).await)
}

/// Audit records of `action` by anyone on the subject `subject`.
async fn audit_rows(app: &TestApp, action: &str, subject: &str) -> Vec<(String, Option<String>)> {
    app.storage
        .audit_recent(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == action && a.subject_id == subject)
        .map(|a| (a.actor, a.after_state))
        .collect()
}

async fn fewest_open_claims_win_up_to_the_cap(b: Backend) {
    let app = TestApp::spawn(b).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let li = app.signed_in_staff("li", "reviewer").await;
    app.create_staff("wang", "reviewer", STAFF_PASSWORD).await;
    app.create_staff("zhao", "reviewer", STAFF_PASSWORD).await;
    // Not reviewers, or not active: never given work.
    app.create_staff("sun", "supervisor", STAFF_PASSWORD).await;
    app.create_staff("qian", "reviewer", STAFF_PASSWORD).await;
    let qian = app.staff_id("qian").await;
    app.storage
        .update_staff(qian, "reviewer", true, "test", 0)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (n, day) in [18, 19, 20, 23, 24].into_iter().enumerate() {
        ids.push(submit_on(&app, n as u32, day).await);
    }
    // Off (the default): nothing was assigned. Li claims the nearest deadline by hand.
    for id in &ids {
        assert_eq!(holder(&app, id).await, None);
    }
    li.get_page("/review").await;
    let r = li.post_form("/review/next", &[]).await;
    assert_eq!(location(&r), format!("/review/{}?msg=claimed", ids[0]));

    // Switched on with a cap of 2: the four waiting go out at once, nearest deadline first, each
    // to whoever has fewest open claims (ties by name): wang, zhao, li, wang.
    assert_eq!(
        switch(&boss, true, "2").await,
        "/supervision/assignment?assigned=4&msg=saved"
    );
    let want = [
        "staff:li",
        "staff:wang",
        "staff:zhao",
        "staff:li",
        "staff:wang",
    ];
    for (id, who) in ids.iter().zip(want) {
        assert_eq!(holder(&app, id).await.as_deref(), Some(who), "{id}");
    }
    for id in &ids[1..] {
        assert_eq!(
            audit_rows(&app, "application.assigned", id).await,
            vec![(
                "system:assignment".to_owned(),
                Some(holder(&app, id).await.unwrap())
            )]
        );
        // The hall sees it in review.
        assert_eq!(app.history(id).await, ["submitted", "in_review"]);
    }
    assert_eq!(app.audited(&ids[0], "application.assigned").await, 0);
    let page = li.get_page(&format!("/review/{}", ids[3])).await;
    assert!(page.contains("assigned to li"), "the event on the timeline");
    // The setting change is audited, before and after.
    assert_eq!(
        audit_rows(&app, "assignment.settings_saved", "1").await,
        vec![(
            "staff:boss".to_owned(),
            Some("assignment=on cap=2".to_owned())
        )]
    );
    // The board shows every active reviewer's open claims.
    let board = boss.get_page("/supervision/assignment").await;
    assert!(board.contains("已开启，每人最多 2 件审核中"));
    for (who, n) in [("li", 2), ("wang", 2), ("zhao", 1)] {
        let row = &board[board.find(&format!("data-reviewer=\"{who}\"")).unwrap()..];
        assert!(
            row.contains(&format!("<td class=\"num open\">{n}</td>")),
            "{who}"
        );
    }
    assert!(!board.contains("data-reviewer=\"qian\""));

    // A new arrival goes to the only reviewer under the cap; the next one waits.
    let sixth = submit_on(&app, 5, 25).await;
    assert_eq!(holder(&app, &sixth).await.as_deref(), Some("staff:zhao"));
    let seventh = submit_on(&app, 6, 25).await;
    assert_eq!(holder(&app, &seventh).await, None, "everyone at the cap");
    assert_eq!(run_once(&app.state.core).await.unwrap(), 0);

    // A reviewer's own claim and a pass at the same moment: the application goes once.
    let cap3 = switch(&boss, true, "3").await;
    assert_eq!(cap3, "/supervision/assignment?assigned=1&msg=saved");
    assert!(holder(&app, &seventh).await.is_some());
    // (Switched off for the arrival, on again without the pass a save runs.)
    switch(&boss, false, "3").await;
    let eighth = submit_on(&app, 7, 25).await;
    let on = Rules {
        enabled: true,
        cap: 3,
    };
    let actor = Actor {
        name: "staff:boss",
        request_id: None,
        may_override: false,
    };
    assignment::save_rules(&app.storage, on, &on, &actor, 0)
        .await
        .unwrap();
    li.get_page("/review").await;
    let (pass, claim) = tokio::join!(run_once(&app.state.core), li.post_form("/review/next", &[]));
    let by_pass = pass.unwrap();
    let claimed = location(&claim) == format!("/review/{eighth}?msg=claimed");
    assert_eq!(usize::from(claimed) + by_pass, 1, "{}", location(&claim));
    assert_eq!(
        app.audited(&eighth, "application.assigned").await
            + app.audited(&eighth, "application.claimed").await,
        1
    );
    assert!(holder(&app, &eighth).await.is_some());
}

async fn nearest_deadline_first(b: Backend) {
    let app = TestApp::spawn(b).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    app.create_staff("li", "reviewer", STAFF_PASSWORD).await;
    // Received in this order, due in another.
    let late = submit_on(&app, 1, 24).await;
    let early = submit_on(&app, 2, 18).await;
    let middle = submit_on(&app, 3, 20).await;
    assert!(due(&app, &early).await < due(&app, &middle).await);
    assert!(due(&app, &middle).await < due(&app, &late).await);
    assert_eq!(
        switch(&boss, true, "2").await,
        "/supervision/assignment?assigned=2&msg=saved"
    );
    assert_eq!(holder(&app, &early).await.as_deref(), Some("staff:li"));
    assert_eq!(holder(&app, &middle).await.as_deref(), Some("staff:li"));
    assert_eq!(holder(&app, &late).await, None);
    // The queue's "mine" shows li what the server gave them.
    let li = app.browser();
    li.sign_in("li", STAFF_PASSWORD).await;
    let page = li.get_page("/review").await;
    assert!(page.contains("<strong id=\"my-open\">2</strong>"));
}

async fn away_reviewers_get_nothing(b: Backend) {
    let app = TestApp::spawn_with(b, |s| {
        s.review.assignment.enabled = true;
        s.review.assignment.cap = 5;
    })
    .await;
    let li = app.signed_in_staff("li", "reviewer").await;
    app.create_staff("wang", "reviewer", STAFF_PASSWORD).await;
    // Li is sick until tomorrow (the last day away).
    let page = li.get_page("/review").await;
    assert!(page.contains("id=\"away-form\""));
    let r = li
        .post_form("/review/away", &[("kind", "sick"), ("until", "2026-11-26")])
        .await;
    assert_eq!(location(&r), "/review?msg=away_set");
    let page = li.get_page("/review").await;
    assert!(page.contains("我已请假：病假，至 2026-11-26"), "{page}");
    let a = submit_on(&app, 1, 25).await;
    let b2 = submit_on(&app, 2, 25).await;
    assert_eq!(holder(&app, &a).await.as_deref(), Some("staff:wang"));
    assert_eq!(holder(&app, &b2).await.as_deref(), Some("staff:wang"));
    assert_eq!(
        audit_rows(&app, "staff.away", "li").await,
        vec![(
            "staff:li".to_owned(),
            Some("sick until 2026-11-26".to_owned())
        )]
    );
    // The board says so.
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let board = boss.get_page("/supervision/assignment").await;
    assert!(board.contains("请假：病假，至 2026-11-26"));
    // A last day in the past is refused.
    let r = li
        .post_form(
            "/review/away",
            &[("kind", "holiday"), ("until", "2026-11-24")],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=away_past");
    // The day after the last day, li is available again without a word.
    app.clock.set(test_now() + chrono::Duration::days(2));
    let c = submit_on(&app, 3, 26).await;
    li.sign_in("li", STAFF_PASSWORD).await;
    assert_eq!(holder(&app, &c).await.as_deref(), Some("staff:li"));
    // Away again with no end; then back by their own hand.
    li.get_page("/review").await;
    let r = li.post_form("/review/away", &[("kind", "holiday")]).await;
    assert_eq!(location(&r), "/review?msg=away_set");
    let d = submit_on(&app, 4, 26).await;
    assert_eq!(holder(&app, &d).await.as_deref(), Some("staff:wang"));
    let page = li.get_page("/review").await;
    assert!(page.contains("我已请假：休假"));
    let r = li.post_form("/review/away", &[("back", "1")]).await;
    assert_eq!(location(&r), "/review?msg=away_ended");
    assert_eq!(audit_rows(&app, "staff.back", "li").await.len(), 1);
    let e = submit_on(&app, 5, 26).await;
    assert_eq!(holder(&app, &e).await.as_deref(), Some("staff:li"));
}

async fn a_resubmission_is_assigned(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.review.assignment.enabled = true).await;
    let li = app.signed_in_staff("li", "reviewer").await;
    let id = submit_on(&app, 1, 25).await;
    assert_eq!(holder(&app, &id).await.as_deref(), Some("staff:li"));
    let page = li.get_page(&format!("/review/{id}")).await;
    let r = li
        .post_form(
            &format!("/review/{id}/return"),
            &[
                ("row_version", &hidden_field(&page, "row_version").unwrap()),
                ("reasons", "id_back_unclear"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=returned");
    assert_eq!(
        open_of(&app, "li").await,
        0,
        "a returned application is nobody's open claim"
    );
    // The return sent the ID card's back: the resubmission brings a new one.
    let sub = Submission::empty().set("id_back", "b.jpg", "image/jpeg", jpeg(b"again"));
    assert_eq!(app.resubmit(&id, "r-2", sub.form()).await.status(), 200);
    assert_eq!(holder(&app, &id).await.as_deref(), Some("staff:li"));
    assert_eq!(app.audited(&id, "application.assigned").await, 2);
    // A retry of the same resubmission is a replay: nothing assigned again.
    assert_eq!(app.resubmit(&id, "r-2", sub.form()).await.status(), 200);
    assert_eq!(app.audited(&id, "application.assigned").await, 2);
}

async fn hand_back_releases_every_open_claim(b: Backend) {
    let app = TestApp::spawn_with(b, |s| {
        s.review.assignment.enabled = true;
        s.review.assignment.cap = 3;
    })
    .await;
    let li = app.signed_in_staff("li", "reviewer").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(submit_on(&app, n, 25).await);
    }
    assert_eq!(open_of(&app, "li").await, 3);
    let wang = app.signed_in_staff("wang", "reviewer").await;
    // Li goes on holiday and hands back at once: all three released, each on its own record,
    // and given to wang by the pass that follows.
    li.get_page("/review").await;
    let r = li
        .post_form("/review/away", &[("kind", "holiday"), ("hand_back", "1")])
        .await;
    assert_eq!(location(&r), "/review?released=3&changed=0&msg=handed_back");
    let page = li.follow(r).await;
    assert!(page.contains("id=\"hand-back-summary\""));
    for id in &ids {
        assert_eq!(app.audited(id, "application.released").await, 1);
        assert_eq!(holder(&app, id).await.as_deref(), Some("staff:wang"));
        assert_eq!(app.audited(id, "application.assigned").await, 2);
    }
    assert_eq!(
        audit_rows(&app, "staff.claims_handed_back", "li").await,
        vec![(
            "staff:li".to_owned(),
            Some("released=3 changed=0".to_owned())
        )]
    );
    // Wang falls ill without a word: the supervisor marks them sick and hands their claims
    // back; li is back meanwhile and gets them.
    let r = li.post_form("/review/away", &[("back", "1")]).await;
    assert_eq!(location(&r), "/review?msg=away_ended");
    let boss = app.signed_in_staff("boss", "supervisor").await;
    boss.get_page("/supervision/assignment").await;
    let r = boss
        .post_form(
            "/supervision/assignment/hand-back",
            &[("reviewer", "wang"), ("away", "sick")],
        )
        .await;
    assert_eq!(
        location(&r),
        "/supervision/assignment?released=3&changed=0&msg=handed_back"
    );
    for id in &ids {
        assert_eq!(holder(&app, id).await.as_deref(), Some("staff:li"));
    }
    assert_eq!(
        audit_rows(&app, "staff.away", "wang").await,
        vec![("staff:boss".to_owned(), Some("sick".to_owned()))]
    );
    // A reviewer with nothing open hands back nothing; a stranger's name is refused.
    wang.get_page("/review").await;
    let r = wang.post_form("/review/hand-back", &[]).await;
    assert_eq!(location(&r), "/review?released=0&changed=0&msg=handed_back");
    let r = boss
        .post_form(
            "/supervision/assignment/hand-back",
            &[("reviewer", "nobody")],
        )
        .await;
    assert_eq!(location(&r), "/supervision/assignment?msg=not_allowed");
}

/// A prioritised application is assigned before one with a nearer deadline, as the queue and
/// `N` take it.
async fn a_prioritised_application_is_assigned_first(b: Backend) {
    let app = TestApp::spawn(b).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let near = submit_on(&app, 1, 20).await;
    let far = submit_on(&app, 2, 24).await;
    let page = boss.get_page("/review").await;
    let pick = page
        .split("name=\"pick\" value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .find(|p| p.starts_with(&format!("{far}:")))
        .expect("the later application on the supervisor's queue");
    let r = boss
        .post_form("/review/bulk", &[("action", "prioritise"), ("pick", &pick)])
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    app.create_staff("li", "reviewer", STAFF_PASSWORD).await;
    let boss_page = boss.get_page("/supervision/assignment").await;
    assert!(boss_page.contains("name=\"cap\""));
    let r = boss
        .post_form(
            "/supervision/assignment",
            &[("enabled", "on"), ("cap", "1")],
        )
        .await;
    assert!(location(&r).starts_with("/supervision/assignment?assigned=1"));
    assert_eq!(holder(&app, &far).await.as_deref(), Some("staff:li"));
    assert_eq!(holder(&app, &near).await, None);
}

/// While the server assigns, a reviewer who stays available cannot hand back (the pass would
/// deal the claims straight back to them): refused, nothing released, for them and for a
/// supervisor acting for them without marking them away.
async fn a_hand_back_while_available_is_refused(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.review.assignment.enabled = true).await;
    let li = app.signed_in_staff("li", "reviewer").await;
    let id = submit_on(&app, 1, 25).await;
    assert_eq!(holder(&app, &id).await.as_deref(), Some("staff:li"));
    li.get_page("/review").await;
    let r = li.post_form("/review/hand-back", &[]).await;
    assert_eq!(location(&r), "/review?msg=hand_back_needs_away");
    assert!(li.follow(r).await.contains("请先登记离开"));
    // An edited summary in the address shows the page, without the summary.
    assert!(
        li.get_page("/review?released=x&changed=-1")
            .await
            .contains("审核队列")
    );
    let boss = app.signed_in_staff("boss", "supervisor").await;
    boss.get_page("/supervision/assignment").await;
    let r = boss
        .post_form("/supervision/assignment/hand-back", &[("reviewer", "li")])
        .await;
    assert_eq!(
        location(&r),
        "/supervision/assignment?msg=hand_back_needs_away"
    );
    assert_eq!(holder(&app, &id).await.as_deref(), Some("staff:li"));
    assert_eq!(app.audited(&id, "application.released").await, 0);
}

/// A hand-back whose first release is held before its transaction while a supervisor gives
/// that application to another reviewer: it is left alone (counted as changed), the rest
/// released.
async fn a_hand_back_leaves_what_changed_meanwhile(b: Backend) {
    let app = TestApp::spawn(b).await;
    let li = app.signed_in_staff("li", "reviewer").await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    app.create_staff("wang", "reviewer", STAFF_PASSWORD).await;
    let first = submit_on(&app, 1, 23).await;
    let second = submit_on(&app, 2, 24).await;
    li.get_page("/review").await;
    for id in [&first, &second] {
        let r = li.post_form("/review/next", &[]).await;
        assert_eq!(location(&r), format!("/review/{id}?msg=claimed"));
    }
    let page = boss.get_page(&format!("/review/{first}")).await;
    let rv = hidden_field(&page, "row_version").unwrap();
    let held = app.storage.test_pauses().hold(ACT_BEGIN);
    let meanwhile = async {
        held.reached().await;
        let r = boss
            .post_form(
                &format!("/review/{first}/reassign"),
                &[("row_version", &rv), ("to", "wang")],
            )
            .await;
        assert_eq!(location(&r), format!("/review/{first}?msg=reassigned"));
        held.release();
    };
    let (r, ()) = tokio::join!(li.post_form("/review/hand-back", &[]), meanwhile);
    app.storage.test_pauses().clear();
    assert_eq!(location(&r), "/review?released=1&changed=1&msg=handed_back");
    assert_eq!(holder(&app, &first).await.as_deref(), Some("staff:wang"));
    assert_eq!(holder(&app, &second).await, None);
    assert_eq!(app.audited(&first, "application.released").await, 0);
    assert_eq!(app.audited(&second, "application.released").await, 1);
}

async fn switched_off_nothing_is_assigned(b: Backend) {
    let app = TestApp::spawn(b).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    app.create_staff("li", "reviewer", STAFF_PASSWORD).await;
    let first = submit_on(&app, 1, 25).await;
    assert_eq!(holder(&app, &first).await, None);
    assert_eq!(run_once(&app.state.core).await.unwrap(), 0);
    assert_eq!(holder(&app, &first).await, None);
    let board = boss.get_page("/supervision/assignment").await;
    assert!(board.contains("未开启"));
    assert!(board.contains("BACKOFFICE_ASSIGNMENT_ENABLED=off"));
    // A cap out of range changes nothing.
    boss.get_page("/supervision/assignment").await;
    let r = boss
        .post_form("/supervision/assignment", &[("enabled", "1"), ("cap", "0")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("1–1000"));
    assert_eq!(holder(&app, &first).await, None);
    // On, then off again: what arrives afterwards waits for a claim.
    switch(&boss, true, "5").await;
    assert_eq!(holder(&app, &first).await.as_deref(), Some("staff:li"));
    assert_eq!(
        switch(&boss, false, "5").await,
        "/supervision/assignment?assigned=0&msg=saved"
    );
    let second = submit_on(&app, 2, 25).await;
    assert_eq!(holder(&app, &second).await, None);
    assert_eq!(run_once(&app.state.core).await.unwrap(), 0);
    assert_eq!(
        audit_rows(&app, "assignment.settings_saved", "1")
            .await
            .len(),
        2
    );
    // An admin reads the board but has no form.
    let admin = app.signed_in_staff("root", "admin").await;
    let board = admin.get_page("/supervision/assignment").await;
    assert!(!board.contains("id=\"assignment-form\""));
}

both!(
    fewest_open_claims_win_up_to_the_cap,
    nearest_deadline_first,
    away_reviewers_get_nothing,
    a_resubmission_is_assigned,
    hand_back_releases_every_open_claim,
    a_hand_back_while_available_is_refused,
    a_prioritised_application_is_assigned_first,
    a_hand_back_leaves_what_changed_meanwhile,
    switched_off_nothing_is_assigned,
);

/// Two instances on one PostgreSQL database, assignment on: twelve applications arrive at both
/// at once (each arrival runs a pass on its instance) and both run passes meanwhile: each
/// application goes to one reviewer once, nobody over the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_postgres_assign_each_application_once() {
    let on = |s: &mut backoffice::config::Settings| {
        s.review.assignment.enabled = true;
        s.review.assignment.cap = 3;
    };
    let a = TestApp::spawn_with(Backend::Postgres, on).await;
    let b = TestApp::spawn_on_with(&a.database_url, on).await;
    for who in ["li", "wang", "zhao"] {
        a.create_staff(who, "reviewer", STAFF_PASSWORD).await;
    }
    // Twelve working days of November: twelve different deadlines.
    let days = [10, 11, 12, 13, 16, 17, 18, 19, 20, 23, 24, 25];
    let submits = days.into_iter().enumerate().map(|(n, day)| {
        let inst = if n % 2 == 0 { &a } else { &b };
        async move { submit_on(inst, n as u32, day).await }
    });
    let passes = async {
        let mut n = 0;
        for _ in 0..10 {
            let (x, y) = tokio::join!(run_once(&a.state.core), run_once(&b.state.core));
            n += x.unwrap() + y.unwrap();
        }
        n
    };
    let (ids, _) = tokio::join!(futures_util::future::join_all(submits), passes);
    let (x, y) = tokio::join!(run_once(&a.state.core), run_once(&b.state.core));
    assert_eq!(x.unwrap() + y.unwrap(), 0, "all capacity was used");
    let mut assigned = 0;
    for id in &ids {
        let n = a.audited(id, "application.assigned").await;
        assert!(n <= 1, "{id} assigned {n} times");
        assert_eq!(n == 1, holder(&a, id).await.is_some(), "{id}");
        assigned += n;
    }
    assert_eq!(assigned, 9, "three reviewers, three each");
    for who in ["li", "wang", "zhao"] {
        assert_eq!(open_of(&a, who).await, 3, "{who}");
    }
    // Which nine is not asserted here: arrivals and passes interleave, so a later deadline may
    // arrive, and be assigned, before a nearer one exists (`nearest_deadline_first` checks the
    // order among applications that wait together).
}
