//! The import job (issue 21): claims queued imports, runs the desk's own import on the stored
//! file — the same function, all-or-nothing as it is from the CLI — and stores its result for
//! the job's page. Only the holder of a job's current lease writes its progress or result; a job
//! whose worker died is claimed again when its lease runs out (its import, one transaction,
//! changed nothing). The upload's handler starts a pass at once; the scheduler's tick picks up
//! what is left (another instance's jobs, a restart's).

use super::Context;
use crate::desks::progress::{self, Progress};
use crate::desks::{finance, fulfilment};
use crate::exchange::grid::SheetError;
use crate::storage::{
    Backend,
    import_jobs::{ClaimedImport, JobResult, RowIssue},
};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// How long a claimed job is a worker's before another may take it over. A worker on PostgreSQL
/// renews it with each progress beat; on SQLite (one instance) it outlasts any import.
pub const LEASE_MS: i64 = 10 * 60_000;

/// How often a running job's progress is written (PostgreSQL; on SQLite the import holds the
/// only writer, and the page reads this process's counts, [`live`]).
const BEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// The kinds of import that run as jobs.
pub const BILLS: &str = "bills";
pub const TRACKING: &str = "tracking";

/// A running job: its lease token and id.
type Running = (String, i64);

/// The jobs this process runs: their counts as they go.
static LIVE: LazyLock<Mutex<HashMap<Running, Arc<Progress>>>> = LazyLock::new(Default::default);

/// The progress of a job this process runs under `token` (done, total).
pub fn live(token: &str, job_id: i64) -> Option<(i64, i64)> {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.get(&(token.to_owned(), job_id)).map(|p| p.get())
}

/// Takes a job out of [`LIVE`] when its run ends, however it ends.
struct Listed(Running);

impl Drop for Listed {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.remove(&self.0);
    }
}

/// Runs up to `limit` due jobs; returns how many were claimed.
pub async fn run_pending(ctx: &Context, limit: i64) -> anyhow::Result<usize> {
    let now = ctx.clock.now().timestamp_millis();
    let token = uuid::Uuid::new_v4().to_string();
    let jobs = ctx
        .storage
        .claim_imports(now, now + LEASE_MS, &token, limit)
        .await?;
    for job in &jobs {
        run_one(ctx, job, &token).await?;
    }
    Ok(jobs.len())
}

/// Runs the queue dry, a job at a time (the upload's pass, tests), after the pass running now.
pub async fn run_all(ctx: &Context) -> anyhow::Result<usize> {
    let _turn = ctx.imports_running.lock().await;
    drain(ctx).await
}

/// The scheduler's tick: a pass unless one is running (ticks do not pile up behind a long
/// import; the running pass takes what was queued meanwhile).
pub async fn tick(ctx: &Context) -> anyhow::Result<usize> {
    let Ok(_turn) = ctx.imports_running.try_lock() else {
        return Ok(0);
    };
    drain(ctx).await
}

async fn drain(ctx: &Context) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let n = run_pending(ctx, 1).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

/// A pass in a task of its own (the upload's handler: the clerk's page does not wait for it).
pub fn start(ctx: &Context) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = run_all(&ctx).await {
            tracing::error!(error = %e, "import jobs failed");
        }
    });
}

async fn run_one(ctx: &Context, job: &ClaimedImport, token: &str) -> anyhow::Result<()> {
    let p = Arc::new(Progress::default());
    let key = (token.to_owned(), job.job_id);
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.clone(), p.clone());
    let _listed = Listed(key);
    let beat = (ctx.storage.backend() == Backend::Postgres).then(|| {
        let (ctx, p, token, id) = (ctx.clone(), p.clone(), token.to_owned(), job.job_id);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(BEAT).await;
                let now = ctx.clock.now().timestamp_millis();
                let r = ctx
                    .storage
                    .import_progress(id, &token, p.get(), now + LEASE_MS, now);
                // Lost the lease (another worker holds the job): stop. A failed write (the
                // database busy a moment) is tried again on the next beat, so a long import
                // keeps its lease and is not run a second time elsewhere.
                match r.await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(error = %e, job = id, "import lease not renewed"),
                }
            }
        })
    });
    let (ok, result) = match ctx.storage.import_file(job.job_id).await? {
        Some(bytes) => progress::scope(p.clone(), import(ctx, job, &bytes)).await,
        None => (false, refused("the file of this import is gone".into())),
    };
    if let Some(b) = beat {
        b.abort();
    }
    let now = ctx.clock.now().timestamp_millis();
    let (done, total) = p.get();
    let stored = ctx
        .storage
        .finish_import(job.job_id, token, ok, &result, (done, total), now)
        .await?;
    if !stored {
        tracing::warn!(
            job = job.job_id,
            "import job's lease was lost before its result"
        );
    }
    ctx.metrics
        .job("import", result.refusal.as_deref() == Some(DB_FAILED));
    Ok(())
}

fn refused(why: String) -> JobResult {
    JobResult {
        refusal: Some(why),
        ..Default::default()
    }
}

const DB_FAILED: &str =
    "the database failed during the import; nothing was changed. Upload the file again.";

/// A database failure is not the file's fault: said so, with nothing changed.
fn db_failed(job: &ClaimedImport, e: &sqlx::Error) -> (bool, JobResult) {
    tracing::error!(job = job.job_id, error = %e, "import job: database failed");
    (false, refused(DB_FAILED.into()))
}

/// "row 3, column C (运单号): …" (or "line 3, …"), as the readers word a bad cell, taken apart.
fn issue_of(text: &str) -> RowIssue {
    let plain = RowIssue {
        message: text.to_owned(),
        ..Default::default()
    };
    let Some(rest) = text
        .strip_prefix("row ")
        .or_else(|| text.strip_prefix("line "))
    else {
        return plain;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let Ok(row) = rest[..digits].parse::<i64>() else {
        return plain;
    };
    let rest = &rest[digits..];
    let (column, message) = match rest.strip_prefix(", column ") {
        Some(r) => match r.split_once(": ") {
            Some((c, m)) => (Some(c.to_owned()), m),
            None => return plain,
        },
        None => match rest.strip_prefix(": ") {
            Some(m) => (None, m),
            None => return plain,
        },
    };
    RowIssue {
        row: Some(row),
        column,
        message: message.to_owned(),
        value: None,
    }
}

/// A refusal of the whole file, with its rows when it names them.
fn refusal(text: String, rows: Vec<String>) -> (bool, JobResult) {
    let mut r = refused(text);
    for issue in rows.iter().map(|t| issue_of(t)).filter(|i| i.row.is_some()) {
        r.push(issue);
    }
    (false, r)
}

async fn import(ctx: &Context, job: &ClaimedImport, bytes: &[u8]) -> (bool, JobResult) {
    let (name, actor, at) = (&job.file_name, &job.created_by, job.created_at);
    match job.kind.as_str() {
        BILLS => match finance::import_bills(&ctx.storage, bytes, name, None, actor, at).await {
            Ok(sums) => {
                let mut r = JobResult::default();
                for s in &sums {
                    for (k, n) in [
                        ("lines", s.lines),
                        ("new_lines", s.new_lines),
                        ("matched", s.matched),
                        ("amount_mismatch", s.amount_mismatch),
                        ("unmatched_payment", s.unmatched_payment),
                        ("missing_payment", s.missing_payment),
                        ("duplicate_payment", s.duplicate_payment),
                        ("refund", s.refund),
                    ] {
                        match r.counts.iter_mut().find(|c| c.0 == k) {
                            Some(c) => c.1 += n as i64,
                            None => r.counts.push((k.to_owned(), n as i64)),
                        }
                    }
                }
                (true, r)
            }
            Err(finance::FinanceError::Db(e)) => db_failed(job, &e),
            Err(finance::FinanceError::Bill(e)) => {
                let mut r = refused(e.to_string());
                r.push(RowIssue {
                    row: Some(e.line as i64),
                    column: e.column,
                    message: e.message,
                    value: None,
                });
                (false, r)
            }
            Err(e) => {
                let text = e.to_string();
                refusal(text.clone(), vec![text])
            }
        },
        TRACKING => {
            let cfg = &ctx.settings.courier;
            match fulfilment::import_tracking(&ctx.storage, cfg, bytes, actor, at).await {
                Ok(s) => {
                    let mut r = JobResult {
                        counts: [
                            ("lines", s.lines),
                            ("shipped", s.shipped),
                            ("unchanged", s.unchanged),
                            ("conflict", s.conflict),
                            ("duplicate_waybill", s.duplicate_waybill),
                            ("unknown_order", s.unknown_order),
                        ]
                        .map(|(k, n)| (k.to_owned(), n as i64))
                        .to_vec(),
                        ..Default::default()
                    };
                    for (row, kind, order, waybill) in s.problems {
                        let column = if kind == "unknown_order" {
                            "订单号"
                        } else {
                            "运单号"
                        };
                        r.push(RowIssue {
                            row: Some(row as i64),
                            column: Some(column.into()),
                            message: kind.into(),
                            value: Some(format!("{order} / {waybill}")),
                        });
                    }
                    (true, r)
                }
                Err(fulfilment::FulfilmentError::Db(e)) => db_failed(job, &e),
                Err(fulfilment::FulfilmentError::File(SheetError::Rows(rows))) => {
                    let mut r = refused(SheetError::Rows(rows.clone()).to_string());
                    for e in rows {
                        r.push(RowIssue {
                            row: Some(e.row as i64),
                            column: Some(e.column),
                            message: e.message,
                            value: None,
                        });
                    }
                    (false, r)
                }
                Err(e) => {
                    let text = e.to_string();
                    refusal(text.clone(), vec![text])
                }
            }
        }
        other => (false, refused(format!("no import of kind {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readers_message_is_taken_apart_by_row_and_column() {
        let i = issue_of("row 12, column C (运单号): 'X1' is not a 顺丰 waybill number");
        assert_eq!(i.row, Some(12));
        assert_eq!(i.column.as_deref(), Some("C (运单号)"));
        assert_eq!(i.message, "'X1' is not a 顺丰 waybill number");
        let i = issue_of("line 7: the amount is not a number");
        assert_eq!((i.row, i.column), (Some(7), None));
        let i = issue_of("the file has no header row");
        assert_eq!(
            (i.row, i.message.as_str()),
            (None, "the file has no header row")
        );
    }
}
