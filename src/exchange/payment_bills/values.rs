//! The values of a bill line: column names, exact amounts and Beijing times.

use super::{BillError, err};
use crate::domain::{calendar::beijing, money::Fen};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use std::collections::HashMap;

/// Column names compared as the contract says: trimmed, backtick dropped, full-width parentheses.
pub(super) fn norm(h: &str) -> String {
    h.trim_matches([' ', '\t'])
        .trim_start_matches('`')
        .replace('（', "(")
        .replace('）', ")")
}

/// Exact decimal yuan with up to five decimals, in 1/100,000 yuan; exponents refused.
pub(super) fn parse_e5(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty()
        || frac.len() > 5
        || !int.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return Err(if t.contains(['E', 'e']) {
            format!("'{t}' was rewritten by a spreadsheet; import the original download")
        } else {
            format!("'{t}' is not an amount")
        });
    }
    // The digits of int and frac, frac padded to five places.
    let digits = int
        .bytes()
        .chain(frac.bytes())
        .chain(std::iter::repeat_n(b'0', 5 - frac.len()));
    let mut v: i64 = 0;
    for d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(d - b'0')))
            .ok_or_else(|| format!("'{t}' is too large"))?;
    }
    Ok(if neg { -v } else { v })
}

pub(super) fn fen(e5: i64, line: usize, column: &str) -> Result<Fen, BillError> {
    if e5 % 1000 != 0 {
        return Err(err(line, Some(column), "has fractions of a fen"));
    }
    Ok(Fen::new(e5 / 1000))
}

/// `YYYY-MM-DD HH:MM:SS` Beijing time, as Unix milliseconds.
pub(super) fn beijing_time(s: &str, line: usize, column: &str) -> Result<i64, BillError> {
    let s = s.trim();
    let t = fast_time(s)
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok())
        .ok_or_else(|| {
            err(
                line,
                Some(column),
                format!("'{s}' is not a time (YYYY-MM-DD HH:MM:SS)"),
            )
        })?;
    Ok(beijing()
        .from_local_datetime(&t)
        .single()
        .expect("fixed offset")
        .timestamp_millis())
}

/// The exact form every bill prints, without chrono's format parser (a million lines a file).
fn fast_time(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?.and_hms_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    )
}

pub(super) struct Cols(HashMap<String, usize>);

impl Cols {
    pub(super) fn new(headers: &[String]) -> Self {
        Cols(
            headers
                .iter()
                .enumerate()
                .map(|(i, h)| (norm(h), i))
                .collect(),
        )
    }
    /// The first of `names` present.
    pub(super) fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.0.get(&norm(n)).copied())
    }
    pub(super) fn need(&self, names: &[&str], line: usize) -> Result<usize, BillError> {
        self.find(names)
            .ok_or_else(|| err(line, Some(names[0]), "the required column is missing"))
    }
}
