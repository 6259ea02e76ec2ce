//! 数电票 batches (`../shared/contracts/invoice-batch.md`): the platform's batch-import workbook,
//! written from a layout file (sheets, hints, headers, version marker; columns found by header
//! text, every cell text), the checks a request passes before export, and the read-back of what
//! was issued (the platform's export, plain lists, invoice files, the failure list), all or nothing.

use super::budget::{self, ArchiveError, FileBudgets, OverBudget, Unpacked, WorkbookError};
use super::sheet::{self, RowError, column_letter};
use crate::domain::calendar::beijing;
use calamine::Data;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// The layout file
// ---------------------------------------------------------------------------------------------

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

/// Headers compare without whitespace or line breaks, a leading `*` (a required-field mark) or
/// the difference between full-width and ASCII parentheses.
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

impl Layout {
    pub fn from_toml(text: &str) -> Result<Layout, LayoutError> {
        let layout: Layout = toml::from_str(text).map_err(|e| LayoutError::Toml(e.to_string()))?;
        layout.check()?;
        Ok(layout)
    }

    pub fn load(path: &Path) -> Result<Layout, LayoutError> {
        let text = std::fs::read_to_string(path).map_err(|e| LayoutError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Layout::from_toml(&text).map_err(|e| LayoutError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// The layout shipped with the program (`V260401`).
    pub fn default_layout() -> Layout {
        Layout::from_toml(include_str!("../../reports/invoice-batch.toml"))
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
    let n = name.chars().count();
    if n == 0 || n > 31 || name.contains(['[', ']', ':', '*', '?', '/', '\\']) {
        return Err(LayoutError::Invalid(format!(
            "'{name}' is not a valid sheet name"
        )));
    }
    Ok(())
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
fn cell_ref(s: &str) -> Option<(u32, u16)> {
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

// ---------------------------------------------------------------------------------------------
// Settings and the rows to export
// ---------------------------------------------------------------------------------------------

/// `[invoice]` in the settings (§2–§7).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct InvoiceConfig {
    pub item_name: String,
    /// A 19-digit leaf code of the tax classification.
    pub tax_code: String,
    /// A decimal, not a percentage: `0.06`.
    pub tax_rate: String,
    pub unit: String,
    pub serial_prefix: String,
    /// Printed on the invoice; `{hall_reference}` is replaced. Nothing sensitive goes here.
    pub remark: String,
    pub seller_bank: String,
    pub seller_account: String,
    /// Column 是否展示销售方地址电话银行账号; one of the platform's three values, or empty.
    pub seller_show: String,
    pub payee: String,
    pub reviewer: String,
    /// Write the applicant's e-mail into 购买方邮箱 (the platform then mails the invoice).
    pub fill_buyer_email: bool,
    /// Not used yet: `InvoiceRow` carries no ID number (§5, uncertain where it belongs).
    pub individual_id_number: bool,
    /// Invoices per workbook; the platform's ceiling is 998.
    pub max_per_file: usize,
    /// When set, read-back rows from another seller are refused by the caller.
    pub seller_tax_id: Option<String>,
    pub layout_file: Option<PathBuf>,
    /// Mail number and date even when neither a link nor a file is stored.
    pub email_without_file: bool,
}

impl Default for InvoiceConfig {
    fn default() -> Self {
        InvoiceConfig {
            item_name: "数字证书补办服务费".into(),
            tax_code: "3040203000000000000".into(),
            tax_rate: "0.06".into(),
            unit: "次".into(),
            serial_prefix: "FP".into(),
            remark: "申请编号：{hall_reference}".into(),
            seller_bank: String::new(),
            seller_account: String::new(),
            seller_show: String::new(),
            payee: String::new(),
            reviewer: String::new(),
            fill_buyer_email: false,
            individual_id_number: false,
            max_per_file: 500,
            seller_tax_id: None,
            layout_file: None,
            email_without_file: false,
        }
    }
}

const SHOW_VALUES: [&str; 3] = [
    "展示地址、电话",
    "展示开户银行、银行账号",
    "展示地址、电话、开户银行及银行账号",
];

impl InvoiceConfig {
    /// Checks the settings once, before any export.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=998).contains(&self.max_per_file) {
            return Err(format!(
                "max_per_file is {}; it must be 1 to 998",
                self.max_per_file
            ));
        }
        if self.tax_code.len() != 19 || !self.tax_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "tax_code '{}' is not a 19-digit code",
                self.tax_code
            ));
        }
        if !is_rate(&self.tax_rate) {
            return Err(format!(
                "tax_rate '{}' is not a decimal rate like 0.06",
                self.tax_rate
            ));
        }
        if self.item_name.trim().is_empty() {
            return Err("item_name is empty".into());
        }
        let p = &self.serial_prefix;
        if p.len() > 8 || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "serial_prefix '{p}' must be at most 8 ASCII letters or digits"
            ));
        }
        let without = self.remark.replace("{hall_reference}", "");
        if without.contains(['{', '}']) {
            return Err(format!(
                "remark '{}' may only use {{hall_reference}}",
                self.remark
            ));
        }
        if !self.seller_show.is_empty() && !SHOW_VALUES.contains(&self.seller_show.as_str()) {
            return Err(format!(
                "seller_show must be empty or one of {}",
                SHOW_VALUES.join(" / ")
            ));
        }
        Ok(())
    }

    /// The layout to write with: `layout_file` when set, otherwise the shipped one.
    pub fn layout(&self) -> Result<Layout, LayoutError> {
        match &self.layout_file {
            Some(p) => Layout::load(p),
            None => Ok(Layout::default_layout()),
        }
    }
}

/// `0`, `0.06`, `0.13`, `1`: a decimal between 0 and 1.
fn is_rate(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    let ok_form = !int.is_empty() && digits(int) && digits(frac) && frac.len() <= 6;
    ok_form && (int == "0" || (int == "1" && frac.bytes().all(|b| b == b'0')))
}

/// One accepted, paid request that asked for an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceRow {
    pub serial: String,
    pub title: String,
    /// Present: an organisation; absent: an individual.
    pub tax_id: Option<String>,
    pub amount_fen: i64,
    pub hall_reference: String,
    pub buyer_email: String,
}

/// `FP` + `YYMMDD` + 6-digit sequence: `FP261125000001`.
pub fn serial(prefix: &str, date: NaiveDate, seq: u32) -> String {
    format!("{prefix}{}{seq:06}", date.format("%y%m%d"))
}

/// `20000` → `200.00`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// One value the export writes, under the header it goes to. `needed`: the layout must have the
/// header (for the fixed columns, and for optional ones once the settings give them a value).
struct Field {
    header: &'static str,
    needed: bool,
    value: String,
}

fn field(header: &'static str, needed: bool, value: impl Into<String>) -> Field {
    Field {
        header,
        needed,
        value: value.into(),
    }
}

fn remark_of(cfg: &InvoiceConfig, row: &InvoiceRow) -> String {
    cfg.remark
        .replace("{hall_reference}", row.hall_reference.trim())
}

/// Sheet `1-发票基本信息` (§3): the mapping by header.
fn invoice_fields(cfg: &InvoiceConfig, row: &InvoiceRow) -> Vec<Field> {
    let tax_id = row.tax_id.as_deref().map(str::trim).unwrap_or("");
    let email = if cfg.fill_buyer_email {
        row.buyer_email.trim()
    } else {
        ""
    };
    vec![
        field("发票流水号", true, row.serial.as_str()),
        field("发票类型", true, "普通发票"),
        field("是否含税", true, "是"),
        field(
            "受票方自然人标识",
            true,
            if row.tax_id.is_none() { "是" } else { "否" },
        ),
        field("购买方名称", true, row.title.trim()),
        field("购买方纳税人识别号", true, tax_id),
        field("备注", !cfg.remark.is_empty(), remark_of(cfg, row)),
        field(
            "销售方开户行",
            !cfg.seller_bank.is_empty(),
            cfg.seller_bank.as_str(),
        ),
        field(
            "销售方银行账号",
            !cfg.seller_account.is_empty(),
            cfg.seller_account.as_str(),
        ),
        field(
            "是否展示销售方地址电话银行账号",
            !cfg.seller_show.is_empty(),
            cfg.seller_show.as_str(),
        ),
        field("购买方邮箱", cfg.fill_buyer_email, email),
        field("收款人", !cfg.payee.is_empty(), cfg.payee.as_str()),
        field("复核人", !cfg.reviewer.is_empty(), cfg.reviewer.as_str()),
    ]
}

/// Sheet `2-发票明细信息` (§4): one line per invoice, tax-inclusive.
fn line_fields(cfg: &InvoiceConfig, row: &InvoiceRow) -> Vec<Field> {
    let amount = yuan(row.amount_fen);
    vec![
        field("发票流水号", true, row.serial.as_str()),
        field("项目名称", true, cfg.item_name.as_str()),
        field("商品和服务税收编码", true, cfg.tax_code.as_str()),
        field("单位", !cfg.unit.is_empty(), cfg.unit.as_str()),
        field("数量", true, "1"),
        field("单价", true, amount.clone()),
        field("金额", true, amount),
        field("税率", true, cfg.tax_rate.as_str()),
    ]
}

/// What in a remark would disclose personal data: a mobile number, an ID or bank-card number,
/// or a long hexadecimal string such as a certificate serial.
fn sensitive(text: &str) -> Option<&'static str> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let run = &text[start..i];
        // Digits runs, allowing an ID number's final X.
        let core = run.strip_suffix(['X', 'x']).unwrap_or(run);
        let digits = core.bytes().take_while(u8::is_ascii_digit).count();
        if digits == core.len() {
            if core.len() == 11 && core.starts_with('1') {
                return Some("a mobile number");
            }
            // 15/18-character ID numbers, 16–19-digit bank cards.
            if core.len() >= 15 {
                return Some("an ID or bank-card number");
            }
        }
        // Digits inside a run with letters: look at the longest digit stretch.
        let longest = run
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        if longest >= 15 {
            return Some("an ID or bank-card number");
        }
        let hex = run.bytes().all(|c| c.is_ascii_hexdigit());
        if hex && run.len() >= 16 && run.bytes().any(|c| c.is_ascii_alphabetic()) {
            return Some("a certificate serial");
        }
    }
    None
}

fn plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// The rules of §5, checked before a request goes into a batch. `Err` is the reason shown on the
/// exceptions list; such a request is not exported.
pub fn check_row(layout: &Layout, cfg: &InvoiceConfig, row: &InvoiceRow) -> Result<(), String> {
    if row.serial.is_empty() || !row.serial.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "serial '{}' must be ASCII letters and digits",
            row.serial
        ));
    }
    let title = row.title.trim();
    if title.is_empty() {
        return Err("the invoice title (购买方名称) is empty".into());
    }
    if title.chars().any(char::is_control) {
        return Err("the invoice title (购买方名称) contains a control character".into());
    }
    match row.tax_id.as_deref().map(str::trim) {
        None if title.chars().count() < 2 => {
            return Err(
                "an individual's invoice title (购买方名称) needs at least 2 characters".into(),
            );
        }
        None => {}
        Some(t) => {
            let ok_chars = t
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            if !(15..=20).contains(&t.len()) || !ok_chars {
                return Err(format!(
                    "tax id '{t}' is not 15 to 20 upper-case letters and digits"
                ));
            }
        }
    }
    if row.amount_fen <= 0 {
        return Err(format!(
            "the amount {} is not positive",
            yuan(row.amount_fen)
        ));
    }
    if cfg.remark.contains("{hall_reference}") && row.hall_reference.trim().is_empty() {
        return Err("the request has no reference for the remark (备注)".into());
    }
    if let Some(what) = sensitive(&remark_of(cfg, row)) {
        return Err(format!(
            "the remark (备注) would show {what}; change invoice.remark or the reference"
        ));
    }
    if cfg.fill_buyer_email
        && !row.buyer_email.is_empty()
        && !plausible_email(row.buyer_email.trim())
    {
        return Err("the buyer e-mail (购买方邮箱) is not an e-mail address".into());
    }
    let sheets = [
        (SheetRole::Invoices, invoice_fields(cfg, row)),
        (SheetRole::Lines, line_fields(cfg, row)),
    ];
    for (role, fields) in sheets {
        let Some(sheet) = layout.sheet(role) else {
            continue;
        };
        for f in fields.iter().filter(|f| !f.value.is_empty()) {
            if let Some((_, col)) = sheet.find(f.header)
                && let Some(max) = col.max
            {
                let n = f.value.chars().count();
                if n > max {
                    return Err(format!(
                        "{} has {n} characters; the platform allows {max}",
                        f.header
                    ));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writing the workbook
// ---------------------------------------------------------------------------------------------

/// Where each field goes: its 0-based column, or `None` for an optional header the layout lacks.
fn resolve(sheet: &SheetLayout, fields: &[Field]) -> Result<Vec<Option<u16>>, LayoutError> {
    fields
        .iter()
        .map(|f| match sheet.find(f.header) {
            Some((col, _)) => Ok(Some(col)),
            None if f.needed => Err(LayoutError::MissingHeader {
                sheet: sheet.name.clone(),
                header: f.header.to_string(),
            }),
            None => Ok(None),
        })
        .collect()
}

fn xlsx(e: rust_xlsxwriter::XlsxError) -> LayoutError {
    LayoutError::Xlsx(e.to_string())
}

/// The batch-import workbook: the layout's sheets in order, rows 1–3 from the layout, one row per
/// invoice and per line from the data row on, then the hidden version sheet. Every cell is text.
/// The same rows give the same bytes. Rows are streamed (rust_xlsxwriter's low-memory mode), so
/// a large batch needs little memory; splitting into files of `max_per_file` is the caller's.
pub fn write_batch(
    layout: &Layout,
    cfg: &InvoiceConfig,
    rows: &[InvoiceRow],
) -> Result<Vec<u8>, LayoutError> {
    cfg.validate().map_err(LayoutError::Config)?;
    let invoices = layout
        .sheet(SheetRole::Invoices)
        .ok_or_else(|| LayoutError::Invalid("no sheet has role invoices".into()))?;
    let lines = layout
        .sheet(SheetRole::Lines)
        .ok_or_else(|| LayoutError::Invalid("no sheet has role lines".into()))?;
    let probe = InvoiceRow::default();
    let invoice_cols = resolve(invoices, &invoice_fields(cfg, &probe))?;
    let line_cols = resolve(lines, &line_fields(cfg, &probe))?;
    let mut seen = HashSet::new();
    for r in rows {
        check_row(layout, cfg, r).map_err(|reason| LayoutError::Row {
            serial: r.serial.clone(),
            reason,
        })?;
        if !seen.insert(r.serial.as_str()) {
            return Err(LayoutError::Row {
                serial: r.serial.clone(),
                reason: "appears twice in the batch".into(),
            });
        }
    }

    // Built-in number format 49 is Excel's "@" (Text), the format the platform's template uses.
    let text = Format::new().set_num_format_index(49);
    let head = text
        .clone()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let note = text
        .clone()
        .set_text_wrap()
        .set_align(FormatAlign::Left)
        .set_align(FormatAlign::Top);
    let mut wb = Workbook::new();
    // A fixed creation time keeps the output byte-identical for the same rows.
    let created = ExcelDateTime::from_ymd(2026, 1, 1).map_err(xlsx)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    for sheet in &layout.sheets {
        let ws = wb.add_worksheet_with_low_memory().map_err(xlsx)?;
        ws.set_name(&sheet.name).map_err(xlsx)?;
        write_head(ws, layout, sheet, &text, &head, &note).map_err(xlsx)?;
        let first = layout.data_row - 1;
        match sheet.role {
            Some(SheetRole::Invoices) => write_rows(ws, first, rows, &invoice_cols, &text, |r| {
                invoice_fields(cfg, r)
            })?,
            Some(SheetRole::Lines) => {
                write_rows(ws, first, rows, &line_cols, &text, |r| line_fields(cfg, r))?
            }
            _ => {}
        }
    }
    let (row, col) = cell_ref(&layout.marker_cell).expect("checked when loaded");
    let ws = wb.add_worksheet();
    ws.set_name(&layout.marker_sheet).map_err(xlsx)?;
    ws.write_string_with_format(row, col, &layout.marker, &text)
        .map_err(xlsx)?;
    ws.set_hidden(true);
    wb.save_to_buffer().map_err(xlsx)
}

/// Rows 1–3: the merged instruction, the hints and the headers (merged where a header spans).
fn write_head(
    ws: &mut Worksheet,
    layout: &Layout,
    sheet: &SheetLayout,
    text: &Format,
    head: &Format,
    note: &Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let width = u16::try_from(sheet.width()).expect("checked when loaded");
    for c in 0..width {
        ws.set_column_format(c, text)?;
        ws.set_column_width(c, 16)?;
    }
    let r = layout.instruction_row - 1;
    if width > 1 {
        ws.merge_range(r, 0, r, width - 1, &sheet.instruction, note)?;
    } else {
        ws.write_string_with_format(r, 0, &sheet.instruction, note)?;
    }
    ws.set_row_height(r, 48)?;
    for (r, pick) in [(layout.hint_row - 1, 0), (layout.header_row - 1, 1)] {
        let mut at = 0u16;
        for c in &sheet.columns {
            let value = if pick == 0 { &c.hint } else { &c.header };
            if c.span > 1 {
                ws.merge_range(r, at, r, at + c.span - 1, value, head)?;
            } else {
                ws.write_string_with_format(r, at, value, head)?;
            }
            at += c.span;
        }
    }
    ws.set_row_height(layout.header_row - 1, 32)?;
    Ok(())
}

fn write_rows(
    ws: &mut Worksheet,
    first: u32,
    rows: &[InvoiceRow],
    cols: &[Option<u16>],
    text: &Format,
    fields: impl Fn(&InvoiceRow) -> Vec<Field>,
) -> Result<(), LayoutError> {
    for (i, r) in rows.iter().enumerate() {
        let n = u32::try_from(i)
            .ok()
            .and_then(|i| first.checked_add(i))
            .ok_or_else(|| LayoutError::Invalid("too many rows for one sheet".into()))?;
        for (f, col) in fields(r).iter().zip(cols) {
            if let Some(col) = col
                && !f.value.is_empty()
            {
                ws.write_string_with_format(n, *col, &f.value, text)
                    .map_err(xlsx)?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading back what was issued (§8)
// ---------------------------------------------------------------------------------------------

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
    pub amount_fen: i64,
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

const REOPEN: &str =
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

/// A cell as read, before it is interpreted.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Time(NaiveDateTime),
    /// A spreadsheet error such as `#VALUE!`.
    Bad(String),
}

struct Table {
    sheet: String,
    headers: Vec<String>,
    /// (spreadsheet row number, cells)
    rows: Vec<(usize, Vec<Value>)>,
}

const NUMBER: &[&str] = &["数电发票号码", "发票号码"];
const REASON: &[&str] = &["导入失败原因", "失败原因", "错误原因"];
const SERIAL: &[&str] = &["发票流水号"];
const ISSUED_AT: &[&str] = &["开票日期"];
const BUYER: &[&str] = &["购买方名称", "购方名称"];
const AMOUNT: &[&str] = &["价税合计", "金额"];
const POSITIVE: &[&str] = &["是否正数发票"];
const STATUS: &[&str] = &["发票状态"];
const REMARK: &[&str] = &["备注"];
const LINK: &[&str] = &["下载链接", "下载地址", "发票链接", "链接", "url"];
const SELLER: &[&str] = &["销方识别号", "销售方纳税人识别号", "销售方识别号"];

/// Splits a grid at its header row: the first of its first 20 rows that names a known key column,
/// else the first non-blank row.
fn table_from_grid(sheet: String, grid: Vec<(usize, Vec<Value>)>) -> Result<Table, IssuedError> {
    let keys: Vec<String> = NUMBER
        .iter()
        .chain(REASON)
        .chain(SERIAL)
        .map(|k| norm_header(k))
        .collect();
    let texts = |cells: &[Value]| -> Vec<String> {
        cells
            .iter()
            .map(|c| match c {
                Value::Text(s) => s.trim().trim_start_matches('\u{feff}').to_owned(),
                _ => String::new(),
            })
            .collect()
    };
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
            texts(&grid[i].1)
                .iter()
                .any(|h| keys.contains(&norm_header(h)))
        })
        .or(nonblank.first())
        .copied()
        .ok_or_else(|| IssuedError::Unreadable(format!("sheet {sheet} is empty")))?;
    let headers = texts(&grid[at].1);
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
fn workbook_table(bytes: &[u8], b: &FileBudgets) -> Result<Table, IssuedError> {
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

fn value_of(d: &Data) -> Value {
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

/// A CSV file (UTF-8 or GBK), through `sheet::read`; every cell is text.
fn csv_table(bytes: &[u8], b: &FileBudgets) -> Result<Table, IssuedError> {
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

/// Column positions by header aliases (first alias present wins).
struct Cols<'t> {
    table: &'t Table,
}

impl Cols<'_> {
    fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases.iter().find_map(|a| {
            let want = norm_header(a);
            self.table
                .headers
                .iter()
                .position(|h| norm_header(h) == want)
        })
    }

    fn need(&self, aliases: &[&str]) -> Result<usize, IssuedError> {
        self.find(aliases)
            .ok_or_else(|| IssuedError::MissingColumn {
                sheet: self.table.sheet.clone(),
                column: aliases.join(" | "),
            })
    }

    fn name(&self, i: usize) -> String {
        format!("{} ({})", column_letter(i), self.table.headers[i])
    }
}

fn absorb(t: &Table, out: &mut IssuedFile) -> Result<(), IssuedError> {
    let c = Cols { table: t };
    if c.find(REASON).is_some() {
        out.failures.extend(failure_lines(t, &c)?);
    } else {
        out.lines.extend(issued_lines(t, &c)?);
    }
    Ok(())
}

/// Reads one cell with `parse`, recording an error that names row and column.
fn get<T>(
    c: &Cols,
    row: usize,
    cells: &[Value],
    col: usize,
    errors: &mut Vec<RowError>,
    parse: impl FnOnce(&Value) -> Result<T, String>,
) -> Option<T> {
    let v = cells.get(col).unwrap_or(&Value::Empty);
    parse(v)
        .map_err(|message| {
            errors.push(RowError {
                row,
                column: c.name(col),
                message,
            })
        })
        .ok()
}

fn failure_lines(t: &Table, c: &Cols) -> Result<Vec<FailureLine>, IssuedError> {
    let serial_col = c.need(SERIAL)?;
    let reason_col = c.need(REASON)?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (row, cells) in &t.rows {
        let serial = get(c, *row, cells, serial_col, &mut errors, required_text);
        let reason = get(c, *row, cells, reason_col, &mut errors, required_text);
        if let (Some(serial), Some(reason)) = (serial, reason) {
            out.push(FailureLine {
                row: *row,
                serial,
                reason,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(IssuedError::Cells {
            sheet: t.sheet.clone(),
            errors,
        })
    }
}

fn issued_lines(t: &Table, c: &Cols) -> Result<Vec<IssuedLine>, IssuedError> {
    let number_col = c.need(NUMBER)?;
    let at_col = c.need(ISSUED_AT)?;
    let buyer_col = c.need(BUYER)?;
    let amount_col = c.need(AMOUNT)?;
    let opt = |aliases| c.find(aliases);
    let (positive_col, status_col, remark_col) = (opt(POSITIVE), opt(STATUS), opt(REMARK));
    let (serial_col, link_col, seller_col) = (opt(SERIAL), opt(LINK), opt(SELLER));
    // 信息汇总表 has one row per invoice line: its rows are summed per invoice number.
    let grouped = t.sheet == "信息汇总表";
    let mut errors = Vec::new();
    let mut out: Vec<IssuedLine> = Vec::new();
    // Invoice number → its place in `out`.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &t.rows {
        let row = *row;
        let e = &mut errors;
        let number = get(c, row, cells, number_col, e, invoice_number);
        let issued_at = get(c, row, cells, at_col, e, issue_time);
        let buyer = get(c, row, cells, buyer_col, e, required_text);
        let amount = get(c, row, cells, amount_col, e, money);
        let optional = |col: Option<usize>, e: &mut Vec<RowError>| -> Option<String> {
            col.and_then(|i| get(c, row, cells, i, e, optional_text).flatten())
        };
        let positive = positive_col.and_then(|i| get(c, row, cells, i, e, yes_no).flatten());
        let status = optional(status_col, e).unwrap_or_default();
        let remark = optional(remark_col, e).unwrap_or_default();
        let serial = optional(serial_col, e);
        let seller_tax_id = optional(seller_col, e);
        let link = link_col.and_then(|i| get(c, row, cells, i, e, link).flatten());
        let (Some(number), Some(issued_at), Some(buyer), Some(amount_fen)) =
            (number, issued_at, buyer, amount)
        else {
            continue;
        };
        if let Some(&i) = seen.get(&number) {
            let first = out[i].row;
            if !grouped {
                errors.push(RowError {
                    row,
                    column: c.name(number_col),
                    message: format!("invoice {number} appears already in row {first}"),
                });
                continue;
            }
            let line = &mut out[i];
            if line.issued_at != issued_at || line.buyer != buyer {
                errors.push(RowError {
                    row,
                    column: c.name(at_col),
                    message: format!(
                        "date or buyer differ from row {first} of the same invoice {number}"
                    ),
                });
                continue;
            }
            match line.amount_fen.checked_add(amount_fen) {
                Some(sum) => line.amount_fen = sum,
                None => errors.push(RowError {
                    row,
                    column: c.name(amount_col),
                    message: "the amounts overflow".into(),
                }),
            }
            continue;
        }
        seen.insert(number.clone(), out.len());
        out.push(IssuedLine {
            row,
            number,
            issued_at,
            buyer,
            amount_fen,
            // Without the column, a negative amount is what marks a red-letter invoice.
            positive: positive.unwrap_or(amount_fen >= 0),
            status,
            remark,
            serial,
            link,
            seller_tax_id,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(IssuedError::Cells {
            sheet: t.sheet.clone(),
            errors,
        })
    }
}

fn optional_text(v: &Value) -> Result<Option<String>, String> {
    Ok(match v {
        Value::Empty => None,
        Value::Text(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
        Value::Float(f) => Some(format!("{f}")),
        Value::Time(t) => Some(t.format("%Y-%m-%d %H:%M:%S").to_string()),
        Value::Bad(e) => return Err(format!("holds the spreadsheet error {e}")),
    })
}

fn required_text(v: &Value) -> Result<String, String> {
    optional_text(v)?.ok_or_else(|| "is empty".to_owned())
}

/// `是` / `否` (empty: not stated).
fn yes_no(v: &Value) -> Result<Option<bool>, String> {
    match optional_text(v)?.as_deref() {
        None => Ok(None),
        Some("是") => Ok(Some(true)),
        Some("否") => Ok(Some(false)),
        Some(other) => Err(format!("'{other}' is neither 是 nor 否")),
    }
}

fn link(v: &Value) -> Result<Option<String>, String> {
    match optional_text(v)? {
        Some(s) if s.starts_with("https://") || s.starts_with("http://") => Ok(Some(s)),
        Some(s) => Err(format!("'{s}' is not a link (http:// or https://)")),
        None => Ok(None),
    }
}

/// A 20-digit number, as text only: a number cell or an exponent has lost digits.
fn invoice_number(v: &Value) -> Result<String, String> {
    match v {
        Value::Text(s) => {
            let t = s.trim().trim_start_matches('\'');
            if t.len() == 20 && t.bytes().all(|b| b.is_ascii_digit()) {
                Ok(t.to_owned())
            } else if t.contains(['E', 'e']) && t.parse::<f64>().is_ok() {
                Err(format!(
                    "'{t}' is a number in exponent form, its digits are lost; {REOPEN}"
                ))
            } else {
                Err(format!("'{t}' is not a 20-digit 数电 invoice number"))
            }
        }
        Value::Int(_) | Value::Float(_) => Err(format!(
            "is stored as a number, which cannot hold 20 digits; {REOPEN}"
        )),
        Value::Empty => Err("is empty".into()),
        Value::Time(_) => Err("is a date, not an invoice number".into()),
        Value::Bad(e) => Err(format!("holds the spreadsheet error {e}")),
    }
}

/// Beijing wall time: an Excel date-time, or text `YYYY-MM-DD HH:MM:SS` (also `/`, minutes only,
/// or a date alone).
fn issue_time(v: &Value) -> Result<DateTime<Utc>, String> {
    let naive = match v {
        Value::Time(t) => *t,
        Value::Text(s) => {
            let t = s.trim();
            let with_time = [
                "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y/%m/%d %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok());
            let date_only = || {
                ["%Y-%m-%d", "%Y/%m/%d"]
                    .iter()
                    .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
                    .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
            };
            with_time
                .or_else(date_only)
                .ok_or_else(|| format!("'{t}' is not a date and time (YYYY-MM-DD HH:MM:SS)"))?
        }
        // A date-time that lost its format: an Excel serial number of days.
        Value::Float(f) if (36_526.0..73_051.0).contains(f) => excel_serial(*f),
        Value::Int(i) if (36_526..73_051).contains(i) => excel_serial(*i as f64),
        Value::Empty => return Err("is empty".into()),
        Value::Bad(e) => return Err(format!("holds the spreadsheet error {e}")),
        _ => return Err("is not a date and time (YYYY-MM-DD HH:MM:SS)".into()),
    };
    Ok(beijing()
        .from_local_datetime(&naive)
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc))
}

fn excel_serial(days: f64) -> NaiveDateTime {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)
        .expect("valid")
        .and_hms_opt(0, 0, 0)
        .expect("valid");
    base + Duration::seconds((days * 86_400.0).round() as i64)
}

/// Yuan as exact fen: text `200.00`, `-200`, `1,200.50`, `¥200`; a number cell is read as the
/// shortest decimal that gives back the same binary value (what the spreadsheet shows), so
/// 199.99 is 19999 fen and never 19998.
fn money(v: &Value) -> Result<i64, String> {
    match v {
        Value::Text(s) => parse_yuan(s),
        Value::Int(i) => i.checked_mul(100).ok_or_else(|| "is too large".to_owned()),
        Value::Float(f) if f.is_finite() => parse_yuan(&format!("{f}")),
        Value::Empty => Err("is empty".into()),
        Value::Bad(e) => Err(format!("holds the spreadsheet error {e}")),
        _ => Err("is not an amount".into()),
    }
}

fn parse_yuan(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let body = t.trim_start_matches(['¥', '￥']).trim();
    let (neg, body) = match body.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, body),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    // Thousands separators, only where they really separate thousands.
    let int = if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let ok = (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return Err(format!("'{t}' is not an amount"));
        }
        groups.concat()
    } else {
        int.to_owned()
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(&int) || !digits(frac) {
        return Err(if t.contains(['E', 'e']) {
            format!("'{t}' is in exponent form; {REOPEN}")
        } else {
            format!("'{t}' is not an amount")
        });
    }
    let (cents, rest) = frac.split_at(frac.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return Err(format!("'{t}' has fractions of a fen"));
    }
    let v: i64 = format!("{int}{cents:0<2}")
        .parse()
        .map_err(|_| format!("'{t}' is too large"))?;
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use rust_xlsxwriter::Workbook;
    use std::io::{Cursor, Write};

    fn person() -> InvoiceRow {
        InvoiceRow {
            serial: "FP261125000001".into(),
            title: "张三".into(),
            tax_id: None,
            amount_fen: 20000,
            hall_reference: "WT202611250001".into(),
            buyer_email: "zhang@example.com".into(),
        }
    }

    fn company() -> InvoiceRow {
        InvoiceRow {
            serial: "FP261125000002".into(),
            title: "深圳市某某科技有限公司".into(),
            tax_id: Some("91440300MA5ABCDE1X".into()),
            amount_fen: 19999,
            hall_reference: "WT202611250002".into(),
            buyer_email: String::new(),
        }
    }

    fn open(bytes: &[u8]) -> Xlsx<Cursor<&[u8]>> {
        calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap()
    }

    fn cell(wb: &mut Xlsx<Cursor<&[u8]>>, sheet: &str, at: &str) -> Data {
        let (r, c) = cell_ref(at).unwrap();
        let range = wb.worksheet_range(sheet).unwrap();
        range
            .get_value((r, u32::from(c)))
            .cloned()
            .unwrap_or(Data::Empty)
    }

    fn s(v: &str) -> Data {
        Data::String(v.into())
    }

    #[test]
    fn the_shipped_layout() {
        let l = Layout::default_layout();
        assert_eq!(l.marker, "pt:20260401");
        let names: Vec<&str> = l.sheets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "1-发票基本信息",
                "2-发票明细信息",
                "3-特定业务信息",
                "4-附加要素信息"
            ]
        );
        assert_eq!(l.sheets[0].width(), 39);
        assert_eq!(l.sheets[1].width(), 14);
        assert_eq!(l.sheets[0].find("备注").unwrap().0, 22); // W
        assert_eq!(l.sheets[0].find("每千克煤炭发热量").unwrap().0, 24); // Y, line break ignored
        assert_eq!(l.sheets[0].find("收款人").unwrap().0, 37); // AL
        assert_eq!(l.sheets[0].find("购买方邮箱").unwrap().1.max, Some(72));
        assert!(Layout::from_toml("version = 1").is_err());
        let broken =
            include_str!("../../reports/invoice-batch.toml").replace("role = \"lines\"", "");
        assert!(matches!(
            Layout::from_toml(&broken),
            Err(LayoutError::Invalid(_))
        ));
    }

    #[test]
    fn serials_and_money() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(serial("FP", d, 1), "FP261125000001");
        assert_eq!(yuan(20000), "200.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-19999), "-199.99");
    }

    #[test]
    fn a_batch_written_and_read_back() {
        let layout = Layout::default_layout();
        let cfg = InvoiceConfig {
            payee: "李四".into(),
            ..InvoiceConfig::default()
        };
        let bytes = write_batch(&layout, &cfg, &[person(), company()]).unwrap();
        assert_eq!(
            bytes,
            write_batch(&layout, &cfg, &[person(), company()]).unwrap()
        );
        let mut wb = open(&bytes);
        assert_eq!(
            wb.sheet_names(),
            [
                "1-发票基本信息",
                "2-发票明细信息",
                "3-特定业务信息",
                "4-附加要素信息",
                "excelVersion"
            ]
        );
        let meta = wb.sheets_metadata();
        assert!(
            meta[..4]
                .iter()
                .all(|m| m.visible == calamine::SheetVisible::Visible)
        );
        assert_eq!(meta[4].visible, calamine::SheetVisible::Hidden);
        assert_eq!(cell(&mut wb, "excelVersion", "A4"), s("pt:20260401"));

        let one = "1-发票基本信息";
        assert!(matches!(cell(&mut wb, one, "A1"), Data::String(t) if t.starts_with("填写说明")));
        assert_eq!(cell(&mut wb, one, "A2"), s("必填"));
        assert_eq!(cell(&mut wb, one, "A3"), s("发票流水号"));
        assert_eq!(
            cell(&mut wb, one, "L3"),
            s("购买方所在地区（报废产品收购必填）")
        );
        assert_eq!(
            cell(&mut wb, one, "P3"),
            s("购买方详细地址（报废产品收购必填）")
        );
        assert_eq!(cell(&mut wb, one, "Y3"), s("每千克煤炭\n发热量"));
        assert_eq!(cell(&mut wb, one, "AM3"), s("复核人"));
        // The individual.
        for (at, v) in [
            ("A4", "FP261125000001"),
            ("B4", "普通发票"),
            ("D4", "是"),
            ("E4", "是"),
            ("F4", "张三"),
            ("W4", "申请编号：WT202611250001"),
            ("AL4", "李四"),
        ] {
            assert_eq!(cell(&mut wb, one, at), s(v), "{at}");
        }
        assert_eq!(cell(&mut wb, one, "G4"), Data::Empty);
        assert_eq!(
            cell(&mut wb, one, "AE4"),
            Data::Empty,
            "no e-mail unless configured"
        );
        // The organisation.
        assert_eq!(cell(&mut wb, one, "E5"), s("否"));
        assert_eq!(cell(&mut wb, one, "G5"), s("91440300MA5ABCDE1X"));
        let two = "2-发票明细信息";
        assert_eq!(cell(&mut wb, two, "H3"), s("金额"));
        for (at, v) in [
            ("A4", "FP261125000001"),
            ("B4", "数字证书补办服务费"),
            ("C4", "3040203000000000000"),
            ("E4", "次"),
            ("F4", "1"),
            ("G4", "200.00"),
            ("H4", "200.00"),
            ("I4", "0.06"),
            ("H5", "199.99"),
        ] {
            assert_eq!(cell(&mut wb, two, at), s(v), "{at}");
        }
        // Every written cell is a string, and no sheet holds a number.
        for name in wb.sheet_names() {
            let range = wb.worksheet_range(&name).unwrap();
            assert!(
                range
                    .used_cells()
                    .all(|(_, _, d)| matches!(d, Data::String(_))),
                "{name}"
            );
        }
        assert_eq!(
            wb.worksheet_range("3-特定业务信息").unwrap().end(),
            Some((2, 0)),
            "sheet 3 has its header rows only"
        );
        assert_eq!(cell(&mut wb, "4-附加要素信息", "C3"), s("附加要素内容"));
        // The cells carry the text number format "@" (built-in format 49).
        let mut z = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let mut styles = String::new();
        std::io::Read::read_to_string(&mut z.by_name("xl/styles.xml").unwrap(), &mut styles)
            .unwrap();
        assert!(styles.contains("numFmtId=\"49\""), "{styles}");
    }

    #[test]
    fn buyer_email_only_when_configured() {
        let cfg = InvoiceConfig {
            fill_buyer_email: true,
            ..InvoiceConfig::default()
        };
        let bytes = write_batch(&Layout::default_layout(), &cfg, &[person()]).unwrap();
        let mut wb = open(&bytes);
        assert_eq!(
            cell(&mut wb, "1-发票基本信息", "AE4"),
            s("zhang@example.com")
        );
    }

    #[test]
    fn a_header_the_export_needs_must_be_in_the_layout() {
        let text = include_str!("../../reports/invoice-batch.toml")
            .replace("{ header = \"备注\", hint = \"非必填\", max = 230 },", "");
        let layout = Layout::from_toml(&text).unwrap();
        let e = write_batch(&layout, &InvoiceConfig::default(), &[person()]).unwrap_err();
        assert_eq!(
            e,
            LayoutError::MissingHeader {
                sheet: "1-发票基本信息".into(),
                header: "备注".into()
            }
        );
        assert!(e.to_string().contains("备注"));
        // An optional header is needed only once the settings give it a value.
        let text = include_str!("../../reports/invoice-batch.toml")
            .replace("{ header = \"收款人\", hint = \"非必填\", max = 16 },", "");
        let layout = Layout::from_toml(&text).unwrap();
        assert!(write_batch(&layout, &InvoiceConfig::default(), &[person()]).is_ok());
        let cfg = InvoiceConfig {
            payee: "李四".into(),
            ..InvoiceConfig::default()
        };
        assert!(matches!(
            write_batch(&layout, &cfg, &[person()]),
            Err(LayoutError::MissingHeader { header, .. }) if header == "收款人"
        ));
        // Headers are matched without whitespace and line breaks.
        let text = include_str!("../../reports/invoice-batch.toml")
            .replace("header = \"购买方名称\"", "header = \" 购买方\\n名称 \"");
        let layout = Layout::from_toml(&text).unwrap();
        let bytes = write_batch(&layout, &InvoiceConfig::default(), &[person()]).unwrap();
        assert_eq!(cell(&mut open(&bytes), "1-发票基本信息", "F4"), s("张三"));
    }

    #[test]
    fn bad_rows_and_settings_are_refused() {
        let l = Layout::default_layout();
        let cfg = InvoiceConfig::default();
        assert!(check_row(&l, &cfg, &person()).is_ok());
        assert!(check_row(&l, &cfg, &company()).is_ok());
        let with = |f: &dyn Fn(&mut InvoiceRow)| {
            let mut r = person();
            f(&mut r);
            check_row(&l, &cfg, &r).unwrap_err()
        };
        assert!(with(&|r| r.title = "张".into()).contains("at least 2"));
        assert!(with(&|r| r.title = "  ".into()).contains("empty"));
        assert!(with(&|r| r.title = "张".repeat(101)).contains("购买方名称 has 101 characters"));
        assert!(with(&|r| r.tax_id = Some("123".into())).contains("tax id"));
        assert!(with(&|r| r.amount_fen = 0).contains("not positive"));
        assert!(with(&|r| r.serial = "FP-1".into()).contains("serial"));
        assert!(with(&|r| r.hall_reference = "13812345678".into()).contains("mobile"));
        assert!(with(&|r| r.hall_reference = "44030119900101123X".into()).contains("ID"));
        assert!(with(&|r| r.hall_reference = format!("WT{}", "备".repeat(230))).contains("备注"));
        assert!(
            check_row(
                &l,
                &cfg,
                &InvoiceRow {
                    hall_reference: "20261125000001".into(),
                    ..person()
                }
            )
            .is_ok()
        );
        // An organisation's one-character name is allowed.
        let mut r = company();
        r.title = "某".into();
        assert!(check_row(&l, &cfg, &r).is_ok());
        // Bad rows never reach the file.
        let e = write_batch(&l, &cfg, &[person(), person()]).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        for bad in [
            InvoiceConfig {
                max_per_file: 999,
                ..InvoiceConfig::default()
            },
            InvoiceConfig {
                tax_code: "304020300".into(),
                ..InvoiceConfig::default()
            },
            InvoiceConfig {
                tax_rate: "6%".into(),
                ..InvoiceConfig::default()
            },
            InvoiceConfig {
                remark: "{id_number}".into(),
                ..InvoiceConfig::default()
            },
            InvoiceConfig {
                seller_show: "是".into(),
                ..InvoiceConfig::default()
            },
        ] {
            assert!(matches!(
                write_batch(&l, &bad, &[person()]),
                Err(LayoutError::Config(_))
            ));
        }
        let toml_cfg: InvoiceConfig =
            toml::from_str("tax_rate = \"0.03\"\nmax_per_file = 200").unwrap();
        assert_eq!(toml_cfg.tax_rate, "0.03");
        assert_eq!(toml_cfg.item_name, "数字证书补办服务费");
        assert!(toml_cfg.validate().is_ok());
    }

    #[test]
    fn a_large_batch_streams() {
        let rows: Vec<InvoiceRow> = (1..=5_000)
            .map(|i| InvoiceRow {
                serial: format!("FP261125{i:06}"),
                ..person()
            })
            .collect();
        let bytes =
            write_batch(&Layout::default_layout(), &InvoiceConfig::default(), &rows).unwrap();
        let mut wb = open(&bytes);
        assert_eq!(
            cell(&mut wb, "2-发票明细信息", "A5003"),
            s("FP261125005000")
        );
    }

    /// 100,000 rows in low-memory mode: a few seconds, about 60 MB in all (rows and output included).
    #[test]
    fn a_hundred_thousand_rows() {
        let rows: Vec<InvoiceRow> = (1..=100_000)
            .map(|i| InvoiceRow {
                serial: format!("FP261125{i:06}"),
                ..person()
            })
            .collect();
        let bytes =
            write_batch(&Layout::default_layout(), &InvoiceConfig::default(), &rows).unwrap();
        assert!(bytes.len() > 100_000);
    }

    // ---- reading back -------------------------------------------------------------------------

    const BASIC: [&str; 19] = [
        "序号",
        "发票代码",
        "发票号码",
        "数电发票号码",
        "销方识别号",
        "销方名称",
        "购方识别号",
        "购买方名称",
        "开票日期",
        "金额",
        "税额",
        "价税合计",
        "发票来源",
        "发票票种",
        "发票状态",
        "是否正数发票",
        "发票风险等级",
        "开票人",
        "备注",
    ];

    enum V<'a> {
        T(&'a str),
        N(f64),
        D(&'a str),
    }

    /// A platform-style export with one sheet, header in row 1.
    fn export(sheet: &str, headers: &[&str], rows: &[Vec<(&str, V)>]) -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(sheet).unwrap();
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (h, v) in row {
                let c = headers.iter().position(|x| x == h).unwrap() as u16;
                let r = r as u32 + 1;
                match v {
                    V::T(t) => ws.write_string(r, c, *t).map(|_| ()),
                    V::N(n) => ws.write_number(r, c, *n).map(|_| ()),
                    V::D(d) => ws
                        .write_datetime_with_format(
                            r,
                            c,
                            rust_xlsxwriter::ExcelDateTime::parse_from_str(d).unwrap(),
                            &date,
                        )
                        .map(|_| ()),
                }
                .unwrap();
            }
        }
        wb.save_to_buffer().unwrap()
    }

    const N1: &str = "26442000000123456789";
    const N2: &str = "26442000000123456790";
    const N3: &str = "26442000000123456791";

    fn basic_rows() -> Vec<Vec<(&'static str, V<'static>)>> {
        vec![
            vec![
                ("序号", V::N(1.0)),
                ("数电发票号码", V::T(N1)),
                ("销方识别号", V::T("91440300MA5SELLER1")),
                ("购买方名称", V::T("张三")),
                ("开票日期", V::T("2026-11-25 12:00:00")),
                ("金额", V::N(188.68)),
                ("价税合计", V::N(200.0)),
                ("发票状态", V::T("正常")),
                ("是否正数发票", V::T("是")),
                ("备注", V::T("申请编号：WT202611250001")),
            ],
            vec![
                ("序号", V::N(2.0)),
                ("数电发票号码", V::T(N2)),
                ("购买方名称", V::T("深圳市某某科技有限公司")),
                ("开票日期", V::D("2026-11-25 12:30:00")),
                ("价税合计", V::T("199.99")),
                ("发票状态", V::T("正常")),
                ("是否正数发票", V::T("是")),
            ],
            vec![
                ("序号", V::N(3.0)),
                ("数电发票号码", V::T(N3)),
                ("购买方名称", V::T("张三")),
                ("开票日期", V::T("2026-11-26 09:00:00")),
                ("价税合计", V::N(-200.0)),
                ("发票状态", V::T("已红冲")),
                ("是否正数发票", V::T("否")),
                ("备注", V::T("被红冲蓝字数电票号码：26442000000123456789")),
            ],
        ]
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        beijing()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_platform_export() {
        let f = read_issued(&export("发票基础信息", &BASIC, &basic_rows())).unwrap();
        assert_eq!(f.lines.len(), 3);
        let [a, b, c] = &f.lines[..] else {
            unreachable!()
        };
        assert_eq!((a.row, a.number.as_str()), (2, N1));
        assert_eq!(a.issued_at, at(2026, 11, 25, 12, 0));
        assert_eq!(a.amount_fen, 20000, "价税合计, not 金额");
        assert!(a.positive);
        assert_eq!(a.status, "正常");
        assert_eq!(a.remark, "申请编号：WT202611250001");
        assert_eq!(a.seller_tax_id.as_deref(), Some("91440300MA5SELLER1"));
        assert_eq!(a.serial, None);
        assert_eq!(a.link, None);
        assert_eq!(b.issued_at, at(2026, 11, 25, 12, 30), "an Excel date-time");
        assert_eq!(b.amount_fen, 19999);
        assert!(!c.positive);
        assert_eq!(c.amount_fen, -20000);
        assert!(f.files.is_empty() && f.failures.is_empty());
    }

    #[test]
    fn the_line_sheet_when_the_invoice_sheet_is_absent() {
        let headers = [
            "序号",
            "数电发票号码",
            "销方识别号",
            "购买方名称",
            "开票日期",
            "货物或应税劳务名称",
            "金额",
            "价税合计",
            "是否正数发票",
            "备注",
        ];
        let line = |n: &'static str, total: f64| {
            vec![
                ("数电发票号码", V::T(n)),
                ("购买方名称", V::T("张三")),
                ("开票日期", V::D("2026-11-25 12:00:00")),
                ("价税合计", V::N(total)),
                ("是否正数发票", V::T("是")),
            ]
        };
        let bytes = export(
            "信息汇总表",
            &headers,
            &[line(N1, 150.0), line(N2, 10.0), line(N1, 50.0)],
        );
        let f = read_issued(&bytes).unwrap();
        assert_eq!(f.lines.len(), 2);
        assert_eq!(
            (f.lines[0].number.as_str(), f.lines[0].amount_fen),
            (N1, 20000)
        );
        assert_eq!(f.lines[0].row, 2);
        assert_eq!(f.lines[1].amount_fen, 1000);
        // In 发票基础信息 the same number twice is an error.
        let bytes = export("发票基础信息", &headers, &[line(N1, 150.0), line(N1, 50.0)]);
        let e = read_issued(&bytes).unwrap_err();
        assert!(e.to_string().contains("appears already in row 2"), "{e}");
    }

    #[test]
    fn damaged_numbers_and_values_refuse_the_file() {
        let mut rows = basic_rows();
        rows[1][1] = ("数电发票号码", V::T("2.6212E+19"));
        let e = read_issued(&export("发票基础信息", &BASIC, &rows)).unwrap_err();
        let IssuedError::Cells { sheet, errors } = &e else {
            panic!("{e}")
        };
        assert_eq!(sheet, "发票基础信息");
        assert_eq!(errors[0].row, 3);
        assert_eq!(errors[0].column, "D (数电发票号码)");
        assert!(errors[0].message.contains("original download"), "{e}");
        rows[1][1] = ("数电发票号码", V::N(2.6442e19));
        let e = read_issued(&export("发票基础信息", &BASIC, &rows)).unwrap_err();
        assert!(
            e.to_string().contains("row 3, column D (数电发票号码)"),
            "{e}"
        );
        assert!(e.to_string().contains("original download"), "{e}");
        // Fractions of a fen, a bad date, a bad flag: all reported.
        let mut rows = basic_rows();
        rows[0][6] = ("价税合计", V::N(199.999));
        rows[1][3] = ("开票日期", V::T("25.11.2026"));
        rows[2][6] = ("是否正数发票", V::T("N"));
        let e = read_issued(&export("发票基础信息", &BASIC, &rows)).unwrap_err();
        let IssuedError::Cells { errors, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].message.contains("fractions of a fen"));
        assert_eq!(errors[1].column, "I (开票日期)");
        assert_eq!(errors[2].column, "P (是否正数发票)");
        // A missing column is named.
        let headers: Vec<&str> = BASIC
            .iter()
            .copied()
            .filter(|h| *h != "价税合计" && *h != "金额")
            .collect();
        let rows: Vec<_> = basic_rows()
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .filter(|(h, _)| *h != "价税合计" && *h != "金额")
                    .collect()
            })
            .collect();
        let e = read_issued(&export("发票基础信息", &headers, &rows)).unwrap_err();
        assert_eq!(
            e,
            IssuedError::MissingColumn {
                sheet: "发票基础信息".into(),
                column: "价税合计 | 金额".into()
            }
        );
    }

    #[test]
    fn exact_amounts() {
        for (text, fen) in [
            ("200", 20000),
            ("200.00", 20000),
            ("199.99", 19999),
            ("-200.00", -20000),
            ("¥1,200.50", 120050),
            ("0.1", 10),
            ("200.000", 20000),
        ] {
            assert_eq!(parse_yuan(text), Ok(fen), "{text}");
        }
        for bad in ["1.001", "2.0E+2", "12,34", "", "abc", "1.2.3"] {
            assert!(parse_yuan(bad).is_err(), "{bad}");
        }
        assert_eq!(money(&Value::Float(199.99)), Ok(19999));
        assert_eq!(money(&Value::Float(0.29)), Ok(29));
        assert_eq!(money(&Value::Float(1.15)), Ok(115));
        assert!(money(&Value::Float(0.1 + 0.2)).is_err());
        assert_eq!(money(&Value::Int(200)), Ok(20000));
    }

    #[test]
    fn a_plain_gbk_list_with_links() {
        let text = "发票号码,开票日期,购买方名称,金额,备注,发票流水号,下载链接\r\n\
            26442000000123456789,2026-11-25 12:00:00,张三,200.00,申请编号：WT202611250001,FP261125000001,https://dppt.example.cn/a?b=1\r\n\
            \r\n\
            26442000000123456790,2026/11/25 13:00:00,李四,199.99,,FP261125000002,\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let f = read_issued(&gbk).unwrap();
        assert_eq!(f.lines.len(), 2);
        let a = &f.lines[0];
        assert_eq!(a.serial.as_deref(), Some("FP261125000001"));
        assert_eq!(a.link.as_deref(), Some("https://dppt.example.cn/a?b=1"));
        assert!(a.positive);
        assert_eq!(f.lines[1].row, 4);
        assert_eq!(f.lines[1].issued_at, at(2026, 11, 25, 13, 0));
        assert_eq!(f.lines[1].link, None);
        let bad = text.replace("https://dppt.example.cn/a?b=1", "javascript:alert(1)");
        let e = read_issued(bad.as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .contains("sheet CSV: row 2, column G (下载链接)"),
            "{e}"
        );
    }

    #[test]
    fn a_zip_of_the_export_and_invoice_files() {
        let xlsx = export("发票基础信息", &BASIC, &basic_rows());
        let pdf_name = format!("dzfp_{N1}_深圳某CA有限公司_20261125120000.pdf");
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        w.add_directory("发票/", opts).unwrap();
        w.start_file("全量发票查询导出结果.xlsx", opts).unwrap();
        w.write_all(&xlsx).unwrap();
        w.start_file(format!("发票/{pdf_name}"), opts).unwrap();
        w.write_all(b"%PDF-1.7 ...").unwrap();
        w.start_file(format!("发票/dzfp_{N2}_x_20261125123000.xml"), opts)
            .unwrap();
        w.write_all(b"<EInvoice/>").unwrap();
        let z = w.finish().unwrap().into_inner();
        let f = read_issued(&z).unwrap();
        assert_eq!(f.lines.len(), 3);
        assert_eq!(f.files.len(), 2);
        assert_eq!(f.files[0].number, N1);
        assert_eq!(f.files[0].name, format!("发票/{pdf_name}"));
        assert_eq!(f.files[0].bytes, b"%PDF-1.7 ...");
        assert_eq!(f.files[1].number, N2);
        // A damaged member names itself.
        let mut rows = basic_rows();
        rows[0][1] = ("数电发票号码", V::T("2.6442E+19"));
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("export.xlsx", opts).unwrap();
        w.write_all(&export("发票基础信息", &BASIC, &rows)).unwrap();
        w.start_file("invoice.pdf", opts).unwrap();
        w.write_all(b"%PDF").unwrap();
        let e = read_issued(&w.finish().unwrap().into_inner()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("in member 1 (export.xlsx): sheet 发票基础信息: row 2"),
            "{e}"
        );
    }

    #[test]
    fn the_failure_list() {
        let headers = [
            "发票流水号",
            "发票类型",
            "特定业务类型",
            "购买方名称",
            "购买方税号",
            "错误原因",
        ];
        let bytes = export(
            "失败明细",
            &headers,
            &[
                vec![
                    ("发票流水号", V::T("FP261125000001")),
                    ("购买方名称", V::T("张")),
                    ("错误原因", V::T("购买方名称长度不符合要求")),
                ],
                vec![
                    ("发票流水号", V::T("FP261125000002")),
                    ("错误原因", V::T("税率不在允许范围")),
                ],
            ],
        );
        let f = read_issued(&bytes).unwrap();
        assert!(f.lines.is_empty());
        assert_eq!(
            f.failures,
            vec![
                FailureLine {
                    row: 2,
                    serial: "FP261125000001".into(),
                    reason: "购买方名称长度不符合要求".into()
                },
                FailureLine {
                    row: 3,
                    serial: "FP261125000002".into(),
                    reason: "税率不在允许范围".into()
                },
            ]
        );
        // With a title row above the header, as a CSV.
        let csv = "导入失败明细\n发票流水号,导入失败原因\nFP261125000003,购买方纳税人识别号错误\n";
        let f = read_issued(csv.as_bytes()).unwrap();
        assert_eq!(f.failures[0].row, 3);
        assert_eq!(f.failures[0].serial, "FP261125000003");
        assert!(read_issued(b"hello,world\n1,2\n").is_err());
        assert!(
            read_issued(b"%PDF-1.7")
                .unwrap_err()
                .to_string()
                .contains("zip")
        );
    }
}
