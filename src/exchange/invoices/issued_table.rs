//! A read-back sheet as a table: its cells as read, its header row found among the first rows.

use super::issued::IssuedError;
use super::layout::norm_header;
use crate::exchange::budget::{self, FileBudgets, WorkbookError};
use crate::exchange::grid::{header_texts, value_of};
use crate::exchange::sheet;

/// A cell as read, before it is interpreted (the readers' shared cell).
pub(super) use crate::exchange::grid::Value;

pub(super) struct Table {
    pub(super) sheet: String,
    pub(super) headers: Vec<String>,
    /// (spreadsheet row number, cells)
    pub(super) rows: Vec<(usize, Vec<Value>)>,
}

pub(super) const NUMBER: &[&str] = &["数电发票号码", "发票号码"];
pub(super) const REASON: &[&str] = &["导入失败原因", "失败原因", "错误原因"];
pub(super) const SERIAL: &[&str] = &["发票流水号"];
pub(super) const ISSUED_AT: &[&str] = &["开票日期"];
pub(super) const BUYER: &[&str] = &["购买方名称", "购方名称"];
pub(super) const AMOUNT: &[&str] = &["价税合计", "金额"];
pub(super) const POSITIVE: &[&str] = &["是否正数发票"];
pub(super) const STATUS: &[&str] = &["发票状态"];
pub(super) const REMARK: &[&str] = &["备注"];
pub(super) const LINK: &[&str] = &["下载链接", "下载地址", "发票链接", "链接", "url"];
pub(super) const SELLER: &[&str] = &["销方识别号", "销售方纳税人识别号", "销售方识别号"];

/// Splits a grid at its header row: the first of its first 20 rows that names a known key column,
/// else the first non-blank row.
fn table_from_grid(sheet: String, grid: Vec<(usize, Vec<Value>)>) -> Result<Table, IssuedError> {
    let keys: Vec<String> = NUMBER
        .iter()
        .chain(REASON)
        .chain(SERIAL)
        .map(|k| norm_header(k))
        .collect();
    let nonblank: Vec<usize> = grid
        .iter()
        .enumerate()
        .filter(|(_, (_, cells))| cells.iter().any(|c| *c != Value::Empty))
        .map(|(i, _)| i)
        .collect();
    let at = nonblank
        .iter()
        .take(20)
        .find(|&&i| {
            header_texts(&grid[i].1)
                .iter()
                .any(|h| keys.contains(&norm_header(h)))
        })
        .or(nonblank.first())
        .copied()
        .ok_or_else(|| IssuedError::Unreadable(format!("sheet {sheet} is empty")))?;
    let headers = header_texts(&grid[at].1);
    let rows = grid
        .into_iter()
        .skip(at + 1)
        .filter(|(_, cells)| cells.iter().any(|c| *c != Value::Empty))
        .collect();
    Ok(Table {
        sheet,
        headers,
        rows,
    })
}

/// The sheet that matters in a workbook: `发票基础信息`, else `信息汇总表`, else the first visible one.
pub(super) fn workbook_table(bytes: &[u8], b: &FileBudgets) -> Result<Table, IssuedError> {
    let (name, rows) = budget::xlsx_rows(bytes, b, |sheets| {
        ["发票基础信息", "信息汇总表"]
            .iter()
            .find_map(|n| sheets.iter().find(|s| s.name.trim() == *n))
            .or_else(|| {
                sheets
                    .iter()
                    .find(|s| s.visible == calamine::SheetVisible::Visible)
            })
            .map(|s| s.name.clone())
    })
    .map_err(|e| match e {
        WorkbookError::Over(o) => IssuedError::Over(o),
        WorkbookError::NoSheet => {
            IssuedError::Unreadable("the workbook has no visible sheet".into())
        }
        WorkbookError::Unreadable(m) => IssuedError::Unreadable(m),
    })?;
    let grid = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i + 1, r.iter().map(value_of).collect()))
        .collect();
    table_from_grid(name.trim().to_owned(), grid)
}

/// A CSV file (UTF-8 or GBK), through `sheet::read`; every cell is text.
pub(super) fn csv_table(bytes: &[u8], b: &FileBudgets) -> Result<Table, IssuedError> {
    let s = sheet::read_with(bytes, b)?;
    let cell = |c: &sheet::Cell| match c {
        sheet::Cell::Empty => Value::Empty,
        sheet::Cell::Text(t) => Value::Text(t.clone()),
        other => Value::Text(format!("{other:?}")),
    };
    let header_number = s.rows.first().map(|r| r.number - 1).unwrap_or(1);
    let mut grid = vec![(
        header_number,
        s.headers.iter().map(|h| Value::Text(h.clone())).collect(),
    )];
    grid.extend(
        s.rows
            .iter()
            .map(|r| (r.number, r.cells.iter().map(cell).collect())),
    );
    table_from_grid("CSV".to_owned(), grid)
}
