//! The figures `/metrics` reads from the database at scrape time, so every instance reports
//! the same queue, outbox and import figures whoever did the work (a CLI import included).

use super::{DbResult, Storage};
use crate::on_pool;

/// Counted from the audit trail through the partial index `audit_log_imports`.
pub const IMPORT_ACTIONS: &str = "('certificates.imported', 'calendar.imported', \
        'payments.imported', 'invoices.imported', 'tracking.imported')";

#[derive(Debug, Default)]
pub struct Gauges {
    pub applications_by_status: Vec<(String, i64)>,
    pub outbox_by_status: Vec<(String, i64)>,
    /// Pending messages whose last attempt failed.
    pub outbox_failing: i64,
    pub imports_by_action: Vec<(String, i64)>,
    pub overdue: i64,
    pub audit_unsealed: i64,
}

impl Storage {
    pub async fn metric_gauges(&self, now: i64) -> DbResult<Gauges> {
        let grouped = |sql: &'static str| async move {
            on_pool!(self.read_pool(), |p| sqlx::query_as::<_, (String, i64)>(
                sql
            )
            .fetch_all(p)
            .await)
        };
        let imports_sql = format!(
            "select action, count(*) \
            from audit_log \
            where action in {IMPORT_ACTIONS} \
            group by action"
        );
        Ok(Gauges {
            applications_by_status: grouped(
                "select status, count(*) from applications group by status",
            )
            .await?,
            outbox_by_status: grouped(
                "select status, count(*) from outbox where channel = 'email' group by status",
            )
            .await?,
            outbox_failing: on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
                "select count(*) from outbox where channel = 'email' and status = 'pending' \
                and last_error is not null"
            )
            .fetch_one(p)
            .await)?,
            imports_by_action: on_pool!(self.read_pool(), |p| sqlx::query_as::<_, (String, i64)>(
                &imports_sql
            )
            .fetch_all(p)
            .await)?,
            overdue: self.count_due_between(0, now).await?,
            audit_unsealed: self.audit_unsealed().await?,
        })
    }
}
