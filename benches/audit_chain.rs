//! The audit chain at volume (`benches/audit_chain.sh` drives it, one process per phase):
//!   audit_chain seed URL N       N unsealed records, 27,400 per Beijing day (a year per 10 M)
//!   audit_chain seal URL         seals them all (runs of 50,000), prints time and rate
//!   audit_chain verify URL       what `verify-audit` does after sealing; time and peak RSS
//!   audit_chain insert URL N C chain|baseline
//!                                N audit records by C concurrent writers, each its own
//!                                transaction as `record` is used; `chain`: a sealer runs every
//!                                second meanwhile; `baseline`: the chain's indexes dropped
use backoffice::storage::{Storage, audit::AuditEntry, audit::Verdict};
use std::time::Instant;

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

const FROM: i64 = 1_735_660_800_000; // 2025-01-01 00:00 Beijing

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (mode, url) = (args[0].as_str(), args[1].as_str());
    let kind = url.split(':').next().unwrap();
    let storage = Storage::connect(url).await.unwrap();
    storage.migrate().await.unwrap();
    let t = Instant::now();
    match mode {
        "seed" => {
            let n: i64 = args[2].parse().unwrap();
            let mut done = 0;
            while done < n {
                done += storage
                    .seed_synthetic_audit(done, (n - done).min(500_000), FROM, 27_400)
                    .await
                    .unwrap() as i64;
            }
            println!(
                "{kind:<8} seeded {n} audit records in {:.1} s",
                t.elapsed().as_secs_f64()
            );
        }
        "seal" => {
            let n = storage
                .seal_audit_in_runs(FROM, true, 50_000)
                .await
                .unwrap();
            let s = t.elapsed().as_secs_f64();
            println!(
                "{kind:<8} sealed {n} records in {s:.1} s ({:.0} records/s), peak RSS {:.0} MiB",
                n as f64 / s,
                vm_hwm_mib()
            );
        }
        "verify" => {
            // As `verify-audit`: seal what is unsealed (nothing here), then walk the chain.
            storage.seal_audit(FROM, true).await.unwrap();
            match storage.verify_audit(10_000).await.unwrap() {
                Verdict::Intact(n) => println!(
                    "{kind:<8} verify-audit: ok {n} records in {:.1} s, peak RSS {:.0} MiB",
                    t.elapsed().as_secs_f64(),
                    vm_hwm_mib()
                ),
                Verdict::Broken(b) => panic!("broken: {b}"),
            }
        }
        "insert" => {
            let n: i64 = args[2].parse().unwrap();
            let writers: i64 = args[3].parse().unwrap();
            let chain = args[4] == "chain";
            if !chain {
                storage.drop_audit_chain_indexes().await.unwrap();
            }
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let sealer = chain.then(|| {
                let (s, stop) = (storage.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        s.seal_audit(FROM, false).await.unwrap();
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                })
            });
            let t = Instant::now();
            let mut tasks = vec![];
            for w in 0..writers {
                let s = storage.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..n / writers {
                        let subject = format!("BF20261125-{w}-{i}");
                        s.audit_view(&AuditEntry {
                            at: FROM + i,
                            actor: "staff:hotline",
                            action: "hotline.viewed",
                            subject_type: "application",
                            subject_id: &subject,
                            after: Some("{\"masked\":true}"),
                            request_id: Some("6f1c2d9e-8a7b-4c3d-9e8f-0a1b2c3d4e5f"),
                            ..Default::default()
                        })
                        .await
                        .unwrap();
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let s = t.elapsed().as_secs_f64();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Some(h) = sealer {
                h.await.unwrap();
            }
            println!(
                "{kind:<8} insert {:<8}: {n} records, {writers} writers, {s:.2} s, {:.0} records/s",
                args[4],
                n as f64 / s
            );
        }
        m => panic!("unknown mode {m}"),
    }
}
