//! The demo's finance desk: a bill per channel and day imported as finance would, and an invoice
//! batch of which half comes back issued.

use super::{Plan, bills};
use crate::{domain::calendar::beijing, domain::status::Status, storage::ms, web::state::AppState};
use chrono::{Duration, TimeZone, Utc};
use rand::{Rng, rngs::StdRng};

/// One bill per channel and Beijing day before today, imported as finance would.
pub(super) async fn demo_bills<'p>(
    storage: &crate::storage::Storage,
    plans: impl Iterator<Item = &'p Plan>,
    now: chrono::DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<(String, String)>> {
    use crate::domain::intake::PaymentChannel;
    use bills::Line;
    use std::collections::BTreeMap;
    let today = now.with_timezone(&beijing()).date_naive();
    let mut days: BTreeMap<(chrono::NaiveDate, PaymentChannel), Vec<Line>> = BTreeMap::new();
    let mut k = 0u64;
    for p in plans {
        let paid = p.app.payment.paid_at;
        let day = paid.with_timezone(&beijing()).date_naive();
        if day >= today {
            continue;
        }
        k += 1;
        let lines = days.entry((day, p.app.payment.channel)).or_default();
        let tx = format!("42000{:023}", k);
        // The quarter's history was cleared long ago: its bills are clean.
        let recent = day >= today - Duration::days(14);
        match if recent { k % 40 } else { 0 } {
            // not in the bill: the application's payment is missing
            7 => continue,
            // paid 0.01 yuan short
            13 => lines.push(Line::pay(
                &p.app.payment.out_trade_no,
                &tx,
                p.app.payment.amount.get() - 1,
                paid,
            )),
            // paid twice, the second time a minute later
            21 => {
                lines.push(Line::pay(
                    &p.app.payment.out_trade_no,
                    &tx,
                    p.app.payment.amount.get(),
                    paid,
                ));
                lines.push(Line::pay(
                    &p.app.payment.out_trade_no,
                    &format!("42001{:023}", k),
                    p.app.payment.amount.get(),
                    paid + Duration::minutes(1),
                ));
            }
            _ => lines.push(Line::pay(
                &p.app.payment.out_trade_no,
                &tx,
                p.app.payment.amount.get(),
                paid,
            )),
        }
        // Now and then the hall failed after the payment: money without an application.
        if recent && k.is_multiple_of(55) {
            lines.push(Line::pay(
                &format!("SZCA{:016X}", rng.random::<u64>()),
                &format!("42002{:023}", k),
                20000,
                paid + Duration::minutes(5),
            ));
        }
    }
    let mut out = Vec::new();
    for ((day, channel), lines) in days {
        let (bytes, name) = match channel {
            PaymentChannel::Wechat => (
                bills::wechat(&lines),
                format!("微信支付账单_{}.csv", day.format("%Y%m%d")),
            ),
            PaymentChannel::Alipay => (
                bills::alipay(
                    &day.to_string(),
                    &(day + Duration::days(1)).to_string(),
                    &lines,
                ),
                format!("20881234567890120156_{}_业务明细.csv", day.format("%Y%m%d")),
            ),
        };
        let at = ms(beijing()
            .from_local_datetime(
                &(day + Duration::days(1))
                    .and_hms_opt(10, 30, 0)
                    .expect("time"),
            )
            .single()
            .expect("fixed")
            .with_timezone(&Utc))
        .min(ms(now));
        let s = crate::desks::finance::import_bills(
            storage,
            &bytes,
            &name,
            Some(channel),
            "staff:finance",
            at,
        )
        .await?;
        for s in s {
            out.push((name.clone(), serde_json::to_string(&s)?));
        }
    }
    Ok(out)
}

/// Half of the invoice requests go into a batch; half of that batch comes back issued — or, for
/// the history (`all`), every ready request is batched and issued.
pub(super) async fn demo_invoices(
    state: &AppState,
    now: chrono::DateTime<Utc>,
    all: bool,
) -> anyhow::Result<()> {
    let ready = state.storage.invoice_requests("pending", 10_000).await?;
    let ready: Vec<_> = ready
        .into_iter()
        .filter(|r| r.payment_state == "verified" && r.status != Status::Submitted)
        .collect();
    if ready.len() < 2 && !(all && ready.len() == 1) {
        return Ok(());
    }
    let mut cfg = state.settings.invoice.clone();
    cfg.max_per_file = if all { ready.len() } else { ready.len() / 2 }.clamp(1, 998);
    let Some(batch) =
        crate::desks::invoicing::export_batch(&state.storage, &cfg, "staff:finance", ms(now))
            .await?
    else {
        return Ok(());
    };
    let batched = state.storage.invoice_requests("batched", 10_000).await?;
    let mut csv = String::from("数电发票号码,开票日期,购买方名称,价税合计,备注,下载链接\r\n");
    let issued_on = now.with_timezone(&beijing()).format("%Y-%m-%d %H:%M:%S");
    let issue = if all {
        batched.len()
    } else {
        batched.len() / 2
    };
    for (n, r) in batched.iter().take(issue).enumerate() {
        let number = format!(
            "2644200000{:010}",
            now.timestamp() % 1_000_000 * 1000 + n as i64
        );
        csv.push_str(&format!(
            "{number},{issued_on},{},{},申请编号：{},https://dppt.example.gov.cn/download/{number}\r\n",
            r.title,
            r.amount_fen,
            r.hall_reference
        ));
    }
    let s = crate::desks::invoicing::import_issued(
        &state.storage,
        &state.scans,
        &cfg,
        &state.settings.public_url,
        csv.as_bytes(),
        "staff:finance",
        ms(now),
    )
    .await?;
    if !all {
        println!(
            "Invoices: batch {} with {} requests; {} issued and e-mailed.",
            batch.batch_no, batch.requests, s.matched
        );
    }
    Ok(())
}
