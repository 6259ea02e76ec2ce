//! The courier files at size, in process (the wall-clock bounds the unit tests once had):
//! a 10,000-row SF shipping workbook written, and a 100,000-row tracking CSV in GBK read.
//! Prints one JSON line with the seconds of each (best of RUNS, default 3).
//!   cargo bench --bench couriers
use backoffice::exchange::couriers::{
    Courier, CourierConfig, CourierLayout, SenderConfig, SfConfig, ShipmentRow, read_tracking,
    write_batch,
};
use std::time::Instant;

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let cfg = CourierConfig {
        sender: SenderConfig {
            company: "深圳某CA有限公司".into(),
            name: "王五".into(),
            phone: "0755-88886666".into(),
            province: "广东省".into(),
            city: "深圳市".into(),
            district: "福田区".into(),
            detail: "深南大道1号".into(),
            postcode: "518000".into(),
        },
        sf: SfConfig {
            monthly_account: "0755123456".into(),
            ..SfConfig::default()
        },
        ..CourierConfig::default()
    };
    let rows: Vec<ShipmentRow> = (1..=10_000)
        .map(|i| ShipmentRow {
            order_no: format!("WT20261125{i:05}"),
            recipient_name: "张三".into(),
            recipient_mobile: "13800138000".into(),
            province: "广东省".into(),
            city: "深圳市".into(),
            district: "南山区".into(),
            detail: "科技园路1号".into(),
            postcode: Some("518057".into()),
        })
        .collect();
    let layout = CourierLayout::shipped(Courier::Sf);
    let write = best(runs, || {
        write_batch(&layout, &cfg, Courier::Sf, &rows).expect("the batch is written")
    });

    let mut csv = String::from("订单号,运单号,寄件时间,快递公司\n");
    for i in 0..100_000 {
        csv.push_str(&format!(
            "WT2026{i:08},SF{i:013},2026-11-26 09:30:00,顺丰\n"
        ));
    }
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    let read = best(runs, || {
        let r = read_tracking(&gbk).expect("the tracking file reads");
        assert_eq!(r.len(), 100_000);
        r
    });
    println!(
        "{{\"sf_batch_10000_rows_write_s\":{write:.3},\"tracking_100000_rows_gbk_read_s\":{read:.3},\"runs\":{runs}}}"
    );
}
