//! Delivers queued e-mail. Each pass claims due messages under a lease, sends them, and marks
//! each sent, or due again after a backoff, or parked.

use crate::mail::{Mailer, Outgoing};
use crate::storage::{DbResult, Storage};

/// A claim holds its messages this long; a worker that dies mid-send releases them by expiry.
/// Batches of 10 with lettre's 20 s timeout finish well inside it, so a live worker's claim
/// never lapses and no other instance takes a message it is still sending.
pub const LEASE_MS: i64 = 5 * 60 * 1000;

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
    for row in storage.claim_outbox(now, now + LEASE_MS, limit).await? {
        let out = Outgoing {
            to: &row.recipient,
            subject: &row.subject,
            text: &row.body_text,
            html: &row.body_html,
        };
        match mailer.send(&out).await {
            Ok(()) => {
                storage.mark_sent(row.message_id, now).await?;
                d.sent += 1;
            }
            Err(e) => {
                tracing::warn!(message_id = row.message_id, error = %e, "e-mail not delivered; will retry");
                storage.mark_failed(&row, &format!("{e:#}"), now).await?;
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
