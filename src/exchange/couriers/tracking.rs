//! The tracking import (§7): the waybill numbers read back from the courier's export or any
//! list (xlsx/xls or CSV in UTF-8 or GBK), the header found in rows 1–5 by its aliases, every bad
//! cell named by row and column, all or nothing.

use super::Courier;
use crate::exchange::budget::{self, FileBudgets};
use crate::exchange::grid::{
    self, Grid, RowError, SheetError, Value, beijing_utc, column_name, header_texts, position,
};
use chrono::{DateTime, NaiveDateTime, Utc};

/// A file's format errors: a missing column (no header row in rows 1–5), the file unreadable,
/// or the cells that are wrong, each with row and column. The same error the other imports give,
/// so `?` turns it into `ImportError`.
pub type TrackingError = SheetError;

/// One waybill number given back for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRow {
    /// The spreadsheet row (1-based) it came from.
    pub row: usize,
    pub order_no: String,
    /// Trimmed, upper-cased.
    pub waybill: String,
    /// Absent: the caller uses the import time.
    pub shipped_at: Option<DateTime<Utc>>,
    /// From a courier column, when the file has one (a conflict if it differs from the batch's).
    pub courier: Option<Courier>,
}

pub const ORDER_HEADERS: [&str; 4] = ["订单号", "用户订单号", "客户订单号", "订单编号"];
pub const WAYBILL_HEADERS: [&str; 5] = ["运单号", "运单号码", "快递单号", "母单号", "邮件号"];
pub const TIME_HEADERS: [&str; 5] = ["寄件时间", "揽收时间", "发货时间", "下单时间", "打印时间"];
pub const COURIER_HEADERS: [&str; 3] = ["快递公司", "承运商", "物流公司"];

/// Reads the waybill numbers from the courier's export or any list: xlsx/xls (first visible
/// sheet) or CSV (UTF-8 or GBK). The header row is the first of rows 1–5 naming an order column
/// and a waybill column (aliases above); time and courier columns are optional. Any bad cell
/// refuses the whole file. Checking each waybill against its order's courier needs the
/// database: the caller does it with `waybill_matches`.
pub fn read_tracking(bytes: &[u8]) -> Result<Vec<TrackingRow>, TrackingError> {
    read_tracking_with(bytes, &budget::current())
}

/// As [`read_tracking`], within the given budgets.
pub fn read_tracking_with(
    bytes: &[u8],
    b: &FileBudgets,
) -> Result<Vec<TrackingRow>, TrackingError> {
    let grid = if grid::is_workbook(bytes) {
        grid::workbook_grid(bytes, b, grid::first_visible)?.1
    } else {
        grid::csv_grid(bytes, b)?
    };
    let (at, cols) = find_header(&grid)?;
    let mut out = Vec::with_capacity(grid.len().saturating_sub(at + 1));
    let mut errors = Vec::new();
    for (row, cells) in &grid[at + 1..] {
        if cells.iter().all(Value::is_empty) {
            continue;
        }
        let cell = |i: usize| grid::cell(cells, i);
        let mut fail = |col: usize, message: String| {
            errors.push(RowError {
                row: *row,
                column: column_name(col, &cols.headers[col]),
                message,
            })
        };
        let order = key_text(cell(cols.order)).map_err(|m| fail(cols.order, m));
        let waybill = key_text(cell(cols.waybill))
            .map(|w| w.to_uppercase())
            .map_err(|m| fail(cols.waybill, m));
        let shipped_at = match cols.time {
            Some(i) => shipped_time(cell(i)).map_err(|m| fail(i, m)),
            None => Ok(None),
        };
        let courier = match cols.courier {
            Some(i) => courier_of(cell(i)).map_err(|m| fail(i, m)),
            None => Ok(None),
        };
        if let (Ok(order_no), Ok(waybill), Ok(shipped_at), Ok(courier)) =
            (order, waybill, shipped_at, courier)
        {
            out.push(TrackingRow {
                row: *row,
                order_no,
                waybill,
                shipped_at,
                courier,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SheetError::Rows(errors))
    }
}

struct TrackingCols {
    headers: Vec<String>,
    order: usize,
    waybill: usize,
    time: Option<usize>,
    courier: Option<usize>,
}

/// The first of rows 1–5 with an order and a waybill column; when none, the missing one named.
fn find_header(grid: &Grid) -> Result<(usize, TrackingCols), SheetError> {
    let (mut has_order, mut has_waybill) = (false, false);
    for (i, (row, cells)) in grid.iter().enumerate() {
        if *row > 5 {
            break;
        }
        let headers = header_texts(cells);
        let order = position(&headers, &ORDER_HEADERS);
        let waybill = position(&headers, &WAYBILL_HEADERS);
        has_order |= order.is_some();
        has_waybill |= waybill.is_some();
        if let (Some(order), Some(waybill)) = (order, waybill) {
            let time = position(&headers, &TIME_HEADERS);
            let courier = position(&headers, &COURIER_HEADERS);
            let cols = TrackingCols {
                headers,
                order,
                waybill,
                time,
                courier,
            };
            return Ok((i, cols));
        }
    }
    let order = ORDER_HEADERS.join("/");
    let waybill = WAYBILL_HEADERS.join("/");
    Err(SheetError::MissingColumn(match (has_order, has_waybill) {
        (true, false) => format!("{waybill} (in one of rows 1–5)"),
        (false, true) => format!("{order} (in one of rows 1–5)"),
        _ => format!("{order} with {waybill} (in one of rows 1–5)"),
    }))
}

/// An order or waybill number: text, or a whole number short enough to be exact.
fn key_text(v: &Value) -> Result<String, String> {
    match v {
        Value::Text(s) => {
            let t = s.trim();
            if t.contains(['E', 'e']) && t.contains('+') && t.parse::<f64>().is_ok() {
                Err(format!(
                    "'{t}' is a number in exponent form and has lost digits; \
                     format the column as text or use the courier's original file"
                ))
            } else {
                Ok(t.to_owned())
            }
        }
        Value::Int(_) | Value::Float(_) => match v.number() {
            Some(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(format!("{}", n as i64)),
            _ => Err("is stored as a number and has lost digits; format the column as text".into()),
        },
        Value::Empty => Err("is empty".into()),
        Value::Time(_) => Err("is a date, not a number".into()),
        Value::Bad(e) => Err(format!("holds the spreadsheet error {e}")),
    }
}

/// Beijing time: an Excel date-time, or text `YYYY-MM-DD HH:MM[:SS]` (also with `/`, or
/// RFC 3339). Empty: not given.
fn shipped_time(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    let naive = match v {
        Value::Empty => return Ok(None),
        Value::Time(t) => *t,
        Value::Text(s) => {
            let t = s.trim();
            if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
                return Ok(Some(dt.with_timezone(&Utc)));
            }
            [
                "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y/%m/%d %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .ok_or_else(|| format!("'{t}' is not a time (YYYY-MM-DD HH:MM[:SS])"))?
        }
        // A date-time that lost its format: Excel's serial days, 2000 to 2099.
        Value::Int(_) | Value::Float(_) => v
            .serial_time()
            .ok_or_else(|| "is not a time (YYYY-MM-DD HH:MM[:SS])".to_owned())?,
        Value::Bad(e) => return Err(format!("holds the spreadsheet error {e}")),
    };
    Ok(Some(beijing_utc(&naive)))
}

fn courier_of(v: &Value) -> Result<Option<Courier>, String> {
    match v {
        Value::Empty => Ok(None),
        Value::Text(s) => Courier::parse(s).map(Some).ok_or_else(|| {
            format!(
                "'{}' is not a known courier (顺丰/SF or EMS/中国邮政)",
                s.trim()
            )
        }),
        _ => Err("is not a courier name".into()),
    }
}
