//! Retention: the personal data of applications whose certificate expired more than the
//! configured years ago is replaced by a tombstone; the rows, figures and audit trail stay.

use super::{DbResult, Storage, audit};
use crate::domain::ids::ApplicationId;
use crate::on_tx;

/// What stands where personal data was.
pub const TOMBSTONE: &str = "（已按保存期限删除）";

/// Whether a stored submission body is the tombstone the retention job left in its place.
pub fn is_tombstone(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body)
        .is_ok_and(|v| v.get("erased").and_then(|e| e.as_str()) == Some(TOMBSTONE))
}

/// One application erased: its scans' hashes (the files to delete unless another row still
/// refers to them).
#[derive(Debug)]
pub struct Erased {
    pub application_id: ApplicationId,
    pub scans: Vec<String>,
}

impl Storage {
    /// Applications not erased yet whose certificate's `valid_to` (YYYY-MM-DD) is before
    /// `cutoff_day`, and that no reviewer still waits on.
    pub async fn retention_due(
        &self,
        cutoff_day: &str,
        limit: i64,
    ) -> DbResult<Vec<ApplicationId>> {
        crate::on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar::<_, ApplicationId>(
                "select a.application_id \
                from applications a \
                join certificates c on c.serial = a.certificate_serial \
                where a.erased_at is null and c.valid_to < $1 and a.status not in ('submitted', \
                    'in_review', 'awaiting_approval') \
                order by a.application_id \
                limit $2",
            )
            .bind(cutoff_day)
            .bind(limit)
            .fetch_all(p)
            .await
        })
    }

    /// Replaces one application's personal data by the tombstone and audits it, in one
    /// transaction; `None` when it was erased already (by another instance) or is not due.
    pub async fn erase_application(
        &self,
        id: &ApplicationId,
        cutoff_day: &str,
        actor: &str,
        at: i64,
    ) -> DbResult<Option<Erased>> {
        let mut tx = self.begin().await?;
        // The condition again, in the update: exactly one run erases it, and only when due.
        let valid_to: Option<String> = on_tx!(&mut tx, |c| {
            sqlx::query_scalar(
                "update applications \
                set applicant_name = $2, id_number = $2, mobile = $2, email = $2, erased_at = $3, \
                    updated_at = $3, row_version = row_version + 1 \
                where application_id = $1 and erased_at is null and status not in ('submitted', \
                    'in_review', 'awaiting_approval') and exists (select 1 from certificates c where c.serial = \
                    applications.certificate_serial and c.valid_to < $4) \
                returning (select c.valid_to from certificates c where c.serial = \
                    applications.certificate_serial)",
            )
            .bind(id)
            .bind(TOMBSTONE)
            .bind(at)
            .bind(cutoff_day)
            .fetch_optional(c)
            .await
        })?;
        let Some(valid_to) = valid_to else {
            tx.rollback().await?;
            return Ok(None);
        };
        let tombstone = serde_json::json!({ "erased": TOMBSTONE, "erased_at": at }).to_string();
        let versions = on_tx!(&mut tx, |c| sqlx::query(
            "update application_versions set body = $2 where application_id = $1"
        )
        .bind(id)
        .bind(&tombstone)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let scans: Vec<String> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "delete from application_scans where application_id = $1 returning sha256"
        )
        .bind(id)
        .fetch_all(c)
        .await)?;
        // Delivered and parked e-mails keep their kind and dates, not their text or address.
        let mails = on_tx!(&mut tx, |c| sqlx::query(
            "update outbox \
            set recipient = $2, subject = $2, body_text = $2, body_html = $2 \
            where application_id = $1 and status <> 'pending'"
        )
        .bind(id)
        .bind(TOMBSTONE)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        // An SMS not yet sent would keep the mobile: it will not go now, and its text goes too.
        on_tx!(&mut tx, |c| sqlx::query(
            "update outbox \
            set recipient = $2, subject = $2, body_text = $2, status = 'parked', \
                last_error = 'erased by retention', claim_token = null \
            where application_id = $1 and channel = 'sms' and status = 'pending'"
        )
        .bind(id)
        .bind(TOMBSTONE)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        // Internal notes may quote the applicant: their text goes too (author and time stay).
        on_tx!(&mut tx, |c| sqlx::query(
            "update application_notes set body = $2 where application_id = $1"
        )
        .bind(id)
        .bind(TOMBSTONE)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let before = serde_json::json!({ "certificate_valid_to": valid_to }).to_string();
        let after = serde_json::json!({
            "erased": [
                "applicant_name",
                "id_number",
                "mobile",
                "email",
                "application_versions.body",
                "application_scans",
                "outbox",
                "application_notes.body",
            ],
            "versions": versions,
            "scans": scans.len(),
            "mails": mails,
        })
        .to_string();
        audit::record(
            &mut tx,
            &audit::AuditEntry {
                at,
                actor,
                action: "retention.erased",
                subject_type: "application",
                subject_id: id.as_str(),
                before: Some(&before),
                after: Some(&after),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Erased {
            application_id: id.to_owned(),
            scans,
        }))
    }

    /// Whether any application still refers to the scan.
    pub async fn scan_referenced(&self, sha256: &str) -> DbResult<bool> {
        crate::on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from application_scans where sha256 = $1)"
        )
        .bind(sha256)
        .fetch_one(p)
        .await)
    }
}
