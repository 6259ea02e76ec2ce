//! The batch workbook's layout file (`reports/invoice-batch.toml`): sheets, rows, headers, hints.

use crate::config::InvoiceConfig;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

/// The workbook's layout, read from `reports/invoice-batch.toml` or `invoice.layout_file` (§1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// The template's name, e.g. `V260401`.
    pub version: String,
    /// Written to `marker_sheet`!`marker_cell`, e.g. `pt:20260401`.
    pub marker: String,
    #[serde(default = "default_marker_sheet")]
    pub marker_sheet: String,
    #[serde(default = "default_marker_cell")]
    pub marker_cell: String,
    /// Spreadsheet row numbers (1-based) of the instruction, hint and header rows and of the first data row.
    #[serde(default = "default_instruction_row")]
    pub instruction_row: u32,
    #[serde(default = "default_hint_row")]
    pub hint_row: u32,
    #[serde(default = "default_header_row")]
    pub header_row: u32,
    #[serde(default = "default_data_row")]
    pub data_row: u32,
    /// The visible sheets, in workbook order.
    pub sheets: Vec<SheetLayout>,
}

fn default_marker_sheet() -> String {
    "excelVersion".into()
}
fn default_marker_cell() -> String {
    "A4".into()
}
fn default_instruction_row() -> u32 {
    1
}
fn default_hint_row() -> u32 {
    2
}
fn default_header_row() -> u32 {
    3
}
fn default_data_row() -> u32 {
    4
}

/// Which rows a sheet receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SheetRole {
    /// One row per invoice (`1-发票基本信息`).
    Invoices,
    /// One row per invoice line (`2-发票明细信息`).
    Lines,
    /// Written with its header rows only.
    Special,
    Extra,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetLayout {
    pub name: String,
    #[serde(default)]
    pub role: Option<SheetRole>,
    /// Row 1: free text in one merged cell.
    #[serde(default)]
    pub instruction: String,
    pub columns: Vec<ColumnLayout>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnLayout {
    /// The header text exactly as the template shows it (line breaks included).
    pub header: String,
    /// The row-2 hint (必填, 非必填, …).
    #[serde(default)]
    pub hint: String,
    /// The platform's limit in characters.
    #[serde(default)]
    pub max: Option<usize>,
    /// How many cells the header is merged over (`购买方所在地区…` spans 4).
    #[serde(default = "one")]
    pub span: u16,
}

fn one() -> u16 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("the layout file {path} cannot be read: {message}")]
    Io { path: String, message: String },
    #[error("the layout file is not valid: {0}")]
    Toml(String),
    #[error("the layout is inconsistent: {0}")]
    Invalid(String),
    #[error("sheet '{sheet}' of the layout has no column '{header}', which the export needs")]
    MissingHeader { sheet: String, header: String },
    #[error("invoice settings: {0}")]
    Config(String),
    #[error("request {serial}: {reason}")]
    Row { serial: String, reason: String },
    #[error("the workbook cannot be written: {0}")]
    Xlsx(String),
}

/// Headers compare as the readers' toolkit compares them.
pub use crate::exchange::grid::norm_header;

impl Layout {
    pub fn from_toml(text: &str) -> Result<Layout, LayoutError> {
        let layout: Layout = toml::from_str(text).map_err(|e| LayoutError::Toml(e.to_string()))?;
        layout.check()?;
        Ok(layout)
    }

    pub fn load(path: &Path) -> Result<Layout, LayoutError> {
        crate::exchange::layout::load(path, Layout::from_toml).map_err(|e| LayoutError::Io {
            path: e.path,
            message: e.message,
        })
    }

    /// The layout shipped with the program (`V260401`).
    pub fn default_layout() -> Layout {
        Layout::from_toml(include_str!("../../../reports/invoice-batch.toml"))
            .expect("reports/invoice-batch.toml is valid")
    }

    pub fn sheet(&self, role: SheetRole) -> Option<&SheetLayout> {
        self.sheets.iter().find(|s| s.role == Some(role))
    }

    fn check(&self) -> Result<(), LayoutError> {
        let bad = |m: String| Err(LayoutError::Invalid(m));
        if self.marker.trim().is_empty() {
            return bad("the version marker is empty".into());
        }
        if cell_ref(&self.marker_cell).is_none() {
            return bad(format!("'{}' is not a cell like A4", self.marker_cell));
        }
        let rows = [
            self.instruction_row,
            self.hint_row,
            self.header_row,
            self.data_row,
        ];
        if rows[0] == 0 || rows.windows(2).any(|w| w[0] >= w[1]) {
            return bad(
                "instruction_row < hint_row < header_row < data_row must hold (from 1)".into(),
            );
        }
        let mut names = HashSet::new();
        names.insert(self.marker_sheet.to_lowercase());
        check_sheet_name(&self.marker_sheet)?;
        for s in &self.sheets {
            check_sheet_name(&s.name)?;
            if !names.insert(s.name.to_lowercase()) {
                return bad(format!("sheet '{}' appears twice", s.name));
            }
            if s.columns.is_empty() {
                return bad(format!("sheet '{}' has no columns", s.name));
            }
            let mut headers = HashSet::new();
            for c in &s.columns {
                if c.header.trim().is_empty() || c.span == 0 {
                    return bad(format!("sheet '{}' has an empty header or span 0", s.name));
                }
                if !headers.insert(norm_header(&c.header)) {
                    return bad(format!("sheet '{}': header '{}' twice", s.name, c.header));
                }
            }
            if s.width() > 16_384 {
                return bad(format!("sheet '{}' is too wide", s.name));
            }
        }
        for role in [SheetRole::Invoices, SheetRole::Lines] {
            match self.sheets.iter().filter(|s| s.role == Some(role)).count() {
                1 => {}
                0 => return bad(format!("no sheet has role {role:?}")),
                _ => return bad(format!("more than one sheet has role {role:?}")),
            }
        }
        Ok(())
    }
}

fn check_sheet_name(name: &str) -> Result<(), LayoutError> {
    crate::exchange::grid::check_sheet_name(name).map_err(LayoutError::Invalid)
}

impl SheetLayout {
    /// The number of cells the header row spans.
    pub fn width(&self) -> u32 {
        self.columns.iter().map(|c| u32::from(c.span)).sum()
    }

    /// The 0-based column where `header` starts.
    pub fn find(&self, header: &str) -> Option<(u16, &ColumnLayout)> {
        let want = norm_header(header);
        let mut at = 0u16;
        for c in &self.columns {
            if norm_header(&c.header) == want {
                return Some((at, c));
            }
            at += c.span;
        }
        None
    }
}

/// `A4` → (row 3, column 0), both 0-based.
pub(super) fn cell_ref(s: &str) -> Option<(u32, u16)> {
    let letters: String = s.chars().take_while(|c| c.is_ascii_uppercase()).collect();
    let row: u32 = s[letters.len()..].parse().ok()?;
    if letters.is_empty() || letters.len() > 3 || row == 0 {
        return None;
    }
    let col = letters
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A' + 1));
    Some((row - 1, u16::try_from(col - 1).ok()?))
}

/// The settings' layout (`[invoice]` lives in `config`; reading its file is this module's).
impl InvoiceConfig {
    /// The layout to write with: `layout_file` when set, otherwise the shipped one.
    pub fn layout(&self) -> Result<Layout, LayoutError> {
        match &self.layout_file {
            Some(p) => Layout::load(p),
            None => Ok(Layout::default_layout()),
        }
    }
}
