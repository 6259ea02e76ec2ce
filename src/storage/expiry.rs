//! Returned applications past their resubmission period (the partial index
//! `applications_returned`), and the conditional update that closes one as expired.

use super::{DbResult, Storage, Tx, applications::Current};
use crate::domain::ids::ApplicationId;
use crate::{on_pool, on_tx};

impl Storage {
    /// Returned applications whose return (their last change) is before `cutoff`, oldest first.
    pub async fn returned_before(&self, cutoff: i64, limit: i64) -> DbResult<Vec<ApplicationId>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar::<_, ApplicationId>(
                "select application_id from applications \
            where status = 'returned' and updated_at < $1 \
            order by updated_at, application_id \
            limit $2",
            )
            .bind(cutoff)
            .bind(limit)
            .fetch_all(p)
            .await
        })
    }
}

/// Closes a returned application as expired if it is still as `seen` and was returned before
/// `cutoff`; false when a resubmission (or another instance) came first.
pub async fn expire(tx: &mut Tx, seen: &Current, cutoff: i64, at: i64) -> DbResult<bool> {
    on_tx!(tx, |c| sqlx::query(
        "update applications \
        set status = 'expired', claimed_by = null, row_version = row_version + 1, updated_at = $1 \
        where application_id = $2 and row_version = $3 and status = 'returned' and updated_at < $4"
    )
    .bind(at)
    .bind(&seen.application_id)
    .bind(seen.row_version)
    .bind(cutoff)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}
