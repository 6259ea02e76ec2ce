//! Bill imports: a file (or a zip / gzip of bills) read, hashed and reconciled as one transaction
//! with its audit record.

use super::{FinanceError, ImportSummary, reconcile::reconcile_bill, sha256_hex};
use crate::domain::{calendar::beijing, intake::PaymentChannel};
use crate::exchange::{
    audit_file,
    payment_bills::{self, Bill},
};
use crate::storage::{Storage, finance as store};
use chrono::{NaiveDate, TimeZone};
use sha2::{Digest, Sha256};

/// Imports a bill file (or a zip / gzip of bills) as one transaction and reconciles it; one
/// summary per channel found. `expect` refuses bills of the other channel.
pub async fn import_bills(
    storage: &Storage,
    bytes: &[u8],
    file_name: &str,
    expect: Option<PaymentChannel>,
    actor: &str,
    at: i64,
) -> Result<Vec<ImportSummary>, FinanceError> {
    let bills = payment_bills::parse_any(bytes)?;
    import_parsed(
        storage,
        &bills,
        &sha256_hex(bytes),
        file_name,
        expect,
        actor,
        at,
    )
    .await
}

/// As [`import_bills`], from a file: a plain CSV bill is read as a stream of lines (hashed on
/// the way), so a bill of a million lines is never held whole, nor decoded twice.
pub async fn import_bill_file(
    storage: &Storage,
    path: &std::path::Path,
    expect: Option<PaymentChannel>,
    actor: &str,
    at: i64,
) -> Result<Vec<ImportSummary>, FinanceError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let p = path.to_owned();
    // Parsing a large bill takes a second or two of CPU: off the async workers.
    let (bills, sha) = tokio::task::spawn_blocking(move || -> Result<_, FinanceError> {
        let cannot =
            |e: std::io::Error| FinanceError::Refused(format!("cannot read {}: {e}", p.display()));
        let file = std::fs::File::open(&p).map_err(cannot)?;
        let mut hashed = HashingReader {
            inner: file,
            sha: Sha256::new(),
        };
        let bills = payment_bills::parse_any_reader(std::io::BufReader::with_capacity(
            256 * 1024,
            &mut hashed,
        ))?;
        std::io::copy(&mut hashed, &mut std::io::sink()).map_err(cannot)?;
        Ok((bills, hex::encode(hashed.sha.finalize())))
    })
    .await
    .map_err(|e| FinanceError::Refused(format!("the bill could not be read: {e}")))??;
    import_parsed(storage, &bills, &sha, &file_name, expect, actor, at).await
}

/// Hashes what passes through it.
struct HashingReader<R> {
    inner: R,
    sha: Sha256,
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
}

async fn import_parsed(
    storage: &Storage,
    bills: &[Bill],
    sha: &str,
    file_name: &str,
    expect: Option<PaymentChannel>,
    actor: &str,
    at: i64,
) -> Result<Vec<ImportSummary>, FinanceError> {
    if let Some(want) = expect
        && let Some(b) = bills.iter().find(|b| b.channel != want)
    {
        return Err(FinanceError::WrongChannel {
            expected: want.code().into(),
            found: b.channel.code().into(),
        });
    }
    let mut tx = storage.begin().await?;
    crate::storage::advisory_lock(&mut tx, crate::storage::Lock::Reconciliation).await?;
    let lines = bills.iter().map(|b| b.lines.len()).sum::<usize>();
    crate::desks::progress::total(lines);
    let large = lines > 50_000;
    if large {
        store::import_cache(&mut tx, true).await?;
    }
    let mut out: Vec<ImportSummary> = Vec::new();
    for bill in bills {
        let s = reconcile_bill(&mut tx, bill, sha, file_name, actor, at).await?;
        match out.iter_mut().find(|o| o.channel == s.channel) {
            Some(o) => o.add(&s),
            None => out.push(s),
        }
    }
    for s in &out {
        let summary = serde_json::to_string(s).expect("plain struct");
        audit_file(
            &mut tx,
            actor,
            "payments.imported",
            "bill_file",
            sha,
            &summary,
            at,
        )
        .await?;
    }
    if large {
        store::import_cache(&mut tx, false).await?;
    }
    tx.commit().await?;
    Ok(out)
}

pub(super) fn day_start_ms(d: NaiveDate) -> i64 {
    beijing()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("fixed offset")
        .timestamp_millis()
}
