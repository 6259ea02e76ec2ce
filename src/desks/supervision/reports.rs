//! The supervision reports: a definition under `reports/` (title, columns, formats, the data
//! source) plus a period of Beijing days gives rows, which the report page, the xlsx and the
//! csv all show. The sources are named here; their SQL is in `storage::supervision`.

use crate::domain::calendar::beijing;
use crate::exchange::report_stream::{CsvReport, XlsxReport};
use crate::exchange::reports::{self, ReportError, ReportLayout, Row, Value};
use crate::storage::{
    Storage,
    paging::{Page, PageReq},
    supervision::{BreachEntry, ShipmentEntry},
};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The data sets a report definition may name as its `source`.
pub const SOURCES: &[&str] = &[
    "operations_per_day",
    "sla_breaches",
    "return_reasons",
    "reviewer_workload",
    "finance_days",
    "shipments",
];

/// Register-type reports stop here; the page shows fewer.
pub const MAX_ROWS: i64 = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ReportingError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The period holds more rows than one file may (an xlsx sheet ends at 1,048,576): the file
    /// is refused rather than cut short without a word.
    #[error(
        "the period holds more than {0} rows, the most one report file holds; choose a shorter period"
    )]
    TooManyRows(i64),
}

/// A supervision report's definition: the shipped file, or `<data dir>/reports/<name>.toml`.
pub fn definition(name: &str, data_dir: Option<&Path>) -> Result<ReportLayout, ReportError> {
    if !reports::SUPERVISION.iter().any(|(n, _)| *n == name) {
        return Err(ReportError::Layout(name.into(), "no such report".into()));
    }
    let layout = ReportLayout::named(name, data_dir.map(|d| d.join("reports")).as_deref())?;
    match layout.source.as_deref() {
        Some(s) if SOURCES.contains(&s) => Ok(layout),
        other => Err(ReportError::Layout(
            name.into(),
            format!("unknown source {other:?}"),
        )),
    }
}

/// Midnight (Beijing) starting a day, in epoch milliseconds.
pub fn day_start(d: NaiveDate) -> i64 {
    beijing()
        .from_local_datetime(&d.and_time(NaiveTime::MIN))
        .single()
        .expect("fixed offset")
        .timestamp_millis()
}

/// The Beijing day of a day number `(ms + 8 h) / 1 day`.
pub fn day_of_number(n: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(719_163 + n as i32).expect("day number in range")
}

/// The previous calendar month of `today`: (first day, last day).
pub fn previous_month(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first_this = today.with_day(1).expect("day 1");
    let last_prev = first_this - Duration::days(1);
    (last_prev.with_day(1).expect("day 1"), last_prev)
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn opt_ms(v: Option<i64>) -> Value {
    v.map(Value::Millis).unwrap_or(Value::Empty)
}

fn staff_name(s: &str) -> String {
    s.trim_start_matches("staff:").to_owned()
}

/// The report's rows for the Beijing days [from, to] (both included), in memory (the page, the mail).
pub async fn rows(
    storage: &Storage,
    layout: &ReportLayout,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> Result<Vec<Row>, ReportingError> {
    let mut out = Vec::new();
    each_row(storage, layout, from, to, limit, |r| {
        out.push(r);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// What a report's page shows: a register (breaches, shipments) one page at a time from the
/// database, with its `count` total over the whole period; the other sources (a row per day,
/// reason or reviewer of at most a year) whole, with their totals.
pub async fn page(
    storage: &Storage,
    layout: &ReportLayout,
    from: NaiveDate,
    to: NaiveDate,
    req: &PageReq,
) -> Result<(Page<Row>, HashMap<String, Value>), ReportingError> {
    let (a, b) = (day_start(from), day_start(to) + 86_400_000);
    let page = match layout.source.as_deref().unwrap_or("") {
        "sla_breaches" => storage
            .breach_register_page(a, b, req)
            .await?
            .map(breach_row),
        "shipments" => storage
            .shipment_register_page(a, b, req)
            .await?
            .map(shipment_row),
        _ => {
            let rows = rows(storage, layout, from, to, MAX_ROWS).await?;
            let totals = layout.totals(&rows);
            return Ok((Page::whole(rows), totals));
        }
    };
    // A register's rows count one each: its total is the number of rows in the period.
    let totals = layout
        .columns
        .iter()
        .filter(|c| c.total && c.field == "count")
        .map(|c| (c.field.clone(), Value::Int(page.total)))
        .collect();
    Ok((page, totals))
}

fn breach_row(e: BreachEntry) -> Row {
    HashMap::from([
        ("application_id", text(e.application_id.as_str())),
        ("version", Value::Int(e.version)),
        ("applicant_name", text(e.applicant_name)),
        ("received_at", Value::Millis(e.received_at)),
        ("due_at", Value::Millis(e.due_at)),
        ("decided_at", opt_ms(e.decided_at)),
        (
            "decided_by",
            e.decided_by
                .map(|s| text(staff_name(&s)))
                .unwrap_or(Value::Empty),
        ),
        ("status", text(e.status.code())),
        ("count", Value::Int(1)),
    ])
}

fn shipment_row(s: ShipmentEntry) -> Row {
    HashMap::from([
        ("order_no", text(s.order_no)),
        ("application_id", text(s.application_id.as_str())),
        ("applicant_name", text(s.applicant_name)),
        ("courier", text(s.courier)),
        ("waybill", s.waybill.map(text).unwrap_or(Value::Empty)),
        ("state", text(s.state)),
        ("created_at", Value::Millis(s.created_at)),
        ("shipped_at", opt_ms(s.shipped_at)),
        ("count", Value::Int(1)),
    ])
}

/// Hands the report's rows to `f` one by one. The registers (breaches, shipments) come straight
/// from the database cursor, so a report of any length is written in constant memory; the other
/// sources are a row per day, reason or reviewer.
pub async fn each_row(
    storage: &Storage,
    layout: &ReportLayout,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
    mut f: impl FnMut(Row) -> Result<(), ReportError>,
) -> Result<(), ReportingError> {
    let (a, b) = (day_start(from), day_start(to) + 86_400_000);
    let mut failed = None;
    let mut fed = 0_i64;
    // One row more than the limit is asked for: its arrival says the period is too long.
    let mut feed = |row: Row| {
        fed += 1;
        if fed > limit {
            return false;
        }
        match f(row) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    };
    let rows: Vec<Row> = match layout.source.as_deref().unwrap_or("") {
        "operations_per_day" => {
            let mut days: BTreeMap<i64, HashMap<&'static str, i64>> = BTreeMap::new();
            // Every day of the period has a row, zero or not.
            let mut d = from;
            while d <= to {
                days.insert((day_start(d) + 28_800_000) / 86_400_000, HashMap::new());
                d += Duration::days(1);
            }
            let mut add = |day: i64, key: &'static str, n: i64| {
                *days.entry(day).or_default().entry(key).or_default() += n;
            };
            // Each count goes to the column its key names: [that key, every other key].
            let counts = [
                (storage.submitted_per_day(a, b).await?, ["submitted"; 2]),
                (
                    storage.decisions_per_day(a, b).await?,
                    ["accepted", "returned"],
                ),
                (
                    storage.breaches_and_shipments_per_day(a, b).await?,
                    ["breached", "shipped"],
                ),
            ];
            for (per_day, [key, other]) in counts {
                for c in per_day {
                    add(c.day, if c.key == key { key } else { other }, c.n);
                }
            }
            days.into_iter()
                .map(|(day, m)| {
                    let mut row: Row =
                        HashMap::from([("day", Value::Date(day_of_number(day).to_string()))]);
                    for k in ["submitted", "accepted", "returned", "breached", "shipped"] {
                        row.insert(k, Value::Int(m.get(k).copied().unwrap_or(0)));
                    }
                    row
                })
                .collect()
        }
        "sla_breaches" => {
            storage
                .breach_register_each(a, b, limit + 1, |e| feed(breach_row(e)))
                .await?;
            Vec::new()
        }
        "return_reasons" => {
            let catalogue = storage.return_reasons(false).await?;
            let counts = storage.reason_counts(a, b).await?;
            let all: i64 = counts.iter().map(|c| c.n).sum();
            counts
                .into_iter()
                .map(|c| {
                    let shown = catalogue
                        .iter()
                        .find(|r| r.code == c.key)
                        .map(|r| r.text_shown.clone())
                        .unwrap_or_default();
                    HashMap::from([
                        (
                            "share",
                            text(format!("{:.1}%", 100.0 * c.n as f64 / all as f64)),
                        ),
                        ("code", text(c.key)),
                        ("text_shown", text(shown)),
                        ("count", Value::Int(c.n)),
                    ])
                })
                .collect()
        }
        "reviewer_workload" => storage
            .workload(a, b)
            .await?
            .into_iter()
            .map(|w| {
                HashMap::from([
                    ("reviewer", text(staff_name(&w.reviewer))),
                    ("accepted", Value::Int(w.accepted)),
                    ("returned", Value::Int(w.returned)),
                    ("total", Value::Int(w.accepted + w.returned)),
                    ("late", Value::Int(w.late)),
                ])
            })
            .collect(),
        "finance_days" => storage
            .daily_figures(&from.to_string(), &to.to_string())
            .await?
            .into_iter()
            .map(|d| {
                let fee = (d.fee_e5 as f64 / 1000.0).round() as i64;
                HashMap::from([
                    ("day", Value::Date(d.bill_day.clone())),
                    ("channel", text(d.channel.clone())),
                    ("lines", Value::Int(d.lines)),
                    ("gross", Value::Money(d.gross_fen.get())),
                    ("fees", Value::Money(fee)),
                    ("refunds", Value::Money(d.refund_fen.get())),
                    (
                        "net",
                        Value::Money(d.gross_fen.get() - d.refund_fen.get() - fee),
                    ),
                    ("matched", Value::Int(d.matched)),
                    ("exceptions", Value::Int(d.exceptions)),
                ])
            })
            .collect(),
        "shipments" => {
            storage
                .shipment_register_each(a, b, limit + 1, |s| feed(shipment_row(s)))
                .await?;
            Vec::new()
        }
        other => {
            return Err(ReportError::Layout(
                layout.sheet.clone(),
                format!("unknown source {other}"),
            )
            .into());
        }
    };
    for row in rows {
        if !feed(row) {
            break;
        }
    }
    match failed {
        Some(e) => Err(e.into()),
        None if fed > limit => Err(ReportingError::TooManyRows(limit)),
        None => Ok(()),
    }
}

/// The report as xlsx, rows streamed from the database into a constant-memory sheet.
pub async fn xlsx(
    storage: &Storage,
    layout: &ReportLayout,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> Result<Vec<u8>, ReportingError> {
    let mut w = XlsxReport::new(layout)?;
    each_row(storage, layout, from, to, limit, |r| w.push(&r)).await?;
    Ok(w.finish()?)
}

/// The report as csv (UTF-8 with a BOM), rows streamed from the database.
pub async fn csv(
    storage: &Storage,
    layout: &ReportLayout,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> Result<Vec<u8>, ReportingError> {
    let mut w = CsvReport::new(layout, Vec::new())?;
    each_row(storage, layout, from, to, limit, |r| w.push(&r)).await?;
    Ok(w.finish()?)
}

/// The layout with its title naming the period.
pub fn titled(mut layout: ReportLayout, from: NaiveDate, to: NaiveDate) -> ReportLayout {
    if let Some(t) = &layout.title {
        layout.title = Some(format!("{t}（{from} 至 {to}）"));
    }
    layout
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_definition_loads_with_a_known_source() {
        for (name, _) in reports::SUPERVISION {
            let l = definition(name, None).unwrap();
            assert!(l.title.is_some(), "{name}");
        }
        assert!(definition("finance-daily", None).is_err());
    }

    #[test]
    fn day_numbers_and_months() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(day_of_number((day_start(d) + 28_800_000) / 86_400_000), d);
        assert_eq!(
            previous_month(d),
            (
                NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()
            )
        );
    }
}
