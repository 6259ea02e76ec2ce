//! The working-day calendar's deviating days.

use super::{DbResult, Exec, Storage, Tx};
use crate::domain::calendar::{DayKind, WorkingCalendar};
use crate::domain::ids::ApplicationId;
use crate::{on_exec, on_pool, on_tx};
use chrono::NaiveDate;

#[derive(sqlx::FromRow)]
struct DayRow {
    day: String,
    kind: String,
}

impl Storage {
    pub async fn load_calendar(&self) -> DbResult<WorkingCalendar> {
        load(self.read_pool()).await
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
        insert_day(tx, &d.format("%Y-%m-%d").to_string(), *kind, name).await?;
    }
    Ok(())
}

async fn insert_day(tx: &mut Tx, day: &str, kind: DayKind, name: &str) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into calendar_days (day, kind, name) values ($1, $2, $3)"
    )
    .bind(day)
    .bind(kind.code())
    .bind(name)
    .execute(c)
    .await
    .map(|_| ()))
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

/// The calendar in effect for a deadline stored in this transaction. It is read in the
/// transaction, not from a server's cache: an import by the CLI or another instance counts at
/// once. On PostgreSQL a share lock on `calendar_days` orders this against a change of the
/// calendar (whose writes need a lock that conflicts with it): either the change commits first
/// and is read here, or it waits for this transaction and its recompute sees this deadline.
/// On SQLite `begin immediate` orders every writer already. Submissions do not block each other.
pub async fn in_effect(tx: &mut Tx) -> DbResult<WorkingCalendar> {
    if let Tx::Postgres(c) = tx {
        sqlx::query("lock table calendar_days in share mode")
            .execute(&mut **c)
            .await?;
    }
    load_in(tx).await
}

/// The calendar as the transaction sees it.
pub async fn load_in(tx: &mut Tx) -> DbResult<WorkingCalendar> {
    load(tx).await
}

async fn load(e: impl Into<Exec<'_>>) -> DbResult<WorkingCalendar> {
    let rows = on_exec!(e, |c| sqlx::query_as::<_, DayRow>(
        "select day, kind from calendar_days"
    )
    .fetch_all(c)
    .await)?;
    Ok(WorkingCalendar::new(rows.into_iter().filter_map(|r| {
        Some((
            NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?,
            DayKind::parse(&r.kind)?,
        ))
    })))
}

#[derive(sqlx::FromRow)]
struct WaitingRow {
    application_id: ApplicationId,
    version: i64,
    submitted_at: i64,
    received_at: i64,
    review_due_at: i64,
}

/// Recomputes the deadline of every application still waiting for review (the window starts
/// at `submitted_at` for the first version, at the receipt of a resubmission otherwise).
pub async fn recompute_deadlines(tx: &mut Tx, cal: &WorkingCalendar) -> DbResult<u64> {
    let rows = on_tx!(tx, |c| {
        sqlx::query_as::<_, WaitingRow>(
            "select application_id, version, submitted_at, received_at, review_due_at \
            from applications \
            where status in ('submitted', 'in_review', 'awaiting_approval')",
        )
        .fetch_all(c)
        .await
    })?;
    let mut changed = 0;
    for r in rows {
        let start = if r.version == 1 {
            r.submitted_at
        } else {
            r.received_at
        };
        let due = cal.review_due_at(super::from_ms(start)).timestamp_millis();
        if due != r.review_due_at {
            on_tx!(tx, |c| sqlx::query(
                "update applications set review_due_at = $1 where application_id = $2"
            )
            .bind(due)
            .bind(&r.application_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Sets one day's deviation (None: the Monday–Friday rule applies again).
pub async fn set_day(
    tx: &mut Tx,
    day: NaiveDate,
    kind: Option<DayKind>,
    name: &str,
) -> DbResult<()> {
    let d = day.format("%Y-%m-%d").to_string();
    on_tx!(tx, |c| sqlx::query(
        "delete from calendar_days where day = $1"
    )
    .bind(&d)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if let Some(k) = kind {
        insert_day(tx, &d, k, name).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct NamedDay {
    day: String,
    name: String,
}

impl Storage {
    /// The names of a year's listed days (for the calendar page).
    pub async fn calendar_names(&self, year: i32) -> DbResult<Vec<(NaiveDate, String)>> {
        let rows = on_pool!(self.read_pool(), |p| sqlx::query_as::<_, NamedDay>(
            "select day, name from calendar_days where day between $1 and $2"
        )
        .bind(format!("{year}-01-01"))
        .bind(format!("{year}-12-31"))
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?, r.name)))
            .collect())
    }
}
