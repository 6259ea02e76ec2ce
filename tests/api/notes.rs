//! Internal notes and mentions: a note on the application page mentions a colleague, who finds
//! it in their inbox and in an e-mail (the link, not the text); names that match nobody stay
//! text; notes never reach the hall's answers nor the applicant's mails.

use crate::both;
use crate::bulk_actions::{claim, submit_n};
use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

async fn note(b: &StaffBrowser, id: &str, text: &str) -> String {
    b.get_page(&format!("/review/{id}")).await;
    let r = b
        .post_form(&format!("/review/{id}/notes"), &[("note", text)])
        .await;
    assert_eq!(r.status(), 303);
    location(&r)
}

async fn deliver(app: &TestApp) -> SmtpSink {
    let sink = SmtpSink::start().await;
    backoffice::jobs::outbox::deliver_all(
        &app.storage,
        &sink.mailer(),
        app.clock.now().timestamp_millis(),
    )
    .await
    .unwrap();
    sink
}

async fn a_mention_reaches_the_inbox_and_the_mail(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = submit_n(&app, 1).await;
    app.create_staff_with_email("li.si", "reviewer", "li.si@example.com")
        .await;
    let lisi = app.browser();
    lisi.sign_in("li.si", STAFF_PASSWORD).await;
    app.create_staff("ops", "admin", STAFF_PASSWORD).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;

    // The inbox link shows no count yet.
    let page = lisi.get_page("/review").await;
    assert!(page.contains("href=\"/inbox\">提及我的</a>"), "{page}");

    let to = note(
        &boss,
        &id,
        "请 @li.si 核对邮寄地址的门牌号；@nobody 和 @ops 也看看",
    )
    .await;
    assert_eq!(to, format!("/review/{id}?msg=note_unresolved"));
    let page = boss.get_page(&to).await;
    assert!(
        page.contains("<strong class=\"mention\">@li.si</strong>"),
        "{page}"
    );
    // Unknown names, and staff off the review desk, stay text marked as not found.
    assert!(
        page.contains("<span class=\"mention unresolved\">@nobody<small>"),
        "{page}"
    );
    assert!(
        page.contains("<span class=\"mention unresolved\">@ops<small>"),
        "{page}"
    );
    assert!(page.contains("核对邮寄地址的门牌号"));
    assert_eq!(app.audited(&id, "application.note_added").await, 1);

    // The colleague's top bar counts it; the inbox lists it, linked to the application.
    let page = lisi.get_page("/review").await;
    assert!(page.contains("提及我的 <span class=\"badge warn\">1<span class=\"visually-hidden\">条未读</span></span>"), "{page}");
    let inbox = lisi.get_page("/inbox").await;
    assert!(
        inbox.contains(&format!("href=\"/review/{id}#notes\"")),
        "{inbox}"
    );
    assert!(inbox.contains("<tr class=\"unread\">"), "{inbox}");
    assert!(inbox.contains("核对邮寄地址的门牌号"));
    // Nobody else's inbox has it.
    assert!(!boss.get_page("/inbox").await.contains(&id));

    // The e-mail: to the colleague, naming the application, without the note's text.
    let sink = deliver(&app).await;
    let mails: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains("li.si@example.com")))
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject().contains(&id), "{}", mails[0].subject());
    assert!(mails[0].subject().contains("boss"));
    let text = mails[0].text();
    assert!(text.contains(&format!("/review/{id}")), "{text}");
    assert!(!text.contains("门牌号"), "{text}");
    assert!(!text.contains("张三"), "{text}");

    // An id that is no mention's (negative, zero) is refused, not read as "all of them".
    for bad in ["-5", "0"] {
        let r = lisi.post_form("/inbox/read", &[("mention", bad)]).await;
        assert_eq!(location(&r), "/inbox?msg=not_allowed");
    }
    assert!(
        lisi.get_page("/inbox")
            .await
            .contains("<tr class=\"unread\">")
    );
    // Marked read: the count goes, the row stays, audited.
    let r = lisi
        .post_form("/inbox/read", &[("mention", &mention_id(&inbox))])
        .await;
    assert_eq!(location(&r), "/inbox?msg=marked_read");
    let inbox = lisi.get_page("/inbox").await;
    assert!(!inbox.contains("<tr class=\"unread\">"), "{inbox}");
    assert!(inbox.contains("已读"));
    assert!(!inbox.contains("class=\"badge warn\""), "{inbox}");
    let read = app
        .storage
        .audit_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "mention.read" && a.actor == "staff:li.si")
        .count();
    assert_eq!(read, 1);
}

fn mention_id(inbox: &str) -> String {
    hidden_field(inbox, "mention").expect("a mark-read form")
}

async fn notes_never_reach_the_hall_or_the_applicant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = submit_n(&app, 1).await;
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    claim(&rev, &id).await;
    const SECRET: &str = "内部核查：疑似代办";
    note(&rev, &id, SECRET).await;
    assert!(
        rev.get_page(&format!("/review/{id}"))
            .await
            .contains(SECRET)
    );
    // The hall's answers: the application and the look-up by hall reference.
    for path in [
        format!("/api/v1/applications/{id}"),
        "/api/v1/applications?hall_reference=WT202611250001".to_owned(),
    ] {
        let r = app
            .http
            .get(app.url(&path))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("内部核查"), "{path}: {body}");
    }
    // Returned: the applicant's mail has the reason, not the note.
    let page = rev.get_page(&format!("/review/{id}")).await;
    let r = rev
        .post_form(
            &format!("/review/{id}/return"),
            &[
                ("row_version", &hidden_field(&page, "row_version").unwrap()),
                ("reasons", "address_incomplete"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=returned");
    let sink = deliver(&app).await;
    let to_applicant: Vec<_> = sink.messages();
    assert!(!to_applicant.is_empty());
    for m in &to_applicant {
        assert!(!m.text().contains("内部核查"), "{}", m.text());
        assert!(!m.subject().contains("内部核查"));
    }
    let v = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert!(!v.to_string().contains("内部核查"), "{v}");
}

async fn a_note_has_one_to_two_thousand_characters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = submit_n(&app, 1).await;
    let rev = app.signed_in_staff("reviewer", "reviewer").await;
    assert_eq!(
        note(&rev, &id, "  ").await,
        format!("/review/{id}?msg=note_invalid")
    );
    let long = "长".repeat(2001);
    assert_eq!(
        note(&rev, &id, &long).await,
        format!("/review/{id}?msg=note_invalid")
    );
    assert_eq!(app.audited(&id, "application.note_added").await, 0);
    let full = "长".repeat(2000);
    assert_eq!(
        note(&rev, &id, &full).await,
        format!("/review/{id}?msg=note_added")
    );
    // Naming oneself is shown as a mention but sends nothing.
    assert_eq!(
        note(&rev, &id, "提醒 @reviewer 明天再看").await,
        format!("/review/{id}?msg=note_added")
    );
    assert!(!rev.get_page("/inbox").await.contains(&id));
    assert_eq!(app.storage.outbox_count("pending").await.unwrap(), 0);
    // A disabled colleague is not found.
    app.create_staff("gone", "reviewer", STAFF_PASSWORD).await;
    let gone = app.staff_id("gone").await;
    app.storage
        .update_staff(gone, "reviewer", true, "test", 0)
        .await
        .unwrap();
    assert_eq!(
        note(&rev, &id, "@gone 请看").await,
        format!("/review/{id}?msg=note_unresolved")
    );
    // Not a page for the hotline.
    let hotline = app.signed_in_staff("agent", "hotline").await;
    hotline.get_page("/hotline").await;
    let r = hotline
        .post_form(&format!("/review/{id}/notes"), &[("note", "x")])
        .await;
    assert_eq!(r.status(), 403);
}

/// Two notes at once mentioning the same colleague: both land, each its own inbox line and mail.
async fn two_notes_at_once_both_reach_the_colleague(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = submit_n(&app, 1).await;
    app.create_staff_with_email("li.si", "reviewer", "li.si@example.com")
        .await;
    let a = app.signed_in_staff("boss", "supervisor").await;
    let b = app.signed_in_staff("reviewer", "reviewer").await;
    a.get_page(&format!("/review/{id}")).await;
    b.get_page(&format!("/review/{id}")).await;
    let path = format!("/review/{id}/notes");
    let (ra, rb) = tokio::join!(
        a.post_form(&path, &[("note", "@li.si 第一条")]),
        b.post_form(&path, &[("note", "@li.si 第二条")]),
    );
    assert_eq!(location(&ra), format!("/review/{id}?msg=note_added"));
    assert_eq!(location(&rb), format!("/review/{id}?msg=note_added"));
    let lisi = app.staff_id("li.si").await;
    assert_eq!(app.storage.unread_mentions(lisi).await.unwrap(), 2);
    let sink = deliver(&app).await;
    assert_eq!(sink.messages().len(), 2);
    assert_eq!(app.audited(&id, "application.note_added").await, 2);
}

/// The inbox shows the newest 200 mentions and says when older ones are left out.
async fn an_inbox_over_two_hundred_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = submit_n(&app, 1).await;
    let lisi = app.signed_in_staff("li.si", "reviewer").await;
    let author = backoffice::desks::review::Actor {
        name: "staff:boss",
        request_id: None,
        may_override: false,
    };
    let at = app.clock.now().timestamp_millis();
    for n in 0..200 {
        let body = format!("第 {n} 条：请 @li.si 看看");
        backoffice::desks::notes::add(&app.storage, "", &aid(&id), &body, &author, at + n)
            .await
            .unwrap();
    }
    let page = lisi.get_page("/inbox").await;
    assert_eq!(page.matches("<tr class=\"unread\">").count(), 200);
    assert!(!page.contains("id=\"inbox-cut\""), "200 fit");
    backoffice::desks::notes::add(
        &app.storage,
        "",
        &aid(&id),
        "再提一次 @li.si",
        &author,
        at + 200,
    )
    .await
    .unwrap();
    let page = lisi.get_page("/inbox").await;
    assert_eq!(page.matches("<tr class=\"unread\">").count(), 200);
    assert!(
        page.contains("id=\"inbox-cut\""),
        "the 201st is said, not dropped silently"
    );
    assert!(page.contains("再提一次"), "the newest first");
}

both!(
    an_inbox_over_two_hundred_says_so,
    a_mention_reaches_the_inbox_and_the_mail,
    notes_never_reach_the_hall_or_the_applicant,
    a_note_has_one_to_two_thousand_characters,
    two_notes_at_once_both_reach_the_colleague,
);
