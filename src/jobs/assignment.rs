//! Assignment by the server as a job (`desks::assignment`): a pass every 30 seconds on every
//! instance (each assignment is a locked, conditional step, so passes on several instances
//! give each application once), and one right after an application arrives or is resubmitted.

use super::Context;
use crate::desks::assignment;

pub const JOB: &str = "assignment";

/// One pass with the settings in force; what it assigned.
pub async fn run_once(state: &Context) -> Result<usize, sqlx::Error> {
    let now = state.clock.now().timestamp_millis();
    let configured = state.settings.review.assignment;
    // Off (the usual case): a read, not a write transaction. Each step checks again in its own.
    if !assignment::rules_in_force(&state.storage, configured)
        .await?
        .enabled
    {
        return Ok(0);
    }
    let done = assignment::pass(&state.storage, configured, now, assignment::PASS_LIMIT).await?;
    Ok(done.len())
}

/// The scheduled pass; a failure is logged and counted, the next tick tries again.
pub async fn run(state: &Context) {
    let r = run_once(state).await;
    state.metrics.job(JOB, r.is_err());
    match r {
        Ok(n) if n > 0 => tracing::info!(assigned = n, "applications assigned"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "assignment failed"),
    }
}

/// After an intake's commit: a pass in a task of its own (a caller that hangs up cannot cut it
/// short), awaited so that the answer leaves once the application has its reviewer. A failure
/// does not fail the intake: the application waits for the next scheduled pass.
pub async fn after_intake(state: &Context) {
    let s = state.clone();
    match tokio::spawn(async move { run_once(&s).await }).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "assignment after intake failed"),
        Err(e) => tracing::error!(error = %e, "assignment after intake failed"),
    }
}
