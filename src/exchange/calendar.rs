//! `import-calendar`: a working-day calendar (operations.md). Replaces the entries of every
//! year the file contains, and recomputes the deadlines of applications still waiting.

use super::sheet::{self, SheetError};
use crate::domain::calendar::DayKind;
use crate::storage::{Storage, calendar};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub rows: usize,
    pub years: Vec<i32>,
    pub deadlines_changed: u64,
}

pub use super::ImportError;

const COLUMNS: &[(&str, &str, bool)] = &[
    ("date", "日期", true),
    ("type", "类型", true),
    ("name", "名称", false),
];

pub fn parse(bytes: &[u8]) -> Result<Vec<(NaiveDate, DayKind, String)>, SheetError> {
    parse_with(bytes, &super::budget::current())
}

/// As [`parse`], within the given budgets.
pub fn parse_with(
    bytes: &[u8],
    b: &super::budget::FileBudgets,
) -> Result<Vec<(NaiveDate, DayKind, String)>, SheetError> {
    sheet::read_rows(
        bytes,
        b,
        COLUMNS,
        |d: &(NaiveDate, DayKind, String)| d.0,
        |c, row| {
            let date = c.date(row, 0)?;
            let kind = c.parsed(row, 1, DayKind::parse, "holiday/放假 or workday/上班")?;
            Ok((date, kind, c.text(row, 2)?.unwrap_or_default()))
        },
    )
}

pub async fn import(
    storage: &Storage,
    bytes: &[u8],
    actor: &str,
    at: i64,
) -> Result<Summary, ImportError> {
    let days = parse(bytes)?;
    let mut by_year: BTreeMap<i32, Vec<(NaiveDate, DayKind, String)>> = BTreeMap::new();
    for d in &days {
        by_year.entry(d.0.year()).or_default().push(d.clone());
    }
    let mut tx = storage.begin().await?;
    for (year, entries) in &by_year {
        calendar::replace_year(&mut tx, *year, entries).await?;
    }
    let cal = calendar::load_in(&mut tx).await?;
    let changed = calendar::recompute_deadlines(&mut tx, &cal).await?;
    let sha = crate::storage::scan_files::sha256_hex(bytes);
    let after = format!(
        "{} rows, years {:?}, {changed} deadlines changed",
        days.len(),
        by_year.keys().collect::<Vec<_>>()
    );
    super::audit_file(
        &mut tx,
        actor,
        "calendar.imported",
        "file",
        &sha,
        &after,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(Summary {
        rows: days.len(),
        years: by_year.into_keys().collect(),
        deadlines_changed: changed,
    })
}
