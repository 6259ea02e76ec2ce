//! Two sessions acting on the same application at the same moment, over HTTP: exactly one
//! decision lands (in the hall's history and in the audit trail), and the other browser is sent
//! back to the page with a clear message.

use crate::both;
use crate::helpers::*;
use backoffice::storage::pauses::{ACT_BEGIN, ACT_READ};
use serde_json::json;
use std::future::Future;

/// Runs two staff actions so that they really overlap: the first to arrive is held inside its
/// transaction, right after it read the row, until the second has started its own — on
/// PostgreSQL until the second read the same row in its own transaction too; on SQLite, where
/// `begin immediate` makes the second wait for the first's write lock, until it is waiting.
pub(crate) async fn overlapping_in_act<A: Future, B: Future>(
    app: &TestApp,
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let (ra, rb, begun) = overlapping(app, a, b).await;
    assert_eq!(begun, 2, "exactly the two actions ran");
    (ra, rb)
}

/// As `overlapping_in_act`, also saying how many actions began (four eyes' approvals and the
/// review desk's actions share the pause points).
pub(crate) async fn overlapping<A: Future, B: Future>(
    app: &TestApp,
    a: A,
    b: B,
) -> (A::Output, B::Output, usize) {
    let pauses = app.storage.test_pauses();
    let held = pauses.hold(ACT_READ);
    let begun = pauses.count(ACT_BEGIN);
    let meet = async {
        held.reached().await;
        match app.backend {
            Backend::Postgres => held.passed(2).await,
            Backend::Sqlite => begun.passed(2).await,
        }
        held.release();
    };
    let meet = async {
        tokio::time::timeout(std::time::Duration::from_secs(60), meet)
            .await
            .expect("both actions started while the first was inside its transaction")
    };
    let (ra, rb, ()) = tokio::join!(a, b, meet);
    pauses.clear();
    (ra, rb, begun.passes())
}

/// `a`'s action held inside its transaction while `b`, refused before it gets to act (it
/// holds no claim), is sent and answered; then `a` goes on.
async fn while_held<A: Future, B: Future>(app: &TestApp, a: A, b: B) -> (A::Output, B::Output) {
    let pauses = app.storage.test_pauses();
    let held = pauses.hold(ACT_READ);
    let begun = pauses.count(ACT_BEGIN);
    let second = async {
        tokio::time::timeout(std::time::Duration::from_secs(60), held.reached())
            .await
            .expect("the first action reached its transaction");
        let r = b.await;
        held.release();
        r
    };
    let (ra, rb) = tokio::join!(a, second);
    pauses.clear();
    assert_eq!(begun.passes(), 1, "only the first got to act");
    (ra, rb)
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
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.verify_payment(&id).await;
    id
}

/// The message a refused browser sees on the page it is sent back to.
const REFUSALS: [(&str, &str); 3] = [
    (
        "conflict",
        "该申请已被他人处理或已变更，请查看最新状态后再操作。",
    ),
    ("not_allowed", "当前状态下不能执行该操作。"),
    (
        "not_yours",
        "该申请由其他审核员认领，只有认领人或主管可以决定。",
    ),
];

/// The loser was sent back to the application page with one of the refusals, and sees it.
async fn assert_refused_clearly(b: &StaffBrowser, id: &str, r: reqwest::Response) {
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let (code, text) = REFUSALS
        .iter()
        .find(|(code, _)| to == format!("/review/{id}?msg={code}"))
        .unwrap_or_else(|| panic!("the losing browser went to {to}"));
    let page = b.follow(r).await;
    assert!(
        page.contains(&format!(
            "<p class=\"flash warn\" role=\"status\">{text}</p>"
        )),
        "{code}"
    );
}

/// Both browsers open the page, see the same row version, and send their forms at once:
/// `a` accepts, `b` returns. Exactly one decision lands; the other browser is told why not.
/// `b_may_decide`: false when `b` holds no claim (it is refused before it gets to act).
async fn decide_at_once(
    app: &TestApp,
    id: &str,
    a: &StaffBrowser,
    b: &StaffBrowser,
    b_may_decide: bool,
) {
    let page = format!("/review/{id}");
    let rv_a = hidden_field(&a.get_page(&page).await, "row_version").unwrap();
    // A reviewer who does not hold the application gets no decision forms; a form sent anyway
    // (a stale tab, a hand-made request) carries the row version everyone saw.
    let rv_b = hidden_field(&b.get_page(&page).await, "row_version").unwrap_or(rv_a.clone());
    assert_eq!(rv_a, rv_b);
    let accept = format!("/review/{id}/accept");
    let ret = format!("/review/{id}/return");
    let form_a = [("row_version", rv_a.as_str())];
    let form_b = [
        ("row_version", rv_b.as_str()),
        ("reasons", "id_back_unclear"),
    ];
    let (ra, rb) = if b_may_decide {
        overlapping_in_act(
            app,
            a.post_form(&accept, &form_a),
            b.post_form(&ret, &form_b),
        )
        .await
    } else {
        while_held(
            app,
            a.post_form(&accept, &form_a),
            b.post_form(&ret, &form_b),
        )
        .await
    };
    let (la, lb) = (location(&ra), location(&rb));
    let history = app.history(id).await;
    let decided: Vec<_> = history
        .iter()
        .filter(|s| *s == "accepted" || *s == "returned")
        .collect();
    assert_eq!(decided.len(), 1, "{history:?} ({la} / {lb})");
    let accepted = app.audited(id, "application.accepted").await;
    let returned = app.audited(id, "application.returned").await;
    assert_eq!(
        accepted + returned,
        1,
        "audit: {accepted} accepted, {returned} returned"
    );
    if decided[0] == "accepted" {
        assert_eq!((la.as_str(), accepted), ("/review?msg=accepted", 1));
        assert_refused_clearly(b, id, rb).await;
    } else {
        assert_eq!((lb.as_str(), returned), ("/review?msg=returned", 1));
        assert_refused_clearly(a, id, ra).await;
    }
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(&status["status"], decided[0].as_str());
}

/// Claims `id` through its page.
async fn claim(b: &StaffBrowser, id: &str) {
    let page = b.get_page(&format!("/review/{id}")).await;
    let rv = hidden_field(&page, "row_version").unwrap();
    let r = b
        .post_form(&format!("/review/{id}/claim"), &[("row_version", &rv)])
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=claimed"));
}

async fn two_reviewers_decide_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let li = app.signed_in_staff("li.jing", "reviewer").await;
    let wang = app.signed_in_staff("wang.fang", "reviewer").await;
    let chen = app.signed_in_staff("chen.hui", "supervisor").await;
    // The same reviewer in two tabs signed in twice: both sessions may decide, one wins.
    let li_elsewhere = app.browser();
    li_elsewhere.sign_in("li.jing", STAFF_PASSWORD).await;

    let mut n = 1;
    for _ in 0..3 {
        let id = submit_numbered(&app, n).await;
        n += 1;
        claim(&li, &id).await;
        decide_at_once(&app, &id, &li, &li_elsewhere, true).await;
    }
    // The claimant and another reviewer: the other is refused, the claimant's decision lands.
    for _ in 0..2 {
        let id = submit_numbered(&app, n).await;
        n += 1;
        claim(&li, &id).await;
        decide_at_once(&app, &id, &li, &wang, false).await;
        assert_eq!(app.history(&id).await.last().unwrap(), "accepted");
    }
    // The claimant and a supervisor, who may decide too: whoever is first wins.
    for _ in 0..3 {
        let id = submit_numbered(&app, n).await;
        n += 1;
        claim(&li, &id).await;
        decide_at_once(&app, &id, &chen, &li, true).await;
    }
}

async fn two_reviewers_claim_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let li = app.signed_in_staff("li.jing", "reviewer").await;
    let wang = app.signed_in_staff("wang.fang", "reviewer").await;
    for n in 1..=4 {
        let id = submit_numbered(&app, n).await;
        let page = format!("/review/{id}");
        let rv_li = hidden_field(&li.get_page(&page).await, "row_version").unwrap();
        let rv_wang = hidden_field(&wang.get_page(&page).await, "row_version").unwrap();
        assert_eq!(rv_li, rv_wang);
        let path = format!("/review/{id}/claim");
        let (form_li, form_wang) = (
            [("row_version", rv_li.as_str())],
            [("row_version", rv_wang.as_str())],
        );
        let (r_li, r_wang) = overlapping_in_act(
            &app,
            li.post_form(&path, &form_li),
            wang.post_form(&path, &form_wang),
        )
        .await;
        let claimed = format!("/review/{id}?msg=claimed");
        let (winner, name, loser, lost) =
            match (location(&r_li) == claimed, location(&r_wang) == claimed) {
                (true, false) => (&li, "li.jing", &wang, r_wang),
                (false, true) => (&wang, "wang.fang", &li, r_li),
                other => panic!(
                    "claims: {other:?} ({} / {})",
                    location(&r_li),
                    location(&r_wang)
                ),
            };
        assert_refused_clearly(loser, &id, lost).await;
        assert_eq!(app.history(&id).await, ["submitted", "in_review"]);
        assert_eq!(app.audited(&id, "application.claimed").await, 1);
        // Both see who holds it; only the winner gets the decision forms.
        for b in [winner, loser] {
            let p = b.get_page(&page).await;
            assert!(p.contains(&format!("<strong>{name}</strong>")));
            assert_eq!(p.contains("id=\"accept-form\""), std::ptr::eq(b, winner));
        }
        // The queue's "mine" filter has it for the winner only.
        assert!(winner.get_page("/review?mine=1").await.contains(&page));
        assert!(!loser.get_page("/review?mine=1").await.contains(&page));
    }
}

both!(two_reviewers_decide_at_once, two_reviewers_claim_at_once);
