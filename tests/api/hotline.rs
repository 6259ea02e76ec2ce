//! The hotline desk over HTTP: search by every key, the masked status view and its script,
//! verification without disclosure, call notes reaching reviewers, the audit of every look-up,
//! and throttling.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::Action;
use backoffice::views::review::urlencode;

/// Personal data the agent must never see whole.
const SECRETS: &[&str] = &[
    "11010519491231002X",
    "13800138000",
    "张三",
    "科技园路",
    "zhangsan@example.com",
    "4200001234202611250000000001",
];

fn assert_masked(page: &str) {
    for s in SECRETS {
        assert!(!page.contains(s), "the page shows {s}");
    }
}

async fn agents_find_applications_by_every_key(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let agent = app.signed_in_staff("zhou.min", "hotline").await;
    for q in [
        id.as_str(),
        "WT202611250001",
        "13800138000",
        "0150512140479054C03",
        "张三 002X",
        "张三 002x",
    ] {
        let page = agent
            .get_page(&format!("/hotline?q={}", urlencode(q)))
            .await;
        assert!(
            page.contains(&format!("/hotline/{id}")),
            "{q} did not find it"
        );
        assert!(page.contains("张*"), "{q}: name not masked");
    }
    for q in ["张三 1234", "13900139000", "WT-NONE"] {
        let page = agent
            .get_page(&format!("/hotline?q={}", urlencode(q)))
            .await;
        assert!(!page.contains(&format!("/hotline/{id}")), "{q} found it");
    }
    // A name alone is too broad.
    let page = agent
        .get_page(&format!("/hotline?q={}", urlencode("张三")))
        .await;
    assert!(page.contains("姓名 证件号后四位"));
    // Every look-up is audited with the query and what was shown.
    let audit = app.storage.audit_recent(50).await.unwrap();
    let searches: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "hotline.searched")
        .collect();
    assert_eq!(searches.len(), 9);
    assert!(searches.iter().all(|a| a.actor == "staff:zhou.min"));
    assert!(searches.iter().any(|a| a.subject_id == "13800138000" && a.after_state.as_deref() == Some(id.as_str())));
}

async fn the_status_view_is_masked_and_has_a_script(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let agent = app.signed_in_staff("zhou.min", "hotline").await;
    let page = agent.get_page(&format!("/hotline/{id}")).await;
    assert_masked(&page);
    assert!(page.contains("1101**********002X"));
    assert!(page.contains("138****8000"));
    assert!(page.contains("广东省深圳市南山区"));
    assert!(page.contains("已支付"));
    assert!(
        page.contains("2026-11-30 18:00"),
        "the script names the deadline"
    );
    // Returned: the script reads the reasons and how to resubmit.
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(
        &id,
        Action::Return,
        &[(
            "form_unsigned",
            "申请表未签名，请打印申请表、本人签名后重新上传",
        )],
    )
    .await;
    let page = agent.get_page(&format!("/hotline/{id}")).await;
    assert_masked(&page);
    assert!(page.contains("申请表未签名，请打印申请表、本人签名后重新上传"));
    assert!(page.contains("重新上传材料后提交"));
    assert!(
        !page.contains("staff:reviewer") && !page.contains(">reviewer<"),
        "reviewers' names are not shown"
    );
    assert!(
        app.storage
            .audit_recent(20)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "hotline.viewed" && a.subject_id == id)
    );
}

async fn callers_are_verified_without_disclosure(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let agent = app.signed_in_staff("zhou.min", "hotline").await;
    agent.get_page(&format!("/hotline/{id}")).await;
    let r = agent
        .post_form(
            &format!("/hotline/{id}/verify"),
            &[("method", "id_last6"), ("value", "31002x")],
        )
        .await;
    assert!(
        location(&r).ends_with("msg=verified_ok"),
        "{}",
        location(&r)
    );
    let r = agent
        .post_form(
            &format!("/hotline/{id}/verify"),
            &[("method", "mobile"), ("value", "13800138001")],
        )
        .await;
    assert!(location(&r).ends_with("msg=verified_no"));
    let page = agent
        .get_page(&format!("/hotline/{id}?msg=verified_no"))
        .await;
    assert!(page.contains("核验结果：不一致"));
    assert_masked(&page);
    // The mobile as callers say it.
    let r = agent
        .post_form(
            &format!("/hotline/{id}/verify"),
            &[("method", "mobile"), ("value", "+86 138 0013 8000")],
        )
        .await;
    assert!(location(&r).ends_with("msg=verified_ok"));
    // Guessing is bounded: after three failed checks within the hour, checks are refused.
    for _ in 0..2 {
        agent
            .post_form(
                &format!("/hotline/{id}/verify"),
                &[("method", "id_last6"), ("value", "000000")],
            )
            .await;
    }
    let r = agent
        .post_form(
            &format!("/hotline/{id}/verify"),
            &[("method", "id_last6"), ("value", "31002X")],
        )
        .await;
    assert!(
        location(&r).ends_with("msg=verify_limit"),
        "{}",
        location(&r)
    );
    let v: Vec<_> = app
        .storage
        .verifications(&aid(&id))
        .await
        .unwrap()
        .into_iter()
        .skip(3)
        .collect();
    assert_eq!(
        v.iter()
            .map(|v| (v.method.as_str(), v.matched))
            .collect::<Vec<_>>(),
        [("mobile", false), ("id_last6", true)]
    );
    // The audit says that and how, never what the caller said.
    let audit = app.storage.audit_recent(20).await.unwrap();
    let verified: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "hotline.verified")
        .collect();
    assert_eq!(verified.len(), 5);
    assert!(verified.iter().all(|a| {
        !a.after_state
            .as_deref()
            .unwrap_or("")
            .contains("1380013800")
    }));
}

async fn call_notes_reach_the_reviewers(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let agent = app.signed_in_staff("zhou.min", "hotline").await;
    agent.get_page(&format!("/hotline/{id}")).await;
    let r = agent
        .post_form(
            &format!("/hotline/{id}/note"),
            &[("note", "来电询问进度，已告知审核期限")],
        )
        .await;
    assert!(location(&r).ends_with("msg=noted"));
    let reviewer = app.signed_in_staff("li.jing", "reviewer").await;
    let page = reviewer.get_page(&format!("/review/{id}")).await;
    assert!(page.contains("客服记录：来电询问进度，已告知审核期限"));
    assert!(
        agent
            .get_page(&format!("/hotline/{id}"))
            .await
            .contains("客服记录：来电询问进度")
    );
    // The hotline reaches neither the review desk nor the scans.
    assert_eq!(agent.get(&format!("/review/{id}")).await.status(), 403);
    assert_eq!(
        agent
            .get(&format!("/review/{id}/scans/1/id_front"))
            .await
            .status(),
        403
    );
}

async fn an_agent_over_the_hourly_limit_is_throttled_and_supervisors_told(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.hotline_lookups_per_hour = 3).await;
    app.create_staff_with_email("boss", "supervisor", "boss@ca.example.cn")
        .await;
    let id = app.submit_example().await;
    let agent = app.signed_in_staff("zhou.min", "hotline").await;
    for _ in 0..3 {
        assert!(
            agent
                .get_page(&format!("/hotline?q={id}"))
                .await
                .contains(&format!("/hotline/{id}"))
        );
    }
    for _ in 0..2 {
        let page = agent.get_page(&format!("/hotline?q={id}")).await;
        assert!(page.contains("查询次数已达上限"));
        assert!(!page.contains(&format!("/hotline/{id}\"")));
    }
    let mails = app.storage.outbox_messages("pending", 10).await.unwrap();
    let told: Vec<_> = mails
        .iter()
        .filter(|m| m.kind == "hotline_throttled")
        .collect();
    assert_eq!(told.len(), 1, "told once per hour");
    assert_eq!(told[0].recipient, "boss@ca.example.cn");
    // Another agent is not affected; an hour later the first may search again.
    let other = app.signed_in_staff("wu.fang", "hotline").await;
    assert!(
        other
            .get_page(&format!("/hotline?q={id}"))
            .await
            .contains(&format!("/hotline/{id}"))
    );
    app.clock.set(test_now() + chrono::Duration::minutes(61));
    let again = app.browser();
    again.sign_in("zhou.min", STAFF_PASSWORD).await;
    assert!(
        again
            .get_page(&format!("/hotline?q={id}"))
            .await
            .contains(&format!("/hotline/{id}"))
    );
    // The supervisors' page counts look-ups per agent and day.
    let boss = app.browser();
    boss.sign_in("boss", "a long secret phrase").await;
    let page = boss.get_page("/hotline-lookups").await;
    assert!(page.contains("zhou.min") && page.contains("wu.fang"));
    assert!(
        page.contains("已限流"),
        "the throttling shows among the latest look-ups"
    );
}

/// Concurrent look-ups share the commit of their audit records (issue 24), yet each record is
/// committed — readable from another connection — by the time its look-up answers, and the
/// records seal into a chain that verifies.
async fn concurrent_look_ups_are_each_audited_before_they_answer(b: Backend) {
    let app = TestApp::spawn(b).await;
    let agent = std::sync::Arc::new(app.signed_in_staff("zhou.min", "hotline").await);
    let mut tasks = vec![];
    for i in 0..32 {
        let (agent, db) = (agent.clone(), app.database_url.clone());
        tasks.push(tokio::spawn(async move {
            let q = format!("WT-CALL-{i}");
            let page = agent.get_page(&format!("/hotline?q={q}")).await;
            assert!(page.contains(&q));
            crate::audit_chain::scalar(
                &db,
                &format!(
                    "select count(*) from audit_log where action = 'hotline.searched' and subject_id = '{q}'"
                ),
            )
            .await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(
            t.await.unwrap(),
            1,
            "look-up {i} answered before its record was committed"
        );
    }
    let total = app.storage.audit_count().await.unwrap();
    app.storage.seal_audit(0, true).await.unwrap();
    match app.storage.verify_audit(7).await.unwrap() {
        backoffice::storage::audit::Verdict::Intact(n) => assert_eq!(n as i64, total),
        backoffice::storage::audit::Verdict::Broken(b) => panic!("{b}"),
    }
}

both!(
    concurrent_look_ups_are_each_audited_before_they_answer,
    agents_find_applications_by_every_key,
    the_status_view_is_masked_and_has_a_script,
    callers_are_verified_without_disclosure,
    call_notes_reach_the_reviewers,
    an_agent_over_the_hourly_limit_is_throttled_and_supervisors_told,
);
