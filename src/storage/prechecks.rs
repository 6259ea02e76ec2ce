//! The pre-check queue and its findings. A job per application version is queued in the
//! transaction that stores the version; workers claim jobs under a lease (on PostgreSQL with
//! `for update skip locked`; on SQLite the single writer serialises claims), and only the holder
//! of the current lease can store the findings, so each version's findings are written once
//! however many instances run and whatever restarts in between.

use super::{DbResult, Pool, Storage, Tx, audit};
use crate::domain::ids::ApplicationId;
use crate::{on_pool, on_tx};

/// Queues the pre-checks of a version (in the caller's transaction); a second call is a no-op.
pub async fn enqueue(
    tx: &mut Tx,
    application_id: &ApplicationId,
    version: i64,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into precheck_jobs (application_id, version, created_at, updated_at) \
            values ($1, $2, $3, $3) \
            on conflict (application_id, version) do nothing",
        )
        .bind(application_id)
        .bind(version)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub application_id: ApplicationId,
    pub version: i64,
    pub attempts: i64,
}

/// One finding as stored and shown.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FindingRow {
    pub kind: String,
    pub check_name: String,
    pub outcome: String,
    pub flagged: bool,
    pub detail: Option<String>,
    pub region: Option<String>,
    pub verdict: Option<String>,
}

/// What a pre-check needs of a version: the typed name and number, and its scans.
#[derive(Debug, Clone)]
pub struct Subject {
    pub body: String,
    pub scans: Vec<super::applications::ScanRef>,
}

/// One line of the precision page.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PrecisionRow {
    pub check_name: String,
    pub flagged: i64,
    pub confirmed: i64,
    pub dismissed: i64,
}

impl PrecisionRow {
    /// Confirmed over judged; None before any verdict.
    pub fn precision(&self) -> Option<f64> {
        let judged = self.confirmed + self.dismissed;
        (judged > 0).then(|| self.confirmed as f64 / judged as f64)
    }
}

/// After this many failures a job stops (its error kept); the reviewer sees no findings.
pub const MAX_ATTEMPTS: i64 = 3;

impl Storage {
    /// Claims up to `limit` due jobs under `token` until `lease_until`.
    pub async fn claim_prechecks(
        &self,
        now: i64,
        lease_until: i64,
        token: &str,
        limit: i64,
    ) -> DbResult<Vec<ClaimedJob>> {
        let mut tx = self.begin().await?;
        // SQLite: the single writer serialises claims; PostgreSQL: skip rows another instance holds.
        let lock = match &self.write {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => "for update skip locked",
        };
        let sql = format!(
            "update precheck_jobs \
            set lease_until = $1, claim_token = $2, attempts = attempts + 1, updated_at = $3 \
            where (application_id, version) in (select application_id, version from precheck_jobs \
                where status = 'pending' and lease_until <= $3 order by created_at, \
                application_id, version limit $4 {lock}) \
            returning application_id, version, attempts"
        );
        let rows = on_tx!(&mut tx, |c| sqlx::query_as::<_, ClaimedJob>(&sql)
            .bind(lease_until)
            .bind(token)
            .bind(now)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        tx.commit().await?;
        Ok(rows)
    }

    pub async fn precheck_subject(
        &self,
        application_id: &ApplicationId,
        version: i64,
    ) -> DbResult<Subject> {
        let body =
            super::applications::version_body(self.read_pool(), application_id, version).await?;
        let scans = self.scans(application_id, version).await?;
        Ok(Subject { body, scans })
    }

    /// Photo hashes of other applications' scans: (application, version, kind, hash).
    pub async fn photo_hashes_except(
        &self,
        application_id: &ApplicationId,
    ) -> DbResult<Vec<(String, i64, String, String)>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as(
                "select application_id, version, kind, photo_hash \
                from scan_photo_hashes \
                where application_id <> $1",
            )
            .bind(application_id)
            .fetch_all(p)
            .await
        })
    }

    /// Other applications holding a scan with this exact content.
    pub async fn applications_with_scan(
        &self,
        sha256: &str,
        except: &str,
    ) -> DbResult<Vec<String>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar(
                "select distinct application_id \
                from application_scans \
                where sha256 = $1 and application_id <> $2 \
                order by application_id",
            )
            .bind(sha256)
            .bind(except)
            .fetch_all(p)
            .await
        })
    }

    /// Stores a version's findings and photo hashes and closes its job, with an audit record, in
    /// one transaction; false (nothing written) when the lease was lost to another worker.
    pub async fn finish_precheck(
        &self,
        job: &ClaimedJob,
        token: &str,
        findings: &[FindingRow],
        hashes: &[(String, String)],
        now: i64,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let closed = on_tx!(&mut tx, |c| {
            sqlx::query(
                "update precheck_jobs \
                set status = 'done', last_error = null, updated_at = $1 \
                where application_id = $2 and version = $3 and status = 'pending' and claim_token \
                    = $4",
            )
            .bind(now)
            .bind(&job.application_id)
            .bind(job.version)
            .bind(token)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if closed != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for f in findings {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                    "insert into precheck_findings (application_id, version, kind, check_name, \
                        outcome, flagged, detail, region, created_at) \
                    values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&job.application_id)
                .bind(job.version)
                .bind(&f.kind)
                .bind(&f.check_name)
                .bind(&f.outcome)
                .bind(f.flagged)
                .bind(&f.detail)
                .bind(&f.region)
                .bind(now)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
            })?;
        }
        for (kind, hash) in hashes {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                    "insert into scan_photo_hashes (application_id, version, kind, photo_hash, \
                        created_at) \
                    values ($1, $2, $3, $4, $5) \
                    on conflict do nothing",
                )
                .bind(&job.application_id)
                .bind(job.version)
                .bind(kind)
                .bind(hash)
                .bind(now)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
            })?;
        }
        let flagged = findings.iter().filter(|f| f.flagged).count().to_string();
        let subject = format!("{}/{}", job.application_id, job.version);
        audit::record(
            &mut tx,
            &audit::AuditEntry {
                at: now,
                actor: "job:prechecks",
                action: "application.prechecked",
                subject_type: "application_version",
                subject_id: &subject,
                before: None,
                after: Some(&flagged),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A failed attempt: due again after a minute, or stopped after `MAX_ATTEMPTS`.
    pub async fn fail_precheck(
        &self,
        job: &ClaimedJob,
        token: &str,
        error: &str,
        now: i64,
    ) -> DbResult<()> {
        let status = if job.attempts >= MAX_ATTEMPTS {
            "failed"
        } else {
            "pending"
        };
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "update precheck_jobs \
                set status = $1, last_error = $2, lease_until = $3, updated_at = $4 \
                where application_id = $5 and version = $6 and claim_token = $7 and status = \
                    'pending'",
            )
            .bind(status)
            .bind(error)
            .bind(now + 60_000)
            .bind(now)
            .bind(&job.application_id)
            .bind(job.version)
            .bind(token)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        tx.commit().await
    }

    /// The findings of one version, in the order of the scans and checks.
    pub async fn findings_of(
        &self,
        application_id: &ApplicationId,
        version: i64,
    ) -> DbResult<Vec<FindingRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, FindingRow>(
                "select kind, check_name, outcome, flagged, detail, region, verdict \
                from precheck_findings \
                where application_id = $1 and version = $2 \
                order by kind, check_name",
            )
            .bind(application_id)
            .bind(version)
            .fetch_all(p)
            .await
        })
    }

    /// The state of a version's pre-check job: pending, done, failed; None if never queued.
    pub async fn precheck_status(
        &self,
        application_id: &ApplicationId,
        version: i64,
    ) -> DbResult<Option<String>> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar(
            "select status from precheck_jobs where application_id = $1 and version = $2"
        )
        .bind(application_id)
        .bind(version)
        .fetch_optional(p)
        .await)
    }

    /// A reviewer's verdict on a flagged finding, with its audit record; false when there is no
    /// such flagged finding.
    pub async fn record_finding_verdict(
        &self,
        application_id: &ApplicationId,
        (version, kind, check): (i64, &str, &str),
        verdict: &str,
        by: &str,
        now: i64,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| {
            sqlx::query(
                "update precheck_findings \
                set verdict = $1, verdict_by = $2, verdict_at = $3 \
                where application_id = $4 and version = $5 and kind = $6 and check_name = $7 and \
                    flagged",
            )
            .bind(verdict)
            .bind(by)
            .bind(now)
            .bind(application_id)
            .bind(version)
            .bind(kind)
            .bind(check)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let subject = format!("{application_id}/{version}/{kind}/{check}");
        audit::record(
            &mut tx,
            &audit::AuditEntry {
                at: now,
                actor: by,
                action: "precheck.verdict",
                subject_type: "precheck_finding",
                subject_id: &subject,
                before: None,
                after: Some(verdict),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Per check: findings flagged, and the reviewers' verdicts on them.
    pub async fn precheck_precision(&self) -> DbResult<Vec<PrecisionRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, PrecisionRow>(
            "select check_name, count(*) as flagged, sum(case when verdict = 'confirmed' then 1 \
                else 0 end) as confirmed, sum(case when verdict = 'dismissed' then 1 else 0 end) \
                as dismissed \
            from precheck_findings \
            where flagged \
            group by check_name \
            order by check_name"
        )
        .fetch_all(p)
        .await)
    }
}
