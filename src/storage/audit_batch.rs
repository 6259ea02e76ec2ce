//! Group commit of the audit records of views (issue 24): a look-up writes no state, only its
//! audit record, so concurrent look-ups' records are written by one task in one transaction and
//! each request waits for its batch's commit before it answers — every record is as durable as
//! with a transaction of its own, and a commit (on PostgreSQL a WAL flush, on SQLite a turn of the
//! single writer) serves all the requests that queued meanwhile. Sealing is untouched: the
//! records are plain inserts, sealed later in `audit_id` order like any other.

use super::audit::{AuditEntry, record};
use super::{DbResult, Storage};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// At most this many records in one transaction.
const MAX_BATCH: usize = 256;
/// Requests waiting for the writer at most; more wait to be queued (back-pressure).
const QUEUE: usize = 1024;

/// Whether views' records are group-committed (`BACKOFFICE_AUDIT_GROUP_COMMIT=on`; off by
/// default: a short hotline run on SQLite showed a p99 of 1.6 s with it, not yet explained), else
/// each is written in a transaction of its own.
fn group_commit() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var("BACKOFFICE_AUDIT_GROUP_COMMIT").is_ok_and(|v| v.trim() == "on")
    })
}

/// An audit record owned, to be written by the batch writer.
struct Job {
    at: i64,
    actor: String,
    action: String,
    subject_type: String,
    subject_id: String,
    before: Option<String>,
    after: Option<String>,
    request_id: Option<String>,
    done: oneshot::Sender<DbResult<()>>,
}

impl Job {
    fn entry(&self) -> AuditEntry<'_> {
        AuditEntry {
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            subject_type: &self.subject_type,
            subject_id: &self.subject_id,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
            request_id: self.request_id.as_deref(),
        }
    }
}

/// The sending side of the batch writer, started on first use.
#[derive(Clone, Debug, Default)]
pub(super) struct AuditWriter(Arc<OnceLock<mpsc::Sender<Job>>>);

/// Writes `jobs` in one transaction.
async fn write(s: &Storage, jobs: &[Job]) -> DbResult<()> {
    let mut tx = s.begin().await?;
    for j in jobs {
        record(&mut tx, &j.entry()).await?;
    }
    tx.commit().await
}

/// The writer: takes whatever has queued (at least one record), commits it, answers each.
async fn run(s: Storage, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write(&s, &batch).await {
            Ok(()) => {
                for j in batch.drain(..) {
                    let _ = j.done.send(Ok(()));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some(j) = batch.pop() {
                    let _ = j.done.send(Err(e));
                }
            }
            Err(_) => {
                // One bad record must not fail the others: each in its own transaction then.
                for j in batch.drain(..) {
                    let r = write(&s, std::slice::from_ref(&j)).await;
                    let _ = j.done.send(r);
                }
            }
        }
    }
}

impl Storage {
    /// Records a view of personal data: committed (with the records of concurrent views, in one
    /// transaction) before it returns.
    pub async fn audit_view(&self, e: &AuditEntry<'_>) -> DbResult<()> {
        // Written while serving a request, a record names it even when its caller did not.
        let request_id = e
            .request_id
            .map(str::to_owned)
            .or_else(crate::request_id::current);
        if !group_commit() {
            let mut tx = self.begin().await?;
            record(
                &mut tx,
                &AuditEntry {
                    request_id: request_id.as_deref(),
                    ..*e
                },
            )
            .await?;
            return tx.commit().await;
        }
        let (done, answer) = oneshot::channel();
        let job = Job {
            at: e.at,
            actor: e.actor.to_owned(),
            action: e.action.to_owned(),
            subject_type: e.subject_type.to_owned(),
            subject_id: e.subject_id.to_owned(),
            before: e.before.map(str::to_owned),
            after: e.after.map(str::to_owned),
            request_id,
            done,
        };
        let writer = self.audit_writer.0.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            // The writer holds the pools, not this storage: it ends when the last clone of
            // the storage (and so the sender) is dropped.
            let s = Storage {
                read: self.read.clone(),
                write: self.write.clone(),
                pauses: self.pauses.clone(),
                audit_writer: AuditWriter::default(),
            };
            tokio::spawn(run(s, rx));
            tx
        });
        match writer.send(job).await {
            Ok(()) => answer.await.unwrap_or_else(|_| {
                // Its runtime shut down while the record was in its hands.
                Err(sqlx::Error::Protocol("the audit writer stopped".into()))
            }),
            // The writer is gone (its runtime shut down): written here.
            Err(mpsc::error::SendError(job)) => write(self, std::slice::from_ref(&job)).await,
        }
    }
}
