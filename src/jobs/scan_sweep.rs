//! The daily orphan sweep of the scan store, run by one instance per Beijing day (`job_runs`).

use super::Context;
use crate::storage::{job_runs, scan_files::sweep};

pub const JOB: &str = "scan_sweep";

/// Claims today's slot and sweeps; another instance that claimed it first makes this a no-op.
/// Returns whether this instance ran it.
pub async fn run_once(state: &Context) -> anyhow::Result<Option<sweep::SweepSummary>> {
    let now = state.clock.now();
    let slot = now
        .with_timezone(&crate::domain::calendar::beijing())
        .format("%Y-%m-%d")
        .to_string();
    if !job_runs::claim(&state.storage, JOB, &slot, now.timestamp_millis()).await? {
        return Ok(None);
    }
    let grace_ms = state.settings.scan_sweep_grace_hours * 3_600_000;
    let s = sweep::sweep(
        &state.storage,
        &state.scans,
        now.timestamp_millis(),
        grace_ms,
    )
    .await?;
    Ok(Some(s))
}

pub async fn run(state: &Context) {
    match run_once(state).await {
        Ok(Some(s)) => tracing::info!(listed = s.listed, deleted = s.deleted, "scan sweep"),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "scan sweep failed"),
    }
}
