//! The review loop over HTTP as a browser drives it: sign in, open the queue, claim, return with
//! reasons, the hall resubmits through the intake API, the change is highlighted, accept. And
//! the sign-in desk around it: throttling, expiry after inactivity, changing one's password,
//! signing out.

use crate::both;
use crate::helpers::*;
use serde_json::{Value, json};

const UNSIGNED: &str = "申请表未签名，请打印申请表、本人签名后重新上传";
const FRONT_UNCLEAR: &str = "身份证人像面照片不清晰，请在光线充足处重新拍摄上传";

/// The part of a page between two markers (the first `from`, then the next `to`).
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html.find(from).unwrap_or_else(|| panic!("no {from}"));
    let rest = &html[start..];
    &rest[..rest.find(to).map(|e| e + to.len()).unwrap_or(rest.len())]
}

async fn review_loop_over_http(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    app.create_staff("li.jing", "reviewer", STAFF_PASSWORD)
        .await;
    let reviewer = app.browser();
    // A reviewer starts on the queue; the new application is listed with its id.
    let queue = reviewer.sign_in("li.jing", STAFF_PASSWORD).await;
    assert!(queue.contains(&format!("<a href=\"/review/{id}\"><code>{id}</code></a>")));
    assert!(queue.contains("张三"));
    assert!(!queue.contains("class=\"tag\">重新提交"));

    let page_url = format!("/review/{id}");
    let page = reviewer.get_page(&page_url).await;
    assert!(page.contains("11010519491231002X"));
    assert_eq!(page.matches("<figure class=\"scan\"").count(), 5);
    let r = reviewer
        .post_form(
            &format!("/review/{id}/claim"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, format!("/review/{id}?msg=claimed"))
    );
    let page = reviewer.follow(r).await;
    assert!(page.contains("已认领，开始审核。"));
    assert!(page.contains("id=\"return-form\""));

    // Returned with two reasons from the catalogue and a note.
    let r = reviewer
        .post_form(
            &format!("/review/{id}/return"),
            &[
                ("row_version", &hidden_field(&page, "row_version").unwrap()),
                ("reasons", "form_unsigned"),
                ("reasons", "id_front_unclear"),
                ("note", "签名框空白；人像面反光"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=returned");
    assert!(reviewer.follow(r).await.contains("已退回申请人修改。"));
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(status["status"], "returned");
    assert_eq!(
        status["return_reasons"],
        json!([{"code": "form_unsigned", "text": UNSIGNED}, {"code": "id_front_unclear", "text": FRONT_UNCLEAR}])
    );

    // The hall resubmits: a new e-mail address, the signed form and a new photo of the ID
    // front (the two parts the reasons are about by default: `returned_parts`).
    let mut j = example_json();
    j["applicant"]["email"] = json!("zhang.san@example.net");
    let new_front = jpeg(b"a clearer front, no glare");
    let sub = Submission {
        json: Some(j.to_string()),
        files: vec![],
    }
    .set("id_front", "front.jpg", "image/jpeg", new_front.clone())
    .set(
        "application_form",
        "form.pdf",
        "application/pdf",
        pdf("form, signed"),
    );
    let r = app.resubmit(&id, "resubmit-1", sub.form()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);

    let queue = reviewer.get_page("/review").await;
    assert!(queue.contains(&format!("/review/{id}")));
    assert!(queue.contains("<span class=\"tag\">重新提交</span>"));
    let page = reviewer.get_page(&page_url).await;
    assert!(
        page.contains("第2 次提交（重新提交）"),
        "version 2 is not marked"
    );
    // Exactly the changed field is marked, with the old value struck through.
    assert_eq!(page.matches("<tr class=\"changed\">").count(), 1);
    let row = between(&page, "<tr class=\"changed\">", "</tr>");
    assert!(
        row.contains("电子邮箱") && row.contains("zhang.san@example.net"),
        "{row}"
    );
    assert!(
        row.contains("<del class=\"before\">zhangsan@example.com</del>"),
        "{row}"
    );
    // Exactly the changed scans are marked.
    assert_eq!(page.matches("<figure class=\"scan changed\"").count(), 2);
    assert!(page.contains("<figure class=\"scan changed\" data-kind=\"id_front\""));
    assert!(page.contains("<figure class=\"scan changed\" data-kind=\"application_form\""));
    assert_eq!(page.matches("<figure class=\"scan\"").count(), 3);
    assert!(!page.contains(&format!("/review/{id}/scans/1/")));

    // Side by side with the previous scans on request.
    let compare = reviewer.get_page(&format!("/review/{id}?compare=1")).await;
    for kind in [
        "application_form",
        "eseal_form",
        "id_front",
        "id_back",
        "liveness_photo",
    ] {
        assert!(
            compare.contains(&format!("/review/{id}/scans/1/{kind}")),
            "no previous {kind}"
        );
        assert!(
            compare.contains(&format!("/review/{id}/scans/2/{kind}")),
            "no current {kind}"
        );
    }
    let old = reviewer
        .get(&format!("/review/{id}/scans/1/id_front"))
        .await;
    assert_eq!(
        old.bytes().await.unwrap().to_vec(),
        jpeg(b"front WT202611250001")
    );
    let new = reviewer
        .get(&format!("/review/{id}/scans/2/id_front"))
        .await;
    assert_eq!(new.bytes().await.unwrap().to_vec(), new_front);

    // Claimed again and accepted.
    let r = reviewer
        .post_form(
            &format!("/review/{id}/claim"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    let page = reviewer.follow(r).await;
    // Not before a bill has verified the payment.
    assert!(page.contains(r#"data-state="unverified""#));
    assert!(
        !page.contains("payment_override"),
        "only a supervisor may override"
    );
    let r = reviewer
        .post_form(
            &format!("/review/{id}/accept"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=payment_unverified"));
    assert!(reviewer.follow(r).await.contains("付款尚未经账单核实"));
    app.verify_payment(&id).await;
    let page = reviewer.get_page(&format!("/review/{id}")).await;
    assert!(page.contains(r#"data-state="verified""#));
    let r = reviewer
        .post_form(
            &format!("/review/{id}/accept"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=accepted");
    let queue = reviewer.follow(r).await;
    assert!(queue.contains("已成功受理。"));
    assert!(
        !queue.contains(&format!("/review/{id}\"")),
        "an accepted application stays queued"
    );
    let status = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(status["status"], "accepted");
    assert_eq!(status["return_reasons"], json!([]));
    assert_eq!(
        app.history(&id).await,
        [
            "submitted",
            "in_review",
            "returned",
            "submitted",
            "in_review",
            "accepted"
        ]
    );

    // The timeline on the page tells the same story, with who did it and why.
    let page = reviewer.get_page(&page_url).await;
    let timeline = between(&page, "<ol class=\"timeline\">", "</ol>");
    for (status, n) in [
        ("submitted", 2),
        ("in_review", 2),
        ("returned", 1),
        ("accepted", 1),
    ] {
        assert_eq!(
            timeline
                .matches(&format!("class=\"badge {status}\""))
                .count(),
            n,
            "{status}: {timeline}"
        );
    }
    assert!(timeline.matches("li.jing").count() >= 4, "{timeline}");
    assert!(timeline.contains("签名框空白；人像面反光"));
    assert!(timeline.contains(UNSIGNED) && timeline.contains(FRONT_UNCLEAR));
    assert_eq!(app.audited(&id, "application.returned").await, 1);
    assert_eq!(app.audited(&id, "application.accepted").await, 1);
}

async fn repeated_failed_sign_ins_are_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("li.jing", "reviewer", STAFF_PASSWORD)
        .await;
    let b = app.browser();
    for i in 0..6 {
        let r = b.try_sign_in("li.jing", &format!("wrong guess {i}")).await;
        assert_eq!(r.status(), 200, "wrong password {i}");
        let body = r.text().await.unwrap();
        let expected = if i < 5 {
            "用户名或密码不正确"
        } else {
            "登录失败次数过多"
        };
        assert!(body.contains(expected), "attempt {i}");
    }
    // Now even the right password is refused, and no session is made.
    let r = b.try_sign_in("li.jing", STAFF_PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("登录失败次数过多，请 15 分钟后再试。")
    );
    assert_eq!(b.get("/review").await.status(), 303);
    // Another member is not affected; after the window the member can sign in again.
    app.signed_in_staff("wang.fang", "reviewer").await;
    app.clock
        .set(app.clock.now() + chrono::Duration::minutes(16));
    b.sign_in("li.jing", STAFF_PASSWORD).await;
}

async fn session_ends_after_inactivity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b = app.signed_in_staff("li.jing", "reviewer").await;
    app.clock
        .set(app.clock.now() + chrono::Duration::minutes(29));
    b.get_page("/review").await; // in use: the idle time starts again
    app.clock
        .set(app.clock.now() + chrono::Duration::minutes(31));
    let r = b.get("/review").await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/login?next=%2Freview".into())
    );
    // Signing in again brings the member back where they were going.
    b.get_page("/login?next=%2Freview").await;
    let r = b
        .post_form(
            "/login",
            &[
                ("username", "li.jing"),
                ("password", STAFF_PASSWORD),
                ("next", "/review"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/review");
}

async fn staff_change_their_own_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b = app.signed_in_staff("zhao.lei", "finance").await;
    let elsewhere = app.browser();
    elsewhere.sign_in("zhao.lei", STAFF_PASSWORD).await;
    b.get_page("/account/password").await;
    let new = "a different long phrase";
    let r = b
        .post_form(
            "/account/password",
            &[("current", "not it at all"), ("new", new), ("confirm", new)],
        )
        .await;
    assert!(r.text().await.unwrap().contains("当前密码不正确。"));
    let r = b
        .post_form(
            "/account/password",
            &[("current", STAFF_PASSWORD), ("new", new), ("confirm", new)],
        )
        .await;
    assert_eq!(location(&r), "/account/password?msg=password_changed");
    assert!(b.follow(r).await.contains("密码已修改"));
    // This session goes on; the other one is over.
    b.get_page("/account/password").await;
    assert_eq!(elsewhere.get("/account/password").await.status(), 303);
    // The old password stops working, the new one works.
    let fresh = app.browser();
    let r = fresh.try_sign_in("zhao.lei", STAFF_PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("用户名或密码不正确"));
    fresh.sign_in("zhao.lei", new).await;
}

async fn staff_sign_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b = app.signed_in_staff("li.jing", "reviewer").await;
    let (old_session, old_token) = (b.cookie("bo_session").unwrap(), b.csrf());
    let r = b.sign_out().await;
    assert_eq!(b.cookie("bo_session"), None);
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/login".into()));
    let r = b.get("/review").await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/login?next=%2Freview".into())
    );
    // The session is over on the server, not only gone from the cookie jar.
    let r = b
        .http
        .post(b.url("/review/next"))
        .header("cookie", format!("bo_session={old_session}"))
        .form(&[("_csrf", &old_token)])
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/login".into()));
}

both!(
    review_loop_over_http,
    repeated_failed_sign_ins_are_throttled,
    session_ends_after_inactivity,
    staff_change_their_own_password,
    staff_sign_out
);
