//! Returned applications never resubmitted expire: after the configured calendar days
//! (`BACKOFFICE_RETURNED_EXPIRY_DAYS`, 30) the application is closed as `expired`, the
//! applicant is told by mail (the outbox), and a paid one opens a refund-owed case on the
//! finance desk, as a withdrawal does. Each expiry is one transaction with its event and audit
//! record; a conditional update makes it happen once however many instances run the job.

use super::decision::owe_refund;
use super::review::ActionError;
use crate::domain::ids::ApplicationId;
use crate::domain::status::{Action, Status};
use crate::storage::{
    Storage, applications,
    audit::{self, AuditEntry},
    expiry, finance, outbox,
};
use crate::views::mail;

const DAY_MS: i64 = 86_400_000;
pub const ACTOR: &str = "job:expiry";

/// Expires every returned application returned more than `days` days before `now`; returns
/// how many this call closed.
pub async fn run(storage: &Storage, days: u32, now: i64) -> Result<u64, ActionError> {
    let cutoff = now - i64::from(days) * DAY_MS;
    let mut closed = 0;
    loop {
        let due = storage.returned_before(cutoff, 200).await?;
        let mut this_round = 0;
        for id in &due {
            // One application that cannot be closed does not hold up the others.
            match expire_one(storage, id, days, cutoff, now).await {
                Ok(true) => this_round += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, application = id.as_str(), "expiry failed");
                }
            }
        }
        closed += this_round;
        // Another instance may be closing the same ones: stop when a round closes nothing.
        if due.len() < 200 || this_round == 0 {
            break;
        }
    }
    Ok(closed)
}

/// One expiry; false when the application changed (resubmitted) or another instance closed it.
pub async fn expire_one(
    storage: &Storage,
    id: &ApplicationId,
    days: u32,
    cutoff: i64,
    at: i64,
) -> Result<bool, ActionError> {
    let mut tx = storage.begin().await?;
    let Some(seen) = applications::current(&mut tx, id).await? else {
        return Ok(false);
    };
    let Ok(to) = seen.status.apply(Action::Expire) else {
        return Ok(false);
    };
    if !expiry::expire(&mut tx, &seen, cutoff, at).await? {
        return Ok(false);
    }
    let paid = finance::payment_state(&mut tx, id).await?.as_deref() == Some("verified");
    owe_refund(&mut tx, id, at).await?;
    let m = mail::applicant_expired(
        &seen.applicant_name,
        id.as_str(),
        &seen.hall_reference,
        days,
        paid,
    );
    let key = format!("applicant:{}:{id}:{}", to.code(), seen.version);
    outbox::enqueue_mail(
        &mut tx,
        &key,
        "applicant_expired",
        &seen.email,
        &m,
        Some(id.as_str()),
        at,
    )
    .await?;
    let note = format!("{days} days after the return");
    applications::add_event(&mut tx, id, at, Status::Expired, ACTOR, Some(&note)).await?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor: ACTOR,
            action: "application.expired",
            subject_type: "application",
            subject_id: id.as_str(),
            before: Some(seen.status.code()),
            after: Some(to.code()),
            request_id: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
