//! Scheduled work, registered with tokio-cron-scheduler. Every job is a plain async function
//! that tests call directly with a pinned clock. Nothing relies on "only one instance runs the
//! scheduler": each job's effects are made once by database keys (a breach per window, a
//! digest per day and address) and the outbox is claimed with row locks.

pub mod assignment;
mod context;
pub mod crl;
pub mod digest;
pub mod expiry;
pub mod imports;
pub mod outbox;
pub mod prechecks;
pub mod reports;
pub mod retention;
pub mod scan_sweep;
pub mod session_purge;
pub mod single;
pub mod sla;
pub mod webhooks;

pub use context::Context;

use crate::mail::Mailer;
use crate::sms::SmsSender;
use tokio_cron_scheduler::{Job, JobScheduler};

/// The hour and minute (Beijing time) as a cron line in UTC, which the scheduler uses.
fn daily_at((h, m): (u32, u32)) -> String {
    format!("0 {m} {} * * *", (h + 24 - 8) % 24)
}

async fn run_sweep(state: &Context) {
    let now = state.clock.now().timestamp_millis();
    let r = sla::sweep(&state.storage, &state.settings.public_url, now).await;
    state.metrics.job("sla_sweep", r.is_err());
    match r {
        Ok(n) if n > 0 => tracing::info!(escalated = n, "sla sweep"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "sla sweep failed"),
    }
}

async fn run_warning(state: &Context) {
    let now = state.clock.now().timestamp_millis();
    let Ok(cal) = state.calendar.get().await else {
        return;
    };
    let r = sla::warn_due_today(&state.storage, &cal, &state.settings.public_url, now).await;
    state.metrics.job("deadline_warning", r.is_err());
    if let Err(e) = r {
        tracing::error!(error = %e, "deadline warning failed");
    }
}

async fn run_digest(state: &Context) {
    let now = state.clock.now().timestamp_millis();
    let Ok(cal) = state.calendar.get().await else {
        return;
    };
    let team = state.settings.team_email.as_deref();
    let r = digest::send(&state.storage, &cal, team, &state.settings.public_url, now).await;
    state.metrics.job("digest", r.is_err());
    if let Err(e) = r {
        tracing::error!(error = %e, "digest failed");
    }
}

async fn run_monthly_reports(state: &Context) {
    let now = state.clock.now().timestamp_millis();
    let dir = Some(state.settings.data_dir.as_path());
    let r = reports::send_monthly(&state.storage, dir, &state.settings.public_url, now).await;
    state.metrics.job("monthly_reports", r.is_err());
    match r {
        Ok(n) if n > 0 => tracing::info!(queued = n, "monthly reports"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "monthly reports failed"),
    }
}

async fn run_compact(state: &Context) {
    let r = state.storage.compact_supervision_counts().await;
    state.metrics.job("supervision_compact", r.is_err());
    if let Err(e) = r {
        tracing::error!(error = %e, "supervision summary compaction failed");
    }
}

/// Seals new audit records into the hash chain; an instance that finds another sealing skips.
pub async fn run_seal(state: &Context) {
    let now = state.clock.now().timestamp_millis();
    let r = state.storage.seal_audit(now, false).await;
    state.metrics.job("audit_seal", r.is_err());
    if let Err(e) = r {
        tracing::error!(error = %e, "audit sealing failed");
    }
}

/// Erases what is past the retention period (daily).
pub async fn run_retention(state: &Context) {
    let now = state.clock.now().timestamp_millis();
    let r = retention::run(
        &state.storage,
        &state.scans,
        state.settings.retention_years,
        now,
    )
    .await;
    state.metrics.job("retention", r.is_err());
    match r {
        Ok(s) if s.applications > 0 => tracing::info!(
            applications = s.applications,
            scan_files = s.scan_files,
            "retention: personal data past its period erased"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "retention failed"),
    }
}

async fn run_outbox(state: &Context, mailer: &Option<Mailer>) {
    let Some(mailer) = mailer else { return };
    let now = state.clock.now().timestamp_millis();
    let r = outbox::deliver(&state.storage, mailer, now, 10).await;
    state.metrics.job("outbox", r.is_err());
    if let Err(e) = r {
        tracing::error!(error = %e, "outbox delivery failed");
    }
}

/// The SMS half of the outbox; without a provider configured, SMS messages wait.
async fn run_sms_outbox(state: &Context, sender: &Option<SmsSender>) {
    let Some(sender) = sender else { return };
    let now = state.clock.now().timestamp_millis();
    let r = outbox::deliver_sms(&state.storage, sender, now, 10).await;
    state.metrics.job("sms_outbox", r.is_err());
    if let Err(e) = r {
        tracing::error!(error = %e, "SMS delivery failed");
    }
}

/// One pre-check pass at a time per instance (ticks that find one running skip): tesseract is
/// CPU-bound, and the server shares the cores. Other instances take other versions. The flag is
/// cleared by a guard, so a pass that fails or panics does not stop the ones after it; the
/// outside programs run with the configured paths and time limit. False when a pass was running.
pub async fn run_prechecks(state: &Context) -> bool {
    let Some(_running) = single::Running::take(&state.prechecks_running) else {
        return false;
    };
    let now = state.clock.now().timestamp_millis();
    let pass = prechecks::run_pending(&state.storage, &state.scans, now, 5);
    match crate::tools::with(state.settings.tools.clone(), pass).await {
        Ok(n) if n > 0 => tracing::info!(versions = n, "pre-checks"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "pre-checks failed"),
    }
    true
}

/// Adds a job that runs `job` at `cron` (six fields, UTC), each run with its own handle on the
/// context.
async fn every<F, Fut>(
    sched: &JobScheduler,
    cron: &str,
    state: &Context,
    job: F,
) -> anyhow::Result<()>
where
    F: Fn(Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let s = state.clone();
    sched
        .add(Job::new_async(cron, move |_, _| Box::pin(job(s.clone())))?)
        .await?;
    Ok(())
}

/// Starts the schedule, and catches up once on what a stopped server missed today.
pub async fn start(state: Context) -> anyhow::Result<JobScheduler> {
    // The pre-checks' OCR is background work: it takes the cores requests leave idle.
    crate::prechecks::background();
    let mailer = Mailer::from_settings(&state.settings.smtp)?;
    let sms = SmsSender::from_settings(&state.settings.sms)?;
    let sched = JobScheduler::new().await?;
    every(&sched, "30 * * * * *", &state, |s| async move {
        run_sweep(&s).await
    })
    .await?;
    every(
        &sched,
        &daily_at(state.settings.digest_at),
        &state,
        |s| async move { run_digest(&s).await },
    )
    .await?;
    every(
        &sched,
        &daily_at(state.settings.warning_at),
        &state,
        |s| async move { run_warning(&s).await },
    )
    .await?;
    // Daily at 08:00: last month's reports go out once (keyed), so a day missed catches up.
    every(&sched, &daily_at((8, 0)), &state, |s| async move {
        run_monthly_reports(&s).await
    })
    .await?;
    // Every minute: the supervision summary's +1 / -1 rows folded (safe on several instances).
    every(&sched, "45 * * * * *", &state, |s| async move {
        run_compact(&s).await
    })
    .await?;
    let m = mailer.clone();
    every(&sched, "*/10 * * * * *", &state, move |s| {
        let m = m.clone();
        async move { run_outbox(&s, &m).await }
    })
    .await?;
    every(&sched, "5,15,25,35,45,55 * * * * *", &state, move |s| {
        let t = sms.clone();
        async move { run_sms_outbox(&s, &t).await }
    })
    .await?;
    // Retention, daily at 03:00 Beijing time.
    every(&sched, &daily_at((3, 0)), &state, |s| async move {
        run_retention(&s).await
    })
    .await?;
    // The audit chain: records wait at most a few seconds for their position and hash.
    every(&sched, "*/5 * * * * *", &state, |s| async move {
        run_seal(&s).await
    })
    .await?;
    // Daily at 03:17, one instance per day: objects no row references, past the grace period.
    // (Listing a large bucket costs a request per thousand objects, so not more often.)
    every(&sched, &daily_at((3, 17)), &state, |s| async move {
        scan_sweep::run(&s).await
    })
    .await?;
    // Hourly at :23, one instance per hour: ended sessions and old sign-in attempts.
    every(&sched, "0 23 * * * *", &state, |s| async move {
        session_purge::run(&s).await
    })
    .await?;
    // Imports queued by an instance that stopped before running them, or by another instance.
    every(&sched, "*/5 * * * * *", &state, |s| async move {
        if let Err(e) = imports::tick(&s).await {
            tracing::error!(error = %e, "import jobs failed");
        }
    })
    .await?;
    // Hourly at :41, one instance per hour: returned applications past their period expire.
    every(&sched, "0 41 * * * *", &state, |s| async move {
        expiry::run(&s).await
    })
    .await?;
    // Every 30 seconds: waiting applications to reviewers with room, when a supervisor has
    // switched assignment on (each application once, however many instances run it).
    every(&sched, "20,50 * * * * *", &state, |s| async move {
        assignment::run(&s).await
    })
    .await?;
    // The CA's CRL, from its distribution point when one is configured.
    if state.settings.revocation.crl_url.is_some() {
        let cron = crl::cron_of(state.settings.revocation.fetch_minutes);
        every(&sched, &cron, &state, |s| async move { crl::run(&s).await }).await?;
    }
    if state.settings.prechecks {
        every(&sched, "*/5 * * * * *", &state, |s| async move {
            run_prechecks(&s).await;
        })
        .await?;
    }
    sched.start().await?;
    // Webhooks: a loop of its own, every BACKOFFICE_WEBHOOK_POLL_MS (below the cron's second).
    let sender = crate::webhook::Sender::new(&state.settings.webhook)?;
    tokio::spawn(webhooks::run_forever(state.clone(), sender));
    tokio::spawn(async move {
        run_sweep(&state).await;
        let local = state
            .clock
            .now()
            .with_timezone(&crate::domain::calendar::beijing());
        let hm = (
            chrono::Timelike::hour(&local),
            chrono::Timelike::minute(&local),
        );
        if hm >= state.settings.digest_at {
            run_digest(&state).await;
        }
        if hm >= state.settings.warning_at && hm < (18, 0) {
            run_warning(&state).await;
        }
        if hm >= (8, 0) {
            run_monthly_reports(&state).await;
        }
        run_outbox(&state, &mailer).await;
        run_seal(&state).await;
        // A server that was down at 03:00 catches up (erasing twice is impossible).
        run_retention(&state).await;
    });
    Ok(sched)
}

#[cfg(test)]
mod tests {
    #[test]
    fn beijing_hours_become_utc_cron() {
        assert_eq!(super::daily_at((9, 0)), "0 0 1 * * *");
        assert_eq!(super::daily_at((14, 30)), "0 30 6 * * *");
        assert_eq!(super::daily_at((3, 0)), "0 0 19 * * *");
    }
}
