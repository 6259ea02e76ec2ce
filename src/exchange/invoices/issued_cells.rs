//! One read-back cell interpreted: texts, 是/否, links, invoice numbers, times and exact amounts.

use super::issued::REOPEN;
use super::issued_table::Value;
use crate::domain::{calendar::beijing, money::Fen};
use crate::exchange::grid::excel_serial;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

pub(super) fn optional_text(v: &Value) -> Result<Option<String>, String> {
    Ok(match v {
        Value::Empty => None,
        Value::Text(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
        Value::Float(f) => Some(format!("{f}")),
        Value::Time(t) => Some(t.format("%Y-%m-%d %H:%M:%S").to_string()),
        Value::Bad(e) => return Err(format!("holds the spreadsheet error {e}")),
    })
}

pub(super) fn required_text(v: &Value) -> Result<String, String> {
    optional_text(v)?.ok_or_else(|| "is empty".to_owned())
}

/// `是` / `否` (empty: not stated).
pub(super) fn yes_no(v: &Value) -> Result<Option<bool>, String> {
    match optional_text(v)?.as_deref() {
        None => Ok(None),
        Some("是") => Ok(Some(true)),
        Some("否") => Ok(Some(false)),
        Some(other) => Err(format!("'{other}' is neither 是 nor 否")),
    }
}

pub(super) fn link(v: &Value) -> Result<Option<String>, String> {
    match optional_text(v)? {
        Some(s) if s.starts_with("https://") || s.starts_with("http://") => Ok(Some(s)),
        Some(s) => Err(format!("'{s}' is not a link (http:// or https://)")),
        None => Ok(None),
    }
}

/// A 20-digit number, as text only: a number cell or an exponent has lost digits.
pub(super) fn invoice_number(v: &Value) -> Result<String, String> {
    match v {
        Value::Text(s) => {
            let t = s.trim().trim_start_matches('\'');
            if t.len() == 20 && t.bytes().all(|b| b.is_ascii_digit()) {
                Ok(t.to_owned())
            } else if t.contains(['E', 'e']) && t.parse::<f64>().is_ok() {
                Err(format!(
                    "'{t}' is a number in exponent form, its digits are lost; {REOPEN}"
                ))
            } else {
                Err(format!("'{t}' is not a 20-digit 数电 invoice number"))
            }
        }
        Value::Int(_) | Value::Float(_) => Err(format!(
            "is stored as a number, which cannot hold 20 digits; {REOPEN}"
        )),
        Value::Empty => Err("is empty".into()),
        Value::Time(_) => Err("is a date, not an invoice number".into()),
        Value::Bad(e) => Err(format!("holds the spreadsheet error {e}")),
    }
}

/// Beijing wall time: an Excel date-time, or text `YYYY-MM-DD HH:MM:SS` (also `/`, minutes only,
/// or a date alone).
pub(super) fn issue_time(v: &Value) -> Result<DateTime<Utc>, String> {
    let naive = match v {
        Value::Time(t) => *t,
        Value::Text(s) => {
            let t = s.trim();
            let with_time = [
                "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y/%m/%d %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok());
            let date_only = || {
                ["%Y-%m-%d", "%Y/%m/%d"]
                    .iter()
                    .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
                    .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
            };
            with_time
                .or_else(date_only)
                .ok_or_else(|| format!("'{t}' is not a date and time (YYYY-MM-DD HH:MM:SS)"))?
        }
        // A date-time that lost its format: an Excel serial number of days.
        Value::Float(f) if (36_526.0..73_051.0).contains(f) => excel_serial(*f),
        Value::Int(i) if (36_526..73_051).contains(i) => excel_serial(*i as f64),
        Value::Empty => return Err("is empty".into()),
        Value::Bad(e) => return Err(format!("holds the spreadsheet error {e}")),
        _ => return Err("is not a date and time (YYYY-MM-DD HH:MM:SS)".into()),
    };
    Ok(beijing()
        .from_local_datetime(&naive)
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc))
}

/// Yuan as exact fen: text `200.00`, `-200`, `1,200.50`, `¥200`; a number cell is read as the
/// shortest decimal that gives back the same binary value (what the spreadsheet shows), so
/// 199.99 is 19999 fen and never 19998.
pub(super) fn money(v: &Value) -> Result<Fen, String> {
    match v {
        Value::Text(s) => parse_yuan(s),
        Value::Int(i) => i
            .checked_mul(100)
            .map(Fen::new)
            .ok_or_else(|| "is too large".to_owned()),
        Value::Float(f) if f.is_finite() => parse_yuan(&format!("{f}")),
        Value::Empty => Err("is empty".into()),
        Value::Bad(e) => Err(format!("holds the spreadsheet error {e}")),
        _ => Err("is not an amount".into()),
    }
}

/// Yuan as the platform's file shows it (`¥1,200.50`): the currency sign and thousands separators
/// dropped, `+` refused, the number read by [`Fen::parse_yuan`]; errors quote the cell's text.
pub(super) fn parse_yuan(s: &str) -> Result<Fen, String> {
    let t = s.trim();
    let not_amount = || {
        if t.contains(['E', 'e']) {
            format!("'{t}' is in exponent form; {REOPEN}")
        } else {
            format!("'{t}' is not an amount")
        }
    };
    let body = t.trim_start_matches(['¥', '￥']).trim();
    let (sign, unsigned) = match body.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", body),
    };
    if unsigned.starts_with(['+', '-']) {
        return Err(not_amount());
    }
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    // Thousands separators, only where they really separate thousands.
    let groups: Vec<&str> = int.split(',').collect();
    let grouped = (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3);
    if groups.len() > 1 && !grouped {
        return Err(not_amount());
    }
    let point = if unsigned.contains('.') { "." } else { "" };
    let plain = format!("{sign}{}{point}{frac}", groups.concat());
    // The number itself is read as every other amount is (`Fen::parse_yuan`).
    Fen::parse_yuan(&plain).map_err(|e| {
        if e.ends_with("has fractions of a fen") {
            format!("'{t}' has fractions of a fen")
        } else if e.ends_with("is too large") {
            format!("'{t}' is too large")
        } else {
            not_amount()
        }
    })
}
