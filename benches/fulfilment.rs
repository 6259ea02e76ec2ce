//! The fulfilment desk's volume work, one phase per process so that `/usr/bin/time` gives each
//! its own peak RSS (`benches/fulfilment.sh` runs them in order):
//!   fulfilment seed DATABASE_URL N          N produced applications ready to ship
//!   fulfilment batch DATABASE_URL OUT.xlsx  every ready one into one SF batch; prints its id
//!   fulfilment labels DATABASE_URL ID OUT   the batch's label page (HTML) to OUT
//!   fulfilment tracking-file DATABASE_URL OUT.csv   the courier's export for every batched parcel
//!   fulfilment tracking DATABASE_URL FILE   the tracking import
//!   fulfilment xlsx N OUT.xlsx              an SF batch file of N rows, no database
use backoffice::exchange::couriers::{self, Courier, CourierConfig, ShipmentRow};
use backoffice::storage::Storage;
use std::time::Instant;

fn config() -> CourierConfig {
    let mut c = CourierConfig::default();
    c.sender.company = "深圳市数字证书认证中心".into();
    c.sender.name = "制证组".into();
    c.sender.phone = "0755-86000000".into();
    c.sender.province = "广东省".into();
    c.sender.city = "深圳市".into();
    c.sender.district = "南山区".into();
    c.sender.detail = "科技园南区深圳湾科技生态园10栋".into();
    c.sender.postcode = "518057".into();
    c.sf.monthly_account = "7550000001".into();
    c
}

async fn open(url: &str) -> Storage {
    let s = Storage::connect(url).await.unwrap();
    s.migrate().await.unwrap();
    s
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let now = chrono::Utc::now().timestamp_millis();
    let t = Instant::now();
    match a.as_slice() {
        ["seed", url, n] => {
            let s = open(url).await;
            let n: i64 = n.parse().unwrap();
            let start = s.application_count().await.unwrap() + 1;
            let mut done = 0;
            while done < n {
                let k = (n - done).min(50_000);
                done += s
                    .seed_synthetic_produced(start + done, k, now)
                    .await
                    .unwrap() as i64;
            }
            eprintln!("seeded {done} in {:.2} s", t.elapsed().as_secs_f64());
        }
        ["batch", url, out] => {
            let s = open(url).await;
            let b = backoffice::desks::fulfilment::create_batch(
                &s,
                &config(),
                Courier::Sf,
                None,
                "bench",
                now,
            )
            .await
            .unwrap()
            .expect("parcels ready");
            std::fs::write(out, &b.file).unwrap();
            eprintln!(
                "batch {} of {} parcels, {} bytes, in {:.2} s",
                b.batch_no,
                b.shipments,
                b.file.len(),
                t.elapsed().as_secs_f64()
            );
            println!("{}", b.batch_id);
        }
        ["labels", url, id, out] => {
            let s = open(url).await;
            let id: i64 = id.parse().unwrap();
            let b = s.courier_batch(id).await.unwrap().unwrap();
            let shipments = s.batch_shipments(id).await.unwrap();
            let batch = backoffice::desks::fulfilment::label_batch(
                &config(),
                &b,
                &shipments,
                chrono::Utc::now(),
            );
            let html = backoffice::views::labels::labels_page(&batch).into_string();
            std::fs::write(out, &html).unwrap();
            eprintln!(
                "{} labels, {} bytes of HTML, in {:.2} s",
                batch.shipments.len(),
                html.len(),
                t.elapsed().as_secs_f64()
            );
        }
        ["tracking-file", url, out] => {
            let s = open(url).await;
            let mut csv = String::from("订单号,运单号,寄件时间\n");
            let mut n = 0u64;
            for b in s.courier_batches(1000).await.unwrap() {
                for sh in s.batch_shipments(b.batch_id).await.unwrap() {
                    if sh.state == "batched" {
                        n += 1;
                        csv.push_str(&format!(
                            "{},SF{:013},2026-11-25 16:30:00\n",
                            sh.order_no,
                            1_000_000_000_000u64 + n
                        ));
                    }
                }
            }
            std::fs::write(out, csv).unwrap();
            eprintln!("{n} rows");
        }
        ["tracking", url, file] => {
            let s = open(url).await;
            let bytes = std::fs::read(file).unwrap();
            let r =
                backoffice::desks::fulfilment::import_tracking(&s, &config(), &bytes, "bench", now)
                    .await
                    .unwrap();
            let secs = t.elapsed().as_secs_f64();
            eprintln!(
                "{} rows, {} shipped, in {secs:.2} s: {:.0} rows/s",
                r.lines,
                r.shipped,
                r.lines as f64 / secs
            );
        }
        ["xlsx", n, out] => {
            let n: usize = n.parse().unwrap();
            let layout = couriers::CourierLayout::shipped(Courier::Sf);
            let rows: Vec<ShipmentRow> = (0..n)
                .map(|i| ShipmentRow {
                    order_no: format!("WT2026112{i:07}"),
                    recipient_name: ["张三", "李四", "欧阳娜", "王秀英"][i % 4].into(),
                    recipient_mobile: format!("13{}{:08}", 3 + i % 7, i * 7919 % 100_000_000),
                    province: "广东省".into(),
                    city: "深圳市".into(),
                    district: ["南山区", "福田区", "宝安区"][i % 3].into(),
                    detail: format!("科技园南区高新南七道{}号{}栋", i % 300, i % 20),
                    postcode: Some("518057".into()),
                })
                .collect();
            let t = Instant::now();
            let bytes = couriers::write_batch(&layout, &config(), Courier::Sf, &rows).unwrap();
            std::fs::write(out, &bytes).unwrap();
            eprintln!(
                "{n} rows × {} columns, {} bytes, in {:.2} s",
                layout.columns.len(),
                bytes.len(),
                t.elapsed().as_secs_f64()
            );
        }
        _ => panic!("usage: see the file's header"),
    }
}
