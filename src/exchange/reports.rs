//! Spreadsheet reports whose layout is a file under `reports/` (sheet name, columns, headers,
//! widths, formats), so finance can change a column's title or order without a rebuild. Written
//! for Excel and WPS alike: a frozen header row, column widths, filters, real numbers with a
//! money format and real dates with a date format. A layout may add a title row above the
//! header and a totals row below the data; the supervision reports also name their data
//! source and can be written as csv (UTF-8 with a BOM, so Excel in China opens it).

use super::report_stream::{CsvReport, XlsxReport};
use rust_xlsxwriter::ExcelDateTime;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportLayout {
    pub sheet: String,
    /// A title row above the header (the report's name and period).
    #[serde(default)]
    pub title: Option<String>,
    /// What the report is for, shown on its page.
    #[serde(default)]
    pub description: Option<String>,
    /// The data set a supervision report reads (`crate::desks::supervision::SOURCES`).
    #[serde(default)]
    pub source: Option<String>,
    /// Addresses that get the report for the previous month on the 1st of each month.
    #[serde(default)]
    pub monthly_to: Vec<String>,
    pub columns: Vec<ReportColumn>,
    /// A chart sheet after the data (xlsx only).
    #[serde(default)]
    pub chart: Option<ReportChart>,
}

/// A chart of some columns against one, on a sheet of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportChart {
    pub kind: ChartKind,
    pub title: String,
    /// The chart sheet's name (图表 by default).
    #[serde(default)]
    pub sheet: Option<String>,
    /// The field along the axis (a day, a reason code).
    pub category: String,
    /// The fields drawn, one series each.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    Line,
    Column,
    Bar,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportColumn {
    /// The value's name in the rows the report is given.
    pub field: String,
    pub header: String,
    #[serde(default = "default_width")]
    pub width: f64,
    #[serde(default)]
    pub format: ColumnFormat,
    /// Summed in the totals row (integer and money columns).
    #[serde(default)]
    pub total: bool,
}

fn default_width() -> f64 {
    14.0
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ColumnFormat {
    #[default]
    Text,
    /// A whole number.
    Integer,
    /// Fen, shown as yuan with two decimals.
    Money,
    /// `YYYY-MM-DD`, written as an Excel date.
    Date,
    /// Unix milliseconds, written as a Beijing date-time.
    Datetime,
}

/// A value of one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    /// fen
    Money(i64),
    /// `YYYY-MM-DD`
    Date(String),
    /// Unix milliseconds
    Millis(i64),
    Empty,
}

pub type Row = HashMap<&'static str, Value>;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report layout {0}: {1}")]
    Layout(String, String),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

impl ReportLayout {
    /// The shipped layout `reports/<name>.toml`, or the file `dir/<name>.toml` when it exists.
    pub fn named(name: &str, dir: Option<&std::path::Path>) -> Result<ReportLayout, ReportError> {
        let shipped = match name {
            "finance-daily" => include_str!("../../reports/finance-daily.toml"),
            "refunds-owed" => include_str!("../../reports/refunds-owed.toml"),
            _ => match SUPERVISION.iter().find(|(n, _)| *n == name) {
                Some((_, text)) => text,
                None => return Err(ReportError::Layout(name.into(), "no such report".into())),
            },
        };
        let text = match dir.map(|d| d.join(format!("{name}.toml"))) {
            Some(p) if p.exists() => std::fs::read_to_string(&p)
                .map_err(|e| ReportError::Layout(p.display().to_string(), e.to_string()))?,
            _ => shipped.to_owned(),
        };
        toml::from_str(&text).map_err(|e| ReportError::Layout(name.into(), e.to_string()))
    }
}

/// The supervision reports shipped in `reports/`, in the order the report list shows them.
pub const SUPERVISION: &[(&str, &str)] = &[
    (
        "monthly-operations",
        include_str!("../../reports/monthly-operations.toml"),
    ),
    (
        "sla-breaches",
        include_str!("../../reports/sla-breaches.toml"),
    ),
    (
        "return-reasons",
        include_str!("../../reports/return-reasons.toml"),
    ),
    (
        "reviewer-workload",
        include_str!("../../reports/reviewer-workload.toml"),
    ),
    (
        "finance-month-end",
        include_str!("../../reports/finance-month-end.toml"),
    ),
    (
        "shipment-register",
        include_str!("../../reports/shipment-register.toml"),
    ),
];

impl ReportLayout {
    /// The sums of the columns marked `total`, by field.
    pub fn totals(&self, rows: &[Row]) -> HashMap<String, Value> {
        let mut out = HashMap::new();
        for col in self.columns.iter().filter(|c| c.total) {
            let sum: i64 = rows
                .iter()
                .map(|r| match r.get(col.field.as_str()) {
                    Some(Value::Int(n)) | Some(Value::Money(n)) => *n,
                    _ => 0,
                })
                .sum();
            let v = if col.format == ColumnFormat::Money {
                Value::Money(sum)
            } else {
                Value::Int(sum)
            };
            out.insert(col.field.clone(), v);
        }
        out
    }
}

/// A cell as text: money in yuan with two decimals, dates and Beijing date-times.
pub fn display(v: &Value) -> String {
    match v {
        Value::Text(s) | Value::Date(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        Value::Money(f) => format!(
            "{}{}.{:02}",
            if *f < 0 { "-" } else { "" },
            f.abs() / 100,
            f.abs() % 100
        ),
        Value::Millis(ms) => chrono::DateTime::from_timestamp_millis(*ms)
            .map(|t| {
                t.with_timezone(&crate::domain::calendar::beijing())
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default(),
        Value::Empty => String::new(),
    }
}

/// The rows as csv: UTF-8 with a BOM, CRLF, the header, then the totals row when the layout has one.
pub fn write_csv(layout: &ReportLayout, rows: &[Row]) -> Result<Vec<u8>, ReportError> {
    let mut w = CsvReport::new(layout, Vec::new())?;
    for row in rows {
        w.push(row)?;
    }
    w.finish()
}

pub(crate) fn excel_date(day: &str) -> Option<ExcelDateTime> {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    use chrono::Datelike;
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).ok()
}

pub(crate) fn excel_datetime(ms: i64) -> Option<ExcelDateTime> {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp_millis(ms)?
        .with_timezone(&crate::domain::calendar::beijing())
        .naive_local();
    ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
        .ok()?
        .and_hms(t.hour() as u16, t.minute() as u8, t.second())
        .ok()
}

/// Writes the rows under the layout's header; a field a row lacks is an empty cell.
pub fn write(layout: &ReportLayout, rows: &[Row]) -> Result<Vec<u8>, ReportError> {
    let mut w = XlsxReport::new(layout)?;
    for row in rows {
        w.push(row)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    #[test]
    fn the_shipped_layouts_load_and_write_real_types() {
        for name in ["finance-daily", "refunds-owed"] {
            ReportLayout::named(name, None).unwrap();
        }
        let layout: ReportLayout = toml::from_str(
            r#"sheet = "日报"
[[columns]]
field = "day"
header = "日期"
format = "date"
[[columns]]
field = "gross"
header = "收款（元）"
format = "money"
[[columns]]
field = "name"
header = "名称"
"#,
        )
        .unwrap();
        let rows: Vec<Row> = vec![HashMap::from([
            ("day", Value::Date("2026-11-24".into())),
            ("gross", Value::Money(123456)),
            ("name", Value::Text("00123".into())),
        ])];
        let bytes = write(&layout, &rows).unwrap();
        assert_eq!(bytes, write(&layout, &rows).unwrap(), "deterministic");
        let mut x: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let r = x.worksheet_range("日报").unwrap();
        assert_eq!(r.get((0, 1)), Some(&Data::String("收款（元）".into())));
        assert!(matches!(r.get((1, 0)), Some(Data::DateTime(_))));
        assert_eq!(r.get((1, 1)), Some(&Data::Float(1234.56)));
        assert_eq!(r.get((1, 2)), Some(&Data::String("00123".into())));
    }
}
