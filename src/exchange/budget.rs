//! Budgets of every uploaded or imported file (README, "Limits and hostile input"): rows,
//! columns, cells, bytes per cell, bill line and zip member, zip members, unpacked bytes. Every
//! reader in `exchange/` checks them here BEFORE it allocates: a zip's members are counted and
//! unpacked into a counter before a workbook is opened; an xlsx sheet is read cell by cell
//! (calamine's `worksheet_cells_reader`, never the dense `worksheet_range`), its declared
//! `<dimension>` and every real cell checked as it comes. Over a budget the file is refused with
//! an [`OverBudget`] error (Chinese, then English) naming the limit, its setting and, where one
//! applies, the row and column; nothing is changed.

use calamine::{Data, Reader};
use std::io::{Cursor, Read};
use std::sync::RwLock;

pub use crate::config::files::FileBudgets;
use crate::config::files::SETTINGS;

/// Which budget a file went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Rows,
    Columns,
    Cells,
    CellBytes,
    LineBytes,
    ZipMembers,
    MemberBytes,
    UnpackedBytes,
}

impl Limit {
    fn info(self) -> (&'static str, &'static str, &'static str, &'static str) {
        SETTINGS[self as usize]
    }

    /// The setting that raises this budget.
    pub fn setting(self) -> &'static str {
        self.info().0
    }
}

/// A file refused for going over a budget. `row`/`column` as a spreadsheet shows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct OverBudget {
    pub limit: Limit,
    pub max: u64,
    pub row: Option<u64>,
    pub column: Option<String>,
}

impl OverBudget {
    pub fn new(limit: Limit, max: u64) -> Self {
        OverBudget {
            limit,
            max,
            row: None,
            column: None,
        }
    }

    /// At a 0-based (row, column) of a sheet.
    pub fn at(mut self, row: u64, col: u64) -> Self {
        self.row = Some(row + 1);
        self.column = Some(super::sheet::column_letter(col.min(1 << 20) as usize));
        self
    }

    fn message(&self) -> String {
        let (setting, en, zh, unit) = self.limit.info();
        let (wzh, wen) = match (&self.row, &self.column) {
            (Some(r), Some(c)) => (
                format!("（第 {r} 行 {c} 列）"),
                format!(" (row {r}, column {c})"),
            ),
            (Some(r), None) => (format!("（第 {r} 行）"), format!(" (row {r})")),
            _ => (String::new(), String::new()),
        };
        let max = self.max;
        format!(
            "文件超出限制：{zh}超过 {max} {unit}{wzh}，未做任何更改（设置 {setting}） / \
             The file is over a limit: more than {max} {en}{wen}; nothing was changed (setting {setting})"
        )
    }
}

static CURRENT: RwLock<Option<FileBudgets>> = RwLock::new(None);

/// The budgets in force: those [`install`]ed at start, else the defaults.
pub fn current() -> FileBudgets {
    CURRENT.read().ok().and_then(|g| *g).unwrap_or_default()
}

/// Puts the settings' budgets in force for this process (the CLI does so once at start).
pub fn install(b: FileBudgets) {
    if let Ok(mut g) = CURRENT.write() {
        *g = Some(b);
    }
}

/// Why a zip (or gzip) was refused: damaged, or over a budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("{0}")]
    Damaged(String),
    #[error(transparent)]
    Over(#[from] OverBudget),
}

/// What is left of the unpacked-bytes budget of one file (shared by nested archives).
pub struct Unpacked(pub u64);

impl Unpacked {
    pub fn new(b: &FileBudgets) -> Self {
        Unpacked(b.max_unpacked_bytes)
    }
}

/// Reads at most `max` bytes of `r` (one more tells it went over).
fn read_bounded(r: impl Read, max: u64, out: &mut Vec<u8>) -> std::io::Result<bool> {
    r.take(max.saturating_add(1)).read_to_end(out)?;
    Ok(out.len() as u64 <= max)
}

/// Decompresses a gzip stream (also several concatenated members) within the budgets.
pub fn gunzip(bytes: &[u8], b: &FileBudgets, left: &mut Unpacked) -> Result<Vec<u8>, ArchiveError> {
    let max = b.max_member_bytes.min(left.0);
    let mut out = Vec::new();
    let fits = read_bounded(flate2::read::MultiGzDecoder::new(bytes), max, &mut out)
        .map_err(|e| ArchiveError::Damaged(format!("the gzip stream is damaged: {e}")))?;
    take(b, left, out.len() as u64, fits)?;
    Ok(out)
}

fn take(b: &FileBudgets, left: &mut Unpacked, used: u64, fits: bool) -> Result<(), OverBudget> {
    if used > left.0 {
        return Err(OverBudget::new(Limit::UnpackedBytes, b.max_unpacked_bytes));
    }
    if !fits || used > b.max_member_bytes {
        return Err(OverBudget::new(Limit::MemberBytes, b.max_member_bytes));
    }
    left.0 -= used;
    Ok(())
}

/// One file inside a zip.
#[derive(Debug, Clone)]
pub struct ZipMember {
    /// Its position in the zip (0-based).
    pub index: usize,
    /// Its name: UTF-8 when valid, otherwise GBK (Chinese tools write GBK without the UTF-8 flag).
    pub name: String,
    pub bytes: Vec<u8>,
}

fn open_zip<'a>(
    bytes: &'a [u8],
    b: &FileBudgets,
) -> Result<zip::ZipArchive<Cursor<&'a [u8]>>, ArchiveError> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ArchiveError::Damaged(format!("the zip cannot be opened: {e}")))?;
    if zip.len() as u64 > b.max_zip_members {
        return Err(OverBudget::new(Limit::ZipMembers, b.max_zip_members).into());
    }
    Ok(zip)
}

/// Visits each member of a zip (directories left out) as it is unpacked within the budgets:
/// the member count first, then each member's declared size, then what it really unpacks to.
fn each_member(
    bytes: &[u8],
    b: &FileBudgets,
    left: &mut Unpacked,
    mut keep: impl FnMut(usize, String, Vec<u8>),
    hold: bool,
) -> Result<(), ArchiveError> {
    let mut zip = open_zip(bytes, b)?;
    for index in 0..zip.len() {
        let mut f = zip.by_index(index).map_err(|e| {
            ArchiveError::Damaged(format!("member {} cannot be read: {e}", index + 1))
        })?;
        let name = super::sheet::decode_text(f.name_raw());
        if f.is_dir() {
            continue;
        }
        if f.size() > b.max_member_bytes {
            return Err(OverBudget::new(Limit::MemberBytes, b.max_member_bytes).into());
        }
        if f.size() > left.0 {
            return Err(OverBudget::new(Limit::UnpackedBytes, b.max_unpacked_bytes).into());
        }
        let max = b.max_member_bytes.min(left.0);
        let damaged = |e: std::io::Error| {
            ArchiveError::Damaged(format!(
                "member {} ({name}) cannot be unpacked: {e}",
                index + 1
            ))
        };
        let (used, fits, data) = if hold {
            let mut data = Vec::new();
            let fits = read_bounded(&mut f, max, &mut data).map_err(damaged)?;
            (data.len() as u64, fits, data)
        } else {
            let n = std::io::copy(
                &mut (&mut f).take(max.saturating_add(1)),
                &mut std::io::sink(),
            )
            .map_err(damaged)?;
            (n, n <= max, Vec::new())
        };
        take(b, left, used, fits)?;
        keep(index, name, data);
    }
    Ok(())
}

/// The files of a zip (directories left out), unpacked within the budgets. The sizes the zip
/// declares are not trusted: what is actually unpacked is counted.
pub fn zip_members(
    bytes: &[u8],
    b: &FileBudgets,
    left: &mut Unpacked,
) -> Result<Vec<ZipMember>, ArchiveError> {
    let mut out = Vec::new();
    each_member(
        bytes,
        b,
        left,
        |index, name, bytes| out.push(ZipMember { index, name, bytes }),
        true,
    )?;
    Ok(out)
}

/// Unpacks every member of a zip into a counter, holding nothing: the check before a workbook
/// library opens the zip itself.
pub fn check_zip(bytes: &[u8], b: &FileBudgets) -> Result<(), ArchiveError> {
    each_member(bytes, b, &mut Unpacked::new(b), |_, _, _| {}, false)
}

/// Why a workbook could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkbookError {
    #[error("{0}")]
    Unreadable(String),
    #[error("the workbook has no sheet to read")]
    NoSheet,
    #[error(transparent)]
    Over(#[from] OverBudget),
}

impl From<ArchiveError> for WorkbookError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Damaged(m) => WorkbookError::Unreadable(m),
            ArchiveError::Over(o) => WorkbookError::Over(o),
        }
    }
}

/// A sheet's cells by row: index `r` is the spreadsheet's row `r + 1` (rows without cells are
/// empty), each row as wide as its last cell.
pub type Rows = Vec<Vec<Data>>;

const LEGACY: &str = "只接受 .xlsx 和 .csv 文件，请另存为 .xlsx 后再上传 / \
                      only .xlsx and .csv files are read: save the file as .xlsx and upload it again";

/// Reads one sheet of an xlsx file (the one `pick` names from the workbook's sheets) within the
/// budgets, cell by cell. Legacy .xls and .ods files are refused: their readers lay out the
/// whole grid before any cell can be counted.
pub fn xlsx_rows(
    bytes: &[u8],
    b: &FileBudgets,
    pick: impl FnOnce(&[calamine::Sheet]) -> Option<String>,
) -> Result<(String, Rows), WorkbookError> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(WorkbookError::Unreadable(LEGACY.into()));
    }
    check_zip(bytes, b)?;
    if open_zip(bytes, b)?
        .index_for_name("xl/workbook.xml")
        .is_none()
    {
        return Err(WorkbookError::Unreadable(LEGACY.into()));
    }
    // calamine works out cell positions in u32 arithmetic that a hostile reference
    // (`r="AAAAAAAA1"`, a reversed `<dimension>`) overflows: release builds wrap (and the budgets
    // below refuse the result), builds with overflow checks would panic, so do any other panic
    // of the third-party reader: it is the file's fault, answered as an unreadable file.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sheet_rows(bytes, b, pick)))
        .unwrap_or_else(|_| {
            Err(WorkbookError::Unreadable(
                "the workbook cannot be read: its cells are malformed".into(),
            ))
        })
}

fn sheet_rows(
    bytes: &[u8],
    b: &FileBudgets,
    pick: impl FnOnce(&[calamine::Sheet]) -> Option<String>,
) -> Result<(String, Rows), WorkbookError> {
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(bytes))
        .map_err(|e| WorkbookError::Unreadable(format!("the workbook cannot be read: {e}")))?;
    let name = pick(wb.sheets_metadata()).ok_or(WorkbookError::NoSheet)?;
    let mut cells = wb
        .worksheet_cells_reader(&name)
        .map_err(|e| WorkbookError::Unreadable(format!("sheet {name} cannot be read: {e}")))?;
    let dim = cells.dimensions();
    if u64::from(dim.end.0) >= b.max_rows {
        return Err(OverBudget::new(Limit::Rows, b.max_rows)
            .at(u64::from(dim.end.0), u64::from(dim.end.1))
            .into());
    }
    if u64::from(dim.end.1) >= b.max_columns {
        return Err(OverBudget::new(Limit::Columns, b.max_columns)
            .at(u64::from(dim.end.0), u64::from(dim.end.1))
            .into());
    }
    let mut rows: Rows = Vec::new();
    let mut laid_out: u64 = 0;
    loop {
        let cell = cells
            .next_cell()
            .map_err(|e| WorkbookError::Unreadable(format!("sheet {name} cannot be read: {e}")))?;
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        let (r64, c64) = (u64::from(r), u64::from(c));
        if r64 >= b.max_rows {
            return Err(OverBudget::new(Limit::Rows, b.max_rows).at(r64, c64).into());
        }
        if c64 >= b.max_columns {
            return Err(OverBudget::new(Limit::Columns, b.max_columns)
                .at(r64, c64)
                .into());
        }
        let value: Data = cell.get_value().clone().into();
        if let Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) = &value
            && s.len() as u64 > b.max_cell_bytes
        {
            return Err(OverBudget::new(Limit::CellBytes, b.max_cell_bytes)
                .at(r64, c64)
                .into());
        }
        if value == Data::Empty {
            continue;
        }
        let (r, c) = (r as usize, c as usize);
        if rows.len() <= r {
            // Empty rows are empty vectors; the row count is bounded above.
            rows.resize_with(r + 1, Vec::new);
        }
        let row = &mut rows[r];
        if row.len() <= c {
            laid_out += (c + 1 - row.len()) as u64;
            if laid_out > b.max_cells {
                return Err(OverBudget::new(Limit::Cells, b.max_cells)
                    .at(r64, c64)
                    .into());
            }
            row.resize(c + 1, Data::Empty);
        }
        row[c] = value;
    }
    Ok((name, rows))
}

/// Counts a CSV field or a row as a CSV reader yields it (0-based line and field index).
pub fn check_csv_field(b: &FileBudgets, line: u64, col: u64, len: usize) -> Result<(), OverBudget> {
    if col >= b.max_columns {
        return Err(OverBudget::new(Limit::Columns, b.max_columns).at(line, col));
    }
    if len as u64 > b.max_cell_bytes {
        return Err(OverBudget::new(Limit::CellBytes, b.max_cell_bytes).at(line, col));
    }
    Ok(())
}

/// Counts the rows and laid-out cells of a CSV (0-based line).
pub fn check_csv_row(
    b: &FileBudgets,
    line: u64,
    width: u64,
    laid_out: &mut u64,
) -> Result<(), OverBudget> {
    if line >= b.max_rows {
        return Err(OverBudget::new(Limit::Rows, b.max_rows).at(line, 0));
    }
    *laid_out += width;
    if *laid_out > b.max_cells {
        return Err(OverBudget::new(Limit::Cells, b.max_cells).at(line, 0));
    }
    Ok(())
}
