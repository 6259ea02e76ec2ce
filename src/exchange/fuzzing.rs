//! The pure entry points of the file fuzz targets (`fuzz/fuzz_targets/{bills,sheet,tracking,
//! issued,calendar,registry}.rs`): every parser of an uploaded file, on arbitrary bytes, within
//! small budgets so a fuzzer's memory limit is never the finding. Each answers what it read or
//! its typed error's message, never a panic. The committed corpus (`fuzz/corpus/<target>/`) is
//! replayed by `cargo test`: files named `ok-*` must be read, `over-<limit>-*` refused naming
//! that budget's setting, `bad-*` refused with a typed error.

use super::budget::FileBudgets;
use super::{calendar, certificates, couriers, invoices, payment_bills, sheet};

/// The budgets of a fuzz run: small enough to unpack and lay out quickly.
pub fn fuzz_budgets() -> FileBudgets {
    FileBudgets {
        max_rows: 10_000,
        max_columns: 256,
        max_cells: 100_000,
        max_cell_bytes: 32 * 1024,
        max_line_bytes: 64 * 1024,
        max_zip_members: 100,
        max_member_bytes: 8 * 1024 * 1024,
        max_unpacked_bytes: 16 * 1024 * 1024,
    }
}

/// Rows (or bills, invoices…) read, or the refusal's message.
pub type Outcome = Result<usize, String>;

fn refused(e: impl std::fmt::Display) -> String {
    let m = e.to_string();
    assert!(!m.trim().is_empty(), "a refusal says why");
    m
}

pub fn fuzz_bills(data: &[u8]) -> Outcome {
    payment_bills::parse_any_with(data, &fuzz_budgets())
        .map(|b| b.iter().map(|b| b.lines.len()).sum())
        .map_err(refused)
}

pub fn fuzz_sheet(data: &[u8]) -> Outcome {
    sheet::read_with(data, &fuzz_budgets())
        .map(|s| s.rows.len())
        .map_err(refused)
}

pub fn fuzz_tracking(data: &[u8]) -> Outcome {
    couriers::read_tracking_with(data, &fuzz_budgets())
        .map(|r| r.len())
        .map_err(refused)
}

pub fn fuzz_issued(data: &[u8]) -> Outcome {
    invoices::read_issued_with(data, &fuzz_budgets())
        .map(|f| f.lines.len() + f.files.len() + f.failures.len())
        .map_err(refused)
}

pub fn fuzz_calendar(data: &[u8]) -> Outcome {
    calendar::parse_with(data, &fuzz_budgets())
        .map(|d| d.len())
        .map_err(refused)
}

pub fn fuzz_registry(data: &[u8]) -> Outcome {
    certificates::parse_with(data, &fuzz_budgets())
        .map(|c| c.len())
        .map_err(refused)
}

/// The committed corpus of a fuzz target (`fuzz/corpus/<target>/`), its files in name order.
#[cfg(test)]
pub(crate) fn corpus_files(target: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// A file parser as the fuzz targets call it.
pub type Parser = fn(&[u8]) -> Outcome;

/// The parser of each file fuzz target, by its name.
pub const TARGETS: [(&str, Parser); 6] = [
    ("bills", fuzz_bills),
    ("sheet", fuzz_sheet),
    ("tracking", fuzz_tracking),
    ("issued", fuzz_issued),
    ("calendar", fuzz_calendar),
    ("registry", fuzz_registry),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::budget::Limit;

    const LIMITS: [(&str, Limit); 8] = [
        ("rows", Limit::Rows),
        ("columns", Limit::Columns),
        ("cells", Limit::Cells),
        ("cellbytes", Limit::CellBytes),
        ("linebytes", Limit::LineBytes),
        ("members", Limit::ZipMembers),
        ("memberbytes", Limit::MemberBytes),
        ("unpacked", Limit::UnpackedBytes),
    ];

    #[test]
    fn every_file_corpus_replays_as_its_names_say() {
        for (target, parse) in TARGETS {
            let (mut ok, mut over) = (0, 0);
            for path in corpus_files(target) {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let data = std::fs::read(&path).unwrap();
                let got = parse(&data);
                if name.starts_with("ok-") {
                    let n = got.unwrap_or_else(|e| panic!("{target}/{name}: {e}"));
                    assert!(n > 0, "{target}/{name}: nothing read");
                    ok += 1;
                } else if let Some(rest) = name.strip_prefix("over-") {
                    let (_, limit) = LIMITS
                        .iter()
                        .find(|(k, _)| rest.starts_with(&format!("{k}-")))
                        .unwrap_or_else(|| panic!("{target}/{name}: which limit?"));
                    let e = got.expect_err(&format!("{target}/{name} is read"));
                    assert!(
                        e.contains(limit.setting()) && e.contains("文件超出限制"),
                        "{target}/{name}: {e}"
                    );
                    over += 1;
                } else if name.starts_with("bad-") {
                    got.expect_err(&format!("{target}/{name} is read"));
                } else {
                    // Read or refused, either is fine: it only must not panic.
                    assert!(
                        name.starts_with("any-"),
                        "{target}/{name}: ok-, over-, bad- or any-"
                    );
                }
            }
            assert!(ok >= 1 && over >= 3, "{target}: {ok} ok, {over} over");
        }
    }
}
