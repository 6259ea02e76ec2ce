//! Reading back what was issued (§8): the file or zip, its invoice files, all or nothing.

use super::issued_lines::absorb;
use super::issued_table::{csv_table, workbook_table};
use crate::domain::money::Fen;
use crate::exchange::budget::{self, ArchiveError, FileBudgets, OverBudget, Unpacked};
use crate::exchange::sheet::{self, RowError};
use chrono::{DateTime, Utc};

/// One issued invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedLine {
    /// The spreadsheet row (1-based) it came from; for `信息汇总表`, its first line's row.
    pub row: usize,
    /// The 20-digit 数电发票号码.
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub buyer: String,
    /// 价税合计 (else 金额); negative on a red-letter invoice.
    pub amount_fen: Fen,
    /// False for a red-letter invoice (是否正数发票 = 否).
    pub positive: bool,
    pub status: String,
    pub remark: String,
    pub serial: Option<String>,
    pub link: Option<String>,
    pub seller_tax_id: Option<String>,
}

/// An invoice file (PDF/OFD/XML) whose name carries its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFile {
    pub number: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A row of the platform's failure list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureLine {
    pub row: usize,
    pub serial: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IssuedFile {
    pub lines: Vec<IssuedLine>,
    pub files: Vec<InvoiceFile>,
    pub failures: Vec<FailureLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuedError {
    #[error("{0}")]
    Unreadable(String),
    #[error("sheet {sheet}: the required column {column} is missing from the header row")]
    MissingColumn { sheet: String, column: String },
    #[error("sheet {sheet}: {}{}", .errors.first().map(|e| e.to_string()).unwrap_or_default(), if .errors.len() > 1 { format!(" (and {} more errors)", .errors.len() - 1) } else { String::new() })]
    Cells {
        sheet: String,
        errors: Vec<RowError>,
    },
    #[error(transparent)]
    Over(#[from] OverBudget),
    #[error("in {member}: {error}")]
    Member {
        member: String,
        error: Box<IssuedError>,
    },
}

pub(super) const REOPEN: &str =
    "import the original download from the platform, not a copy a spreadsheet re-saved";

/// Reads the platform's export (`发票基础信息`, else `信息汇总表` grouped by number), a plain
/// list (xlsx/xls/csv, UTF-8 or GBK), a failure list (by its reason column), or a zip of any of
/// these plus invoice files named with their number. One bad value refuses everything.
pub fn read_issued(bytes: &[u8]) -> Result<IssuedFile, IssuedError> {
    read_issued_with(bytes, &budget::current())
}

/// As [`read_issued`], within the given budgets.
pub fn read_issued_with(bytes: &[u8], b: &FileBudgets) -> Result<IssuedFile, IssuedError> {
    let mut out = IssuedFile::default();
    let mut left = Unpacked::new(b);
    read_into(bytes, 0, b, &mut left, &mut out)?;
    if out.lines.is_empty() && out.files.is_empty() && out.failures.is_empty() {
        return Err(IssuedError::Unreadable(
            "the file holds no issued invoice, invoice file or failure line".into(),
        ));
    }
    Ok(out)
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn is_ole(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// A zip that is a workbook rather than an archive of files.
fn is_workbook_zip(bytes: &[u8]) -> bool {
    is_zip(bytes)
        && zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map(|z| z.index_for_name("xl/workbook.xml").is_some())
            .unwrap_or(false)
}

impl From<ArchiveError> for IssuedError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Damaged(m) => IssuedError::Unreadable(m),
            ArchiveError::Over(o) => IssuedError::Over(o),
        }
    }
}

impl From<sheet::SheetError> for IssuedError {
    fn from(e: sheet::SheetError) -> Self {
        match e {
            sheet::SheetError::Over(o) => IssuedError::Over(o),
            other => IssuedError::Unreadable(other.to_string()),
        }
    }
}

fn read_into(
    bytes: &[u8],
    depth: u8,
    b: &FileBudgets,
    budget: &mut Unpacked,
    out: &mut IssuedFile,
) -> Result<(), IssuedError> {
    let table = if is_ole(bytes) || is_workbook_zip(bytes) {
        workbook_table(bytes, b)?
    } else if is_zip(bytes) {
        if depth >= 2 {
            return Err(IssuedError::Unreadable(
                "archives are nested too deeply".into(),
            ));
        }
        return read_zip(bytes, depth, b, budget, out);
    } else if bytes.starts_with(b"%PDF") || bytes.starts_with(b"<?xml") {
        return Err(IssuedError::Unreadable(
            "an invoice file alone cannot be attached: its number is in its file name; \
             upload it inside a zip"
                .into(),
        ));
    } else {
        csv_table(bytes, b)?
    };
    absorb(&table, out)
}

fn read_zip(
    bytes: &[u8],
    depth: u8,
    b: &FileBudgets,
    budget: &mut Unpacked,
    out: &mut IssuedFile,
) -> Result<(), IssuedError> {
    let members = budget::zip_members(bytes, b, budget)?;
    for m in members {
        let base = m.name.rsplit(['/', '\\']).next().unwrap_or(&m.name);
        if m.name.starts_with("__MACOSX/") || base.starts_with('.') || base.is_empty() {
            continue;
        }
        let label = format!("member {} ({})", m.index + 1, m.name);
        let lower = base.to_lowercase();
        let invoice_like = [".pdf", ".ofd", ".xml"].iter().any(|e| lower.ends_with(e))
            || m.bytes.starts_with(b"%PDF");
        if invoice_like {
            let number = number_in_name(base).ok_or_else(|| IssuedError::Member {
                member: label.clone(),
                error: Box::new(IssuedError::Unreadable(
                    "an invoice file whose name holds no single 20-digit invoice number".into(),
                )),
            })?;
            out.files.push(InvoiceFile {
                number,
                name: m.name.clone(),
                bytes: m.bytes,
            });
            continue;
        }
        read_into(&m.bytes, depth + 1, b, budget, out).map_err(|e| IssuedError::Member {
            member: label.clone(),
            error: Box::new(e),
        })?;
    }
    Ok(())
}

/// The one run of exactly 20 digits in a file name (`dzfp_<20 digits>_<seller>_<time>.pdf`).
fn number_in_name(name: &str) -> Option<String> {
    let runs: Vec<&str> = name
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() == 20)
        .collect();
    match runs.as_slice() {
        [one] => Some((*one).to_owned()),
        _ => None,
    }
}
