//! The toolkit every file reader in `exchange` shares: a cell as read ([`Value`], from calamine's
//! cells by [`value_of`]), a grid of numbered rows from a workbook ([`workbook_grid`]) or a CSV
//! ([`csv_grid`], UTF-8 or GBK, numbered as a spreadsheet shows the lines), header matching
//! ([`norm_header`], [`position`]), column names for messages ([`column_name`]), Excel's
//! sheet-name rule ([`check_sheet_name`]) and the errors that name a row and column
//! ([`RowError`], [`SheetError`]).
//!
//! A reader picks its header row and interprets the cells itself; what is here only turns bytes
//! into numbered rows of plain values, the same way for every file.

use super::budget::{self, FileBudgets, OverBudget, WorkbookError};
use crate::domain::calendar::beijing;
use calamine::Data;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

// ---------------------------------------------------------------------------------------------
// Errors naming row and column
// ---------------------------------------------------------------------------------------------

/// A bad cell or row; `column` is like `C (证件号码)` ([`column_name`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {row}, column {column}: {message}")]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

/// Why a spreadsheet or CSV was refused as a whole.
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

impl From<WorkbookError> for SheetError {
    fn from(e: WorkbookError) -> Self {
        match e {
            WorkbookError::Unreadable(m) => SheetError::Unreadable(m),
            WorkbookError::NoSheet => SheetError::Empty,
            WorkbookError::Over(o) => SheetError::Over(o),
        }
    }
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

/// A column as messages name it: `C (运单号)`.
pub fn column_name(i: usize, header: &str) -> String {
    format!("{} ({header})", column_letter(i))
}

// ---------------------------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------------------------

/// A cell as read, before a reader interprets it. Text is trimmed; blank text is `Empty`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    /// A cell formatted as a date or date-time.
    Time(NaiveDateTime),
    /// A spreadsheet error such as `#VALUE!`.
    Bad(String),
}

static EMPTY: Value = Value::Empty;

impl Value {
    pub fn is_empty(&self) -> bool {
        *self == Value::Empty
    }

    /// A number cell's value (`Int` or `Float`).
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// A number that is a date-time which lost its format: Excel's serial days, 2000 to 2099.
    pub fn serial_time(&self) -> Option<NaiveDateTime> {
        self.number()
            .filter(|f| (36_526.0..73_051.0).contains(f))
            .map(excel_serial)
    }
}

/// Cell `i` of a row; `Empty` past its end.
pub fn cell(cells: &[Value], i: usize) -> &Value {
    cells.get(i).unwrap_or(&EMPTY)
}

/// A calamine cell as a [`Value`].
pub fn value_of(d: &Data) -> Value {
    match d {
        Data::Empty => Value::Empty,
        Data::String(s) if s.trim().is_empty() => Value::Empty,
        Data::String(s) => Value::Text(s.trim().to_owned()),
        Data::Int(i) => Value::Int(*i),
        Data::Float(f) => Value::Float(*f),
        Data::Bool(b) => Value::Text(b.to_string()),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_datetime() => Value::Time(t),
            _ => Value::Float(dt.as_f64()),
        },
        Data::DateTimeIso(s) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
            .map(Value::Time)
            .unwrap_or_else(|_| Value::Text(s.clone())),
        Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(e) => Value::Bad(format!("{e:?}")),
    }
}

/// Excel's serial days (1900 date system) as a wall time, to the second.
pub fn excel_serial(days: f64) -> NaiveDateTime {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid");
    base + Duration::seconds((days * 86_400.0).round() as i64)
}

/// A Beijing wall time (what the files hold) as UTC.
pub fn beijing_utc(naive: &NaiveDateTime) -> DateTime<Utc> {
    beijing()
        .from_local_datetime(naive)
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------------
// Grids: numbered rows of cells
// ---------------------------------------------------------------------------------------------

/// (spreadsheet row number, 1-based; the cells of that row)
pub type Grid = Vec<(usize, Vec<Value>)>;

/// An xlsx (or docx, jar …) file: a zip.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// A legacy Office file (xls): an OLE compound document.
pub fn is_ole(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// Read as a workbook rather than as text: a zip or an OLE file.
pub fn is_workbook(bytes: &[u8]) -> bool {
    is_zip(bytes) || is_ole(bytes)
}

/// The sheet `pick` chooses (given the workbook's sheets), within the budgets: its name and its
/// rows, every row numbered, blank ones included.
pub fn workbook_grid(
    bytes: &[u8],
    b: &FileBudgets,
    pick: impl FnOnce(&[calamine::Sheet]) -> Option<String>,
) -> Result<(String, Grid), WorkbookError> {
    let (name, rows) = budget::xlsx_rows(bytes, b, pick)?;
    let grid = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i + 1, r.iter().map(value_of).collect()))
        .collect();
    Ok((name, grid))
}

/// The first visible sheet, for [`workbook_grid`].
pub fn first_visible(sheets: &[calamine::Sheet]) -> Option<String> {
    sheets
        .iter()
        .find(|s| s.visible == calamine::SheetVisible::Visible)
        .map(|s| s.name.clone())
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

/// CSV (UTF-8 or GBK, as [`decode_text`] tells apart) within the budgets, every cell `Text`
/// (trimmed) or `Empty`, each record numbered as a spreadsheet shows the lines: blank lines are
/// counted but not returned.
pub fn csv_grid(bytes: &[u8], b: &FileBudgets) -> Result<Grid, SheetError> {
    let text = decode_text(bytes);
    let mut laid_out = 0;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut last = 0;
    loop {
        let line_hint = last + 1;
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(SheetError::Unreadable(format!("line {line_hint}: {e}"))),
        }
        // The position is where parsing began, before the blank lines the reader skipped.
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
            .unwrap_or(line_hint);
        last = line;
        let at = (line as u64).saturating_sub(1);
        budget::check_csv_row(b, at, rec.len() as u64, &mut laid_out)?;
        for (c, f) in rec.iter().enumerate() {
            budget::check_csv_field(b, at, c as u64, f.len())?;
        }
        let cells = rec
            .iter()
            .map(|f| {
                let t = f.trim();
                if t.is_empty() {
                    Value::Empty
                } else {
                    Value::Text(t.to_owned())
                }
            })
            .collect();
        grid.push((line, cells));
    }
    Ok(grid)
}

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

/// Headers compare without whitespace or line breaks, a leading `*` (a required-field mark) or
/// the difference between full-width and ASCII parentheses; ASCII letters in any case.
pub fn norm_header(s: &str) -> String {
    s.trim()
        .trim_start_matches('*')
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A row's cells as header texts: text trimmed (a BOM dropped), anything else empty.
pub fn header_texts(cells: &[Value]) -> Vec<String> {
    cells
        .iter()
        .map(|c| match c {
            Value::Text(s) => s.trim().trim_start_matches('\u{feff}').to_owned(),
            _ => String::new(),
        })
        .collect()
}

/// The column of the first alias present (by [`norm_header`]), so the order of `aliases` says
/// which wins when a file has two of them.
pub fn position(headers: &[String], aliases: &[&str]) -> Option<usize> {
    let normed: Vec<String> = headers.iter().map(|h| norm_header(h)).collect();
    aliases.iter().find_map(|a| {
        let want = norm_header(a);
        normed.iter().position(|h| *h == want)
    })
}

/// Excel's rule for a sheet name: 1 to 31 characters, none of `[ ] : * ? / \`.
pub fn check_sheet_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 || n > 31 || name.contains(['[', ']', ':', '*', '?', '/', '\\']) {
        return Err(format!("'{name}' is not a valid sheet name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_names() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(column_name(2, "运单号"), "C (运单号)");
    }

    #[test]
    fn headers_match_loosely_and_the_first_alias_wins() {
        assert_eq!(norm_header(" *收件人\n（手机） "), "收件人(手机)");
        assert_eq!(norm_header("Order No"), "orderno");
        let h: Vec<String> = ["母单号", "运单号"].map(String::from).to_vec();
        assert_eq!(position(&h, &["运单号", "母单号"]), Some(1));
        assert_eq!(position(&h, &["快递单号"]), None);
        assert_eq!(
            header_texts(&[Value::Text("\u{feff}订单号".into()), Value::Int(1)]),
            ["订单号", ""]
        );
    }

    #[test]
    fn csv_lines_are_numbered_as_a_spreadsheet_shows_them() {
        let (gbk, _, _) = encoding_rs::GBK.encode("日期,类型\r\n\r\n\n2026-10-01, 放假 \n");
        let g = csv_grid(&gbk, &budget::current()).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[1].0, 4);
        assert_eq!(
            g[1].1,
            [Value::Text("2026-10-01".into()), Value::Text("放假".into())]
        );
    }

    #[test]
    fn values() {
        assert_eq!(value_of(&Data::String("  ".into())), Value::Empty);
        assert_eq!(value_of(&Data::Int(7)).number(), Some(7.0));
        let t = Value::Float(46_352.395_833_333_336).serial_time().unwrap();
        assert_eq!(t.to_string(), "2026-11-26 09:30:00");
        assert_eq!(Value::Float(12.0).serial_time(), None);
        assert!(check_sheet_name("Sheet1").is_ok());
        assert!(check_sheet_name("a/b").is_err());
        assert!(check_sheet_name(&"x".repeat(32)).is_err());
        assert!(cell(&[], 3).is_empty());
    }
}
