//! Webhooks to a local endpoint (`benches/webhooks.sh` drives it): `webhooks URL N D`
//!   throughput  N status changes (claims, through `desks::review::act`) queued, then delivered
//!               by `jobs::webhooks::deliver_all`: events/s; beside it, the baseline: the same
//!               number of signed POSTs of the same body straight to the endpoint, 16 at a time
//!               (the job's batch), without the outbox
//!   delay up    status changes at 20/s for N/20 s while the delivery loop runs as the server
//!               runs it (`BACKOFFICE_WEBHOOK_POLL_MS`, default settings): change → receipt p50/p99
//!   delay down  the same with the endpoint answering 503 for the first D seconds, then up:
//!               change → first successful receipt p50/p99 (the backoff's share)
use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use backoffice::config::webhook::WebhookSettings;
use backoffice::desks::review::{Actor, Step, act};
use backoffice::domain::{ids::ApplicationId, status::Action, webhook::Secret};
use backoffice::jobs::webhooks::deliver_all;
use backoffice::storage::{Storage, webhooks::EndpointChange};
use backoffice::webhook::{Sender, Signed};
use std::collections::HashMap;
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};
use std::time::{Duration, Instant};

type Seen = Arc<Mutex<HashMap<String, i64>>>;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The endpoint: 503 while `down`, else 200 and the first receipt time of each webhook-id.
async fn endpoint(seen: Seen, down: Arc<AtomicBool>) -> String {
    let app =
        axum::Router::new()
            .route(
                "/hook",
                post(
                    |State((seen, down)): State<(Seen, Arc<AtomicBool>)>,
                     h: HeaderMap,
                     _b: Bytes| async move {
                        if down.load(Ordering::SeqCst) {
                            return StatusCode::SERVICE_UNAVAILABLE;
                        }
                        let id = h["webhook-id"].to_str().unwrap().to_owned();
                        seen.lock().unwrap().entry(id).or_insert_with(now_ms);
                        StatusCode::OK
                    },
                ),
            )
            .with_state((seen, down));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    url
}

fn app_id(i: i64) -> ApplicationId {
    ApplicationId::parse(&format!("BF{}-{:06}", 20260101 + i / 900000, i % 900000)).unwrap()
}

async fn claim(storage: &Storage, i: i64) {
    let actor = Actor {
        name: "staff:bench",
        request_id: None,
        may_override: false,
    };
    act(
        storage,
        &app_id(i),
        Action::Claim,
        &Step::default(),
        &actor,
        now_ms(),
    )
    .await
    .unwrap();
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Changes at 20/s from application `from`, `n` of them; returns each event's delay.
async fn paced(storage: &Storage, seen: &Seen, from: i64, n: i64) -> Vec<i64> {
    let before: Vec<String> = seen.lock().unwrap().keys().cloned().collect();
    for i in from..from + n {
        claim(storage, i).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = storage.webhook_deliveries("hall", 1_000_000).await.unwrap();
    let wanted: Vec<_> = rows
        .iter()
        .filter(|r| !before.contains(&r.event_id))
        .collect();
    loop {
        let got = seen.lock().unwrap().clone();
        if wanted.iter().all(|r| got.contains_key(&r.event_id)) {
            let mut d: Vec<i64> = wanted
                .iter()
                .map(|r| got[&r.event_id] - r.created_at)
                .collect();
            d.sort();
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let url = args[0].as_str();
    let n: i64 = args[1].parse().unwrap();
    let down_secs: u64 = args[2].parse().unwrap();
    let kind = url.split(':').next().unwrap();
    let storage = Storage::connect(url).await.unwrap();
    storage.migrate().await.unwrap();
    storage.create_api_token("hall", 0, "bench").await.unwrap();
    let paced_n = (n / 10).max(40);
    storage
        .seed_synthetic(0, n + 2 * paced_n, now_ms(), true)
        .await
        .unwrap();
    let seen: Seen = Arc::default();
    let down = Arc::new(AtomicBool::new(false));
    let hook = endpoint(seen.clone(), down.clone()).await;
    let (secret, text) = Secret::from_bytes([9; 32]);
    let change = EndpointChange::Url {
        url: &hook,
        new_secret: &text,
    };
    storage
        .change_webhook_endpoint("hall", &change, now_ms(), "bench")
        .await
        .unwrap();
    let s = WebhookSettings {
        allow_private: true,
        ..Default::default()
    };
    let sender = Sender::new(&s).unwrap();

    // Throughput: N queued, then drained.
    for i in 0..n {
        claim(&storage, i).await;
    }
    let t = Instant::now();
    let d = deliver_all(&storage, &sender, &s, now_ms()).await.unwrap();
    let outbox = t.elapsed().as_secs_f64();
    assert_eq!(d.delivered as i64, n, "{d:?}");
    let body = storage.webhook_deliveries("hall", 1).await.unwrap()[0]
        .payload
        .clone();
    let t = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
        let posts = chunk.iter().map(|i| {
            let id = format!("msg_base{i}");
            let ts = now_ms() / 1000;
            let sig = secret.sign(&id, ts, body.as_bytes());
            let (sender, hook, body) = (&sender, &hook, &body);
            async move {
                let a = sender
                    .post(&Signed {
                        url: hook,
                        id: &id,
                        timestamp: ts,
                        signature: &sig,
                        body,
                    })
                    .await;
                assert!(a.delivered());
            }
        });
        futures_util::future::join_all(posts).await;
    }
    let baseline = t.elapsed().as_secs_f64();
    let (r1, r0) = (n as f64 / outbox, n as f64 / baseline);
    println!(
        "{kind:<8} throughput: {n} events delivered in {outbox:.2} s = {r1:.0} events/s; baseline \
         {n} plain signed POSTs in {baseline:.2} s = {r0:.0}/s; ratio {:.2}",
        r1 / r0
    );

    // The delivery loop as the server runs it.
    let loop_storage = storage.clone();
    let loop_settings = s.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(loop_settings.poll_ms));
        loop {
            tick.tick().await;
            deliver_all(&loop_storage, &sender, &loop_settings, now_ms())
                .await
                .unwrap();
        }
    });
    let up = paced(&storage, &seen, n, paced_n).await;
    println!(
        "{kind:<8} delay, endpoint up ({paced_n} changes at 20/s, poll {} ms): p50 {} ms, p99 {} ms",
        s.poll_ms,
        percentile(&up, 0.5),
        percentile(&up, 0.99)
    );
    down.store(true, Ordering::SeqCst);
    let flip = down.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(down_secs)).await;
        flip.store(false, Ordering::SeqCst);
    });
    let back = paced(&storage, &seen, n + paced_n, paced_n).await;
    println!(
        "{kind:<8} delay, endpoint down the first {down_secs} s then up (backoff {} s doubling): \
         p50 {} ms, p99 {} ms",
        s.backoff_secs,
        percentile(&back, 0.5),
        percentile(&back, 0.99)
    );
}
