//! An invoice batch of N requests (100,000) written to the tax platform's batch-import workbook
//! by `exchange::invoices::write_batch`, with the shipped layout (reports/invoice-batch.toml) and
//! the default settings: titles of individuals and companies, tax numbers, remarks with the hall
//! reference, amounts. Prints one JSON line (rows, bytes, seconds to build the rows and to write).
//!   cargo bench --bench invoice_xlsx -- OUT.xlsx [N=100000]
use backoffice::config::InvoiceConfig;
use backoffice::domain::money::Fen;
use backoffice::exchange::invoices::{InvoiceRow, Layout, serial, write_batch};
use chrono::NaiveDate;
use std::time::Instant;

const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗";
const GIVEN: [&str; 8] = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强"];
const COMPANIES: [&str; 3] = [
    "深圳市某某科技有限公司",
    "广州某某贸易有限公司",
    "杭州某某网络技术有限公司",
];

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let out = args.first().expect("usage: invoice_xlsx OUT.xlsx [N]");
    let n: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let t0 = Instant::now();
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let rows: Vec<InvoiceRow> = (0..n)
        .map(|i| {
            let company = i % 4 == 3;
            let k = i as usize;
            InvoiceRow {
                serial: serial("FP", day, i + 1),
                title: if company {
                    COMPANIES[k % COMPANIES.len()].to_owned()
                } else {
                    format!(
                        "{}{}",
                        surnames[k % surnames.len()],
                        GIVEN[k * 7 % GIVEN.len()]
                    )
                },
                tax_id: company
                    .then(|| format!("91440300{:010}", u64::from(i) * 31 % 10_000_000_000)),
                amount_fen: Fen::new(20_000 + i64::from(i % 15) * 100),
                hall_reference: format!("WT{:012}", 202611000000u64 + u64::from(i)),
                buyer_email: format!("user{i}@example.com"),
            }
        })
        .collect();
    let built = t0.elapsed();
    let layout = Layout::default_layout();
    let cfg = InvoiceConfig::default();
    let t1 = Instant::now();
    let bytes = write_batch(&layout, &cfg, &rows).expect("the batch is written");
    let written = t1.elapsed();
    std::fs::write(out, &bytes).expect("the output file");
    println!(
        "{}",
        serde_json::json!({
            "tool": "backoffice write_batch",
            "rows": n,
            "bytes": bytes.len(),
            "s": {
                "build_rows": (built.as_secs_f64() * 1000.0).round() / 1000.0,
                "write_batch": (written.as_secs_f64() * 1000.0).round() / 1000.0,
                "total": (t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            },
        })
    );
}
