//! On the 1st of each month (and on any later day a stopped server catches up), each
//! supervision report whose definition lists `monthly_to` addresses is queued for them for the
//! previous month: the figures as a table, and the link to the xlsx. Once per report, month
//! and address (the outbox key), however many instances run the schedule.

use crate::desks::supervision::{self, ReportingError, previous_month};
use crate::domain::calendar::beijing_day;
use crate::exchange::reports::SUPERVISION;
use crate::storage::paging::PageReq;
use crate::storage::{Storage, outbox};
use crate::views::mail::{MAIL_ROWS, report_mail};
use std::path::Path;

/// Queues last month's reports; returns how many messages are new.
pub async fn send_monthly(
    storage: &Storage,
    data_dir: Option<&Path>,
    base_url: &str,
    now: i64,
) -> Result<usize, ReportingError> {
    let (_, _, today) = beijing_day(now, 0);
    let (from, to) = previous_month(today);
    let month = from.format("%Y-%m").to_string();
    let mut queued = 0;
    for (name, _) in SUPERVISION {
        let layout = supervision::definition(name, data_dir)?;
        if layout.monthly_to.is_empty() {
            continue;
        }
        // The first rows for the table; the count and the totals are the whole month's.
        let first = PageReq::first(MAIL_ROWS as i64);
        let (page, totals) = supervision::page(storage, &layout, from, to, &first).await?;
        let layout = supervision::titled(layout, from, to);
        let link = format!("{base_url}/reports/{name}/xlsx?from={from}&to={to}");
        let m = report_mail(&layout, (&page.rows, page.total), &totals, &link);
        let mut tx = storage.begin().await?;
        for to_addr in &layout.monthly_to {
            let key = format!("report:{name}:{month}:{to_addr}");
            queued += usize::from(
                outbox::enqueue_mail(&mut tx, &key, "monthly_report", to_addr, &m, None, now)
                    .await?,
            );
        }
        tx.commit().await?;
    }
    Ok(queued)
}
