//! What the layout files of the import workbooks under `reports/` share (the couriers' batch
//! orders, the tax platform's invoice batch): loading a file and naming it in errors, the rows in
//! order, headers told apart as [`norm_header`] compares them (the sheet-name rule is
//! [`super::grid::check_sheet_name`]), and a workbook whose cells
//! are text and whose bytes depend only on what is written.
//!
//! The models themselves differ and stay with their writers: a courier layout is one sheet with a
//! source per column (`couriers::CourierLayout`); the invoice layout is several sheets with hints
//! and spans, filled by header (`invoices::Layout`); a report (`reports::ReportLayout`) names a
//! field, width and number format per column and is written with real numbers and dates.

use super::grid::norm_header;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use std::collections::HashSet;
use std::fmt::Display;
use std::path::Path;

/// A layout file that could not be read or is not valid, with the file's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: String,
    pub message: String,
}

/// Reads the layout file at `path` and parses it with `parse` (`from_toml`); a failure of either
/// names the file.
pub fn load<T, E: Display>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, LoadError> {
    let fail = |message: String| LoadError {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    parse(&text).map_err(|e| fail(e.to_string()))
}

/// Row numbers that must come in this order, from 1: `[header_row, data_row]`,
/// `[instruction_row, hint_row, header_row, data_row]`.
pub fn rows_in_order(rows: &[u32]) -> bool {
    rows.first().is_some_and(|r| *r >= 1) && rows.windows(2).all(|w| w[0] < w[1])
}

/// The first header that repeats an earlier one as [`norm_header`] compares them.
pub fn repeated_header<'h>(headers: impl IntoIterator<Item = &'h str>) -> Option<&'h str> {
    let mut seen = HashSet::new();
    headers.into_iter().find(|h| !seen.insert(norm_header(h)))
}

/// Built-in number format 49, Excel's "@" (Text): leading zeros and long numbers stay as typed.
pub fn text_format() -> Format {
    Format::new().set_num_format_index(49)
}

/// A new workbook with a fixed creation time, so the same rows give the same bytes.
pub fn reproducible_workbook() -> Result<Workbook, XlsxError> {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2026, 1, 1)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    Ok(wb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_headers_and_files() {
        assert!(rows_in_order(&[2, 3]));
        assert!(rows_in_order(&[1, 2, 3, 4]));
        assert!(!rows_in_order(&[0, 1]));
        assert!(!rows_in_order(&[2, 2]));
        assert!(!rows_in_order(&[1, 3, 2, 4]));
        assert_eq!(repeated_header(["运单号", "*运单号 "]), Some("*运单号 "));
        assert_eq!(repeated_header(["运单号", "子单号"]), None);
        let e = load(Path::new("/nonexistent/x.toml"), |t| {
            Ok::<_, String>(t.len())
        })
        .unwrap_err();
        assert_eq!(e.path, "/nonexistent/x.toml");
    }
}
