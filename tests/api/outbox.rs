//! The outbox when the relay keeps refusing: each failure backs off on the README's schedule
//! (1 minute doubling: 1, 2, 4, … 64 minutes), the eighth failure parks the message, a parked
//! message is never tried again by itself, `/admin/outbox` lists it with its error, and the
//! administrator's retry there sends it (audited) once the relay answers.

use crate::both;
use crate::helpers::*;
use crate::smtp_sink::{SmtpSink, mailer_for};
use backoffice::domain::status::Action;
use backoffice::jobs::outbox::deliver;
use tokio::{io::AsyncWriteExt, net::TcpListener};

const MINUTE: i64 = 60_000;

/// An SMTP server that answers every connection with a permanent refusal (a relay that is up
/// but will not take mail), counting the connections it refused.
async fn refusing_relay() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = sock
                .write_all(b"554 5.3.2 relay not accepting mail today\r\n")
                .await;
            let _ = sock.shutdown().await;
        }
    });
    (port, count)
}

/// The application's "returned" e-mail, queued by a real decision.
async fn one_queued_message(app: &TestApp) -> i64 {
    let id = app.submit_example().await;
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
    let pending = app.storage.outbox_messages("pending", 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    pending[0].message_id
}

async fn eight_failures_park_a_message_and_the_admin_retries_it(b: Backend) {
    let app = TestApp::spawn(b).await;
    let message_id = one_queued_message(&app).await;
    let (port, refused) = refusing_relay().await;
    let down = mailer_for(port);
    let mut now = app.clock.now().timestamp_millis();
    // The schedule: after failure n the message is due again 2^(n-1) minutes later.
    let schedule = [1, 2, 4, 8, 16, 32, 64];
    for (n, wait) in schedule.iter().enumerate() {
        let d = deliver(&app.storage, &down, now, 10).await.unwrap();
        assert_eq!((d.sent, d.failed), (0, 1), "attempt {}", n + 1);
        let row = app.storage.outbox_messages("pending", 10).await.unwrap();
        assert_eq!(row.len(), 1, "still pending after {} failures", n + 1);
        assert_eq!(row[0].attempts, n as i64 + 1);
        assert_eq!(
            row[0].next_attempt_at - now,
            wait * MINUTE,
            "backoff after failure {}",
            n + 1
        );
        assert!(
            row[0].last_error.as_deref().unwrap_or("").contains("554"),
            "{:?}",
            row[0].last_error
        );
        // Not due a millisecond before its time, due at it.
        let early = deliver(&app.storage, &down, now + wait * MINUTE - 1, 10)
            .await
            .unwrap();
        assert_eq!(early.sent + early.failed, 0, "not due yet after {}", n + 1);
        now += wait * MINUTE;
    }
    // The eighth failure parks it.
    let d = deliver(&app.storage, &down, now, 10).await.unwrap();
    assert_eq!(d.failed, 1);
    assert_eq!(refused.load(std::sync::atomic::Ordering::SeqCst), 8);
    assert_eq!(app.storage.outbox_count("pending").await.unwrap(), 0);
    let parked = app.storage.outbox_messages("parked", 10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].message_id, parked[0].attempts), (message_id, 8));
    // Parked stays parked: nobody tries it again, not even days later with the relay up.
    let sink = SmtpSink::start().await;
    let d = deliver(
        &app.storage,
        &sink.mailer(),
        now + 30 * 24 * 60 * MINUTE,
        10,
    )
    .await
    .unwrap();
    assert_eq!((d.sent, d.failed), (0, 0));
    assert!(sink.messages().is_empty());

    // The administrator's page lists it, with its error and a retry form.
    let admin = app.signed_in_staff("ops.admin", "admin").await;
    let page = admin.get_page("/admin/outbox").await;
    let parked_part = &page[page.find("多次失败已暂停").unwrap()..page.rfind("<h2>").unwrap()];
    assert!(
        parked_part.contains(&format!("action=\"/admin/outbox/{message_id}/retry\"")),
        "{parked_part}"
    );
    assert!(parked_part.contains("554"), "{parked_part}");
    assert!(parked_part.contains("zhangsan@example.com"));
    assert!(page.contains("已暂停 <strong>1</strong>"), "{page}");

    // Retried: pending again, due now, attempts from zero, audited.
    let r = admin
        .post_form(&format!("/admin/outbox/{message_id}/retry"), &[])
        .await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/admin/outbox?msg=saved".to_owned())
    );
    let retried = app
        .storage
        .audit_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "outbox.retried" && a.subject_id == message_id.to_string())
        .collect::<Vec<_>>();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].actor, "staff:ops.admin");
    let pending = app.storage.outbox_messages("pending", 10).await.unwrap();
    assert_eq!((pending.len(), pending[0].attempts), (1, 0));
    // A second retry of a message that is no longer parked is refused.
    let r = admin
        .post_form(&format!("/admin/outbox/{message_id}/retry"), &[])
        .await;
    assert_eq!(r.status(), 404);

    // The relay is back: the next pass sends it, once.
    let now = app.clock.now().timestamp_millis();
    let d = deliver(&app.storage, &sink.mailer(), now, 10)
        .await
        .unwrap();
    assert_eq!((d.sent, d.failed), (1, 0));
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].to, ["zhangsan@example.com"]);
    assert_eq!(app.storage.outbox_count("sent").await.unwrap(), 1);
    assert_eq!(app.storage.outbox_count("parked").await.unwrap(), 0);
    let d = deliver(&app.storage, &sink.mailer(), now + 600 * MINUTE, 10)
        .await
        .unwrap();
    assert_eq!(d.sent + d.failed, 0);
}

both!(eight_failures_park_a_message_and_the_admin_retries_it);
