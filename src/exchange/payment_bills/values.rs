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
    if let Some(v) = plain_e5(body.as_bytes()) {
        return Ok(if neg { -v } else { v });
    }
    checked_e5(t, neg, body)
}

/// [`parse_e5`] by the rule as written: every form, every error.
fn checked_e5(t: &str, neg: bool, body: &str) -> Result<i64, String> {
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

/// The common form in one pass: up to 13 integer digits, then optionally a point and up to five
/// digits (no overflow possible). Anything else (errors, long numbers) is left to the full check.
fn plain_e5(b: &[u8]) -> Option<i64> {
    let mut v: i64 = 0;
    let mut i = 0;
    // At most 14 digits read (no overflow), so that a longer one is left to the full check.
    while i < b.len() && i < 14 && b[i].is_ascii_digit() {
        v = v * 10 + i64::from(b[i] - b'0');
        i += 1;
    }
    if i == 0 || i > 13 {
        return None;
    }
    let mut places = 0;
    if i < b.len() {
        if b[i] != b'.' || b.len() - i - 1 > 5 {
            return None;
        }
        for &c in &b[i + 1..] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
            places += 1;
        }
    }
    for _ in places..5 {
        v *= 10;
    }
    Some(v)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The one-pass form reads every amount as the full check does, and refuses nothing
        /// the full check would read.
        #[test]
        fn the_fast_amount_reads_as_the_full_check(s in "[ ]?-?[0-9]{0,40}([.][0-9]{0,7})?[ ]?|[-0-9.eE+ ]{0,12}") {
            let t = s.trim();
            let (neg, body) = match t.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, t),
            };
            prop_assert_eq!(parse_e5(&s), checked_e5(t, neg, body));
        }
    }
}
