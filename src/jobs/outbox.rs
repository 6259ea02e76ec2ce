//! Delivers queued e-mail. Each message is claimed under a lease just before it is sent, the
//! send is bounded by `mail::SEND_TIME_LIMIT` (well inside the lease), and the message is marked
//! sent, or due again after a backoff, or parked — each only while the claim is still ours.

use crate::mail::{Mailer, Outgoing, SEND_TIME_LIMIT};
use crate::storage::{DbResult, Storage};

/// A claim holds its message this long; a worker that dies mid-send releases it by expiry.
/// One message is claimed at a time and its send is cut off after `SEND_TIME_LIMIT`, so a live
/// worker's claim never lapses while it sends and no other instance takes that message.
pub const LEASE_MS: i64 = 5 * 60 * 1000;

const _: () = assert!((SEND_TIME_LIMIT.as_millis() as i64) * 2 < LEASE_MS);

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
            .claim_outbox(now, at + LEASE_MS, 1)
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
