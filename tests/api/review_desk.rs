//! The review desk's promises beyond the review loop itself: the queue's filters, search and
//! keyset paging; a supervisor's reassignment; an administrator disabling a user or changing a
//! role (their sessions end at once); edits of the reason catalogue reaching the return form and
//! the applicant; every view audited (`application.viewed`); the English switch; the security
//! headers on pages.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::{Action, Status};
use serde_json::Value;

/// The application ids listed on a queue page, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<a href=\"/review/")
        .skip(1)
        .filter_map(|s| {
            let id = &s[..s.find('"')?];
            s[id.len()..]
                .starts_with("\"><code>")
                .then(|| id.to_owned())
        })
        .collect()
}

/// The "next page" link of a queue page.
fn next_link(html: &str) -> Option<String> {
    let start = html.find("rel=\"next\" href=\"")? + 17;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&amp;", "&"))
}

/// Synthetic application `i` (see `storage::synthetic`): id, hall reference, serial, mobile.
fn synthetic(i: i64) -> (String, String, String, String) {
    (
        format!("BF20260101-{i:06}"),
        format!("H{i}"),
        format!("0150{i:016}"),
        format!("138{i:08}"),
    )
}

async fn queue_filters_search_and_keyset_pages(b: Backend) {
    let app = TestApp::spawn(b).await;
    let now = app.clock.now().timestamp_millis();
    // 120 waiting applications: 1 … 120, due one second apart from a minute from now, but
    // number 100 overdue since yesterday; every seventh a resubmission (version 2).
    app.storage.seed_synthetic(1, 120, now, true).await.unwrap();
    // And a real one, due in five days, that a reviewer claims.
    let real = app.submit_example().await;
    app.create_staff("reviewer", "reviewer", STAFF_PASSWORD)
        .await;
    app.create_staff("reviewer2", "reviewer", STAFF_PASSWORD)
        .await;
    app.staff_act(&real, Action::Claim, &[]).await; // claimed by staff:reviewer
    let reviewer = app.browser();
    reviewer.sign_in("reviewer", STAFF_PASSWORD).await;

    // Paging by (deadline, id): the overdue one first, then by deadline, 50 a page.
    let mut expected = vec![synthetic(100).0];
    expected.extend((1..=120).filter(|i| *i != 100).map(|i| synthetic(i).0));
    expected.push(real.clone());
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut path = "/review".to_owned();
    loop {
        let html = reviewer.get_page(&path).await;
        let ids = listed(&html);
        pages += 1;
        assert!(ids.len() <= 50, "page {pages}: {}", ids.len());
        // The pager counts the whole queue; a page after the first links back.
        let first = seen.len() + 1;
        let count = format!("第 {first}–{} 条，共 121 条", seen.len() + ids.len());
        assert!(html.contains(&count), "{count}");
        assert_eq!(html.contains("rel=\"prev\""), pages > 1);
        seen.extend(ids);
        match next_link(&html) {
            Some(next) => {
                assert!(next.contains("after="), "{next}");
                path = next;
            }
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);

    // Filters.
    let only = |q: &'static str| {
        let r = &reviewer;
        async move { listed(&r.get_page(&format!("/review?{q}")).await) }
    };
    assert_eq!(only("overdue=1").await, [synthetic(100).0]);
    let resub: Vec<String> = (1..=120)
        .filter(|i| i % 7 == 0)
        .map(|i| synthetic(i).0)
        .collect();
    assert_eq!(only("resub=1").await, resub);
    assert_eq!(only("status=in_review").await, vec![real.clone()]);
    assert_eq!(only("mine=1").await, vec![real.clone()]);
    let unclaimed = only("unclaimed=1&overdue=1").await;
    assert_eq!(unclaimed, [synthetic(100).0]);
    assert!(
        !listed(
            &reviewer
                .get_page("/review?unclaimed=1&q=WT202611250001")
                .await
        )
        .contains(&real)
    );
    // Search: id, hall reference, serial, mobile — each exactly the one application.
    let (id, hall, serial, mobile) = synthetic(43);
    for q in [&id, &hall, &serial, &mobile] {
        let html = reviewer.get_page(&format!("/review?q={q}")).await;
        assert_eq!(listed(&html), vec![id.clone()], "search {q}");
    }
    for q in [
        "WT202611250001",
        "0150512140479054C03",
        "13800138000",
        real.as_str(),
    ] {
        let html = reviewer.get_page(&format!("/review?q={q}")).await;
        assert_eq!(listed(&html), vec![real.clone()], "search {q}");
    }
    // Partial values match nothing; a filter combined with a search narrows it.
    assert!(listed(&reviewer.get_page("/review?q=BF20260101-00004").await).is_empty());
    assert!(
        listed(
            &reviewer
                .get_page(&format!("/review?q={hall}&resub=1"))
                .await
        )
        .is_empty()
    );
    // Another reviewer's "mine" is empty.
    let other = app.browser();
    other.sign_in("reviewer2", STAFF_PASSWORD).await;
    assert!(listed(&other.get_page("/review?mine=1").await).is_empty());

    // The link to page 2 names the last row of page 1 (deadline, id): the rows strictly after
    // it, even when rows sorting before it arrive meanwhile (keyset, not offset).
    let cursor = next_link(&reviewer.get_page("/review").await).unwrap();
    assert_eq!(listed(&reviewer.get_page(&cursor).await)[0], expected[50]);
    // Number 200 is overdue: it sorts first, so an offset would shift page 2 by one.
    app.storage.seed_synthetic(200, 1, now, true).await.unwrap();
    assert_eq!(listed(&reviewer.get_page(&cursor).await)[0], expected[50]);
    let first = reviewer.get_page("/review").await;
    assert_eq!(listed(&first).last(), Some(&expected[48]));
    let fresh = next_link(&first).unwrap();
    assert_eq!(listed(&reviewer.get_page(&fresh).await)[0], expected[49]);
    assert_eq!(
        only("overdue=1").await,
        [synthetic(100).0, synthetic(200).0]
    );
}

async fn supervisors_reassign(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    app.create_staff("reviewer", "reviewer", STAFF_PASSWORD)
        .await;
    app.create_staff("reviewer2", "reviewer", STAFF_PASSWORD)
        .await;
    app.create_staff("agent", "hotline", STAFF_PASSWORD).await;
    app.staff_act(&id, Action::Claim, &[]).await;
    let sup = app.signed_in_staff("boss", "supervisor").await;
    let page = sup.get_page(&format!("/review/{id}")).await;
    assert!(page.contains(&format!("action=\"/review/{id}/reassign\"")));
    assert!(page.contains("<option value=\"reviewer2\">"), "{page}");
    assert!(!page.contains("<option value=\"agent\">"));
    let rv = hidden_field(&page, "row_version").unwrap();
    // Not to someone who is not a reviewer.
    let r = sup
        .post_form(
            &format!("/review/{id}/reassign"),
            &[("row_version", &rv), ("to", "agent")],
        )
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=not_allowed"));
    let r = sup
        .post_form(
            &format!("/review/{id}/reassign"),
            &[("row_version", &rv), ("to", "reviewer2")],
        )
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=reassigned"));
    let d = app.storage.review_detail(&aid(&id)).await.unwrap().unwrap();
    assert_eq!(d.row.claimed_by.as_deref(), Some("staff:reviewer2"));
    assert_eq!(app.audited(&id, "application.reassigned").await, 1);
    // The same form again (its row version is stale now) changes nothing.
    let r = sup
        .post_form(
            &format!("/review/{id}/reassign"),
            &[("row_version", &rv), ("to", "reviewer")],
        )
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=conflict"));
    let d = app.storage.review_detail(&aid(&id)).await.unwrap().unwrap();
    assert_eq!(d.row.claimed_by.as_deref(), Some("staff:reviewer2"));
    // The new holder sees it as theirs; the former one no longer does.
    let r2 = app.browser();
    r2.sign_in("reviewer2", STAFF_PASSWORD).await;
    assert_eq!(
        listed(&r2.get_page("/review?mine=1").await),
        vec![id.clone()]
    );
    let r1 = app.browser();
    r1.sign_in("reviewer", STAFF_PASSWORD).await;
    assert!(listed(&r1.get_page("/review?mine=1").await).is_empty());
    // A reviewer may not reassign.
    let page = r1.get_page(&format!("/review/{id}")).await;
    assert!(!page.contains("/reassign\""));
    let rv = app
        .storage
        .review_detail(&aid(&id))
        .await
        .unwrap()
        .unwrap()
        .row
        .row_version
        .to_string();
    let r = r1
        .post_form(
            &format!("/review/{id}/reassign"),
            &[("row_version", &rv), ("to", "reviewer")],
        )
        .await;
    assert_eq!(r.status(), 403);
}

async fn disabling_a_user_or_changing_a_role_ends_their_sessions(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.signed_in_staff("root", "admin").await;
    let li = app.signed_in_staff("li.jing", "reviewer").await;
    let wang = app.signed_in_staff("wang.lei", "reviewer").await;
    // A second session of li's, on another browser.
    let li_phone = app.browser();
    li_phone.sign_in("li.jing", STAFF_PASSWORD).await;
    assert_eq!(li.get("/review").await.status(), 200);

    let li_id = app.staff_id("li.jing").await;
    admin.get_page("/admin/users").await;
    let r = admin
        .post_form(
            &format!("/admin/users/{li_id}"),
            &[("role", "reviewer"), ("disabled", "1")],
        )
        .await;
    assert_eq!(location(&r), "/admin/users?msg=saved");
    for b in [&li, &li_phone] {
        let r = b.get("/review").await;
        assert_eq!(r.status(), 303, "a disabled user's session ends");
        assert!(location(&r).starts_with("/login"), "{}", location(&r));
    }
    let r = app.browser().try_sign_in("li.jing", STAFF_PASSWORD).await;
    assert_ne!(r.status(), 303, "a disabled user cannot sign in");
    // Wang's session is untouched by it.
    assert_eq!(wang.get("/review").await.status(), 200);

    // A role changed: the session ends; signed in again, the new role's desk and only that.
    let wang_id = app.staff_id("wang.lei").await;
    admin.get_page("/admin/users").await;
    let r = admin
        .post_form(&format!("/admin/users/{wang_id}"), &[("role", "hotline")])
        .await;
    assert_eq!(location(&r), "/admin/users?msg=saved");
    let r = wang.get("/review").await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"));
    let landing = wang.sign_in("wang.lei", STAFF_PASSWORD).await;
    assert!(
        landing.contains("name=\"q\""),
        "the hotline desk: {landing}"
    );
    assert_eq!(wang.get("/review").await.status(), 403);
    // Both changes are audited with before and after.
    let audit = app.storage.audit_recent(100).await.unwrap();
    let updated: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "staff.updated")
        .map(|a| (a.subject_id.clone(), a.actor.clone()))
        .collect();
    assert!(updated.contains(&("li.jing".into(), "staff:root".into())));
    assert!(updated.contains(&("wang.lei".into(), "staff:root".into())));
    // Re-enabled, li signs in again.
    admin.get_page("/admin/users").await;
    admin
        .post_form(&format!("/admin/users/{li_id}"), &[("role", "reviewer")])
        .await;
    li.sign_in("li.jing", STAFF_PASSWORD).await;
}

async fn reason_catalogue_edits_reach_the_form_and_the_applicant(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sup = app.signed_in_staff("boss", "supervisor").await;
    sup.get_page("/admin/reasons").await;
    let r = sup
        .post_form(
            "/admin/reasons",
            &[
                ("code", "photo_glare"),
                ("text_shown", "人像照片反光，请避开灯光重新拍摄"),
                ("internal_note", "看眼镜和额头"),
                ("position", "5"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/reasons?msg=saved");
    // A bad code is named and changes nothing.
    sup.get_page("/admin/reasons").await;
    let r = sup
        .post_form(
            "/admin/reasons",
            &[("code", "Bad Code"), ("text_shown", "x"), ("active", "1")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("代码须为 2–40 位小写字母"));
    assert!(
        !sup.get_page("/admin/reasons")
            .await
            .contains("value=\"Bad Code\"")
    );

    // The reviewer's return form offers it, with the internal note as its hint.
    let id = app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let page = rev.get_page(&format!("/review/{id}")).await;
    let r = rev
        .post_form(
            &format!("/review/{id}/claim"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    let page = rev.follow(r).await;
    assert!(page.contains("value=\"photo_glare\""), "{page}");
    assert!(page.contains("title=\"看眼镜和额头\""));
    assert!(page.contains("人像照片反光，请避开灯光重新拍摄"));

    // Edited before the decision: the applicant gets the text as it is now.
    sup.get_page("/admin/reasons").await;
    sup.post_form(
        "/admin/reasons",
        &[
            ("code", "photo_glare"),
            ("text_shown", "人像照片反光，请在自然光下重新拍摄"),
            ("internal_note", "看眼镜和额头"),
            ("position", "5"),
            ("active", "1"),
        ],
    )
    .await;
    let page = rev.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("人像照片反光，请在自然光下重新拍摄"));
    assert!(!page.contains("请避开灯光"));
    let r = rev
        .post_form(
            &format!("/review/{id}/return"),
            &[
                ("row_version", &hidden_field(&page, "row_version").unwrap()),
                ("reasons", "photo_glare"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=returned");
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(
        status["return_reasons"],
        serde_json::json!([{"code": "photo_glare", "text": "人像照片反光，请在自然光下重新拍摄"}])
    );
    assert!(
        app.storage
            .audit_recent(200)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "return_reason.saved" && a.actor == "staff:boss")
    );

    // Deactivated: no longer offered, and a form still naming it cannot use it.
    sup.get_page("/admin/reasons").await;
    sup.post_form(
        "/admin/reasons",
        &[
            ("code", "photo_glare"),
            ("text_shown", "人像照片反光，请在自然光下重新拍摄"),
            ("position", "5"),
        ],
    )
    .await;
    let id2 = {
        let mut j = example_json();
        j["hall_reference"] = Value::from("WT202611250002");
        j["payment"]["out_trade_no"] = Value::from("SZCA202611250002");
        let r = app.submit("k2", Submission::with_json(j).form()).await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let page = rev.get_page(&format!("/review/{id2}")).await;
    let r = rev
        .post_form(
            &format!("/review/{id2}/claim"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    let page = rev.follow(r).await;
    assert!(!page.contains("value=\"photo_glare\""));
    let r = rev
        .post_form(
            &format!("/review/{id2}/return"),
            &[
                ("row_version", &hidden_field(&page, "row_version").unwrap()),
                ("reasons", "photo_glare"),
            ],
        )
        .await;
    assert_eq!(location(&r), format!("/review/{id2}?msg=need_reason"));
    let d = app
        .storage
        .review_detail(&aid(&id2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.row.status, Status::InReview);
}

async fn every_view_is_audited_and_pages_carry_the_safety_headers(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    assert_eq!(app.audited(&id, "application.viewed").await, 0);
    rev.get_page(&format!("/review/{id}")).await;
    rev.get_page(&format!("/review/{id}?compare=1")).await;
    assert_eq!(app.audited(&id, "application.viewed").await, 2);
    let views: Vec<_> = app
        .storage
        .audit_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "application.viewed")
        .collect();
    assert!(views.iter().all(|a| a.actor == "staff:li.jing"));
    // The queue is not a view of one application's personal data.
    rev.get_page("/review").await;
    assert_eq!(app.audited(&id, "application.viewed").await, 2);

    // Pages (signed in and not): not framed, no referrer outside, not stored by caches.
    for (who, path) in [
        (&rev, "/review".to_owned()),
        (&rev, format!("/review/{id}")),
        (&rev, "/account/password".to_owned()),
    ] {
        let r = who.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        page_headers(&r, &path);
    }
    let r = app.browser().get("/login").await;
    page_headers(&r, "/login");
    // The API's answers too.
    let r = app.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    // A scan may be framed by our own page only, and is not cached either.
    let r = rev
        .get(&format!("/review/{id}/scans/1/application_form"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-frame-options"], "SAMEORIGIN");
    assert_eq!(r.headers()["cache-control"], "no-store");
}

fn page_headers(r: &reqwest::Response, path: &str) {
    let h = r.headers();
    assert_eq!(h["x-frame-options"], "DENY", "{path}");
    assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    assert_eq!(h["cache-control"], "no-store", "{path}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"),
        "{path}"
    );
}

async fn the_english_switch(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.submit_example().await;
    let rev = app.signed_in_staff("li.jing", "reviewer").await;
    let zh = rev.get_page("/review").await;
    assert!(
        zh.contains("<h1>审核队列</h1>") && zh.contains("lang=\"zh"),
        "{zh}"
    );
    let r = rev
        .post_form("/locale", &[("locale", "en"), ("next", "/review")])
        .await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/review".into()));
    let en = rev.follow(r).await;
    assert!(en.contains("<h1>Review queue</h1>"), "{en}");
    assert!(en.contains("lang=\"en\""));
    assert!(en.contains("Claim next") && !en.contains("认领下一件"));
    // It sticks across pages and to the sign-in page, and switches back.
    let pw = rev.get_page("/account/password").await;
    assert!(pw.contains("lang=\"en\""));
    assert!(pw.contains("value=\"zh\""), "the switch back is offered");
    let r = rev
        .post_form("/locale", &[("locale", "zh"), ("next", "/review")])
        .await;
    assert!(rev.follow(r).await.contains("<h1>审核队列</h1>"));
    // The next must stay on this site.
    let r = rev
        .post_form(
            "/locale",
            &[("locale", "en"), ("next", "https://evil.example/")],
        )
        .await;
    assert!(location(&r).starts_with('/') && !location(&r).starts_with("//"));
}

both!(
    queue_filters_search_and_keyset_pages,
    supervisors_reassign,
    disabling_a_user_or_changing_a_role_ends_their_sessions,
    reason_catalogue_edits_reach_the_form_and_the_applicant,
    every_view_is_audited_and_pages_carry_the_safety_headers,
    the_english_switch
);
