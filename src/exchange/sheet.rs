//! Spreadsheets in: xlsx (calamine, read cell by cell within the budgets of `budget`) and CSV (UTF-8, or GBK/GB18030 as Excel in China
//! writes it) become rows of cells under a header row. Errors name the row as a spreadsheet
//! shows it (the header is row 1) and the column by letter and header.

use super::budget::{self, FileBudgets};
use super::grid::{self, Value};
pub use super::grid::{RowError, SheetError, column_letter, column_name, decode_text};
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

/// Reads the first sheet of a workbook, or a CSV file, told apart by content, within the
/// budgets in force ([`budget::current`]).
pub fn read(bytes: &[u8]) -> Result<Sheet, SheetError> {
    read_with(bytes, &budget::current())
}

/// As [`read`], within the given budgets.
pub fn read_with(bytes: &[u8], b: &FileBudgets) -> Result<Sheet, SheetError> {
    let grid = if grid::is_workbook(bytes) {
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

/// The CSV's lines as rows, the blank ones empty, so that row `i` is line `i + 1`.
fn csv_grid(bytes: &[u8], b: &FileBudgets) -> Result<Vec<Vec<Cell>>, SheetError> {
    let mut grid = Vec::new();
    for (line, cells) in grid::csv_grid(bytes, b)? {
        while grid.len() + 1 < line {
            grid.push(Vec::new());
        }
        grid.push(
            cells
                .into_iter()
                .map(|c| match c {
                    Value::Text(t) => Cell::Text(t),
                    _ => Cell::Empty,
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
                pos.map(|p| column_name(p, &sheet.headers[p]))
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

    /// A required text cell read by `parse`; a text it does not know is refused as
    /// "'<text>' is not <allowed>".
    pub fn parsed<T>(
        &self,
        row: &Row,
        i: usize,
        parse: impl FnOnce(&str) -> Option<T>,
        allowed: &str,
    ) -> Result<T, RowError> {
        let text = self.required_text(row, i)?;
        parse(&text).ok_or_else(|| self.error(row, i, format!("'{text}' is not {allowed}")))
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

/// Reads the sheet within the budgets, finds the `wanted` columns and parses every row with
/// `parse`, collecting every error (all or nothing); a row whose `key` appeared in an earlier
/// row is refused, named in the first wanted column.
pub fn read_rows<T, K: Ord + std::fmt::Display>(
    bytes: &[u8],
    b: &FileBudgets,
    wanted: &[(&str, &str, bool)],
    key: impl Fn(&T) -> K,
    mut parse: impl FnMut(&Columns, &Row) -> Result<T, RowError>,
) -> Result<Vec<T>, SheetError> {
    let sheet = read_with(bytes, b)?;
    let c = Columns::find(&sheet, wanted)?;
    let mut out = Vec::with_capacity(sheet.rows.len());
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for row in &sheet.rows {
        match parse(&c, row) {
            Ok(v) => {
                let k = key(&v);
                if let Some(first) = seen.get(&k) {
                    errors.push(c.error(row, 0, format!("{k} appears already in row {first}")));
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
