//! Scheduled runs that must happen once however many instances run the schedule: the first
//! instance to insert (job, slot) runs it; the others see the row and skip.

use super::{DbResult, Storage};
use crate::on_pool;

/// True when this instance claimed the slot and should run the job.
pub async fn claim(storage: &Storage, job: &str, slot: &str, at: i64) -> DbResult<bool> {
    let r = on_pool!(storage.write_pool(), |p| sqlx::query(
        "insert into job_runs (job, slot, started_at) \
        values ($1, $2, $3) \
        on conflict (job, slot) do nothing"
    )
    .bind(job)
    .bind(slot)
    .bind(at)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(r == 1)
}
