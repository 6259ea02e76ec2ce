//! The pre-checks on the generated corpus (`tests/api/corpus.rs`): applications (five scans) per
//! second, and precision and recall of each check against what was planted.
//!
//!   cargo bench --bench prechecks -- [APPLICATIONS=12] [CONCURRENCY=1] [CASES=80]
//!   cargo bench --bench prechecks -- seed URL TOKEN N   (posts N applications with corpus scans)
//!
//! One application = an ID card front and back (in a scene: scanner lid, desk, hand), the hall's
//! application form, an e-seal form (a second form scan) and a liveness photo, as JPEG. The
//! corpus cases for precision/recall are separate (`corpus::case`): cards in every scene and
//! damage, forms in three layouts signed or not, photos reused or not; even seeds calibrate,
//! odd seeds are held back, and both halves are printed. One JSON line per measure. Each OCR
//! call is single-threaded; CONCURRENCY applications run at once (in-process engines by default;
//! `BACKOFFICE_OCR=command` spawns the tesseract command per call instead).
#[path = "../tests/api/corpus.rs"]
mod corpus;

use backoffice::domain::precheck::{self, CheckKind};
use backoffice::prechecks::{ScanCheck, check_scan};
use backoffice::render::Face;
use backoffice::render::form::Layout;
use corpus::Damage;
use futures_util::{StreamExt, stream};
use std::collections::BTreeMap;
use std::time::Instant;

async fn check(kind: CheckKind, bytes: &[u8]) -> ScanCheck {
    check_scan(kind, bytes).await.expect("pre-check")
}

fn application(seed: u64) -> Vec<(CheckKind, Vec<u8>)> {
    let c = corpus::case(seed);
    let p = &c.person;
    let clean = corpus::Case {
        damage: Damage::None,
        ..c.clone()
    };
    let jpg = |img: &image::RgbImage| corpus::encode(img, Damage::None);
    vec![
        (CheckKind::IdFront, clean.front()),
        (CheckKind::IdBack, clean.back()),
        (
            CheckKind::ApplicationForm,
            jpg(&corpus::form_in(p, Layout::Hall, Face::Sans, true, seed)),
        ),
        (
            CheckKind::EsealForm,
            jpg(&corpus::form_in(p, Layout::Box, c.face, true, seed + 1)),
        ),
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
    let cpu_start = cpu_seconds();
    let times = stream::iter(files)
        .map(|app| async move {
            let mut times = Vec::new();
            for (kind, bytes) in &app {
                let t = Instant::now();
                check(*kind, bytes).await;
                times.push((*kind, t.elapsed().as_secs_f64()));
            }
            times
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let ocr = if backoffice::tools::ocr_command() {
        "command"
    } else {
        "library"
    };
    // Where the time goes: the mean seconds of one scan of each kind (its wall time, so at
    // CONCURRENCY > 1 it includes waiting for a core).
    let mut by_kind: BTreeMap<String, (f64, u32)> = BTreeMap::new();
    for (kind, t) in times.into_iter().flatten() {
        let e = by_kind.entry(format!("{kind:?}")).or_default();
        e.0 += t;
        e.1 += 1;
    }
    let per_kind: Vec<String> = by_kind
        .iter()
        .map(|(k, (t, n))| format!(r#""{k}": {:.3}"#, t / f64::from(*n)))
        .collect();
    println!(
        r#"{{"measure": "throughput", "ocr": "{ocr}", "applications": {apps}, "concurrency": {concurrency}, "seconds": {secs:.1}, "applications_per_second": {:.3}, "cpu_seconds_per_application": {:.3}, "seconds_per_scan": {{{}}}}}"#,
        apps as f64 / secs,
        cpu / apps as f64,
        per_kind.join(", ")
    );
}

/// CPU seconds (user and system) spent so far by this process and the children it waited for
/// (the tesseract commands): what an application costs whatever else loads the machine.
fn cpu_seconds() -> f64 {
    let secs = |who| {
        // SAFETY: getrusage fills the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut u) };
        let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
        t(u.ru_utime) + t(u.ru_stime)
    };
    secs(libc::RUSAGE_SELF) + secs(libc::RUSAGE_CHILDREN)
}

/// Scores of one half of the corpus, by check.
type Scores = BTreeMap<&'static str, Score>;

/// Precision and recall per check on each half of the corpus: `cases` cases (a card front and
/// back and a form each, drawn and damaged as the case's seed says); even seeds calibrate the
/// thresholds, odd seeds are held back. `CALIBRATE=1` prints each scan's measures.
async fn precision_recall(cases: u64) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let calibrate = std::env::var_os("CALIBRATE").is_some();
    let mut halves: [Scores; 2] = Default::default();
    for seed in 0..cases {
        let c = corpus::case(seed);
        let s = &mut halves[usize::from(!corpus::calibration(seed))];
        let d = c.damage;
        let legible = matches!(d, Damage::None | Damage::Jpeg(_) | Damage::Turned(_));
        // The front: quality, the turn, the number and the name.
        let f = check(CheckKind::IdFront, &c.front()).await;
        quality(s, d, &f);
        if legible {
            let n = s
                .entry("id_number read exactly (legible cards)")
                .or_default();
            match f.findings.id_number.as_deref() {
                Some(x) if x == c.person.id_number => n.tp += 1,
                Some(_) => n.fp += 1,
                None => n.fn_ += 1,
            }
            let n = s.entry("name read exactly (legible cards)").or_default();
            match precheck::compare(f.findings.name.as_deref(), &c.person.name) {
                precheck::Comparison::Match => n.tp += 1,
                precheck::Comparison::Mismatch(_) => n.fp += 1,
                precheck::Comparison::Unreadable => n.fn_ += 1,
            }
        }
        // The back: expired or not (every other case planted expired).
        let mut p = c.person.clone();
        if seed % 4 < 2 {
            p.valid_from = chrono::NaiveDate::from_ymd_opt(2004 + (seed % 8) as i32, 3, 1).unwrap();
            p.valid_until = chrono::NaiveDate::from_ymd_opt(2014 + (seed % 8) as i32, 3, 1);
        }
        let back = corpus::Case {
            person: p.clone(),
            ..c.clone()
        };
        let b = check(CheckKind::IdBack, &back.back()).await;
        quality(s, d, &b);
        if legible {
            let expired = p.valid_until.is_some_and(|u| u < today);
            let found = b.findings.valid_until.is_some_and(|v| v.expired_on(today));
            s.entry("expired card (legible backs)")
                .or_default()
                .add(expired, found);
        }
        // The form: a blank signature, on any layout, in any face.
        let form = check(CheckKind::ApplicationForm, &c.form()).await;
        let blank = form.findings.signature_blank == Some(true);
        let readable = !matches!(
            d,
            Damage::Blurred | Damage::Small | Damage::Dark | Damage::Bright | Damage::Glare
        );
        if readable {
            s.entry("signature_blank (legible forms: clean, JPEG, turned)")
                .or_default()
                .add(!c.signed, blank);
        }
        if calibrate {
            for (kind, x) in [("front", &f), ("back", &b), ("form", &form)] {
                let q = &x.quality;
                println!(
                    r#"{{"seed": {seed}, "half": "{}", "scan": "{kind}", "damage": "{d:?}", "scene": "{:?}", "layout": "{:?}", "signed": {}, "sharpness": {:.3}, "dark": {}, "light": {}, "clipped": {:.3}, "label_contrast": {:?}, "ink": {:?}, "rotation": {}, "id": {:?}, "name": {:?}, "truth_name": "{}"}}"#,
                    if corpus::calibration(seed) {
                        "calibration"
                    } else {
                        "held_out"
                    },
                    c.background,
                    c.layout,
                    c.signed,
                    q.sharpness,
                    q.dark_level,
                    q.light_level,
                    q.clipped,
                    q.label_contrast,
                    x.signature_ink,
                    x.findings.rotation,
                    x.findings.id_number,
                    x.findings.name,
                    c.person.name,
                );
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
        let s = halves[i % 2].entry("reused_photo (pairs)").or_default();
        s.add(true, precheck::same_photo(*a, *a2));
        for (b, _) in &hashes[i + 1..] {
            s.add(false, precheck::same_photo(*a, *b));
        }
    }
    for (half, scores) in ["calibration", "held_out"].iter().zip(&halves) {
        for (name, s) in scores {
            let fmt = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.3}"));
            println!(
                r#"{{"measure": "precision_recall", "half": "{half}", "check": "{name}", "tp": {}, "fp": {}, "fn": {}, "tn": {}, "precision": {}, "recall": {}}}"#,
                s.tp,
                s.fp,
                s.fn_,
                s.tn,
                fmt(Score::ratio(s.tp, s.fp)),
                fmt(Score::ratio(s.tp, s.fn_)),
            );
        }
    }
}

fn quality(scores: &mut Scores, d: Damage, c: &ScanCheck) {
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
        .entry("too_bright (washed out or glare)")
        .or_default()
        .add(d.bright(), f.too_bright);
    scores
        .entry("too_small")
        .or_default()
        .add(d == Damage::Small, f.too_small);
    if matches!(d, Damage::None | Damage::Jpeg(_) | Damage::Turned(_)) {
        let turned = matches!(d, Damage::Turned(_));
        let right = match d {
            Damage::Turned(t) => f.rotation == (360 - t) % 360,
            _ => f.rotation != 0,
        };
        scores
            .entry("rotation (legible cards)")
            .or_default()
            .add(turned, right);
    }
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
    if args.first().map(String::as_str) == Some("dump") {
        // dump SEED DIR: a case's scans as files, to look at or read with the tesseract command.
        let seed: u64 = args[1].parse().unwrap();
        let c = corpus::case(seed);
        let zhang = corpus::Person {
            name: "张三".into(),
            id_number: "11010519491231002X".into(),
            ..corpus::person(1)
        };
        let z = corpus::encode(&corpus::id_front(&zhang, seed), Damage::None);
        for (name, bytes) in [
            ("front", c.front()),
            ("back", c.back()),
            ("form", c.form()),
            ("zhang", z),
        ] {
            std::fs::write(format!("{}/{seed}-{name}.jpg", args[2]), bytes).unwrap();
        }
        println!("{c:?}");
        return;
    }
    if args.first().map(String::as_str) == Some("seed") {
        let n = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(40);
        return seed(&args[1], &args[2], n).await;
    }
    let apps = args.first().and_then(|a| a.parse().ok()).unwrap_or(12);
    let concurrency = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let cases = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(80);
    if apps > 0 {
        throughput(apps, concurrency).await;
    }
    if cases > 0 {
        precision_recall(cases).await;
    }
}
