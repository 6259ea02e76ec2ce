//! The WeChat Pay trade bill (交易账单): backtick-quoted values, a summary checked against the lines.

use super::reader::LineReader;
use super::values::{Cols, beijing_time, fen, norm, parse_e5};
use super::{Bill, BillError, BillLine, LineKind, Lines, err};
use crate::domain::{calendar::beijing, intake::PaymentChannel};
use chrono::{DateTime, NaiveDate};
use std::io::BufRead;

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

pub(super) fn parse_wechat<R: BufRead>(
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
