//! The review SLA's jobs: escalating breaches (every minute) and the 14:00 warning.

use crate::domain::calendar::{WorkingCalendar, beijing};
use crate::storage::{DbResult, Storage, outbox, sla};
use crate::views::mail;
use chrono::{Duration, NaiveTime, TimeZone};

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

/// The Beijing day of `now` as [start, end) in epoch milliseconds, and its date.
pub fn beijing_day(now: i64, offset_days: i64) -> (i64, i64, chrono::NaiveDate) {
    let day = crate::storage::from_ms(now)
        .with_timezone(&beijing())
        .date_naive()
        + Duration::days(offset_days);
    let start = beijing()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .expect("fixed offset")
        .timestamp_millis();
    (start, start + 86_400_000, day)
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
