//! The working-day calendar's deviating days.

use super::{DbResult, Storage, Tx};
use crate::domain::calendar::{DayKind, WorkingCalendar};
use crate::{on_pool, on_tx};
use chrono::NaiveDate;

#[derive(sqlx::FromRow)]
struct DayRow {
    day: String,
    kind: String,
}

impl Storage {
    pub async fn load_calendar(&self) -> DbResult<WorkingCalendar> {
        let rows = on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DayRow>(
            "select day, kind from calendar_days"
        )
        .fetch_all(p)
        .await)?;
        Ok(WorkingCalendar::new(rows.into_iter().filter_map(|r| {
            Some((
                NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?,
                DayKind::parse(&r.kind)?,
            ))
        })))
    }
}

/// Replaces every entry of `year` with `days`.
pub async fn replace_year(
    tx: &mut Tx,
    year: i32,
    days: &[(NaiveDate, DayKind, String)],
) -> DbResult<()> {
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    on_tx!(tx, |c| sqlx::query(
        "delete from calendar_days where day between $1 and $2"
    )
    .bind(&from)
    .bind(&to)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    for (d, kind, name) in days {
        on_tx!(tx, |c| sqlx::query(
            "insert into calendar_days (day, kind, name) values ($1, $2, $3)"
        )
        .bind(d.format("%Y-%m-%d").to_string())
        .bind(kind.code())
        .bind(name)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The calendar as the servers use it: reloaded from the database when older than a minute,
/// so an import by the CLI reaches running servers within a minute (operations.md).
#[derive(Clone, Debug)]
pub struct CalendarCache {
    storage: Storage,
    inner: std::sync::Arc<std::sync::RwLock<(std::time::Instant, std::sync::Arc<WorkingCalendar>)>>,
}

const CALENDAR_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl CalendarCache {
    pub async fn new(storage: Storage) -> DbResult<Self> {
        let cal = storage.load_calendar().await?;
        Ok(Self {
            storage,
            inner: std::sync::Arc::new(std::sync::RwLock::new((
                std::time::Instant::now(),
                std::sync::Arc::new(cal),
            ))),
        })
    }

    pub async fn get(&self) -> DbResult<std::sync::Arc<WorkingCalendar>> {
        {
            let g = self.inner.read().expect("not poisoned");
            if g.0.elapsed() < CALENDAR_TTL {
                return Ok(g.1.clone());
            }
        }
        self.refresh().await
    }

    pub async fn refresh(&self) -> DbResult<std::sync::Arc<WorkingCalendar>> {
        let cal = std::sync::Arc::new(self.storage.load_calendar().await?);
        *self.inner.write().expect("not poisoned") = (std::time::Instant::now(), cal.clone());
        Ok(cal)
    }
}
