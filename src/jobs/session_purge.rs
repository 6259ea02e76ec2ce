//! The hourly purge of ended sessions (idle past 30 minutes or older than the lifetime) and of
//! sign-in attempts past the lockout window, run by one instance per hour (`job_runs`).

use super::Context;
use crate::{
    auth::{FAILURE_WINDOW_MS, SESSION_IDLE_MS},
    storage::job_runs,
};

pub const JOB: &str = "session_purge";

/// What one run deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub sign_in_attempts: u64,
}

/// Claims this hour's slot and purges; another instance that claimed it first makes this a
/// no-op (`None`).
pub async fn run_once(state: &Context) -> anyhow::Result<Option<Purged>> {
    let now = state.clock.now();
    let slot = now.format("%Y-%m-%dT%H").to_string();
    let at = now.timestamp_millis();
    if !job_runs::claim(&state.storage, JOB, &slot, at).await? {
        return Ok(None);
    }
    let (sessions, sign_in_attempts) = state
        .storage
        .purge_sessions(
            at - SESSION_IDLE_MS,
            at - state.settings.web.session_lifetime_ms(),
            at - FAILURE_WINDOW_MS,
        )
        .await?;
    Ok(Some(Purged {
        sessions,
        sign_in_attempts,
    }))
}

pub async fn run(state: &Context) {
    let r = run_once(state).await;
    state.metrics.job(JOB, r.is_err());
    match r {
        Ok(Some(p)) if p.sessions + p.sign_in_attempts > 0 => tracing::info!(
            sessions = p.sessions,
            sign_in_attempts = p.sign_in_attempts,
            "ended sessions and old sign-in attempts purged"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "session purge failed"),
    }
}
