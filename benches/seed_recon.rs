//! Fills a database with the applications of `../shared/bench/recon/gen_bills.py`'s
//! `app_payments.csv` (order number and fee), paid through WeChat Pay on the bill's Beijing day,
//! for the end-to-end reconciliation benchmark (`benches/recon.sh`).
//!   cargo bench --bench seed_recon -- DATABASE_URL app_payments.csv [DAY=2026-11-24]
use backoffice::{domain::calendar::beijing, storage::Storage};
use chrono::{NaiveDate, TimeZone};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (url, csv) = match &args[..] {
        [url, csv, ..] => (url, csv),
        _ => panic!("usage: seed_recon DATABASE_URL app_payments.csv [DAY]"),
    };
    let day: NaiveDate = args
        .get(2)
        .map_or("2026-11-24", String::as_str)
        .parse()
        .expect("DAY is YYYY-MM-DD");
    let paid_from = beijing()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .timestamp_millis();
    let text = std::fs::read_to_string(csv).expect("app_payments.csv");
    let payments: Vec<(&str, i64)> = text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (o, f) = l.split_once(',').expect("order_no,expected_fen");
            (o, f.parse().expect("expected_fen"))
        })
        .collect();
    let storage = Storage::connect(url).await.unwrap();
    storage.migrate().await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let t = std::time::Instant::now();
    let mut done = 0u64;
    for chunk in payments.chunks(5000) {
        done += storage
            .seed_synthetic_payments(done as i64 + 1, chunk, "wechat", paid_from, now)
            .await
            .unwrap();
    }
    eprintln!(
        "seeded {done} applications in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}
