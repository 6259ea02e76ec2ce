//! Delivers queued e-mail. Each message is claimed under a lease just before it is sent, the
//! send is bounded by `mail::SEND_TIME_LIMIT` (well inside the lease), and the message is marked
//! sent, or due again after a backoff, or parked — each only while the claim is still ours.
//! E-mail and SMS are claimed apart (`deliver`, `deliver_sms`): each waits for its own sender.

use crate::domain::masking;
use crate::mail::{Mailer, Outgoing, SEND_TIME_LIMIT};
use crate::sms::{SmsOutcome, SmsSender};
use crate::storage::outbox::{EMAIL, SMS};
use crate::storage::{DbResult, Storage};

/// A claim holds its message this long; a worker that dies mid-send releases it by expiry.
/// One message is claimed at a time and its send is cut off after `SEND_TIME_LIMIT`, so a live
/// worker's claim never lapses while it sends and no other instance takes that message.
pub const LEASE_MS: i64 = 5 * 60 * 1000;

const _: () = assert!((SEND_TIME_LIMIT.as_millis() as i64) * 2 < LEASE_MS);
const _: () = assert!((crate::sms::SEND_TIME_LIMIT.as_millis() as i64) * 2 < LEASE_MS);

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub failed: usize,
}

/// One pass over at most `limit` due messages.
pub async fn deliver(
    storage: &Storage,
    mailer: &Mailer,
    now: i64,
    limit: i64,
) -> DbResult<Delivered> {
    let mut d = Delivered::default();
    let started = std::time::Instant::now();
    for _ in 0..limit.max(0) {
        // Each claim starts its lease when its send starts, however long the pass has taken.
        let at = now + started.elapsed().as_millis() as i64;
        let Some(row) = storage
            .claim_outbox(EMAIL, now, at + LEASE_MS, 1)
            .await?
            .into_iter()
            .next()
        else {
            break;
        };
        let out = Outgoing {
            to: &row.recipient,
            subject: &row.subject,
            text: &row.body_text,
            html: &row.body_html,
        };
        match mailer.send(&out).await {
            Ok(()) => {
                if !storage.mark_sent(&row, now).await? {
                    tracing::warn!(
                        message_id = row.message_id,
                        "e-mail sent after its claim was lost"
                    );
                }
                d.sent += 1;
            }
            Err(e) => {
                tracing::warn!(message_id = row.message_id, error = %e, "e-mail not delivered; will retry");
                if !storage.mark_failed(&row, &format!("{e:#}"), now).await? {
                    tracing::warn!(
                        message_id = row.message_id,
                        "late failure ignored: the claim was taken over"
                    );
                }
                d.failed += 1;
            }
        }
    }
    Ok(d)
}

/// Passes until nothing is due (tests and the CLI drain the queue with this).
pub async fn deliver_all(storage: &Storage, mailer: &Mailer, now: i64) -> DbResult<Delivered> {
    let mut total = Delivered::default();
    loop {
        let d = deliver(storage, mailer, now, 10).await?;
        if d.sent + d.failed == 0 {
            return Ok(total);
        }
        total.sent += d.sent;
        total.failed += d.failed;
    }
}

/// One pass over at most `limit` due SMS messages, as `deliver` does for e-mail; an answer the
/// provider documents as passing backs off, any other refusal parks the message at once. The
/// mobile is masked in every log line.
pub async fn deliver_sms(
    storage: &Storage,
    sender: &SmsSender,
    now: i64,
    limit: i64,
) -> DbResult<Delivered> {
    let mut d = Delivered::default();
    let started = std::time::Instant::now();
    for _ in 0..limit.max(0) {
        let at = now + started.elapsed().as_millis() as i64;
        let Some(row) = storage
            .claim_outbox(SMS, now, at + LEASE_MS, 1)
            .await?
            .into_iter()
            .next()
        else {
            break;
        };
        let to = masking::mobile(&row.recipient);
        let kept = match sender.send(&row.recipient, &row.kind, &row.body_text).await {
            SmsOutcome::Sent(biz_id) => {
                tracing::info!(message_id = row.message_id, mobile = %to, biz_id = %biz_id, "SMS sent");
                d.sent += 1;
                storage.mark_sent(&row, now).await?
            }
            SmsOutcome::Retry(e) => {
                tracing::warn!(message_id = row.message_id, mobile = %to, error = %e, "SMS not sent; will retry");
                d.failed += 1;
                storage.mark_failed(&row, &e, now).await?
            }
            SmsOutcome::Park(e) => {
                tracing::warn!(message_id = row.message_id, mobile = %to, error = %e, "SMS refused; parked");
                d.failed += 1;
                storage.park_failed(&row, &e, now).await?
            }
        };
        if !kept {
            tracing::warn!(
                message_id = row.message_id,
                "SMS outcome ignored: the claim was taken over"
            );
        }
    }
    Ok(d)
}

/// Passes until no SMS is due.
pub async fn deliver_all_sms(
    storage: &Storage,
    sender: &SmsSender,
    now: i64,
) -> DbResult<Delivered> {
    let mut total = Delivered::default();
    loop {
        let d = deliver_sms(storage, sender, now, 10).await?;
        if d.sent + d.failed == 0 {
            return Ok(total);
        }
        total.sent += d.sent;
        total.failed += d.failed;
    }
}
