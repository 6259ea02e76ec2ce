//! Fills a database for the supervision benchmark over HTTP (`benches/supervision.sh`): N
//! applications, their decisions, reasons, review windows and ten timeline events each.
//!   cargo bench --bench seed_supervision -- DATABASE_URL [N=1000000]
use backoffice::storage::Storage;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let url = args
        .first()
        .expect("usage: seed_supervision DATABASE_URL [N]");
    let n: i64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let storage = Storage::connect(url).await.unwrap();
    storage.migrate().await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let t = std::time::Instant::now();
    let history = storage
        .seed_synthetic_supervision(n, 10, now)
        .await
        .unwrap();
    eprintln!(
        "seeded {n} applications and {history} history rows in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    storage.close().await;
}
