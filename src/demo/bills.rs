//! Merchant bills written the way WeChat Pay and Alipay write them: the demo's bills and the
//! reconciliation tests' (`../shared/contracts/payment-bills.md`).

use chrono::{DateTime, Utc};

/// One line of a generated bill.
#[derive(Clone, Debug)]
pub struct Line {
    pub order: String,
    pub transaction: String,
    pub fen: i64,
    pub at: DateTime<Utc>,
    /// The refund's number: a refund line.
    pub refund_no: Option<String>,
}

impl Line {
    pub fn pay(order: &str, transaction: &str, fen: i64, at: DateTime<Utc>) -> Line {
        Line {
            order: order.into(),
            transaction: transaction.into(),
            fen,
            at,
            refund_no: None,
        }
    }
    pub fn refund(order: &str, transaction: &str, fen: i64, at: DateTime<Utc>, no: &str) -> Line {
        Line {
            refund_no: Some(no.into()),
            ..Line::pay(order, transaction, fen, at)
        }
    }
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

fn fee5(e5: i64) -> String {
    let sign = if e5 < 0 { "-" } else { "" };
    format!("{sign}{}.{:05}", e5.abs() / 100_000, e5.abs() % 100_000)
}

fn beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

const WECHAT_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

/// A WeChat Pay trade bill of type ALL: BOM, backticks, the summary with correct totals.
pub fn wechat(lines: &[Line]) -> Vec<u8> {
    let mut s = format!("\u{feff}{WECHAT_HEADER}\r\n");
    let (mut settle, mut refund, mut fee, mut order, mut refund_req) = (0, 0, 0, 0, 0);
    for l in lines {
        let amount = yuan(l.fen);
        // The columns a refund line fills differently: trade type and state, the refund's
        // numbers, type and state, and which amounts are paid and which refunded.
        let (kind, state, wx_refund, refund_no, refund_kind, refund_state, f) = match &l.refund_no {
            Some(no) => {
                refund += l.fen;
                refund_req += l.fen;
                let wx = "50302176002026110372364088239";
                (
                    "NATIVE",
                    "REFUND",
                    wx,
                    no.as_str(),
                    "ORIGINAL",
                    "SUCCESS",
                    -l.fen * 6,
                )
            }
            None => {
                settle += l.fen;
                order += l.fen;
                ("JSAPI", "SUCCESS", "0", "0", "", "", l.fen * 6)
            }
        };
        fee += f;
        let (paid, refunded) = match l.refund_no {
            Some(_) => ("0.00", amount.as_str()),
            None => (amount.as_str(), "0.00"),
        };
        let vals = [
            &beijing(l.at),
            "wx5c2e8f4a7b1d3960",
            "1612345678",
            "0",
            "",
            &l.transaction,
            &l.order,
            "ougEegeK4gRo5iF7RGR7U6vvoZ-Y",
            kind,
            state,
            "OTHERS",
            "CNY",
            paid,
            "0.00",
            wx_refund,
            refund_no,
            refunded,
            "0.00",
            refund_kind,
            refund_state,
            "数字证书补办费",
            "",
            &fee5(f),
            "0.60%",
            paid,
            refunded,
            "",
        ];
        s.push('`');
        s.push_str(&vals.join(",`"));
        s.push_str("\r\n");
    }
    s.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    s.push_str(&format!(
        "`{},`{},`{},`0.00,`{},`{},`{}\r\n",
        lines.len(),
        yuan(settle),
        yuan(refund),
        fee5(fee),
        yuan(order),
        yuan(refund_req)
    ));
    s.into_bytes()
}

/// An Alipay business-detail bill for the Beijing days [from, to): GBK, TAB padding, totals.
pub fn alipay(from: &str, to: &str, lines: &[Line]) -> Vec<u8> {
    let mut s = String::from("#支付宝业务明细查询\r\n#账号：[20881234567890120156]\r\n");
    s.push_str(&format!(
        "#起始日期：[{} 00:00:00]   终止日期：[{} 00:00:00]\r\n",
        cn_date(from),
        cn_date(to)
    ));
    s.push_str("#-----------------------------------------业务明细列表----------------------------------------\r\n");
    s.push_str("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n");
    let (mut n_pay, mut pay, mut n_ref, mut refd) = (0, 0, 0, 0);
    for l in lines {
        let t = beijing(l.at);
        let (kind, amount, no, fee) = match &l.refund_no {
            Some(no) => {
                n_ref += 1;
                refd -= l.fen;
                ("退款", -l.fen, no.as_str(), yuan(l.fen * 6 / 1000))
            }
            None => {
                n_pay += 1;
                pay += l.fen;
                ("交易", l.fen, "", yuan(-(l.fen * 6 / 1000)))
            }
        };
        s.push_str(&format!(
            "{}\t,{}\t,{kind}\t,数字证书补办费,{t},{t},\t,\t,\t,\t,*张(138****6338)\t,{a},{a},0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,{no}\t,{fee},0.00,\r\n",
            l.transaction,
            l.order,
            a = yuan(amount)
        ));
    }
    s.push_str("#-----------------------------------------业务明细列表结束------------------------------------\r\n");
    s.push_str(&format!(
        "#交易合计：{n_pay}笔，商家实收共{}元，商家优惠共0.00元\r\n#退款合计：{n_ref}笔，商家实收退款共{}元，商家优惠退款共0.00元\r\n#导出时间：[2026年12月01日 05:46:49]\r\n",
        yuan(pay),
        yuan(refd)
    ));
    encoding_rs::GBK.encode(&s).0.into_owned()
}

fn cn_date(d: &str) -> String {
    let p: Vec<&str> = d.split('-').collect();
    format!("{}年{}月{}日", p[0], p[1], p[2])
}
