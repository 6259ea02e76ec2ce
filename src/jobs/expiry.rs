//! The hourly expiry of returned applications never resubmitted (`desks::expiry`), run by one
//! instance per hour (`job_runs`); each expiry is also a conditional update, so an instance
//! that runs it anyway closes nothing twice.

use super::Context;
use crate::storage::job_runs;

pub const JOB: &str = "returned_expiry";

/// Claims this hour's slot and closes what is due; `None` when another instance claimed it.
pub async fn run_once(state: &Context) -> anyhow::Result<Option<u64>> {
    let now = state.clock.now();
    let slot = now.format("%Y-%m-%dT%H").to_string();
    let at = now.timestamp_millis();
    if !job_runs::claim(&state.storage, JOB, &slot, at).await? {
        return Ok(None);
    }
    let days = state.settings.review.returned_expiry_days;
    Ok(Some(
        crate::desks::expiry::run(&state.storage, days, at).await?,
    ))
}

pub async fn run(state: &Context) {
    let r = run_once(state).await;
    state.metrics.job(JOB, r.is_err());
    match r {
        Ok(Some(n)) if n > 0 => tracing::info!(expired = n, "returned applications expired"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "expiry of returned applications failed"),
    }
}
