//! Bills inside the zip and gzip wrappers the channels hand out, within the file budgets.

use super::{Bill, BillError, err, parse_reader, parse_reader_within};
use crate::exchange::budget::{self, ArchiveError, FileBudgets, Limit, OverBudget, Unpacked};
use crate::exchange::sheet::decode_text;
use std::io::{BufRead, Read};

/// Reads a bill file, a gzip of one, or a zip of several (the Alipay API's `….csv.zip`, or staff
/// zipping a month of daily WeChat bills). Zip members are recognised by content, never by name;
/// Alipay totals files (汇总) and directories are skipped. A zip without any bill is refused.
pub fn parse_any(bytes: &[u8]) -> Result<Vec<Bill>, BillError> {
    parse_any_with(bytes, &budget::current())
}

/// As [`parse_any`], within the given budgets.
pub fn parse_any_with(bytes: &[u8], b: &FileBudgets) -> Result<Vec<Bill>, BillError> {
    parse_nested(bytes, 0, b, &mut Unpacked::new(b))
}

/// As [`parse_any`], from a stream: a plain bill is read line by line and never held whole; a
/// zip or gzip (told by its first bytes) is read into memory first.
pub fn parse_any_reader<R: BufRead>(mut r: R) -> Result<Vec<Bill>, BillError> {
    let io = |e: std::io::Error| err(1, None, format!("the file cannot be read: {e}"));
    let head = r.fill_buf().map_err(io)?;
    // fill_buf may return fewer bytes than a signature needs: short reads are rare but legal.
    let mut peek = head.to_vec();
    if peek.len() < 4 && !peek.is_empty() {
        let mut all = Vec::new();
        r.read_to_end(&mut all).map_err(io)?;
        return parse_any(&all);
    }
    peek.truncate(4);
    if is_gzip(&peek) || is_zip(&peek) {
        let b = budget::current();
        let mut all = Vec::new();
        r.take(b.max_unpacked_bytes + 1)
            .read_to_end(&mut all)
            .map_err(io)?;
        if all.len() as u64 > b.max_unpacked_bytes {
            let over = OverBudget::new(Limit::UnpackedBytes, b.max_unpacked_bytes);
            return Err(err(1, None, over.to_string()));
        }
        return parse_any_with(&all, &b);
    }
    Ok(vec![parse_reader(r)?])
}

fn archive_err(e: ArchiveError) -> BillError {
    err(1, None, e.to_string())
}

fn parse_nested(
    bytes: &[u8],
    depth: u8,
    b: &FileBudgets,
    budget: &mut Unpacked,
) -> Result<Vec<Bill>, BillError> {
    if (is_gzip(bytes) || is_zip(bytes)) && depth >= 3 {
        return Err(err(1, None, "archives are nested too deeply"));
    }
    if is_gzip(bytes) {
        let plain = budget::gunzip(bytes, b, budget).map_err(archive_err)?;
        return parse_nested(&plain, depth + 1, b, budget);
    }
    if !is_zip(bytes) {
        return Ok(vec![parse_reader_within(bytes, b.max_line_bytes)?]);
    }
    let members = budget::zip_members(bytes, b, budget).map_err(archive_err)?;
    let mut bills = Vec::new();
    for m in members {
        if is_alipay_totals(&m.bytes) {
            continue;
        }
        let inner = parse_nested(&m.bytes, depth + 1, b, budget).map_err(|e| BillError {
            message: format!("in member {} ({}): {}", m.index + 1, m.name, e.message),
            ..e
        })?;
        bills.extend(inner);
    }
    if bills.is_empty() {
        return Err(err(1, None, "the zip holds no WeChat Pay or Alipay bill"));
    }
    Ok(bills)
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1F, 0x8B])
}

/// `#支付宝业务汇总查询` / `#支付宝账务汇总查询`: per-store totals, not needed for matching.
fn is_alipay_totals(bytes: &[u8]) -> bool {
    // The first line is enough; decoding the whole member is not needed.
    let head = &bytes[..bytes.len().min(256)];
    let text = decode_text(head);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    first.starts_with("#支付宝业务汇总查询") || first.starts_with("#支付宝账务汇总查询")
}
