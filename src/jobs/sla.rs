//! The review SLA's jobs: escalating breaches (every minute) and the 14:00 warning.

use crate::domain::calendar::{WorkingCalendar, beijing_day};
use crate::storage::{DbResult, Storage, outbox, sla};
use crate::views::mail;

/// Escalates every overdue, undecided review window once: records the breach and queues one
/// e-mail per supervisor, in one transaction per batch. Safe to run on several instances at
/// once: the breach is claimed by a conditional update, so one instance wins each window.
pub async fn sweep(storage: &Storage, base_url: &str, now: i64) -> DbResult<usize> {
    let supervisors = storage.recipients("supervisor").await?;
    let mut escalated = 0;
    loop {
        let rows = storage.overdue_unescalated(now, 200).await?;
        if rows.is_empty() {
            break;
        }
        let mut tx = storage.begin().await?;
        for r in &rows {
            if !sla::record_breach(&mut tx, r, now).await? {
                continue;
            }
            escalated += 1;
            let m = mail::escalation(base_url, r);
            for s in &supervisors {
                let key = format!(
                    "escalation:{}:{}:{}",
                    r.application_id, r.version, s.username
                );
                outbox::enqueue_mail(
                    &mut tx,
                    &key,
                    "escalation",
                    &s.email,
                    &m,
                    Some(r.application_id.as_str()),
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        if rows.len() < 200 {
            break;
        }
    }
    Ok(escalated)
}

/// 14:00 on a working day: each supervisor gets the list of applications due today and undecided.
pub async fn warn_due_today(
    storage: &Storage,
    cal: &WorkingCalendar,
    base_url: &str,
    now: i64,
) -> DbResult<usize> {
    let (start, end, day) = beijing_day(now, 0);
    if !cal.is_working_day(day) {
        return Ok(0);
    }
    let rows = storage.due_between(start.max(now), end, 500).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let day_text = day.to_string();
    let m = mail::deadline_warning(base_url, &day_text, &rows);
    let mut queued = 0;
    let mut tx = storage.begin().await?;
    for s in storage.recipients("supervisor").await? {
        let key = format!("warning:{day_text}:{}", s.username);
        queued += usize::from(
            outbox::enqueue_mail(&mut tx, &key, "deadline_warning", &s.email, &m, None, now)
                .await?,
        );
    }
    tx.commit().await?;
    Ok(queued)
}
