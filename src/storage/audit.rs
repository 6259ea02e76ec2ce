//! The audit trail: who did what to which subject, when, and the state before and after.
//! Written in the same transaction as the change it records.

use super::{DbResult, Tx};
use crate::on_tx;

#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    pub at: i64,
    /// `api:<client>`, `staff:<username>` or `cli`.
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

pub async fn record(tx: &mut Tx, e: &AuditEntry<'_>) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into audit_log (at, actor, action, subject_type, subject_id, before_state, after_state, request_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(e.at)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.subject_type)
    .bind(e.subject_id)
    .bind(e.before)
    .bind(e.after)
    .bind(e.request_id)
    .execute(c)
    .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub audit_id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub request_id: Option<String>,
}

impl super::Storage {
    /// The newest records first (for pages and tests).
    pub async fn audit_recent(&self, limit: i64) -> DbResult<Vec<AuditRow>> {
        crate::on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, AuditRow>(
            "select audit_id, at, actor, action, subject_type, subject_id, before_state, after_state, request_id
             from audit_log order by audit_id desc limit $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await
        })
    }

    /// Records a view of personal data (its own small transaction).
    pub async fn audit_view(&self, e: &AuditEntry<'_>) -> DbResult<()> {
        let mut tx = self.begin().await?;
        record(&mut tx, e).await?;
        tx.commit().await
    }

    pub async fn audit_count(&self) -> DbResult<i64> {
        crate::on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from audit_log"
        )
        .fetch_one(p)
        .await)
    }
}
