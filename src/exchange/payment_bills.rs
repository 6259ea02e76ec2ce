//! The merchant bills of WeChat Pay (交易账单) and Alipay (业务明细), read exactly as the
//! platforms export them (`../shared/contracts/payment-bills.md`): recognised by content, UTF-8 or
//! GBK, columns by name, amounts as exact decimals, totals recomputed and checked. A bad line refuses
//! the whole file, naming its line number and column. `parse_any` also opens the zip and gzip
//! wrappers the channels hand out. Not yet read here: the Alipay account detail (§3).
//!
//! A plain file is read as a stream of lines ([`parse_reader`]): a daily bill of a million lines
//! is never held whole, and its lines are kept packed ([`Lines`]: one text buffer and small
//! fixed-size records), so a large bill costs about 90 bytes a line.

use super::budget::{self, ArchiveError, FileBudgets, Limit, OverBudget, Unpacked};
use super::sheet::decode_text;
use crate::domain::{calendar::beijing, intake::PaymentChannel, money::Fen};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::io::{BufRead, Read};

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

/// A bill's lines, packed: the texts one after another in one buffer, the rest in a record of
/// 40 bytes (a million `String`s would cost three times as much).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lines {
    text: String,
    recs: Vec<Rec>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rec {
    at: i64,
    amount: i64,
    fee_e5: i64,
    line: u32,
    /// Where the transaction id starts in `text`; the order number and the refund number follow it.
    start: u32,
    tx_len: u16,
    order_len: u16,
    refund_len: u16,
    kind: LineKind,
}

impl Lines {
    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }
    pub fn get(&self, i: usize) -> BillLine<'_> {
        let r = &self.recs[i];
        let s = r.start as usize;
        let (o, f) = (
            s + usize::from(r.tx_len),
            s + usize::from(r.tx_len + r.order_len),
        );
        BillLine {
            line: r.line,
            kind: r.kind,
            at: r.at,
            transaction_id: &self.text[s..o],
            out_trade_no: &self.text[o..f],
            amount: Fen::new(r.amount),
            refund_no: (r.refund_len > 0).then(|| &self.text[f..f + usize::from(r.refund_len)]),
            fee_e5: r.fee_e5,
        }
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = BillLine<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
    /// Adds a line; an empty refund number counts as none.
    fn push(&mut self, l: &BillLine<'_>) -> Result<(), String> {
        let refund = l.refund_no.unwrap_or("");
        let len = |s: &str, what: &str| {
            u16::try_from(s.len()).map_err(|_| format!("the {what} is too long"))
        };
        let (tx_len, order_len, refund_len) = (
            len(l.transaction_id, "transaction number")?,
            len(l.out_trade_no, "order number")?,
            len(refund, "refund number")?,
        );
        let start = u32::try_from(self.text.len())
            .ok()
            .filter(|s| {
                s.checked_add(u32::from(tx_len) + u32::from(order_len) + u32::from(refund_len))
                    .is_some()
            })
            .ok_or("the bill is too large (over 4 GiB of identifiers)")?;
        self.text.push_str(l.transaction_id);
        self.text.push_str(l.out_trade_no);
        self.text.push_str(refund);
        self.recs.push(Rec {
            at: l.at,
            amount: l.amount.get(),
            fee_e5: l.fee_e5,
            line: l.line,
            start,
            tx_len,
            order_len,
            refund_len,
            kind: l.kind,
        });
        Ok(())
    }
    fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.recs.shrink_to_fit();
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

/// Column names compared as the contract says: trimmed, backtick dropped, full-width parentheses.
fn norm(h: &str) -> String {
    h.trim_matches([' ', '\t'])
        .trim_start_matches('`')
        .replace('（', "(")
        .replace('）', ")")
}

/// Exact decimal yuan with up to five decimals, in 1/100,000 yuan; exponents refused.
fn parse_e5(s: &str) -> Result<i64, String> {
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

fn fen(e5: i64, line: usize, column: &str) -> Result<Fen, BillError> {
    if e5 % 1000 != 0 {
        return Err(err(line, Some(column), "has fractions of a fen"));
    }
    Ok(Fen::new(e5 / 1000))
}

/// `YYYY-MM-DD HH:MM:SS` Beijing time, as Unix milliseconds.
fn beijing_time(s: &str, line: usize, column: &str) -> Result<i64, BillError> {
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

/// The lines of a text file, decoded one at a time: without their terminators (CRLF or LF), the
/// UTF-8 BOM dropped. The encoding is decided by the first line that is not blank: UTF-8 when it
/// is valid UTF-8, otherwise GB18030 (a superset of GBK) for the whole file; a later line that
/// is not valid UTF-8 in a UTF-8 file refuses it (the bill would not read as GB18030 either).
struct LineReader<R> {
    r: R,
    buf: Vec<u8>,
    decoded: String,
    /// Lines read so far: the number of the last one.
    n: usize,
    gb18030: Option<bool>,
    /// The longest line read (`BACKOFFICE_FILE_MAX_LINE_BYTES`).
    max_line: u64,
}

impl<R: BufRead> LineReader<R> {
    fn new(r: R, max_line: u64) -> Self {
        LineReader {
            r,
            buf: Vec::with_capacity(1024),
            decoded: String::new(),
            n: 0,
            gb18030: None,
            max_line,
        }
    }

    fn next(&mut self) -> Result<Option<(usize, &str)>, BillError> {
        self.buf.clear();
        let got = (&mut self.r)
            .take(self.max_line.saturating_add(1))
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| err(self.n + 1, None, format!("the file cannot be read: {e}")))?;
        if got == 0 {
            return Ok(None);
        }
        if got as u64 > self.max_line {
            let over = OverBudget::new(Limit::LineBytes, self.max_line).at(self.n as u64, 0);
            return Err(err(self.n + 1, None, over.to_string()));
        }
        self.n += 1;
        let start = if self.n == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut end = self.buf.len();
        if self.buf[start..end].ends_with(b"\n") {
            end -= 1;
        }
        while end > start && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        let bytes = &self.buf[start..end];
        let gb = match self.gb18030 {
            Some(gb) => gb,
            None if bytes.iter().all(u8::is_ascii_whitespace) => false,
            None => *self.gb18030.insert(std::str::from_utf8(bytes).is_err()),
        };
        if gb {
            self.decoded = encoding_rs::GB18030
                .decode_without_bom_handling(bytes)
                .0
                .into_owned();
            Ok(Some((self.n, &self.decoded)))
        } else {
            match std::str::from_utf8(bytes) {
                Ok(l) => Ok(Some((self.n, l))),
                Err(_) => Err(err(
                    self.n,
                    None,
                    "is not UTF-8 like the lines before it: the file is damaged",
                )),
            }
        }
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

/// Reads a bill file, a gzip of one, or a zip of several (the Alipay API's `….csv.zip`, or staff
/// zipping a month of daily WeChat bills). Zip members are recognised by content, never by name;
/// Alipay totals files (汇总) and directories are skipped. A zip without any bill is refused.
pub fn parse_any(bytes: &[u8]) -> Result<Vec<Bill>, BillError> {
    parse_any_with(bytes, &budget::current())
}

/// As [`parse_any`], within the given budgets.
pub fn parse_any_with(bytes: &[u8], b: &FileBudgets) -> Result<Vec<Bill>, BillError> {
    parse_nested(bytes, 0, b, &mut Unpacked::new(b))
}

/// As [`parse_any`], from a stream: a plain bill is read line by line and never held whole; a
/// zip or gzip (told by its first bytes) is read into memory first.
pub fn parse_any_reader<R: BufRead>(mut r: R) -> Result<Vec<Bill>, BillError> {
    let io = |e: std::io::Error| err(1, None, format!("the file cannot be read: {e}"));
    let head = r.fill_buf().map_err(io)?;
    // fill_buf may return fewer bytes than a signature needs: short reads are rare but legal.
    let mut peek = head.to_vec();
    if peek.len() < 4 && !peek.is_empty() {
        let mut all = Vec::new();
        r.read_to_end(&mut all).map_err(io)?;
        return parse_any(&all);
    }
    peek.truncate(4);
    if is_gzip(&peek) || is_zip(&peek) {
        let b = budget::current();
        let mut all = Vec::new();
        r.take(b.max_unpacked_bytes + 1)
            .read_to_end(&mut all)
            .map_err(io)?;
        if all.len() as u64 > b.max_unpacked_bytes {
            let over = OverBudget::new(Limit::UnpackedBytes, b.max_unpacked_bytes);
            return Err(err(1, None, over.to_string()));
        }
        return parse_any_with(&all, &b);
    }
    Ok(vec![parse_reader(r)?])
}

fn archive_err(e: ArchiveError) -> BillError {
    err(1, None, e.to_string())
}

fn parse_nested(
    bytes: &[u8],
    depth: u8,
    b: &FileBudgets,
    budget: &mut Unpacked,
) -> Result<Vec<Bill>, BillError> {
    if (is_gzip(bytes) || is_zip(bytes)) && depth >= 3 {
        return Err(err(1, None, "archives are nested too deeply"));
    }
    if is_gzip(bytes) {
        let plain = budget::gunzip(bytes, b, budget).map_err(archive_err)?;
        return parse_nested(&plain, depth + 1, b, budget);
    }
    if !is_zip(bytes) {
        return Ok(vec![parse_reader_within(bytes, b.max_line_bytes)?]);
    }
    let members = budget::zip_members(bytes, b, budget).map_err(archive_err)?;
    let mut bills = Vec::new();
    for m in members {
        if is_alipay_totals(&m.bytes) {
            continue;
        }
        let inner = parse_nested(&m.bytes, depth + 1, b, budget).map_err(|e| BillError {
            message: format!("in member {} ({}): {}", m.index + 1, m.name, e.message),
            ..e
        })?;
        bills.extend(inner);
    }
    if bills.is_empty() {
        return Err(err(1, None, "the zip holds no WeChat Pay or Alipay bill"));
    }
    Ok(bills)
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1F, 0x8B])
}

/// `#支付宝业务汇总查询` / `#支付宝账务汇总查询`: per-store totals, not needed for matching.
fn is_alipay_totals(bytes: &[u8]) -> bool {
    // The first line is enough; decoding the whole member is not needed.
    let head = &bytes[..bytes.len().min(256)];
    let text = decode_text(head);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    first.starts_with("#支付宝业务汇总查询") || first.starts_with("#支付宝账务汇总查询")
}

struct Cols(HashMap<String, usize>);

impl Cols {
    fn new(headers: &[String]) -> Self {
        Cols(
            headers
                .iter()
                .enumerate()
                .map(|(i, h)| (norm(h), i))
                .collect(),
        )
    }
    /// The first of `names` present.
    fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.0.get(&norm(n)).copied())
    }
    fn need(&self, names: &[&str], line: usize) -> Result<usize, BillError> {
        self.find(names)
            .ok_or_else(|| err(line, Some(names[0]), "the required column is missing"))
    }
}

const WECHAT_MONEY: &[&str] = &[
    "应结订单金额",
    "代金券金额",
    "退款金额",
    "充值券退款金额",
    "手续费",
    "订单金额",
    "申请退款金额",
    "总金额",
];

/// Splits a WeChat values line: drop the first backtick, split on `` ,` `` (`ranges` gets the
/// byte ranges of the values).
fn wechat_split(l: &str, ranges: &mut Vec<(usize, usize)>) {
    ranges.clear();
    let t = l.trim_end_matches(['\r', '\n']);
    let (b, base) = match t.strip_prefix('`') {
        Some(r) => (r.as_bytes(), 1),
        None => (l.as_bytes(), 0),
    };
    let (mut start, mut i) = (0, 0);
    while let Some(p) = b[i..].iter().position(|&c| c == b',') {
        let at = i + p;
        if b.get(at + 1) == Some(&b'`') {
            ranges.push((base + start, base + at));
            start = at + 2;
            i = at + 2;
        } else {
            i = at + 1;
        }
    }
    ranges.push((base + start, base + b.len()));
}

fn wechat_values(l: &str) -> Vec<String> {
    let mut r = Vec::new();
    wechat_split(l, &mut r);
    r.iter().map(|&(a, b)| l[a..b].to_owned()).collect()
}

/// The summary's header: its first name is 总交易单数.
fn is_wechat_summary(l: &str) -> bool {
    l.trim_matches([' ', '\t'])
        .trim_start_matches('`')
        .starts_with("总交易单数")
}

fn parse_wechat<R: BufRead>(
    hline: usize,
    header: &str,
    rd: &mut LineReader<R>,
) -> Result<Bill, BillError> {
    let headers: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(norm)
        .collect();
    let c = Cols::new(&headers);
    let at = c.need(&["交易时间"], hline)?;
    let txid = c.need(&["微信订单号"], hline)?;
    let order = c.need(&["商户订单号"], hline)?;
    let cols = WechatCols {
        state: c.need(&["交易状态"], hline)?,
        amount: c.need(&["订单金额", "总金额"], hline)?,
        refund_amount: c.need(&["申请退款金额", "退款金额"], hline)?,
    };
    let refund_no = c.find(&["商户退款单号"]);
    let fee = c.need(&["手续费"], hline)?;
    // Every money column is read strictly and summed for the summary's check: (column, slot in
    // WECHAT_MONEY).
    let money: Vec<(usize, usize)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| WECHAT_MONEY.iter().position(|m| m == h).map(|s| (i, s)))
        .collect();
    let mut present = [false; WECHAT_MONEY.len()];
    for &(_, s) in &money {
        present[s] = true;
    }
    let mut sums = [0i64; WECHAT_MONEY.len()];
    let mut parsed = vec![None::<i64>; headers.len()];
    let mut out = Lines::default();
    let mut ranges = Vec::with_capacity(headers.len());
    let (mut first_at, mut last_at) = (i64::MAX, i64::MIN);
    // The first bad line; reported only if the file has its summary (a truncated file is told
    // as such, whatever its last line looks like).
    let mut bad: Option<BillError> = None;
    let mut last_line = hline;
    let summary = loop {
        let Some((n, l)) = rd.next()? else {
            return Err(err(
                last_line,
                None,
                "the summary is missing: the file is truncated",
            ));
        };
        if l.trim().is_empty() {
            continue;
        }
        last_line = n;
        if is_wechat_summary(l) {
            break (n, l.to_owned());
        }
        if bad.is_some() {
            continue;
        }
        wechat_split(l, &mut ranges);
        let line = wechat_line(
            n,
            l,
            &ranges,
            &headers,
            &cols,
            &money,
            &mut parsed,
            &mut sums,
        )
        .and_then(|(kind, e5_col)| {
            let v = |i: usize| &l[ranges[i].0..ranges[i].1];
            let e5 = parsed[e5_col].expect("a money column");
            let at_ms = beijing_time(v(at), n, "交易时间")?;
            let tx = v(txid).trim();
            let ord = v(order).trim();
            let amount = fen(e5.abs(), n, &headers[e5_col])?;
            let refund_no = refund_no
                .map(|i| v(i).trim())
                .filter(|r| kind == LineKind::Refund && !r.is_empty() && *r != "0");
            let fee_e5 = match parsed[fee] {
                Some(x) => x,
                None => parse_e5(v(fee)).map_err(|m| err(n, Some("手续费"), m))?,
            };
            let bl = BillLine {
                line: u32::try_from(n).map_err(|_| err(n, None, "the file is too long"))?,
                kind,
                at: at_ms,
                transaction_id: tx,
                out_trade_no: ord,
                amount,
                refund_no,
                fee_e5,
            };
            out.push(&bl).map_err(|m| err(n, None, m))?;
            Ok(at_ms)
        });
        match line {
            Ok(t) => {
                first_at = first_at.min(t);
                last_at = last_at.max(t);
            }
            Err(e) => bad = Some(e),
        }
    };
    if let Some(e) = bad {
        return Err(e);
    }
    // The summary: a count of all lines, and for every other column the sum of the same-named detail column.
    let (sn, sh) = summary;
    let (vn, vl) = loop {
        match rd.next()? {
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((n, l)) => break (n, l.to_owned()),
            None => {
                return Err(err(
                    sn,
                    None,
                    "the summary values are missing: the file is truncated",
                ));
            }
        }
    };
    let names: Vec<String> = sh.split(',').map(norm).collect();
    let values = wechat_values(&vl);
    if values.len() != names.len() {
        return Err(err(
            vn,
            None,
            "the summary values do not match the summary header",
        ));
    }
    let detail_of = |s: &str| -> Option<&'static str> {
        Some(match s {
            "应结订单总金额" => "应结订单金额",
            "退款总金额" | "总退款金额" => "退款金额",
            "充值券退款总金额" => "充值券退款金额",
            "手续费总金额" => "手续费",
            "订单总金额" | "总交易额" => "订单金额",
            "申请退款总金额" => "申请退款金额",
            _ => return None,
        })
    };
    let sum_of = |name: &str| {
        let s = WECHAT_MONEY.iter().position(|m| *m == name)?;
        (present[s] && !out.is_empty()).then_some(sums[s])
    };
    for (name, value) in names.iter().zip(&values) {
        let printed = parse_e5(value).map_err(|m| err(vn, Some(name), m))?;
        let computed = if name == "总交易单数" {
            out.len() as i64 * 100_000
        } else if let Some(d) = detail_of(name) {
            sum_of(d)
                .or_else(|| {
                    if d == "订单金额" {
                        sum_of("总金额")
                    } else {
                        None
                    }
                })
                .unwrap_or(0)
        } else {
            continue;
        };
        if printed != computed {
            return Err(err(
                vn,
                Some(name),
                "the total does not match the lines: the file is truncated or edited",
            ));
        }
    }
    let day = |ms: i64| {
        DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .with_timezone(&beijing())
            .date_naive()
    };
    let period = if out.is_empty() {
        (NaiveDate::default(), NaiveDate::default())
    } else {
        (day(first_at), day(last_at))
    };
    out.shrink_to_fit();
    Ok(Bill {
        channel: PaymentChannel::Wechat,
        period,
        lines: out,
    })
}

/// Where a WeChat line's kind and amounts are.
struct WechatCols {
    state: usize,
    amount: usize,
    refund_amount: usize,
}

/// Checks one WeChat detail line's values: their count, every money column (summed), the state.
/// The line's kind and the column holding its amount.
#[allow(clippy::too_many_arguments)]
fn wechat_line(
    n: usize,
    l: &str,
    ranges: &[(usize, usize)],
    headers: &[String],
    c: &WechatCols,
    money: &[(usize, usize)],
    parsed: &mut [Option<i64>],
    sums: &mut [i64],
) -> Result<(LineKind, usize), BillError> {
    if ranges.len() != headers.len() {
        return Err(err(
            n,
            None,
            format!("has {} values, the header {}", ranges.len(), headers.len()),
        ));
    }
    let v = |i: usize| &l[ranges[i].0..ranges[i].1];
    for &(i, s) in money {
        let x = parse_e5(v(i)).map_err(|m| err(n, Some(&headers[i]), m))?;
        sums[s] += x;
        parsed[i] = Some(x);
    }
    let kind = match v(c.state).trim() {
        "SUCCESS" => LineKind::Payment,
        "REFUND" | "REVOKED" => LineKind::Refund,
        other => {
            return Err(err(
                n,
                Some("交易状态"),
                format!("'{other}' is not SUCCESS, REFUND or REVOKED"),
            ));
        }
    };
    Ok((
        kind,
        if kind == LineKind::Payment {
            c.amount
        } else {
            c.refund_amount
        },
    ))
}

fn alipay_date(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y年%m月%d日 %H:%M:%S").ok()
}

/// Where an Alipay line's values are.
struct AlipayCols {
    width: usize,
    tx: usize,
    order: usize,
    kind: usize,
    done: usize,
    amount: usize,
    received: usize,
    refund_no: usize,
    fee: usize,
}

impl AlipayCols {
    fn new(hn: usize, header: &str) -> Result<Self, BillError> {
        let headers: Vec<String> = split_csv(header).iter().map(|h| norm(h)).collect();
        let c = Cols::new(&headers);
        Ok(AlipayCols {
            width: headers.len(),
            tx: c.need(&["支付宝交易号"], hn)?,
            order: c.need(&["商户订单号"], hn)?,
            kind: c.need(&["业务类型"], hn)?,
            done: c.need(&["完成时间"], hn)?,
            amount: c.need(&["订单金额(元)"], hn)?,
            received: c.need(&["商家实收(元)"], hn)?,
            refund_no: c.need(&["退款批次号/请求号"], hn)?,
            fee: c.need(&["服务费(元)"], hn)?,
        })
    }
}

/// Payments and refunds counted and summed (商家实收) for the totals lines.
#[derive(Default)]
struct AlipayTotals {
    pay_n: i64,
    pay_sum: i64,
    ref_n: i64,
    ref_sum: i64,
}

fn alipay_line(
    n: usize,
    l: &str,
    c: &AlipayCols,
    totals: &mut AlipayTotals,
    out: &mut Lines,
) -> Result<i64, BillError> {
    let v: Vec<String> = split_csv(l)
        .iter()
        .map(|x| x.trim_matches([' ', '\t']).to_owned())
        .collect();
    if v.len() < c.width {
        return Err(err(
            n,
            None,
            format!("has {} values, the header {}", v.len(), c.width),
        ));
    }
    let kind = match v[c.kind].as_str() {
        "交易" => LineKind::Payment,
        "退款" => LineKind::Refund,
        other => {
            return Err(err(
                n,
                Some("业务类型"),
                format!("'{other}' is neither 交易 nor 退款"),
            ));
        }
    };
    let got = parse_e5(&v[c.received]).map_err(|m| err(n, Some("商家实收（元）"), m))?;
    match kind {
        LineKind::Payment => {
            (totals.pay_n, totals.pay_sum) = (totals.pay_n + 1, totals.pay_sum + got)
        }
        LineKind::Refund => {
            (totals.ref_n, totals.ref_sum) = (totals.ref_n + 1, totals.ref_sum + got)
        }
    }
    let e5 = parse_e5(&v[c.amount]).map_err(|m| err(n, Some("订单金额（元）"), m))?;
    let bl = BillLine {
        line: u32::try_from(n).map_err(|_| err(n, None, "the file is too long"))?,
        kind,
        at: beijing_time(&v[c.done], n, "完成时间")?,
        transaction_id: &v[c.tx],
        out_trade_no: &v[c.order],
        amount: fen(e5.abs(), n, "订单金额（元）")?,
        refund_no: Some(v[c.refund_no].as_str())
            .filter(|r| kind == LineKind::Refund && !r.is_empty()),
        fee_e5: parse_e5(&v[c.fee]).map_err(|m| err(n, Some("服务费（元）"), m))?,
    };
    out.push(&bl).map_err(|m| err(n, None, m))?;
    Ok(bl.at)
}

/// Where the Alipay reader is in the file.
enum AlipayAt {
    /// Before the list's start marker.
    Before,
    /// The line after the start marker is the header.
    Header,
    Data,
    /// After the end marker.
    After,
}

fn parse_alipay<R: BufRead>(
    first_no: usize,
    first: String,
    rd: &mut LineReader<R>,
) -> Result<Bill, BillError> {
    // Every `#` line (a spreadsheet's re-save leaves commas after them): the period, the
    // markers and the totals are found among them by their words.
    let mut hashes: Vec<(usize, String)> = Vec::new();
    let mut at = AlipayAt::Before;
    let mut begin: Option<usize> = None;
    let mut header: Option<(usize, Result<AlipayCols, BillError>)> = None;
    let mut finish: Option<usize> = None;
    let mut bad: Option<BillError> = None;
    let mut totals = AlipayTotals::default();
    let mut out = Lines::default();
    let mut last = first_no;
    let mut pending = Some((first_no, first));
    loop {
        let owned;
        let (n, raw): (usize, &str) = match pending.take() {
            Some((n, l)) => {
                owned = l;
                (n, &owned)
            }
            None => match rd.next()? {
                Some(x) => x,
                None => break,
            },
        };
        last = n;
        let l = if raw.starts_with('#') {
            raw.trim_end_matches(',')
        } else {
            raw
        };
        if l.starts_with('#') {
            hashes.push((n, l.to_owned()));
        }
        match at {
            AlipayAt::Before => {
                if l.starts_with('#') && l.contains("业务明细列表") && !l.contains("结束") {
                    begin = Some(n);
                    at = AlipayAt::Header;
                }
            }
            AlipayAt::Header => {
                header = Some((n, AlipayCols::new(n, l)));
                at = AlipayAt::Data;
            }
            AlipayAt::Data => {
                if l.starts_with('#') && l.contains("业务明细列表结束") {
                    finish = Some(n);
                    at = AlipayAt::After;
                } else if let Some((_, Ok(c))) = &header
                    && bad.is_none()
                    && !l.trim().is_empty()
                    && let Err(e) = alipay_line(n, l, c, &mut totals, &mut out)
                {
                    bad = Some(e);
                }
            }
            AlipayAt::After => {}
        }
    }
    let hash = |words: &str| hashes.iter().find(|(_, l)| l.contains(words));
    // 起始日期 inclusive, 终止日期 exclusive.
    let (pline, p) =
        hash("起始日期").ok_or_else(|| err(3, None, "the period line (#起始日期…) is missing"))?;
    let grab = |key: &str| {
        p.split(key)
            .nth(1)
            .and_then(|r| r.split(['[', ']']).nth(1))
            .and_then(alipay_date)
    };
    let (start, end) = match (grab("起始日期："), grab("终止日期：")) {
        (Some(s), Some(e)) => (s, e),
        _ => return Err(err(*pline, None, "the period cannot be read")),
    };
    let begin = begin.ok_or_else(|| err(1, None, "the list's start marker is missing"))?;
    if finish.is_none() && hash("业务明细列表结束").is_none() {
        return Err(err(
            last,
            None,
            "the end marker is missing: the file is truncated",
        ));
    }
    let (_, cols) = header.ok_or_else(|| err(begin, None, "the header is missing"))?;
    cols?;
    if let Some(e) = bad {
        return Err(e);
    }
    // #交易合计：<n>笔，商家实收共<yuan>元… and #退款合计：…
    let total = |key: &str| -> Result<(usize, i64, i64), BillError> {
        let (i, l) = hash(key).ok_or_else(|| {
            err(
                last,
                None,
                format!("the {key} line is missing: the file is truncated"),
            )
        })?;
        let count = l
            .split('：')
            .nth(1)
            .and_then(|r| r.split('笔').next())
            .and_then(|c| c.trim().parse().ok());
        let yuan = l
            .split('共')
            .nth(1)
            .and_then(|r| r.split('元').next())
            .and_then(|y| parse_e5(y).ok());
        match (count, yuan) {
            (Some(c), Some(y)) => Ok((*i, c, y)),
            _ => Err(err(*i, None, format!("the {key} line cannot be read"))),
        }
    };
    for (key, n, sum) in [
        ("交易合计", totals.pay_n, totals.pay_sum),
        ("退款合计", totals.ref_n, totals.ref_sum),
    ] {
        let (line, count, yuan) = total(key)?;
        if count != n || yuan != sum {
            return Err(err(
                line,
                Some(key),
                "the total does not match the lines: the file is truncated or edited",
            ));
        }
    }
    let last_second = end - chrono::Duration::seconds(1);
    out.shrink_to_fit();
    Ok(Bill {
        channel: PaymentChannel::Alipay,
        period: (start.date(), last_second.date()),
        lines: out,
    })
}

/// One CSV record: commas separate, RFC 4180 quotes accepted.
fn split_csv(l: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = l.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const WECHAT: &[u8] = include_bytes!("../../tests/api/fixtures/wechat-tradebill-sample.csv");
    const ALIPAY: &[u8] =
        include_bytes!("../../tests/api/fixtures/alipay-business-detail-sample.csv");

    #[test]
    fn the_wechat_sample() {
        let b = parse(WECHAT).unwrap();
        assert_eq!(b.channel, PaymentChannel::Wechat);
        assert_eq!(b.lines.len(), 13);
        let refunds: Vec<_> = b
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::Refund)
            .collect();
        assert_eq!(refunds.len(), 1);
        assert_eq!(refunds[0].amount, Fen::new(20000));
        assert!(refunds[0].refund_no.is_some());
        assert!(b.lines.iter().all(|l| l.out_trade_no.starts_with("SZCA")));
        assert_eq!(
            b.lines
                .iter()
                .filter(|l| l.kind == LineKind::Payment)
                .map(|l| l.amount.get())
                .sum::<i64>(),
            230_000
        );
    }

    #[test]
    fn the_alipay_sample_in_gbk() {
        let b = parse(ALIPAY).unwrap();
        assert_eq!(b.channel, PaymentChannel::Alipay);
        assert_eq!(
            b.period,
            (
                NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
            )
        );
        assert_eq!(
            b.lines
                .iter()
                .filter(|l| l.kind == LineKind::Payment)
                .count(),
            12
        );
        assert_eq!(
            b.lines
                .iter()
                .filter(|l| l.kind == LineKind::Refund)
                .count(),
            1
        );
        assert!(b.lines.iter().all(|l| !l.transaction_id.ends_with('\t')));
    }

    #[test]
    fn truncated_and_edited_files_are_refused() {
        let text = String::from_utf8(WECHAT.to_vec()).unwrap();
        let cut: String = text.lines().take(10).collect::<Vec<_>>().join("\n");
        assert!(
            parse(cut.as_bytes())
                .unwrap_err()
                .message
                .contains("truncated")
        );
        let edited = text.replacen("`2300.00", "`2500.00", 1);
        let e = parse(edited.as_bytes()).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("应结订单总金额"), "{e}");
        let broken = text.replacen("`200.00,`0.00,`", "`2.0E+2,`0.00,`", 1);
        let e = parse(broken.as_bytes()).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("spreadsheet"), "{e}");
        assert!(parse(b"hello").is_err());
    }

    /// Builds a zip in memory; a name given as bytes is stored as is (no UTF-8 flag).
    fn zip_of(members: &[(&[u8], &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let opts = zip::write::SimpleFileOptions::default();
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let mut patches = Vec::new();
        for (i, (name, data)) in members.iter().enumerate() {
            match std::str::from_utf8(name) {
                Ok(n) if n.is_ascii() => w.start_file(n, opts).unwrap(),
                _ => {
                    // An ASCII stand-in of the same length, replaced by the raw bytes afterwards.
                    let stand_in: String =
                        std::iter::repeat_n((b'Q' + i as u8) as char, name.len()).collect();
                    w.start_file(stand_in.clone(), opts).unwrap();
                    patches.push((stand_in.into_bytes(), name.to_vec()));
                }
            }
            w.write_all(data).unwrap();
        }
        let mut out = w.finish().unwrap().into_inner();
        for (from, to) in patches {
            let mut at = 0;
            while let Some(p) = out[at..].windows(from.len()).position(|x| x == from) {
                out[at + p..at + p + from.len()].copy_from_slice(&to);
                at += p + from.len();
            }
        }
        out
    }

    #[test]
    fn a_zip_of_several_days() {
        let day2 = String::from_utf8(WECHAT.to_vec())
            .unwrap()
            .replace("2026-11-03", "2026-11-04");
        let z = zip_of(&[
            (b"1612345678All2026-11-03.csv", WECHAT),
            (b"1612345678All2026-11-04.csv", day2.as_bytes()),
            (b"alipay.csv", ALIPAY),
        ]);
        let bills = parse_any(&z).unwrap();
        assert_eq!(bills.len(), 3);
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(bills[0].period, (day(3), day(3)));
        assert_eq!(bills[1].period, (day(4), day(4)));
        assert_eq!(bills[2].channel, PaymentChannel::Alipay);
    }

    #[test]
    fn a_gzip_and_a_plain_file() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(WECHAT).unwrap();
        let gz = gz.finish().unwrap();
        let bills = parse_any(&gz).unwrap();
        assert_eq!(bills.len(), 1);
        assert_eq!(bills[0].lines.len(), 13);
        assert_eq!(parse_any(ALIPAY).unwrap().len(), 1);
        // A gzip inside a zip is opened too.
        assert_eq!(parse_any(&zip_of(&[(b"a.csv.gz", &gz)])).unwrap().len(), 1);
        assert!(parse_any(&gz[..gz.len() / 2]).is_err());
    }

    #[test]
    fn the_alipay_api_zip_with_gbk_names_and_its_totals_member() {
        let account = "20881234567890120156_20261101";
        let (detail, totals_title) = (
            format!("{account}_业务明细.csv"),
            format!("{account}_业务明细(汇总).csv"),
        );
        let (detail_name, _, _) = encoding_rs::GBK.encode(&detail);
        let (totals_name, _, _) = encoding_rs::GBK.encode(&totals_title);
        let (totals, _, _) = encoding_rs::GBK.encode(
            "#支付宝业务汇总查询\r\n#账号：[20881234567890120156]\r\n门店编号,门店名称,交易订单总笔数\r\n",
        );
        let z = zip_of(&[(&detail_name, ALIPAY), (&totals_name, &totals)]);
        let bills = parse_any(&z).unwrap();
        assert_eq!(bills.len(), 1);
        assert_eq!(bills[0].channel, PaymentChannel::Alipay);
        // The names come back readable.
        let b = FileBudgets::default();
        let members = budget::zip_members(&z, &b, &mut Unpacked::new(&b)).unwrap();
        assert_eq!(members[0].name, format!("{account}_业务明细.csv"));
        // Only totals: no bill in the zip.
        let only_totals = zip_of(&[(&totals_name, &totals)]);
        assert!(parse_any(&only_totals).unwrap_err().message.contains("no"));
    }

    #[test]
    fn an_error_inside_a_member_names_it() {
        let text = String::from_utf8(WECHAT.to_vec()).unwrap();
        let edited = text.replacen("`2300.00", "`2500.00", 1);
        let (name, _, _) = encoding_rs::GBK.encode("微信账单.csv");
        let z = zip_of(&[(b"ok.csv", WECHAT), (&name, edited.as_bytes())]);
        let e = parse_any(&z).unwrap_err();
        assert!(e.message.contains("member 2 (微信账单.csv)"), "{e}");
        assert_eq!(e.column.as_deref(), Some("应结订单总金额"), "{e}");
        let z = zip_of(&[(b"readme.txt", b"hello")]);
        assert!(parse_any(&z).unwrap_err().message.contains("readme.txt"));
    }

    #[test]
    fn a_zip_bomb_is_refused() {
        let b = FileBudgets::default();
        let z = zip_of(&[(b"big.csv", &[b'a'; 5000])]);
        let e = budget::zip_members(&z, &b, &mut Unpacked(1000)).unwrap_err();
        assert!(
            matches!(e, ArchiveError::Over(ref o) if o.limit == Limit::UnpackedBytes),
            "{e}"
        );
        let mut left = Unpacked(10_000);
        assert_eq!(budget::zip_members(&z, &b, &mut left).unwrap().len(), 1);
        assert_eq!(left.0, 5000);
        // One member over its own budget, whatever is left in all.
        let small = FileBudgets {
            max_member_bytes: 4999,
            ..b
        };
        let e = parse_any_with(&z, &small).unwrap_err();
        assert!(
            e.message.contains("BACKOFFICE_FILE_MAX_MEMBER_BYTES"),
            "{e}"
        );
        // More members than allowed.
        let two = zip_of(&[(b"a.csv", WECHAT), (b"b.csv", WECHAT)]);
        let one = FileBudgets {
            max_zip_members: 1,
            ..b
        };
        let e = parse_any_with(&two, &one).unwrap_err();
        assert!(e.message.contains("BACKOFFICE_FILE_MAX_ZIP_MEMBERS"), "{e}");
        assert_eq!(parse_any_with(&two, &b).unwrap().len(), 2);
    }

    #[test]
    fn a_stream_reads_as_the_bytes_do() {
        use std::io::Cursor;
        let bills = parse_any_reader(Cursor::new(WECHAT)).unwrap();
        assert_eq!(bills, vec![parse(WECHAT).unwrap()]);
        // LF instead of CRLF, blank lines, no final newline: the same lines, other numbers.
        let text = String::from_utf8(WECHAT.to_vec())
            .unwrap()
            .replace("\r\n", "\n")
            .replace('\u{feff}', "");
        let spaced = format!("\n{}", text.trim_end().replacen('\n', "\n\n", 2));
        let b = parse(spaced.as_bytes()).unwrap();
        assert_eq!(b.lines.len(), 13);
        assert_eq!(b.lines.get(0).line, 4);
        assert_eq!(b.lines.get(1).line, 6);
        let first = parse(WECHAT).unwrap();
        fn strip(l: BillLine<'_>) -> BillLine<'_> {
            BillLine { line: 0, ..l }
        }
        assert!(b.lines.iter().map(strip).eq(first.lines.iter().map(strip)));
        // A gzip is unpacked in memory.
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(WECHAT).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(parse_any_reader(Cursor::new(gz)).unwrap(), bills);
    }

    #[test]
    fn a_cut_line_is_told_as_truncation_and_a_broken_byte_by_its_line() {
        let cut = &WECHAT[..WECHAT.len() * 3 / 5];
        let e = parse(cut).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        let mut broken = WECHAT.to_vec();
        let at = broken.windows(4).position(|w| w == b"SZCA").unwrap();
        broken[at] = 0xFF;
        let e = parse(&broken).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("UTF-8"), "{e}");
    }
}
