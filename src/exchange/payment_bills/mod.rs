//! The merchant bills of WeChat Pay (交易账单) and Alipay (业务明细), read exactly as the
//! platforms export them (`../shared/contracts/payment-bills.md`): recognised by content, UTF-8 or
//! GBK, columns by name, amounts as exact decimals, totals recomputed and checked. A bad line refuses
//! the whole file, naming its line number and column. `parse_any` also opens the zip and gzip
//! wrappers the channels hand out. Not yet read here: the Alipay account detail (§3).
//!
//! A plain file is read as a stream of lines ([`parse_reader`]): a daily bill of a million lines
//! is never held whole, and its lines are kept packed ([`Lines`]: one text buffer and small
//! fixed-size records), so a large bill costs about 90 bytes a line.
//!
//! The files: `lines` keeps the lines packed, `reader` decodes a text file line by line, `values`
//! reads amounts and times, `wechat` and `alipay` read each platform's bill, `archive` opens the
//! zip and gzip wrappers.

mod alipay;
mod archive;
mod lines;
mod reader;
#[cfg(test)]
mod tests;
mod values;
mod wechat;

pub use archive::{parse_any, parse_any_reader, parse_any_with};
pub use lines::Lines;

use super::budget;
use crate::domain::{calendar::beijing, intake::PaymentChannel, money::Fen};
use alipay::parse_alipay;
use chrono::{DateTime, NaiveDate, Utc};
use reader::LineReader;
use std::io::BufRead;
use wechat::parse_wechat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    Payment,
    Refund,
}

/// One transaction line of a bill, as borrowed from its [`Lines`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BillLine<'a> {
    /// The file's line number (the first line is 1).
    pub line: u32,
    pub kind: LineKind,
    /// Unix milliseconds. WeChat: payment success or refund acceptance; Alipay: completion.
    pub at: i64,
    pub transaction_id: &'a str,
    pub out_trade_no: &'a str,
    /// The payment amount, or the refund amount; positive.
    pub amount: Fen,
    /// The refund's own number (WeChat 商户退款单号, Alipay 退款批次号/请求号).
    pub refund_no: Option<&'a str>,
    /// The channel's fee in 1/100,000 yuan (WeChat prints five decimals), as signed in the file.
    pub fee_e5: i64,
}

impl BillLine<'_> {
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.at).unwrap_or_default()
    }
    /// The Beijing calendar day of the line.
    pub fn day(&self) -> NaiveDate {
        self.at().with_timezone(&beijing()).date_naive()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bill {
    pub channel: PaymentChannel,
    /// Beijing days [first, last] the bill covers.
    pub period: (NaiveDate, NaiveDate),
    pub lines: Lines,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct BillError {
    pub line: usize,
    pub column: Option<String>,
    pub message: String,
}

fn err(line: usize, column: Option<&str>, message: impl Into<String>) -> BillError {
    BillError {
        line,
        column: column.map(str::to_owned),
        message: message.into(),
    }
}

/// Reads one bill file (not a zip or gzip).
pub fn parse(bytes: &[u8]) -> Result<Bill, BillError> {
    parse_reader(bytes)
}

/// Reads one bill file (not a zip or gzip) as a stream of lines; the reader is read to its end.
pub fn parse_reader<R: BufRead>(r: R) -> Result<Bill, BillError> {
    parse_reader_within(r, budget::current().max_line_bytes)
}

fn parse_reader_within<R: BufRead>(r: R, max_line: u64) -> Result<Bill, BillError> {
    let mut rd = LineReader::new(r, max_line);
    let first = loop {
        match rd.next()? {
            None => break None,
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((n, l)) => break Some((n, l.to_owned())),
        }
    };
    let bill = match first {
        Some((n, l)) if l.starts_with("交易时间,") || l.starts_with("`交易时间,") => {
            parse_wechat(n, &l, &mut rd)
        }
        Some((n, l)) if l.starts_with("#支付宝业务明细查询") => {
            parse_alipay(n, l, &mut rd)
        }
        _ => Err(err(
            1,
            None,
            "not a WeChat Pay trade bill nor an Alipay business-detail bill",
        )),
    }?;
    // Whatever follows the bill (nothing, normally) is read, so a caller hashing the stream
    // hashes all of it.
    while rd.next()?.is_some() {}
    Ok(bill)
}
