//! Spreadsheets in: xlsx (calamine, read cell by cell within the budgets of `budget`) and CSV (UTF-8, or GBK/GB18030 as Excel in China
//! writes it) become rows of cells under a header row. Errors name the row as a spreadsheet
//! shows it (the header is row 1) and the column by letter and header.

use super::budget::{self, FileBudgets, OverBudget, WorkbookError};
use calamine::Data;
use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

#[derive(Debug)]
pub struct Row {
    /// The row number a spreadsheet shows (the header is row 1).
    pub number: usize,
    pub cells: Vec<Cell>,
}

#[derive(Debug)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// A bad cell or row; `column` is like `C (证件号码)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {row}, column {column}: {message}")]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the file cannot be read as a spreadsheet: {0}")]
    Unreadable(String),
    #[error("the file has no header row")]
    Empty,
    #[error("the required column '{0}' is missing from the header row")]
    MissingColumn(String),
    #[error(transparent)]
    Over(#[from] OverBudget),
    #[error("{}{}", .0.first().map(|e| e.to_string()).unwrap_or_default(), if .0.len() > 1 { format!(" (and {} more errors)", .0.len() - 1) } else { String::new() })]
    Rows(Vec<RowError>),
}

/// `0 → A`, `26 → AA`.
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

/// Decodes text bytes: UTF-8 when valid (a BOM dropped), otherwise GB18030 (a superset of GBK).
pub fn decode_text(bytes: &[u8]) -> String {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(b)
            .0
            .into_owned(),
    }
}

impl From<WorkbookError> for SheetError {
    fn from(e: WorkbookError) -> Self {
        match e {
            WorkbookError::Unreadable(m) => SheetError::Unreadable(m),
            WorkbookError::NoSheet => SheetError::Empty,
            WorkbookError::Over(o) => SheetError::Over(o),
        }
    }
}

/// Reads the first sheet of a workbook, or a CSV file, told apart by content, within the
/// budgets in force ([`budget::current`]).
pub fn read(bytes: &[u8]) -> Result<Sheet, SheetError> {
    read_with(bytes, &budget::current())
}

/// As [`read`], within the given budgets.
pub fn read_with(bytes: &[u8], b: &FileBudgets) -> Result<Sheet, SheetError> {
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    let is_ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let grid = if is_zip || is_ole {
        workbook_grid(bytes, b)?
    } else {
        csv_grid(bytes, b)?
    };
    let mut it = grid.into_iter().enumerate();
    let headers = loop {
        match it.next() {
            None => return Err(SheetError::Empty),
            Some((_, cells)) if cells.iter().all(|c| *c == Cell::Empty) => continue,
            Some((_, cells)) => {
                break cells
                    .into_iter()
                    .map(|c| match c {
                        Cell::Text(s) => s.trim().trim_start_matches('\u{feff}').to_owned(),
                        Cell::Empty => String::new(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>();
            }
        }
    };
    let rows = it
        .filter(|(_, cells)| cells.iter().any(|c| *c != Cell::Empty))
        .map(|(i, cells)| Row {
            number: i + 1,
            cells,
        })
        .collect();
    Ok(Sheet { headers, rows })
}

fn workbook_grid(bytes: &[u8], b: &FileBudgets) -> Result<Vec<Vec<Cell>>, SheetError> {
    let (_, rows) = budget::xlsx_rows(bytes, b, |sheets| sheets.first().map(|s| s.name.clone()))?;
    Ok(rows
        .iter()
        .map(|r| r.iter().map(cell_of).collect())
        .collect())
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) if s.trim().is_empty() => Cell::Empty,
        Data::String(s) => Cell::Text(s.trim().to_owned()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|d| Cell::Date(d.date()))
            .unwrap_or(Cell::Empty),
        // `YYYY-MM-DD…`: the first ten bytes, when they end on a character boundary.
        Data::DateTimeIso(s) => s
            .get(..s.len().min(10))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(Cell::Date)
            .unwrap_or_else(|| Cell::Text(s.clone())),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

fn csv_grid(bytes: &[u8], b: &FileBudgets) -> Result<Vec<Vec<Cell>>, SheetError> {
    let text = decode_text(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    let mut laid_out = 0;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| SheetError::Unreadable(format!("line {}: {e}", i + 1)))?;
        // The csv reader skips blank lines; keep the numbering a spreadsheet would show.
        // Its position is where parsing began, before the blank lines it skipped: count those.
        let line = rec
            .position()
            .map(|p| {
                let skipped = text.as_bytes()[p.byte() as usize..]
                    .iter()
                    .take_while(|b| **b == b'\n' || **b == b'\r')
                    .filter(|b| **b == b'\n')
                    .count();
                p.line() as usize + skipped
            })
            .unwrap_or(grid.len() + 1);
        budget::check_csv_row(
            b,
            (line as u64).saturating_sub(1),
            rec.len() as u64,
            &mut laid_out,
        )?;
        for (c, f) in rec.iter().enumerate() {
            budget::check_csv_field(b, (line as u64).saturating_sub(1), c as u64, f.len())?;
        }
        while grid.len() + 1 < line {
            grid.push(Vec::new());
        }
        grid.push(
            rec.iter()
                .map(|f| {
                    let t = f.trim();
                    if t.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(t.to_owned())
                    }
                })
                .collect(),
        );
    }
    Ok(grid)
}

/// Where each wanted column is, found by its English or Chinese header (case and spaces ignored).
pub struct Columns {
    idx: Vec<Option<usize>>,
    names: Vec<String>,
}

impl Columns {
    /// `wanted`: (English, Chinese, required).
    pub fn find(sheet: &Sheet, wanted: &[(&str, &str, bool)]) -> Result<Columns, SheetError> {
        let norm = |s: &str| s.trim().to_lowercase().replace([' ', '\t'], "");
        let mut idx = Vec::new();
        let mut names = Vec::new();
        for (en, zh, required) in wanted {
            let pos = sheet
                .headers
                .iter()
                .position(|h| norm(h) == norm(en) || norm(h) == norm(zh));
            if pos.is_none() && *required {
                return Err(SheetError::MissingColumn(format!("{en} / {zh}")));
            }
            names.push(
                pos.map(|p| format!("{} ({})", column_letter(p), sheet.headers[p]))
                    .unwrap_or_else(|| en.to_string()),
            );
            idx.push(pos);
        }
        Ok(Columns { idx, names })
    }

    pub fn cell<'r>(&self, row: &'r Row, i: usize) -> &'r Cell {
        self.idx[i]
            .and_then(|p| row.cells.get(p))
            .unwrap_or(&Cell::Empty)
    }

    pub fn error(&self, row: &Row, i: usize, message: impl Into<String>) -> RowError {
        RowError {
            row: row.number,
            column: self.names[i].clone(),
            message: message.into(),
        }
    }

    /// The cell as text; numbers only when whole and short enough to be exact (long ID numbers
    /// typed into a number cell lose digits, so they are refused).
    pub fn text(&self, row: &Row, i: usize) -> Result<Option<String>, RowError> {
        match self.cell(row, i) {
            Cell::Empty => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Ok(Some(format!("{}", *n as i64)))
            }
            Cell::Number(_) => Err(self.error(
                row,
                i,
                "is stored as a number and has lost digits; format the column as text",
            )),
            Cell::Date(d) => Ok(Some(d.to_string())),
            Cell::Bool(b) => Ok(Some(b.to_string())),
        }
    }

    pub fn required_text(&self, row: &Row, i: usize) -> Result<String, RowError> {
        self.text(row, i)?
            .ok_or_else(|| self.error(row, i, "is empty"))
    }

    /// A date cell, or text `YYYY-MM-DD` (also `YYYY/MM/DD`).
    pub fn date(&self, row: &Row, i: usize) -> Result<NaiveDate, RowError> {
        match self.cell(row, i) {
            Cell::Date(d) => Ok(*d),
            Cell::Text(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
                .map_err(|_| self.error(row, i, format!("'{s}' is not a date (YYYY-MM-DD)"))),
            Cell::Empty => Err(self.error(row, i, "is empty")),
            _ => Err(self.error(row, i, "is not a date (YYYY-MM-DD)")),
        }
    }
}

/// Parses every row with `parse`, collecting every error (all or nothing), and refuses a row
/// whose `key` appeared in an earlier row (named in column `key_col`).
pub fn collect_rows<T, K: Ord + std::fmt::Display>(
    sheet: &Sheet,
    c: &Columns,
    key_col: usize,
    key: impl Fn(&T) -> K,
    mut parse: impl FnMut(&Row) -> Result<T, RowError>,
) -> Result<Vec<T>, SheetError> {
    let mut out = Vec::with_capacity(sheet.rows.len());
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for row in &sheet.rows {
        match parse(row) {
            Ok(v) => {
                let k = key(&v);
                if let Some(first) = seen.get(&k) {
                    errors.push(c.error(
                        row,
                        key_col,
                        format!("{k} appears already in row {first}"),
                    ));
                } else {
                    seen.insert(k, row.number);
                    out.push(v);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SheetError::Rows(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn gbk_csv_with_blank_lines() {
        let (gbk, _, _) = encoding_rs::GBK.encode("日期,类型\n\n2026-10-01,放假\n");
        let s = read(&gbk).unwrap();
        assert_eq!(s.headers, vec!["日期", "类型"]);
        assert_eq!(s.rows.len(), 1);
        assert_eq!(s.rows[0].number, 3);
        assert_eq!(s.rows[0].cells[1], Cell::Text("放假".into()));
    }
}

#[cfg(test)]
#[path = "sheet_budget_tests.rs"]
mod budget_tests;
