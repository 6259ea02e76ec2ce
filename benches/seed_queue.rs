//! Fills a database with synthetic applications for the queue benchmark.
//!   cargo bench --bench seed_queue -- DATABASE_URL [N=1000000]
use backoffice::storage::Storage;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let url = args.first().expect("usage: seed_queue DATABASE_URL [N]");
    let n: i64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let storage = Storage::connect(url).await.unwrap();
    storage.migrate().await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let t = std::time::Instant::now();
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(100_000);
        done += storage
            .seed_synthetic_applications(done + 1, batch, now)
            .await
            .unwrap() as i64;
    }
    eprintln!(
        "seeded {done} applications in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}
