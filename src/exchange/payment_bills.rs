//! The merchant bills of WeChat Pay (交易账单) and Alipay (业务明细), read exactly as the
//! platforms export them (`../shared/contracts/payment-bills.md`): recognised by content, UTF-8 or
//! GBK, columns by name, amounts as exact decimals, totals recomputed and checked. A bad line refuses
//! the whole file, naming its line number and column. `parse_any` also opens the zip and gzip
//! wrappers the channels hand out. Not yet read here: the Alipay account detail (§3); the
//! reconciliation that uses these lines is issue 7's.

use super::sheet::decode_text;
use crate::domain::{calendar::beijing, intake::PaymentChannel, money::Fen};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::io::Read;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Payment,
    Refund,
}

/// One transaction line of a bill.
#[derive(Debug, Clone, PartialEq)]
pub struct BillLine {
    /// The file's line number (the first line is 1).
    pub line: usize,
    pub kind: LineKind,
    /// WeChat: payment success or refund acceptance; Alipay: completion.
    pub at: DateTime<Utc>,
    pub transaction_id: String,
    pub out_trade_no: String,
    /// The payment amount, or the refund amount; positive.
    pub amount: Fen,
    /// The refund's own number (WeChat 商户退款单号, Alipay 退款批次号/请求号).
    pub refund_no: Option<String>,
    /// The channel's fee in 1/100,000 yuan (WeChat prints five decimals), as signed in the file.
    pub fee_e5: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bill {
    pub channel: PaymentChannel,
    /// Beijing days [first, last] the bill covers.
    pub period: (NaiveDate, NaiveDate),
    pub lines: Vec<BillLine>,
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
    let v: i64 = format!("{int}{frac:0<5}")
        .parse()
        .map_err(|_| format!("'{t}' is too large"))?;
    Ok(if neg { -v } else { v })
}

fn fen(e5: i64, line: usize, column: &str) -> Result<Fen, BillError> {
    if e5 % 1000 != 0 {
        return Err(err(line, Some(column), "has fractions of a fen"));
    }
    Ok(Fen::new(e5 / 1000))
}

fn beijing_time(s: &str, line: usize, column: &str) -> Result<DateTime<Utc>, BillError> {
    let t = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").map_err(|_| {
        err(
            line,
            Some(column),
            format!("'{}' is not a time (YYYY-MM-DD HH:MM:SS)", s.trim()),
        )
    })?;
    Ok(beijing()
        .from_local_datetime(&t)
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc))
}

/// Reads one bill file (not a zip or gzip).
pub fn parse(bytes: &[u8]) -> Result<Bill, BillError> {
    let text = decode_text(bytes);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.starts_with("交易时间,") || first.starts_with("`交易时间,") {
        parse_wechat(&text)
    } else if first.starts_with("#支付宝业务明细查询") {
        parse_alipay(&text)
    } else {
        Err(err(
            1,
            None,
            "not a WeChat Pay trade bill nor an Alipay business-detail bill",
        ))
    }
}

/// The most a zip or gzip may unpack to, all members together (a guard against zip bombs).
pub const MAX_UNPACKED: u64 = 512 * 1024 * 1024;

/// Reads a bill file, a gzip of one, or a zip of several (the Alipay API's `….csv.zip`, or staff
/// zipping a month of daily WeChat bills). Zip members are recognised by content, never by name;
/// Alipay totals files (汇总) and directories are skipped. A zip without any bill is refused.
pub fn parse_any(bytes: &[u8]) -> Result<Vec<Bill>, BillError> {
    let mut budget = MAX_UNPACKED;
    parse_nested(bytes, 0, &mut budget)
}

fn parse_nested(bytes: &[u8], depth: u8, budget: &mut u64) -> Result<Vec<Bill>, BillError> {
    if (is_gzip(bytes) || is_zip(bytes)) && depth >= 3 {
        return Err(err(1, None, "archives are nested too deeply"));
    }
    if is_gzip(bytes) {
        let plain = gunzip(bytes, budget).map_err(|m| err(1, None, m))?;
        return parse_nested(&plain, depth + 1, budget);
    }
    if !is_zip(bytes) {
        return Ok(vec![parse(bytes)?]);
    }
    let members = zip_members(bytes, budget).map_err(|m| err(1, None, m))?;
    let mut bills = Vec::new();
    for m in members {
        if is_alipay_totals(&m.bytes) {
            continue;
        }
        let inner = parse_nested(&m.bytes, depth + 1, budget).map_err(|e| BillError {
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

/// Decompresses a gzip stream (also several concatenated members), within `budget` bytes.
pub fn gunzip(bytes: &[u8], budget: &mut u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(*budget + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the gzip stream is damaged: {e}"))?;
    take_budget(budget, out.len() as u64)?;
    Ok(out)
}

/// One file inside a zip.
#[derive(Debug, Clone)]
pub struct ZipMember {
    /// Its position in the zip (0-based).
    pub index: usize,
    /// Its name: UTF-8 when valid, otherwise GBK (Chinese tools write GBK without the UTF-8 flag).
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The files of a zip (directories left out), unpacked within `budget` bytes in all. The sizes
/// the zip declares are not trusted: what is actually unpacked is counted.
pub fn zip_members(bytes: &[u8], budget: &mut u64) -> Result<Vec<ZipMember>, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("the zip cannot be opened: {e}"))?;
    let mut out = Vec::new();
    for index in 0..zip.len() {
        let mut f = zip
            .by_index(index)
            .map_err(|e| format!("member {} cannot be read: {e}", index + 1))?;
        let name = decode_text(f.name_raw());
        if f.is_dir() {
            continue;
        }
        if f.size() > *budget {
            return Err(too_large());
        }
        let mut data = Vec::new();
        (&mut f)
            .take(*budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("member {} ({name}) cannot be unpacked: {e}", index + 1))?;
        take_budget(budget, data.len() as u64)?;
        out.push(ZipMember {
            index,
            name,
            bytes: data,
        });
    }
    Ok(out)
}

fn take_budget(budget: &mut u64, used: u64) -> Result<(), String> {
    if used > *budget {
        return Err(too_large());
    }
    *budget -= used;
    Ok(())
}

fn too_large() -> String {
    format!(
        "the archive unpacks to more than {} MiB; refused",
        MAX_UNPACKED / (1024 * 1024)
    )
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

fn wechat_values(l: &str) -> Vec<String> {
    l.trim_end_matches(['\r', '\n'])
        .strip_prefix('`')
        .unwrap_or(l)
        .split(",`")
        .map(str::to_owned)
        .collect()
}

fn parse_wechat(text: &str) -> Result<Bill, BillError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let (hline, header) = lines[0];
    let headers: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(norm)
        .collect();
    let c = Cols::new(&headers);
    let at = c.need(&["交易时间"], hline)?;
    let txid = c.need(&["微信订单号"], hline)?;
    let order = c.need(&["商户订单号"], hline)?;
    let state = c.need(&["交易状态"], hline)?;
    let amount = c.need(&["订单金额", "总金额"], hline)?;
    let refund_amount = c.need(&["申请退款金额", "退款金额"], hline)?;
    let refund_no = c.find(&["商户退款单号"]);
    let fee = c.need(&["手续费"], hline)?;
    let summary_at = lines
        .iter()
        .position(|(_, l)| norm(l).starts_with("总交易单数"))
        .ok_or_else(|| {
            err(
                lines.last().map(|l| l.0).unwrap_or(1),
                None,
                "the summary is missing: the file is truncated",
            )
        })?;
    let mut out = Vec::new();
    let mut sums: HashMap<String, i64> = HashMap::new();
    for &(n, l) in &lines[1..summary_at] {
        let v = wechat_values(l);
        if v.len() != headers.len() {
            return Err(err(
                n,
                None,
                format!("has {} values, the header {}", v.len(), headers.len()),
            ));
        }
        // Every money column is read strictly (and summed for the summary's check).
        for (i, h) in headers.iter().enumerate() {
            if WECHAT_MONEY.contains(&h.as_str()) {
                let x = parse_e5(&v[i]).map_err(|m| err(n, Some(h), m))?;
                *sums.entry(h.clone()).or_default() += x;
            }
        }
        let kind = match v[state].trim() {
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
        let col = if kind == LineKind::Payment {
            amount
        } else {
            refund_amount
        };
        let e5 = parse_e5(&v[col]).map_err(|m| err(n, Some(&headers[col]), m))?;
        out.push(BillLine {
            line: n,
            kind,
            at: beijing_time(&v[at], n, "交易时间")?,
            transaction_id: v[txid].trim().to_owned(),
            out_trade_no: v[order].trim().to_owned(),
            amount: fen(e5.abs(), n, &headers[col])?,
            refund_no: refund_no
                .map(|i| v[i].trim().to_owned())
                .filter(|r| kind == LineKind::Refund && !r.is_empty() && r != "0"),
            fee_e5: parse_e5(&v[fee]).map_err(|m| err(n, Some("手续费"), m))?,
        });
    }
    // The summary: a count of all lines, and for every other column the sum of the same-named detail column.
    let (sn, sh) = lines[summary_at];
    let (vn, vl) = *lines.get(summary_at + 1).ok_or_else(|| {
        err(
            sn,
            None,
            "the summary values are missing: the file is truncated",
        )
    })?;
    let names: Vec<String> = sh.split(',').map(norm).collect();
    let values = wechat_values(vl);
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
    for (name, value) in names.iter().zip(&values) {
        let printed = parse_e5(value).map_err(|m| err(vn, Some(name), m))?;
        let computed = if name == "总交易单数" {
            out.len() as i64 * 100_000
        } else if let Some(d) = detail_of(name) {
            sums.get(d)
                .or_else(|| {
                    if d == "订单金额" {
                        sums.get("总金额")
                    } else {
                        None
                    }
                })
                .copied()
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
    let days: Vec<NaiveDate> = out
        .iter()
        .map(|l| l.at.with_timezone(&beijing()).date_naive())
        .collect();
    let period = (
        days.iter().min().copied().unwrap_or_default(),
        days.iter().max().copied().unwrap_or_default(),
    );
    Ok(Bill {
        channel: PaymentChannel::Wechat,
        period,
        lines: out,
    })
}

fn alipay_date(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y年%m月%d日 %H:%M:%S").ok()
}

fn parse_alipay(text: &str) -> Result<Bill, BillError> {
    let lines: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = l.trim_end_matches('\r');
            // A spreadsheet's re-save leaves commas after `#` lines.
            (
                i + 1,
                if l.starts_with('#') {
                    l.trim_end_matches(',').to_owned()
                } else {
                    l.to_owned()
                },
            )
        })
        .collect();
    let hash = |words: &str| {
        lines
            .iter()
            .position(|(_, l)| l.starts_with('#') && l.contains(words))
    };
    // 起始日期 inclusive, 终止日期 exclusive.
    let pline =
        hash("起始日期").ok_or_else(|| err(3, None, "the period line (#起始日期…) is missing"))?;
    let p = &lines[pline].1;
    let grab = |key: &str| {
        p.split(key)
            .nth(1)
            .and_then(|r| r.split(['[', ']']).nth(1))
            .and_then(alipay_date)
    };
    let (start, end) = match (grab("起始日期："), grab("终止日期：")) {
        (Some(s), Some(e)) => (s, e),
        _ => return Err(err(lines[pline].0, None, "the period cannot be read")),
    };
    let begin = lines
        .iter()
        .position(|(_, l)| l.starts_with('#') && l.contains("业务明细列表") && !l.contains("结束"))
        .ok_or_else(|| err(1, None, "the list's start marker is missing"))?;
    let finish = hash("业务明细列表结束").ok_or_else(|| {
        err(
            lines.len(),
            None,
            "the end marker is missing: the file is truncated",
        )
    })?;
    let (hn, header) = lines
        .get(begin + 1)
        .ok_or_else(|| err(begin + 1, None, "the header is missing"))?;
    let headers: Vec<String> = split_csv(header).iter().map(|h| norm(h)).collect();
    let c = Cols::new(&headers);
    let (tx, order, kind_c, done, amount, received, refund_no, fee) = (
        c.need(&["支付宝交易号"], *hn)?,
        c.need(&["商户订单号"], *hn)?,
        c.need(&["业务类型"], *hn)?,
        c.need(&["完成时间"], *hn)?,
        c.need(&["订单金额(元)"], *hn)?,
        c.need(&["商家实收(元)"], *hn)?,
        c.need(&["退款批次号/请求号"], *hn)?,
        c.need(&["服务费(元)"], *hn)?,
    );
    let mut out = Vec::new();
    let (mut pay_n, mut pay_sum, mut ref_n, mut ref_sum) = (0i64, 0i64, 0i64, 0i64);
    for (n, l) in &lines[begin + 2..finish] {
        if l.trim().is_empty() {
            continue;
        }
        let v: Vec<String> = split_csv(l)
            .iter()
            .map(|x| x.trim_matches([' ', '\t']).to_owned())
            .collect();
        if v.len() < headers.len() {
            return Err(err(
                *n,
                None,
                format!("has {} values, the header {}", v.len(), headers.len()),
            ));
        }
        let kind = match v[kind_c].as_str() {
            "交易" => LineKind::Payment,
            "退款" => LineKind::Refund,
            other => {
                return Err(err(
                    *n,
                    Some("业务类型"),
                    format!("'{other}' is neither 交易 nor 退款"),
                ));
            }
        };
        let got = parse_e5(&v[received]).map_err(|m| err(*n, Some("商家实收（元）"), m))?;
        match kind {
            LineKind::Payment => (pay_n, pay_sum) = (pay_n + 1, pay_sum + got),
            LineKind::Refund => (ref_n, ref_sum) = (ref_n + 1, ref_sum + got),
        }
        let e5 = parse_e5(&v[amount]).map_err(|m| err(*n, Some("订单金额（元）"), m))?;
        out.push(BillLine {
            line: *n,
            kind,
            at: beijing_time(&v[done], *n, "完成时间")?,
            transaction_id: v[tx].clone(),
            out_trade_no: v[order].clone(),
            amount: fen(e5.abs(), *n, "订单金额（元）")?,
            refund_no: Some(v[refund_no].clone())
                .filter(|r| kind == LineKind::Refund && !r.is_empty()),
            fee_e5: parse_e5(&v[fee]).map_err(|m| err(*n, Some("服务费（元）"), m))?,
        });
    }
    // #交易合计：<n>笔，商家实收共<yuan>元… and #退款合计：…
    let total = |key: &str| -> Result<(usize, i64, i64), BillError> {
        let i = hash(key).ok_or_else(|| {
            err(
                lines.len(),
                None,
                format!("the {key} line is missing: the file is truncated"),
            )
        })?;
        let l = &lines[i].1;
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
            (Some(c), Some(y)) => Ok((lines[i].0, c, y)),
            _ => Err(err(
                lines[i].0,
                None,
                format!("the {key} line cannot be read"),
            )),
        }
    };
    for (key, n, sum) in [("交易合计", pay_n, pay_sum), ("退款合计", ref_n, ref_sum)] {
        let (line, count, yuan) = total(key)?;
        if count != n || yuan != sum {
            return Err(err(
                line,
                Some(key),
                "the total does not match the lines: the file is truncated or edited",
            ));
        }
    }
    let last = end - chrono::Duration::seconds(1);
    Ok(Bill {
        channel: PaymentChannel::Alipay,
        period: (start.date(), last.date()),
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
        let members = zip_members(&z, &mut MAX_UNPACKED.clone()).unwrap();
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
        let mut budget = 1000;
        let z = zip_of(&[(b"big.csv", &[b'a'; 5000])]);
        assert!(zip_members(&z, &mut budget).unwrap_err().contains("MiB"));
        let mut budget = 10_000;
        assert_eq!(zip_members(&z, &mut budget).unwrap().len(), 1);
        assert_eq!(budget, 5000);
    }
}
