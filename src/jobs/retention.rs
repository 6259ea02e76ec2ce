//! The retention job (daily): personal data of applications whose certificate expired more
//! than `retention_years` ago (Beijing calendar) is replaced by a tombstone, each erasure
//! audited; then the scan files no row refers to any more are deleted from the scan store.
//! Exactly once across instances: each erasure is a conditional update (`erased_at is null`),
//! and deleting a file already gone is not an error.

use crate::storage::{
    Storage,
    scan_files::{ScanStore, sweep},
};
use chrono::{Datelike, NaiveDate};

#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub applications: u64,
    pub scan_files: u64,
}

/// The last `valid_to` still kept on `today`: data is kept through `valid_to + years`.
pub fn cutoff(today: NaiveDate, years: u32) -> NaiveDate {
    let y = today.year() - years as i32;
    // 29 February, `years` back in a year without one, becomes 28 February.
    NaiveDate::from_ymd_opt(y, today.month(), today.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, today.month(), today.day() - 1))
        .expect("a valid date")
}

pub async fn run(
    storage: &Storage,
    scans: &ScanStore,
    years: u32,
    now: i64,
) -> anyhow::Result<Summary> {
    let today = crate::domain::audit::beijing_day(now);
    let cutoff = cutoff(today, years).format("%Y-%m-%d").to_string();
    let mut summary = Summary::default();
    loop {
        let due = storage.retention_due(&cutoff, 500).await?;
        if due.is_empty() {
            break;
        }
        for id in &due {
            let Some(erased) = storage
                .erase_application(id, &cutoff, "job:retention", now)
                .await?
            else {
                continue;
            };
            summary.applications += 1;
            // Deleted under the scan store's fence, so an upload of the same file in flight
            // (a photo sent again) keeps its object; a PDF's page images go with it.
            let mut objects = erased.scans.clone();
            objects.extend(storage.scan_page_images(&erased.scans).await?);
            summary.scan_files += sweep::sweep_batch(storage, scans, &objects).await?;
        }
        if due.len() < 500 {
            break;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::cutoff;
    use chrono::NaiveDate;

    #[test]
    fn the_cutoff_is_the_same_day_years_back() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(cutoff(d("2026-11-25"), 5), d("2021-11-25"));
        assert_eq!(cutoff(d("2028-02-29"), 5), d("2023-02-28"));
    }
}
