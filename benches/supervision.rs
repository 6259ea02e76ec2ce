//! Supervision benchmarks on SQLite and PostgreSQL: the whole dashboard (every aggregate query
//! and the rendered page, in process) with N applications (default 1,000,000), their decisions,
//! review windows and ten timeline events each (10,000,000); then the SLA breach register for
//! 100,000 rows written to xlsx, time and peak RSS (VmHWM, reset just before).
//!   cargo bench --bench supervision            # N=1000000 RUNS=30
use backoffice::storage::Storage;
use backoffice::views::layout::{Member, PageCtx};
use chrono::Utc;
use std::time::Instant;

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run_on(url: &str, n: i64, runs: usize) {
    let kind = url.split(':').next().unwrap();
    let storage = Storage::connect(url).await.unwrap();
    storage.migrate().await.unwrap();
    let now = Utc::now().timestamp_millis();
    let t = Instant::now();
    let history = storage
        .seed_synthetic_supervision(n, 10, now)
        .await
        .unwrap();
    println!(
        "{kind:<8} seeded {n} applications and {history} decisions, reasons, windows and events in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let cal = storage.load_calendar().await.unwrap();
    let ctx = PageCtx {
        member: Some(Member {
            username: "boss".into(),
            display_name: "boss".into(),
            role: "supervisor".into(),
        }),
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let d = backoffice::desks::supervision::dashboard(&storage, &cal, now)
            .await
            .unwrap();
        let page = backoffice::views::supervision::dashboard_page(&ctx, &d).into_string();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        bytes = page.len();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{kind:<8} dashboard ({bytes} bytes), {runs} runs: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        pct(&times, 0.5),
        pct(&times, 0.99),
        times.last().unwrap()
    );

    // The breach register of the last twenty days, stopped at 100,000 rows, to xlsx.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = vm_hwm_kib();
    let layout = backoffice::desks::supervision::definition("sla-breaches", None).unwrap();
    let today = chrono::DateTime::from_timestamp_millis(now)
        .unwrap()
        .with_timezone(&backoffice::domain::calendar::beijing())
        .date_naive();
    let from = today - chrono::Duration::days(20);
    let layout = backoffice::desks::supervision::titled(layout, from, today);
    let t = Instant::now();
    let xlsx = backoffice::desks::supervision::xlsx(&storage, &layout, from, today, 100_000)
        .await
        .unwrap();
    let xlsx_s = t.elapsed().as_secs_f64();
    let xlsx_rss = vm_hwm_kib();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let t = Instant::now();
    let csv = backoffice::desks::supervision::csv(&storage, &layout, from, today, 100_000)
        .await
        .unwrap();
    println!(
        "{kind:<8} report: 100,000 rows to xlsx ({} KiB) in {xlsx_s:.2} s, peak RSS {} MiB; to csv ({} KiB) in {:.2} s, peak RSS {} MiB (before {} MiB)",
        xlsx.len() / 1024,
        xlsx_rss / 1024,
        csv.len() / 1024,
        t.elapsed().as_secs_f64(),
        vm_hwm_kib() / 1024,
        before / 1024
    );
    storage.close().await;
}

#[tokio::main]
async fn main() {
    let n: i64 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    run_on(
        &format!("sqlite://{}/sup.db", dir.path().display()),
        n,
        runs,
    )
    .await;
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(admin)
        .await
        .unwrap();
    sqlx::Executor::execute(&mut c, "drop database if exists bench_sup with (force)")
        .await
        .unwrap();
    sqlx::Executor::execute(&mut c, "create database bench_sup")
        .await
        .unwrap();
    run_on("postgres://postgres@127.0.0.1:5432/bench_sup", n, runs).await;
    sqlx::Executor::execute(&mut c, "drop database if exists bench_sup with (force)")
        .await
        .unwrap();
}
