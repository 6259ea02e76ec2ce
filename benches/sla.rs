//! SLA benchmarks: computing deadlines with the real 2025–2026 calendar (ns per deadline), and
//! the escalation sweep over 1,000,000 open applications on SQLite and PostgreSQL (the first
//! sweep escalates the 10,000 overdue ones; the next finds nothing new).
//!   cargo bench --bench sla            # N=1000000
use backoffice::domain::calendar::{DayKind, WorkingCalendar};
use backoffice::storage::Storage;
use chrono::{DateTime, NaiveDate, Utc};
use std::time::Instant;

fn calendar() -> WorkingCalendar {
    let csv = include_str!("../migrations/calendar-2025-2026.csv");
    WorkingCalendar::new(csv.lines().skip(1).filter(|l| !l.is_empty()).map(|l| {
        let mut f = l.split(',');
        (
            NaiveDate::parse_from_str(f.next().unwrap(), "%Y-%m-%d").unwrap(),
            DayKind::parse(f.next().unwrap()).unwrap(),
        )
    }))
}

async fn sweep_on(url: &str, n: i64) {
    let storage = Storage::connect(url).await.unwrap();
    storage.migrate().await.unwrap();
    let now = Utc::now().timestamp_millis();
    let t = Instant::now();
    let mut done = 0;
    while done < n {
        done += storage
            .seed_synthetic(done + 1, (n - done).min(100_000), now, true)
            .await
            .unwrap() as i64;
    }
    let seeded = t.elapsed().as_secs_f64();
    let hash = backoffice::auth::hash_password("bench password 1").unwrap();
    let s = backoffice::storage::staff::NewStaff {
        username: "boss",
        display_name: "boss",
        email: Some("boss@example.com"),
        role: "supervisor",
        password_hash: &hash,
    };
    storage.create_staff(&s, now, "bench").await.unwrap();
    let t = Instant::now();
    let first = backoffice::jobs::sla::sweep(&storage, "http://bench", now)
        .await
        .unwrap();
    let first_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let second = backoffice::jobs::sla::sweep(&storage, "http://bench", now)
        .await
        .unwrap();
    let second_s = t.elapsed().as_secs_f64();
    let kind = url.split(':').next().unwrap();
    println!(
        "sweep {kind:<8} {n} open ({seeded:.1} s to seed): first sweep escalated {first} in {:.0} ms; next sweep {second} in {:.1} ms",
        first_s * 1e3,
        second_s * 1e3
    );
}

#[tokio::main]
async fn main() {
    let n: i64 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let cal = calendar();
    let start = DateTime::parse_from_rfc3339("2025-01-01T00:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
        .timestamp();
    let span = 730 * 86_400i64;
    let times: Vec<DateTime<Utc>> = (0..n)
        .map(|i| DateTime::from_timestamp(start + (i * 7919) % span, 0).unwrap())
        .collect();
    let t = Instant::now();
    let mut check = 0i64;
    for at in &times {
        check = check.wrapping_add(cal.review_due_at(*at).timestamp());
    }
    let el = t.elapsed();
    println!(
        "deadlines: {n} computed in {:.0} ms, {:.0} ns per deadline (checksum {check})",
        el.as_secs_f64() * 1e3,
        el.as_nanos() as f64 / n as f64
    );

    let dir = tempfile::tempdir().unwrap();
    sweep_on(&format!("sqlite://{}/sla.db", dir.path().display()), n).await;
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(admin)
        .await
        .unwrap();
    sqlx::Executor::execute(&mut c, "drop database if exists bench_sla with (force)")
        .await
        .unwrap();
    sqlx::Executor::execute(&mut c, "create database bench_sla")
        .await
        .unwrap();
    sweep_on("postgres://postgres@127.0.0.1:5432/bench_sla", n).await;
    sqlx::Executor::execute(&mut c, "drop database if exists bench_sla with (force)")
        .await
        .unwrap();
}
