//! 09:00 on working days: each reviewer's claimed applications due today and tomorrow, and
//! the team's unclaimed ones by deadline.

use crate::domain::calendar::WorkingCalendar;
use crate::domain::calendar::beijing_day;
use crate::storage::{DbResult, Storage, outbox};
use crate::views::mail;

pub async fn send(
    storage: &Storage,
    cal: &WorkingCalendar,
    team_email: Option<&str>,
    base_url: &str,
    now: i64,
) -> DbResult<usize> {
    let (_, _, day) = beijing_day(now, 0);
    if !cal.is_working_day(day) {
        return Ok(0);
    }
    // "Today and tomorrow" in working days: on a Friday, Monday's deadlines are included.
    let next = cal.add_working_days(day, 1);
    let (_, end_of_tomorrow, _) = beijing_day(now, (next - day).num_days());
    let day_text = day.to_string();
    let mut queued = 0;
    let mut tx = storage.begin().await?;
    for r in storage.recipients("reviewer").await? {
        let rows = storage
            .claimed_due_before(&format!("staff:{}", r.username), end_of_tomorrow, 200)
            .await?;
        if rows.is_empty() {
            continue;
        }
        let m = mail::reviewer_digest(base_url, &day_text, &r.display_name, &rows);
        let key = format!("digest:{day_text}:{}", r.username);
        queued += usize::from(
            outbox::enqueue_mail(&mut tx, &key, "reviewer_digest", &r.email, &m, None, now).await?,
        );
    }
    if let Some(team) = team_email {
        let rows = storage.unclaimed_by_deadline(200).await?;
        if !rows.is_empty() {
            let m = mail::team_digest(base_url, &day_text, &rows);
            queued += usize::from(
                outbox::enqueue_mail(
                    &mut tx,
                    &format!("team:{day_text}"),
                    "team_digest",
                    team,
                    &m,
                    None,
                    now,
                )
                .await?,
            );
        }
    }
    tx.commit().await?;
    Ok(queued)
}
