//! The pre-checks on the generated corpus (`tests/api/corpus.rs`): applications (five scans) per
//! second, and precision and recall of each check against what was planted.
//!
//!   cargo bench --bench prechecks -- [APPLICATIONS=12] [CONCURRENCY=1]
//!   cargo bench --bench prechecks -- seed URL TOKEN N   (posts N applications with corpus scans)
//!
//! One application = an ID card front and back, an application form, an e-seal form (a second
//! form scan) and a liveness photo, as JPEG. The corpus cases for precision/recall are separate:
//! clean and damaged cards, forms signed and not, photos reused or not. Prints one JSON line per
//! measure. Each tesseract call is single-threaded; CONCURRENCY applications run at once.
#[path = "../tests/api/corpus.rs"]
mod corpus;

use backoffice::domain::precheck::{self, CheckKind};
use backoffice::prechecks::{ScanCheck, check_scan};
use corpus::{Damage, Person};
use futures_util::{StreamExt, stream};
use std::collections::BTreeMap;
use std::time::Instant;

async fn check(kind: CheckKind, bytes: &[u8]) -> ScanCheck {
    check_scan(kind, bytes).await.expect("pre-check")
}

fn application(seed: u64) -> Vec<(CheckKind, Vec<u8>)> {
    let p = corpus::person(seed);
    let jpg = |img: &image::RgbImage| corpus::encode(img, Damage::None);
    vec![
        (CheckKind::IdFront, jpg(&corpus::id_front(&p, seed))),
        (CheckKind::IdBack, jpg(&corpus::id_back(&p))),
        (
            CheckKind::ApplicationForm,
            jpg(&corpus::form(&p, true, seed)),
        ),
        (CheckKind::EsealForm, jpg(&corpus::form(&p, true, seed + 1))),
        (CheckKind::Photo, jpg(&corpus::liveness_photo(seed))),
    ]
}

#[derive(Default)]
struct Score {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

impl Score {
    fn add(&mut self, planted: bool, found: bool) {
        match (planted, found) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn ratio(a: u32, b: u32) -> Option<f64> {
        (a + b > 0).then(|| f64::from(a) / f64::from(a + b))
    }
}

async fn throughput(apps: u64, concurrency: usize) {
    let files: Vec<_> = (0..apps).map(|s| application(1000 + s)).collect();
    let start = Instant::now();
    stream::iter(files)
        .map(|app| async move {
            for (kind, bytes) in &app {
                check(*kind, bytes).await;
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        r#"{{"measure": "throughput", "applications": {apps}, "concurrency": {concurrency}, "seconds": {secs:.1}, "applications_per_second": {:.3}}}"#,
        apps as f64 / secs
    );
}

async fn precision_recall() {
    let mut scores: BTreeMap<&str, Score> = BTreeMap::new();
    let damages = [
        Damage::None,
        Damage::Jpeg(30),
        Damage::Blurred,
        Damage::Dark,
        Damage::Bright,
        Damage::Small,
        Damage::Turned(90),
        Damage::Turned(180),
    ];
    // Cards: each damage on a few people; the number read exactly counts as found.
    for seed in 0..4u64 {
        let p = corpus::person(2000 + seed);
        let card = corpus::id_front(&p, seed);
        for d in damages {
            let c = check(
                CheckKind::IdFront,
                &corpus::encode(&corpus::damage(&card, d), d),
            )
            .await;
            quality(&mut scores, d, &c);
            // The number: tp read exactly, fp a wrong number given, fn none read.
            let clean = matches!(d, Damage::None | Damage::Jpeg(_) | Damage::Turned(_));
            let group = if clean {
                "id_number read (clean, JPEG q30, turned)"
            } else {
                "id_number read (blurred, dark, bright, small)"
            };
            let s = scores.entry(group).or_default();
            match c.findings.id_number.as_deref() {
                Some(n) if n == p.id_number => s.tp += 1,
                Some(_) => s.fp += 1,
                None => s.fn_ += 1,
            }
            // A typed number that differs from the card: flagged whenever the card is read.
            let other = corpus::person(9000 + seed);
            let flagged = !matches!(
                precheck::compare(c.findings.id_number.as_deref(), &other.id_number),
                precheck::Comparison::Match
            );
            scores
                .entry("id_number mismatch flagged")
                .or_default()
                .add(true, flagged);
        }
    }
    // Backs: expired or not, read from the validity period.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    for seed in 0..8u64 {
        let mut p: Person = corpus::person(3000 + seed);
        if seed % 2 == 0 {
            p.valid_from = chrono::NaiveDate::from_ymd_opt(2004 + seed as i32, 3, 1).unwrap();
            p.valid_until = chrono::NaiveDate::from_ymd_opt(2014 + seed as i32, 3, 1);
        }
        let expired = p.valid_until.is_some_and(|d| d < today);
        let c = check(
            CheckKind::IdBack,
            &corpus::encode(&corpus::id_back(&p), Damage::None),
        )
        .await;
        let found = c.findings.valid_until.is_some_and(|v| v.expired_on(today));
        scores
            .entry("expired card")
            .or_default()
            .add(expired, found);
    }
    // Forms: signed or not, clean or damaged.
    for seed in 0..4u64 {
        let p = corpus::person(4000 + seed);
        for signed in [true, false] {
            for d in [Damage::None, Damage::Jpeg(30), Damage::Dark] {
                let img = corpus::damage(&corpus::form(&p, signed, seed), d);
                let c = check(CheckKind::ApplicationForm, &corpus::encode(&img, d)).await;
                let blank = c.findings.signature_blank == Some(true);
                scores
                    .entry("signature_blank")
                    .or_default()
                    .add(!signed, blank);
            }
        }
    }
    // Photos: 20 originals; each compared with a re-encoded copy of itself and with the others.
    let hashes: Vec<_> = (0..20u64)
        .map(|s| {
            let img = corpus::liveness_photo(5000 + s);
            let again = corpus::damage(&img, Damage::Jpeg(40));
            (
                precheck::photo_hash(&corpus::grey(&img), CheckKind::Photo).unwrap(),
                precheck::photo_hash(&corpus::grey(&again), CheckKind::Photo).unwrap(),
            )
        })
        .collect();
    for (i, (a, a2)) in hashes.iter().enumerate() {
        let s = scores.entry("reused_photo").or_default();
        s.add(true, precheck::same_photo(*a, *a2));
        for (b, _) in &hashes[i + 1..] {
            s.add(false, precheck::same_photo(*a, *b));
        }
    }
    for (name, s) in &scores {
        let fmt = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.3}"));
        println!(
            r#"{{"measure": "precision_recall", "check": "{name}", "tp": {}, "fp": {}, "fn": {}, "tn": {}, "precision": {}, "recall": {}}}"#,
            s.tp,
            s.fp,
            s.fn_,
            s.tn,
            fmt(Score::ratio(s.tp, s.fp)),
            fmt(Score::ratio(s.tp, s.fn_)),
        );
    }
}

fn quality(scores: &mut BTreeMap<&str, Score>, d: Damage, c: &ScanCheck) {
    let f = &c.findings;
    scores
        .entry("blurred")
        .or_default()
        .add(d == Damage::Blurred, f.blurred);
    scores
        .entry("too_dark")
        .or_default()
        .add(d == Damage::Dark, f.too_dark);
    scores
        .entry("too_bright")
        .or_default()
        .add(d == Damage::Bright, f.too_bright);
    scores
        .entry("too_small")
        .or_default()
        .add(d == Damage::Small, f.too_small);
    let turned = matches!(d, Damage::Turned(_));
    let right = match d {
        Damage::Turned(t) => f.rotation == (360 - t) % 360,
        _ => f.rotation != 0,
    };
    scores
        .entry("rotation (cards)")
        .or_default()
        .add(turned, right);
}

/// Posts `n` applications whose scans are corpus images, so a server's pre-check queue has real
/// work (benches/prechecks.sh runs intake beside it).
async fn seed(url: &str, token: &str, n: u64) {
    let http = reqwest::Client::new();
    let template: serde_json::Value =
        serde_json::from_str(include_str!("../tests/api/fixtures/application.json")).unwrap();
    for i in 0..n {
        let mut j = template.clone();
        let nonce = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let reference = format!("SEED{nonce}{i:010}");
        j["hall_reference"] = reference.clone().into();
        j["payment"]["out_trade_no"] = format!("SEED{nonce}{i:08X}").into();
        let mut form = reqwest::multipart::Form::new().part(
            "application",
            reqwest::multipart::Part::text(j.to_string())
                .mime_str("application/json")
                .unwrap(),
        );
        let names = [
            "id_front",
            "id_back",
            "application_form",
            "eseal_form",
            "liveness_photo",
        ];
        for (name, (_, bytes)) in names.iter().zip(application(7000 + i)) {
            form = form.part(
                *name,
                reqwest::multipart::Part::bytes(bytes)
                    .file_name(format!("{name}.jpg"))
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        }
        let r = http
            .post(url)
            .bearer_auth(token)
            .header("Idempotency-Key", &reference)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("seed") {
        let n = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(40);
        return seed(&args[1], &args[2], n).await;
    }
    let apps = args.first().and_then(|a| a.parse().ok()).unwrap_or(12);
    let concurrency = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    throughput(apps, concurrency).await;
    precision_recall().await;
}
