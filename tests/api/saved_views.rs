//! Saved views: a member saves the queue's filter under a name, shown as a tab above the
//! queue; at most 20 each (two saves at once count each other); only one's own are deleted.

use crate::both;
use crate::helpers::*;

async fn save(b: &StaffBrowser, name: &str, query: &str) -> String {
    let r = b
        .post_form("/review/views", &[("name", name), ("query", query)])
        .await;
    assert_eq!(r.status(), 303);
    location(&r)
}

async fn views_of(app: &TestApp, username: &str) -> Vec<(i64, String, String)> {
    let id = app.staff_id(username).await;
    app.storage
        .saved_views(id)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.saved_view_id, v.name, v.query))
        .collect()
}

async fn a_view_is_saved_and_shown_as_a_tab(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    rev.get_page("/review").await;
    // The query as the queue parses it: unknown keys and the message dropped, one spelling.
    let to = save(
        &rev,
        "我的超期",
        "?q=+WT+&overdue=1&status=in_review&msg=x&after=y&mine=0",
    )
    .await;
    assert_eq!(to, "/review?status=in_review&overdue=1&q=WT&msg=view_saved");
    let page = rev.get_page(&to).await;
    assert!(page.contains("视图已保存"), "{page}");
    assert!(
        page.contains("<a class=\"tab active\" href=\"/review?status=in_review&amp;overdue=1&amp;q=WT\" aria-current=\"page\">我的超期</a>"),
        "{page}"
    );
    // On the unfiltered queue the tab is there, not current; the queue shows the application.
    let page = rev.get_page("/review").await;
    assert!(
        page.contains(
            "<a class=\"tab\" href=\"/review?status=in_review&amp;overdue=1&amp;q=WT\">我的超期</a>"
        ),
        "{page}"
    );
    assert!(page.contains(&id));
    // Saved again under the same name: replaced, not added.
    assert_eq!(
        save(&rev, "我的超期", "unclaimed=1").await,
        "/review?unclaimed=1&msg=view_saved"
    );
    let v = views_of(&app, "reviewer").await;
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].1.as_str(), v[0].2.as_str()),
        ("我的超期", "unclaimed=1")
    );
    // Each save audited; another member does not see it.
    let saved = app
        .storage
        .audit_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "saved_view.saved" && a.actor == "staff:reviewer")
        .collect::<Vec<_>>();
    assert_eq!(saved.len(), 2);
    // The search term (it may be a mobile) stays out of the audit chain.
    let afters: Vec<&str> = saved
        .iter()
        .map(|a| a.after_state.as_deref().unwrap_or_default())
        .collect();
    assert!(afters.iter().all(|a| !a.contains("WT")), "{afters:?}");
    assert!(
        afters.iter().any(|a| a.contains("q=%E2%80%A6")),
        "{afters:?}"
    );
    let other = app.signed_in_staff("boss", "supervisor").await;
    assert!(!other.get_page("/review").await.contains("我的超期"));
}

async fn a_view_must_name_a_queue_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    rev.get_page("/review").await;
    assert_eq!(save(&rev, "", "mine=1").await, "/review?msg=view_invalid");
    assert_eq!(
        save(&rev, "   ", "mine=1").await,
        "/review?msg=view_invalid"
    );
    assert_eq!(
        save(&rev, &"名".repeat(41), "mine=1").await,
        "/review?msg=view_invalid"
    );
    assert_eq!(
        save(&rev, "已受理", "status=accepted").await,
        "/review?msg=view_invalid"
    );
    let long = format!("q={}", "1".repeat(101));
    assert_eq!(save(&rev, "长", &long).await, "/review?msg=view_invalid");
    assert!(views_of(&app, "reviewer").await.is_empty());
    // Forty characters and no filter at all are fine.
    assert_eq!(
        save(&rev, &"名".repeat(40), "").await,
        "/review?msg=view_saved"
    );
}

async fn twenty_views_each_and_two_saves_at_once_count_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    rev.get_page("/review").await;
    for i in 0..19 {
        assert_eq!(
            save(&rev, &format!("v{i}"), "mine=1").await,
            "/review?mine=1&msg=view_saved"
        );
    }
    // Two at once for the twentieth place: exactly one gets it.
    let (a, b) = tokio::join!(save(&rev, "甲", "resub=1"), save(&rev, "乙", "findings=1"));
    let saved = [&a, &b]
        .iter()
        .filter(|l| l.ends_with("msg=view_saved"))
        .count();
    let full = [&a, &b]
        .iter()
        .filter(|l| l.ends_with("msg=views_full"))
        .count();
    assert_eq!((saved, full), (1, 1), "{a} {b}");
    assert_eq!(views_of(&app, "reviewer").await.len(), 20);
    // Full: a new name is refused (sent back to the filter), an existing one still saves.
    // Sent back to the filter, told why.
    assert_eq!(
        save(&rev, "v99", "mine=1").await,
        "/review?mine=1&msg=views_full"
    );
    assert_eq!(
        save(&rev, "v3", "unclaimed=1").await,
        "/review?unclaimed=1&msg=view_saved"
    );
    let page = rev.get_page("/review?msg=views_full").await;
    assert!(page.contains("每人最多保存 20 个视图"), "{page}");
}

async fn only_ones_own_view_is_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    rev.get_page("/review").await;
    save(&rev, "我的", "mine=1").await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    boss.get_page("/review").await;
    save(&boss, "主管的", "overdue=1").await;
    let (mine, boss_view) = (
        views_of(&app, "reviewer").await[0].0,
        views_of(&app, "boss").await[0].0,
    );
    let page = rev.get_page("/review").await;
    assert!(page.contains(&format!("action=\"/review/views/{mine}/delete\"")));
    assert!(page.contains("aria-label=\"删除视图 我的\""));
    let r = rev
        .post_form(&format!("/review/views/{boss_view}/delete"), &[])
        .await;
    assert_eq!(location(&r), "/review?msg=view_not_found");
    assert_eq!(views_of(&app, "boss").await.len(), 1);
    let r = rev
        .post_form(&format!("/review/views/{mine}/delete"), &[])
        .await;
    assert_eq!(location(&r), "/review?msg=view_deleted");
    assert!(views_of(&app, "reviewer").await.is_empty());
    let deleted = app
        .storage
        .audit_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "saved_view.deleted")
        .count();
    assert_eq!(deleted, 1);
}

both!(
    a_view_is_saved_and_shown_as_a_tab,
    a_view_must_name_a_queue_filter,
    twenty_views_each_and_two_saves_at_once_count_each_other,
    only_ones_own_view_is_deleted,
);
