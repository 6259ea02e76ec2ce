//! Imports as jobs (issue 21): the upload queues a job with its file in the transaction of its
//! audit record; workers claim jobs under a lease (on PostgreSQL with `for update skip locked`;
//! on SQLite the single writer serialises claims), and only the holder of the current lease can
//! store progress or the result, so each job's result is written once however many instances
//! run. A job whose worker died is claimed again when its lease runs out.

use super::{DbResult, Pool, Storage, audit};
use crate::{on_pool, on_tx};
use serde::{Deserialize, Serialize};

/// After this many claims a job that never finished (its worker died each time) is failed.
pub const MAX_ATTEMPTS: i64 = 3;

/// Errors kept on a job's page at most; the rest are counted.
pub const MAX_ERRORS: usize = 1000;

/// What an import did, as its page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResult {
    /// (what, how many), e.g. ("matched", 812).
    pub counts: Vec<(String, i64)>,
    /// Rows that were refused or did not fit, by row and column.
    pub errors: Vec<RowIssue>,
    /// Errors beyond [`MAX_ERRORS`], not kept.
    pub more_errors: i64,
    /// Why the file was refused as a whole (nothing was changed).
    pub refusal: Option<String>,
}

impl JobResult {
    /// Keeps an error, or counts it once [`MAX_ERRORS`] are kept.
    pub fn push(&mut self, issue: RowIssue) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(issue);
        } else {
            self.more_errors += 1;
        }
    }
}

/// One row's problem: `message` is a code the page names (`unknown_order`) or the reader's text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowIssue {
    pub row: Option<i64>,
    pub column: Option<String>,
    pub message: String,
    pub value: Option<String>,
}

/// A job as its page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportJob {
    pub job_id: i64,
    pub kind: String,
    pub file_name: String,
    pub file_sha256: String,
    pub file_size: i64,
    pub created_by: String,
    pub state: String,
    pub done: i64,
    pub total: i64,
    pub result: Option<String>,
    pub claim_token: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl ImportJob {
    pub fn result(&self) -> Option<JobResult> {
        serde_json::from_str(self.result.as_deref()?).ok()
    }

    pub fn finished(&self) -> bool {
        matches!(self.state.as_str(), "done" | "failed")
    }
}

/// A job a worker holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedImport {
    pub job_id: i64,
    pub kind: String,
    pub file_name: String,
    pub created_by: String,
    pub created_at: i64,
    pub attempts: i64,
}

const COLUMNS: &str = "job_id, kind, file_name, file_sha256, file_size, created_by, state, done, \
    total, result, claim_token, created_at, started_at, finished_at";

impl Storage {
    /// Queues an import of `bytes` with its audit record, in one transaction; the job's id.
    pub async fn queue_import(
        &self,
        kind: &str,
        file_name: &str,
        bytes: &[u8],
        by: &str,
        at: i64,
    ) -> DbResult<i64> {
        let sha = super::scan_files::sha256_hex(bytes);
        let mut tx = self.begin().await?;
        let id = on_tx!(&mut tx, |c| {
            sqlx::query_scalar::<_, i64>(
            "insert into import_jobs (kind, file_name, file_sha256, file_size, file, created_by, \
                created_at, updated_at) \
            values ($1, $2, $3, $4, $5, $6, $7, $7) \
            returning job_id"
        )
        .bind(kind)
        .bind(file_name)
        .bind(&sha)
        .bind(bytes.len() as i64)
        .bind(bytes)
        .bind(by)
        .bind(at)
        .fetch_one(c)
        .await
        })?;
        job_audit(
            &mut tx,
            by,
            "import.queued",
            id,
            &format!("{kind} {sha}"),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims up to `limit` due jobs (queued, or running under a lease that ran out) under
    /// `token` until `lease_until`. Jobs claimed [`MAX_ATTEMPTS`] times without finishing are
    /// failed first, with their audit records.
    pub async fn claim_imports(
        &self,
        now: i64,
        lease_until: i64,
        token: &str,
        limit: i64,
    ) -> DbResult<Vec<ClaimedImport>> {
        let mut tx = self.begin().await?;
        let stopped = JobResult {
            refusal: Some(format!(
                "the import stopped {MAX_ATTEMPTS} times without finishing (the server was \
                restarted?); nothing was changed"
            )),
            ..Default::default()
        };
        let stopped = serde_json::to_string(&stopped).expect("plain struct");
        let failed = on_tx!(&mut tx, |c| sqlx::query_scalar::<_, i64>(
            "update import_jobs \
            set state = 'failed', result = $1, file = null, finished_at = $2, updated_at = $2 \
            where state in ('queued', 'running') and lease_until <= $2 and attempts >= $3 \
            returning job_id"
        )
        .bind(&stopped)
        .bind(now)
        .bind(MAX_ATTEMPTS)
        .fetch_all(c)
        .await)?;
        for id in failed {
            job_audit(&mut tx, "job:imports", "import.failed", id, "stopped", now).await?;
        }
        // SQLite: the single writer serialises claims; PostgreSQL: skip rows another instance holds.
        let lock = match &self.write {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => "for update skip locked",
        };
        let sql = format!(
            "update import_jobs \
            set state = 'running', claim_token = $1, lease_until = $2, attempts = attempts + 1, \
                started_at = coalesce(started_at, $3), updated_at = $3 \
            where job_id in (select job_id from import_jobs \
                where state in ('queued', 'running') and lease_until <= $3 \
                order by job_id limit $4 {lock}) \
            returning job_id, kind, file_name, created_by, created_at, attempts"
        );
        let rows = on_tx!(&mut tx, |c| sqlx::query_as::<_, ClaimedImport>(&sql)
            .bind(token)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The file of a job that has not finished.
    pub async fn import_file(&self, job_id: i64) -> DbResult<Option<Vec<u8>>> {
        let f = on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar::<_, Option<Vec<u8>>>(
                "select file from import_jobs where job_id = $1",
            )
            .bind(job_id)
            .fetch_optional(p)
            .await
        })?;
        Ok(f.flatten())
    }

    /// The holder's progress, and its lease renewed; false when the lease was lost.
    pub async fn import_progress(
        &self,
        job_id: i64,
        token: &str,
        (done, total): (i64, i64),
        lease_until: i64,
        now: i64,
    ) -> DbResult<bool> {
        let n = on_pool!(self.write_pool(), |p| sqlx::query(
            "update import_jobs \
            set done = $1, total = $2, lease_until = $3, updated_at = $4 \
            where job_id = $5 and claim_token = $6 and state = 'running'"
        )
        .bind(done)
        .bind(total)
        .bind(lease_until)
        .bind(now)
        .bind(job_id)
        .bind(token)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Stores the result (done, or failed with nothing changed), drops the file, and writes the
    /// audit record, in one transaction; false (nothing written) when the lease was lost.
    pub async fn finish_import(
        &self,
        job_id: i64,
        token: &str,
        ok: bool,
        result: &JobResult,
        (done, total): (i64, i64),
        now: i64,
    ) -> DbResult<bool> {
        let state = if ok { "done" } else { "failed" };
        let json = serde_json::to_string(result).expect("plain struct");
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| sqlx::query(
            "update import_jobs \
            set state = $1, result = $2, done = $3, total = $4, file = null, finished_at = $5, \
                updated_at = $5 \
            where job_id = $6 and claim_token = $7 and state = 'running'"
        )
        .bind(state)
        .bind(&json)
        .bind(done)
        .bind(total)
        .bind(now)
        .bind(job_id)
        .bind(token)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let counts = serde_json::to_string(&result.counts).expect("plain struct");
        let action = format!("import.{state}");
        job_audit(&mut tx, "job:imports", &action, job_id, &counts, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn import_job(&self, job_id: i64) -> DbResult<Option<ImportJob>> {
        let sql = format!("select {COLUMNS} from import_jobs where job_id = $1");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ImportJob>(&sql)
            .bind(job_id)
            .fetch_optional(p)
            .await)
    }

    /// A desk's latest `limit` jobs of `kind`, newest first.
    pub async fn recent_imports(&self, kind: &str, limit: i64) -> DbResult<Vec<ImportJob>> {
        let sql = format!(
            "select {COLUMNS} from import_jobs where kind = $1 order by job_id desc limit $2"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ImportJob>(&sql)
            .bind(kind)
            .bind(limit)
            .fetch_all(p)
            .await)
    }
}

async fn job_audit(
    tx: &mut super::Tx,
    actor: &str,
    action: &str,
    job_id: i64,
    after: &str,
    at: i64,
) -> DbResult<()> {
    audit::record(
        tx,
        &audit::AuditEntry {
            at,
            actor,
            action,
            subject_type: "import_job",
            subject_id: &job_id.to_string(),
            before: None,
            after: Some(after),
            request_id: None,
        },
    )
    .await
}
