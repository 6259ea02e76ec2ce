//! The pre-check job: claims queued application versions, runs the machine pre-checks on their
//! scans beside the server (never in an API request), and stores the findings. A version whose
//! worker died is claimed again when its lease runs out; only the current lease holder can store
//! findings, so each version's findings are written exactly once.

use crate::domain::calendar::beijing;
use crate::domain::precheck::{self, CheckKind, Comparison, PhotoHash, compare};
use crate::prechecks::{self, ScanCheck};
use crate::storage::{
    Storage,
    prechecks::{ClaimedJob, FindingRow},
    scan_files::ScanStore,
};
use chrono::{NaiveDate, TimeZone};
use futures_util::{StreamExt, stream};

/// Other applications named by a reused-photo finding, at most.
const MAX_LINKED: usize = 5;

/// How long a claimed version is a worker's before another may take it over.
pub const LEASE_MS: i64 = 10 * 60_000;

/// Pre-checks up to `limit` queued versions; returns how many were stored.
pub async fn run_pending(
    storage: &Storage,
    scans: &ScanStore,
    now: i64,
    limit: i64,
) -> anyhow::Result<usize> {
    let token = uuid::Uuid::new_v4().to_string();
    let jobs = storage
        .claim_prechecks(now, now + LEASE_MS, &token, limit)
        .await?;
    let mut stored = 0;
    for job in &jobs {
        match check_version(storage, scans, job, now).await {
            Ok((rows, hashes)) => {
                if storage
                    .finish_precheck(job, &token, &rows, &hashes, now)
                    .await?
                {
                    stored += 1;
                }
            }
            Err(e) => {
                tracing::warn!(application = %job.application_id, version = job.version, error = %e, "pre-check failed");
                storage
                    .fail_precheck(job, &token, &format!("{e:#}"), now)
                    .await?;
            }
        }
    }
    Ok(stored)
}

/// Runs the queue dry (tests, the benchmark).
pub async fn run_all(storage: &Storage, scans: &ScanStore, now: i64) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let n = run_pending(storage, scans, now, 10).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

/// The typed data the card is compared with (resident ID cards only).
struct Typed {
    name: String,
    id_number: Option<String>,
}

fn typed(body: &str) -> Typed {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let a = &v["applicant"];
    Typed {
        name: a["name"].as_str().unwrap_or_default().to_owned(),
        id_number: (a["id_type"].as_str() == Some("resident_id"))
            .then(|| a["id_number"].as_str().map(str::to_owned))
            .flatten(),
    }
}

type Checked = (Vec<FindingRow>, Vec<(String, String)>);

async fn check_version(
    storage: &Storage,
    store: &ScanStore,
    job: &ClaimedJob,
    now: i64,
) -> anyhow::Result<Checked> {
    let subject = storage
        .precheck_subject(&job.application_id, job.version)
        .await?;
    let typed = typed(&subject.body);
    let today = beijing()
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let others = storage.photo_hashes_except(&job.application_id).await?;
    let mut rows = Vec::new();
    let mut hashes = Vec::new();
    // The scans are checked two at a time (each OCR call is single-threaded: two use both
    // cores when requests leave them idle), then their findings are made in order.
    let checks: Vec<anyhow::Result<Result<ScanCheck, anyhow::Error>>> =
        stream::iter(subject.scans.clone())
            .map(|scan| check_one(storage, store, job, scan))
            .buffered(2)
            .collect()
            .await;
    for (scan, checked) in subject.scans.iter().zip(checks) {
        let kind = CheckKind::from_scan(scan.kind);
        let code = scan.kind.code();
        let check = match checked? {
            Ok(check) => check,
            Err(e) => {
                rows.push(unreadable(code, &e));
                continue;
            }
        };
        rows.extend(findings(code, kind, &check, &typed, today));
        // Reuse: the same bytes anywhere else, or a photo within the hash distance.
        let mut reused = storage
            .applications_with_scan(&scan.sha256, job.application_id.as_str())
            .await?;
        if let Some(h) = check.photo_hash {
            hashes.push((code.to_owned(), h.to_hex()));
            for (app, _, _, other) in &others {
                let close = PhotoHash::from_hex(other).is_some_and(|o| precheck::same_photo(h, o));
                if close && !reused.contains(app) {
                    reused.push(app.clone());
                }
            }
        }
        reused.sort();
        // The first few are enough to follow; a template image shared by many is one finding.
        reused.truncate(MAX_LINKED);
        let flagged = !reused.is_empty();
        let outcome = if flagged { "reused" } else { "unique" };
        let detail = flagged.then(|| reused.join(","));
        rows.push(row(code, "reused_photo", outcome, flagged, detail, None));
    }
    Ok((rows, hashes))
}

/// One scan's checks: `Ok(Err(…))` when the file does not decode or an outside program
/// (tesseract) stalled on it (the scan is unreadable, with the reason); `Err` when the check
/// could not run at all (retried).
async fn check_one(
    storage: &Storage,
    store: &ScanStore,
    job: &ClaimedJob,
    scan: crate::storage::applications::ScanRef,
) -> anyhow::Result<Result<ScanCheck, anyhow::Error>> {
    let bytes = store.get(&scan.sha256).await?;
    // A PDF form's pages as images for the review page, ready before a reviewer opens it (a
    // PDF that cannot be rendered is recorded so; the review page says it).
    if scan.media_type == crate::domain::scan::MediaType::Pdf
        && let Err(e) = crate::desks::scan_pages::ensure(storage, store, &scan.sha256).await
    {
        tracing::info!(application = %job.application_id, error = %e, "a PDF scan's pages were not rendered");
    }
    let img = match prechecks::decode(&bytes).await {
        Ok(img) => img,
        Err(e) => return Ok(Err(e)),
    };
    match prechecks::check_decoded(CheckKind::from_scan(scan.kind), img).await {
        Ok(check) => Ok(Ok(check)),
        Err(e) if crate::tools::timed_out(&e).is_some() => Ok(Err(e)),
        Err(e) => Err(e),
    }
}

fn row(
    kind: &str,
    check: &str,
    outcome: &str,
    flagged: bool,
    detail: Option<String>,
    region: Option<precheck::Region>,
) -> FindingRow {
    FindingRow {
        kind: kind.to_owned(),
        check_name: check.to_owned(),
        outcome: outcome.to_owned(),
        flagged,
        detail,
        region: region.and_then(|r| serde_json::to_string(&r).ok()),
        verdict: None,
    }
}

/// A scan that could not be read (or whose reading stalled): flagged, with the reason.
fn unreadable(kind: &str, e: &anyhow::Error) -> FindingRow {
    row(
        kind,
        "unreadable_file",
        "flagged",
        true,
        Some(format!("{e:#}")),
        None,
    )
}

fn compared(
    kind: &str,
    check: &str,
    c: Comparison,
    region: Option<precheck::Region>,
) -> FindingRow {
    let flagged = c != Comparison::Match;
    let detail = match &c {
        Comparison::Mismatch(read) => Some(read.clone()),
        _ => None,
    };
    row(kind, check, c.code(), flagged, detail, region)
}

/// A scan's findings as rows: every check that applies, flagged or not (the precision page
/// needs both).
fn findings(
    code: &str,
    kind: CheckKind,
    c: &ScanCheck,
    typed: &Typed,
    today: NaiveDate,
) -> Vec<FindingRow> {
    let f = &c.findings;
    let q = &c.quality;
    let mut rows = Vec::new();
    let flag = |check: &str, on: bool, detail: String| {
        row(
            code,
            check,
            if on { "flagged" } else { "ok" },
            on,
            Some(detail),
            None,
        )
    };
    rows.push(flag("blurred", f.blurred, format!("{:.2}", q.sharpness)));
    rows.push(flag("too_dark", f.too_dark, q.light_level.to_string()));
    rows.push(flag("too_bright", f.too_bright, q.dark_level.to_string()));
    rows.push(flag("too_small", f.too_small, String::new()));
    let turned = f.rotation != 0;
    let outcome = if turned { "rotated" } else { "ok" };
    rows.push(row(
        code,
        "rotation",
        outcome,
        turned,
        Some(f.rotation.to_string()),
        None,
    ));
    match kind {
        CheckKind::IdFront if typed.id_number.is_some() => {
            let number = typed.id_number.as_deref().unwrap_or_default();
            let c1 = compare(f.id_number.as_deref(), number);
            rows.push(compared(code, "id_number", c1, c.id_number_region));
            let c2 = compare(f.name.as_deref(), &typed.name);
            rows.push(compared(code, "name", c2, c.name_region));
        }
        CheckKind::IdBack if typed.id_number.is_some() => {
            let (outcome, flagged) = match f.valid_until {
                None => ("unreadable", true),
                Some(v) if v.expired_on(today) => ("expired", true),
                Some(_) => ("valid", false),
            };
            let detail = f.valid_until.map(|v| v.to_string());
            rows.push(row(
                code,
                "valid_until",
                outcome,
                flagged,
                detail,
                c.validity_region,
            ));
        }
        CheckKind::ApplicationForm => {
            // No signature label read: the reviewer looks for the signature.
            let (outcome, flagged) = match f.signature_blank {
                Some(true) => ("blank", true),
                Some(false) => ("signed", false),
                None => ("unreadable", true),
            };
            let detail = c.signature_ink.map(|i| format!("{:.4}", i));
            rows.push(row(
                code,
                "signature_blank",
                outcome,
                flagged,
                detail,
                c.signature_region,
            ));
        }
        _ => {}
    }
    rows
}
