//! The outbox under a slow SMTP relay (issue 17, item 5): a send that outlives its lease is
//! taken over by another worker, and neither the slow send's late success nor its late failure
//! makes the message go out twice or turns `sent` back to `pending`.

use crate::both;
use crate::helpers::*;
use crate::smtp_sink::{SmtpSink, mailer_for};
use crate::smtp_stall::{AfterStall, StallingSmtp};
use backoffice::domain::status::Action;
use backoffice::jobs::outbox::{LEASE_MS, deliver, deliver_all};
use std::time::Duration;

/// One message queued: the return notice to the applicant.
async fn one_queued(app: &TestApp) {
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
    assert_eq!(app.storage.outbox_count("pending").await.unwrap(), 1);
}

/// Worker A's send stalls; B comes after A's lease and sends; then A's send ends as `after` says.
async fn race(app: &TestApp, after: AfterStall, stall: Duration, a_limit: Duration) -> SmtpSink {
    one_queued(app).await;
    let sink = SmtpSink::start().await;
    let front = StallingSmtp::start(sink.port, 1, stall, after).await;
    let now = app.clock.now().timestamp_millis();
    let storage = app.storage.clone();
    let slow = mailer_for(front.port).with_time_limit(a_limit);
    let a = tokio::spawn(async move { deliver(&storage, &slow, now, 10).await.unwrap() });
    front.wait_accepted(1).await;
    // B's clock is past A's lease: the message is due again for B, who sends it at once.
    let b_now = now + LEASE_MS + 60_000;
    let b = deliver(&app.storage, &mailer_for(front.port), b_now, 10)
        .await
        .unwrap();
    assert_eq!((b.sent, b.failed), (1, 0));
    a.await.unwrap();
    front.wait_idle().await;
    // Whatever A's send came to, nothing is due any more, now or hours later.
    for later in [b_now + 1, b_now + 3 * 3_600_000] {
        assert_eq!(
            deliver_all(&app.storage, &mailer_for(front.port), later)
                .await
                .unwrap()
                .sent,
            0
        );
    }
    front.wait_idle().await;
    assert_eq!(app.storage.outbox_count("sent").await.unwrap(), 1);
    assert_eq!(app.storage.outbox_count("pending").await.unwrap(), 0);
    let sent = app.storage.outbox_messages("sent", 10).await.unwrap();
    assert_eq!(sent[0].attempts, 1, "B's send is the one on the record");
    sink
}

/// The relay answers after 3 s, but A gives up after 1 s (its whole-send limit): A's
/// connection closes before DATA, so only B's copy arrives.
async fn a_send_slower_than_its_limit_is_abandoned_and_sent_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sink = race(
        &app,
        AfterStall::Relay,
        Duration::from_secs(3),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(
        sink.messages().len(),
        1,
        "the message reached the sink once"
    );
}

/// The relay hangs up on A after 2 s (A's limit is longer): A's late failure must not put
/// the message B sent back in the queue.
async fn a_late_failure_never_unsends(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sink = race(
        &app,
        AfterStall::HangUp,
        Duration::from_secs(2),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        sink.messages().len(),
        1,
        "the message reached the sink once"
    );
}

both!(
    a_send_slower_than_its_limit_is_abandoned_and_sent_once,
    a_late_failure_never_unsends,
);
