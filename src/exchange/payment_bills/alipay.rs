//! The Alipay business detail (业务明细): `#` lines around a CSV list, totals checked against it.

use super::reader::LineReader;
use super::values::{Cols, beijing_time, fen, norm, parse_e5};
use super::{Bill, BillError, BillLine, LineKind, Lines, err};
use crate::domain::intake::PaymentChannel;
use chrono::NaiveDateTime;
use std::io::BufRead;

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

pub(super) fn parse_alipay<R: BufRead>(
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
