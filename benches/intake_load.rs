//! Load generator for the intake API: CONNS clients post realistic submissions (the JSON and five
//! scans of ~200 KB each, ~1 MB in all) back to back for SECS seconds. Every request is unique (a
//! new hall_reference and Idempotency-Key, a nonce inside every scan), so the server stores new
//! files and a new application each time. Prints one JSON line: applications/s, p50/p99 latency,
//! non-2xx responses, errors.
//!
//!   cargo bench --bench intake_load -- URL TOKEN [CONNS=16] [SECS=10] [--anchor]
//!
//! URL may be several, comma-separated (instances sharing one database): client i posts to
//! the (i mod n)-th.
//!
//! With `--anchor` the JSON part is named `form` and the URL is the side-by-side baseline's
//! (`../shared/bench/bare-axum`, route /intake/sqlite), which ignores the token and the key.
//! `benches/intake.sh` runs both in one run.

use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

const BOUNDARY: &str = "----BackofficeIntakeLoad7MA4YWxkTrZu0gW";
const SCAN_BYTES: usize = 200 * 1024;
const NONCE: &[u8; 32] = b"@@@@INTAKE-NONCE-PLACEHOLDER@@@@";

fn noise(rng: &mut StdRng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill(&mut v[..]);
    v
}

/// A JPEG: SOI, JFIF APP0, a COM segment holding the nonce, incompressible data, EOI.
fn jpeg(rng: &mut StdRng) -> Vec<u8> {
    let mut v = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ];
    v.extend_from_slice(&[0xFF, 0xFE, 0x00, 34]);
    v.extend_from_slice(NONCE);
    v.extend(
        noise(rng, SCAN_BYTES)
            .into_iter()
            .map(|b| if b == 0xFF { 0xFE } else { b }),
    );
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

fn pdf(rng: &mut StdRng) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n%".to_vec();
    v.extend_from_slice(NONCE);
    v.push(b'\n');
    v.extend(noise(rng, SCAN_BYTES));
    v.extend_from_slice(b"\n%%EOF\n");
    v
}

struct Template {
    scans: Vec<(&'static str, &'static str, &'static str, Vec<u8>)>,
    anchor: bool,
}

impl Template {
    fn body(&self, n: u64, seed: u64) -> Vec<u8> {
        let now =
            chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
        let t = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let json = format!(
            r#"{{"hall_reference":"LOAD{seed:08X}{n:010}","certificate_serial":"0150512140479054C03",
"applicant":{{"name":"张三","id_type":"resident_id","id_number":"11010519491231002X","mobile":"13800138000","email":"zhangsan@example.com"}},
"mailing_address":{{"recipient":"张三","mobile":"13800138000","province":"广东省","city":"深圳市","district":"南山区","detail":"科技园路1号","postcode":"518000"}},
"invoice":{{"title":"张三","tax_id":null,"email":"zhangsan@example.com"}},
"payment":{{"channel":"wechat","out_trade_no":"SZCA{n:016X}","transaction_id":"4200001234202611250000000001","amount_fen":20000,"paid_at":"{t}"}},
"liveness":{{"passed":true,"score":0.97,"checked_at":"{t}"}},
"telecom_real_name":{{"passed":true,"checked_at":"{t}"}},
"consents":{{"service_agreement_version":"2023-05","sensitive_pi_authorization":true,"agreed_at":"{t}"}},
"submitted_at":"{t}"}}"#
        );
        let nonce = format!("{seed:016X}{n:016}");
        let mut out = Vec::with_capacity(1_100_000);
        let json_name = if self.anchor { "form" } else { "application" };
        out.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{json_name}\"\r\nContent-Type: application/json\r\n\r\n{json}\r\n").as_bytes(),
        );
        for (name, file, mime, bytes) in &self.scans {
            out.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: {mime}\r\n\r\n").as_bytes(),
            );
            let at = out.len();
            out.extend_from_slice(bytes);
            if let Some(p) = bytes.windows(32).position(|w| w == NONCE) {
                out[at + p..at + p + 32].copy_from_slice(nonce.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let anchor = args.iter().any(|a| a == "--anchor");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if pos.len() < 2 {
        eprintln!("usage: intake_load URL TOKEN [CONNS=16] [SECS=10] [--anchor]");
        std::process::exit(2);
    }
    let urls: Vec<String> = pos[0].split(',').map(str::to_owned).collect();
    let token = pos[1].clone();
    let conns: usize = pos.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let secs: u64 = pos.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut rng = StdRng::seed_from_u64(20261125);
    let tpl = Arc::new(Template {
        scans: vec![
            (
                "application_form",
                "form.pdf",
                "application/pdf",
                pdf(&mut rng),
            ),
            ("eseal_form", "eseal.jpg", "image/jpeg", jpeg(&mut rng)),
            ("id_front", "front.jpg", "image/jpeg", jpeg(&mut rng)),
            ("id_back", "back.jpg", "image/jpeg", jpeg(&mut rng)),
            ("liveness_photo", "face.jpg", "image/jpeg", jpeg(&mut rng)),
        ],
        anchor,
    });
    let seed: u64 = rand::rng().random::<u32>() as u64;
    let counter = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()
        .unwrap();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for i in 0..conns {
        let (client, url, token, tpl, counter) = (
            client.clone(),
            urls[i % urls.len()].clone(),
            token.clone(),
            tpl.clone(),
            counter.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut bad, mut errors, mut sample) = (Vec::new(), 0u64, 0u64, None);
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let body = tpl.body(n, seed);
                let t0 = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("load-{seed}-{n}"))
                    .header(
                        "Content-Type",
                        format!("multipart/form-data; boundary={BOUNDARY}"),
                    )
                    .body(body)
                    .send()
                    .await;
                match r {
                    Ok(resp) => {
                        let ok = resp.status().as_u16() == 201;
                        let text = resp.text().await.unwrap_or_default();
                        if Instant::now() > deadline {
                            break;
                        }
                        lat.push(t0.elapsed());
                        if !ok {
                            bad += 1;
                            sample.get_or_insert(text);
                        }
                    }
                    Err(_) => errors += 1,
                }
            }
            (lat, bad, errors, sample)
        }));
    }
    let (mut lat, mut bad, mut errors) = (Vec::new(), 0, 0);
    for t in tasks {
        let (l, b, e, s) = t.await.unwrap();
        lat.extend(l);
        bad += b;
        errors += e;
        if let Some(s) = s {
            eprintln!("sample non-201 response: {s}");
        }
    }
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(0.0)
    };
    println!(
        r#"{{"requests": {}, "rps": {:.1}, "p50_ms": {:.1}, "p99_ms": {:.1}, "non201": {bad}, "errors": {errors}}}"#,
        lat.len(),
        lat.len() as f64 / secs as f64,
        pct(0.50),
        pct(0.99)
    );
}
