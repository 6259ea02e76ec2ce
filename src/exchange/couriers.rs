//! Courier batches (`../shared/contracts/courier-batch.md`): the courier's batch-order workbook
//! written from a layout file (header rows, per-column source and `required` flag, columns found
//! by header text, every cell text), the address and row checks of §5, and the read-back of the
//! waybill numbers (§7), all or nothing, naming row and column.

use super::budget::{self, FileBudgets};
use super::invoices::norm_header;
use super::sheet::{RowError, SheetError, column_letter, decode_text};
use crate::domain::calendar::beijing;
use crate::domain::contact::{Mobile, is_landline};
use calamine::Data;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Couriers
// ---------------------------------------------------------------------------------------------

/// The couriers a batch can go to. In layout files and `--courier`: `sf`, `ems`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Courier {
    Sf,
    Ems,
}

impl Courier {
    pub const ALL: [Courier; 2] = [Courier::Sf, Courier::Ems];

    /// What the database and the intake API's `shipment.courier` hold: `SF`, `EMS`.
    pub fn code(self) -> &'static str {
        match self {
            Courier::Sf => "SF",
            Courier::Ems => "EMS",
        }
    }

    /// A code (any case) or the names a courier's export writes (§7): `顺丰`, `顺丰速运`,
    /// `中国邮政`, `邮政` ….
    pub fn parse(s: &str) -> Option<Courier> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        match t.as_str() {
            "SF" | "顺丰" | "顺丰速运" | "顺丰快递" | "SFEXPRESS" => Some(Courier::Sf),
            "EMS"
            | "中国邮政"
            | "邮政"
            | "邮政EMS"
            | "中国邮政EMS"
            | "EMS快递"
            | "中国邮政速递物流" => Some(Courier::Ems),
            _ => None,
        }
    }

    /// The name printed on labels and pages.
    pub fn label_zh(self) -> &'static str {
        match self {
            Courier::Sf => "顺丰速运",
            Courier::Ems => "中国邮政EMS",
        }
    }
}

impl fmt::Display for Courier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

// ---------------------------------------------------------------------------------------------
// The layout file (§1–§4)
// ---------------------------------------------------------------------------------------------

/// A courier's batch-order layout, read from `reports/couriers/*.toml` or `courier.*.layout_file`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourierLayout {
    /// `sf-standard-57`, `sf-user-44`, `ems-basic`.
    pub name: String,
    pub courier: Courier,
    #[serde(default = "default_sheet")]
    pub sheet: String,
    /// Spreadsheet row numbers (1-based). Group headings, if any, go in the row above the headers.
    #[serde(default = "default_header_row")]
    pub header_row: u32,
    #[serde(default = "default_data_row")]
    pub data_row: u32,
    #[serde(default)]
    pub groups: Vec<GroupHeading>,
    /// The headers in order.
    pub columns: Vec<CourierColumn>,
}

fn default_sheet() -> String {
    "Sheet1".into()
}
fn default_header_row() -> u32 {
    1
}
fn default_data_row() -> u32 {
    2
}

/// A heading merged over the columns `first` to `last` (named by header).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupHeading {
    pub title: String,
    pub first: String,
    pub last: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourierColumn {
    pub header: String,
    /// What goes in: see `reports/couriers/sf.toml`; empty = written empty.
    #[serde(default)]
    pub source: String,
    /// The courier's import needs a value here.
    #[serde(default)]
    pub required: bool,
    /// Other names of the same column in variants of the template.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A column's source, parsed from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Empty,
    Seq,
    OrderNo,
    Const(String),
    Sender(Part),
    Recipient(Part),
    Contents,
    SfProduct,
    SfPayment,
    SfMonthlyAccount,
    WeightKg,
    DeclaredValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Company,
    Name,
    Phone,
    Province,
    City,
    District,
    Detail,
    Postcode,
    FullAddress,
}

impl Source {
    fn parse(s: &str) -> Option<Source> {
        let s = s.trim();
        if let Some(text) = s.strip_prefix("const:") {
            return Some(Source::Const(text.to_owned()));
        }
        let part = |p: &str, recipient: bool| {
            Some(match p {
                "company" if !recipient => Part::Company,
                "name" => Part::Name,
                "phone" if !recipient => Part::Phone,
                "mobile" if recipient => Part::Phone,
                "province" => Part::Province,
                "city" => Part::City,
                "district" => Part::District,
                "detail" => Part::Detail,
                "postcode" => Part::Postcode,
                "full_address" => Part::FullAddress,
                _ => return None,
            })
        };
        if let Some(p) = s.strip_prefix("sender.") {
            return part(p, false).map(Source::Sender);
        }
        if let Some(p) = s.strip_prefix("recipient.") {
            return part(p, true).map(Source::Recipient);
        }
        Some(match s {
            "" => Source::Empty,
            "seq" => Source::Seq,
            "order_no" => Source::OrderNo,
            "contents" => Source::Contents,
            "sf.product" => Source::SfProduct,
            "sf.payment" => Source::SfPayment,
            "sf.monthly_account" => Source::SfMonthlyAccount,
            "weight_kg" => Source::WeightKg,
            "declared_value" => Source::DeclaredValue,
            _ => return None,
        })
    }

    /// As the layout file spells it.
    fn name(&self) -> String {
        let part = |p: Part, recipient: bool| match p {
            Part::Company => "company",
            Part::Name => "name",
            Part::Phone if recipient => "mobile",
            Part::Phone => "phone",
            Part::Province => "province",
            Part::City => "city",
            Part::District => "district",
            Part::Detail => "detail",
            Part::Postcode => "postcode",
            Part::FullAddress => "full_address",
        };
        match self {
            Source::Empty => String::new(),
            Source::Seq => "seq".into(),
            Source::OrderNo => "order_no".into(),
            Source::Const(t) => format!("const:{t}"),
            Source::Sender(p) => format!("sender.{}", part(*p, false)),
            Source::Recipient(p) => format!("recipient.{}", part(*p, true)),
            Source::Contents => "contents".into(),
            Source::SfProduct => "sf.product".into(),
            Source::SfPayment => "sf.payment".into(),
            Source::SfMonthlyAccount => "sf.monthly_account".into(),
            Source::WeightKg => "weight_kg".into(),
            Source::DeclaredValue => "declared_value".into(),
        }
    }

    /// Values that come from the shipment rather than from the settings.
    fn is_per_row(&self) -> bool {
        matches!(self, Source::OrderNo | Source::Recipient(_))
    }

    /// The setting a value comes from, for error messages.
    fn setting(&self) -> String {
        match self {
            Source::Sender(Part::FullAddress) => {
                "courier.sender.province/city/district/detail".into()
            }
            s => format!("courier.{}", s.name()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourierError {
    #[error("the layout file {path} cannot be read: {message}")]
    Io { path: String, message: String },
    #[error("the layout file is not valid: {0}")]
    Toml(String),
    #[error("the layout is inconsistent: {0}")]
    Invalid(String),
    #[error("layout {layout} has no column {header} ({field}), which the export needs")]
    MissingColumn {
        layout: String,
        header: String,
        field: String,
    },
    #[error("courier settings: {0}")]
    Config(String),
    #[error("order {order_no}: {reason}")]
    Row { order_no: String, reason: String },
    #[error("the workbook cannot be written: {0}")]
    Xlsx(String),
}

impl CourierLayout {
    pub fn from_toml(text: &str) -> Result<CourierLayout, CourierError> {
        let layout: CourierLayout =
            toml::from_str(text).map_err(|e| CourierError::Toml(e.to_string()))?;
        layout.check()?;
        Ok(layout)
    }

    pub fn load(path: &Path) -> Result<CourierLayout, CourierError> {
        let io = |message: String| CourierError::Io {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| io(e.to_string()))?;
        CourierLayout::from_toml(&text).map_err(|e| io(e.to_string()))
    }

    /// The layout shipped with the program: `sf-standard-57`, or the provisional `ems-basic`.
    pub fn shipped(courier: Courier) -> CourierLayout {
        let text = match courier {
            Courier::Sf => include_str!("../../reports/couriers/sf.toml"),
            Courier::Ems => include_str!("../../reports/couriers/ems.toml"),
        };
        CourierLayout::from_toml(text).expect("the shipped courier layouts are valid")
    }

    /// The 0-based column whose header or alias is `header`.
    pub fn find(&self, header: &str) -> Option<usize> {
        let want = norm_header(header);
        self.columns.iter().position(|c| {
            norm_header(&c.header) == want || c.aliases.iter().any(|a| norm_header(a) == want)
        })
    }

    fn sources(&self) -> Result<Vec<Source>, CourierError> {
        self.columns
            .iter()
            .map(|c| {
                Source::parse(&c.source).ok_or_else(|| {
                    CourierError::Invalid(format!(
                        "column '{}' has the unknown source '{}'",
                        c.header, c.source
                    ))
                })
            })
            .collect()
    }

    fn check(&self) -> Result<(), CourierError> {
        let bad = |m: String| Err(CourierError::Invalid(m));
        if self.name.trim().is_empty() {
            return bad("the layout has no name".into());
        }
        let n = self.sheet.chars().count();
        if n == 0 || n > 31 || self.sheet.contains(['[', ']', ':', '*', '?', '/', '\\']) {
            return bad(format!("'{}' is not a valid sheet name", self.sheet));
        }
        if self.header_row == 0 || self.data_row <= self.header_row {
            return bad("1 <= header_row < data_row must hold".into());
        }
        if !self.groups.is_empty() && self.header_row < 2 {
            return bad("group headings need a row above the headers (header_row >= 2)".into());
        }
        if self.columns.is_empty() || self.columns.len() > 16_384 {
            return bad("the layout needs 1 to 16,384 columns".into());
        }
        let mut names = HashSet::new();
        for c in &self.columns {
            if c.header.trim().is_empty() {
                return bad("a column has an empty header".into());
            }
            for h in std::iter::once(&c.header).chain(&c.aliases) {
                if !names.insert(norm_header(h)) {
                    return bad(format!("the header or alias '{h}' appears twice"));
                }
            }
        }
        self.sources()?;
        let mut taken = vec![false; self.columns.len()];
        for g in &self.groups {
            let (Some(a), Some(b)) = (self.find(&g.first), self.find(&g.last)) else {
                return bad(format!(
                    "group '{}' names a column the layout lacks ({} … {})",
                    g.title, g.first, g.last
                ));
            };
            if a > b || taken[a..=b].iter().any(|t| *t) {
                return bad(format!(
                    "group '{}' is reversed or overlaps another",
                    g.title
                ));
            }
            taken[a..=b].iter_mut().for_each(|t| *t = true);
        }
        Ok(())
    }

    /// The header this layout, else the shipped one, gives to `source` (for messages).
    fn header_for(&self, source: &Source) -> String {
        let in_layout = |l: &CourierLayout| {
            l.sources().ok().and_then(|s| {
                s.iter()
                    .position(|x| x == source)
                    .map(|i| l.columns[i].header.clone())
            })
        };
        in_layout(self)
            .or_else(|| in_layout(&CourierLayout::shipped(self.courier)))
            .unwrap_or_else(|| source.name())
    }
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/// `[courier]` in the settings (§1, §6, §7).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct CourierConfig {
    pub sender: SenderConfig,
    pub sf: SfConfig,
    pub ems: EmsConfig,
    /// 托寄物: must truthfully describe the item.
    pub contents: String,
    /// Kilograms, e.g. `0.2`; empty columns when unset.
    #[serde(deserialize_with = "text_or_number")]
    pub weight_kg: Option<String>,
    /// Yuan, e.g. `200`; empty columns when unset.
    #[serde(deserialize_with = "text_or_number")]
    pub declared_value: Option<String>,
    /// Print the recipient's name as `张*` on labels (§6).
    pub label_mask_recipient_name: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SenderConfig {
    pub company: String,
    pub name: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
    pub postcode: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct SfConfig {
    /// 月结卡号, 10 digits.
    pub monthly_account: String,
    pub product: String,
    pub payment: String,
    pub layout_file: Option<PathBuf>,
    /// Anchored patterns (a regular-expression subset: literals, `\d`, `[A-Z0-9]`, `.`, `{n}`,
    /// `{n,m}`, `?`, `*`, `+`, one outer group with `|`).
    pub waybill_patterns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct EmsConfig {
    pub layout_file: Option<PathBuf>,
    pub waybill_patterns: Vec<String>,
}

impl Default for CourierConfig {
    fn default() -> Self {
        CourierConfig {
            sender: SenderConfig::default(),
            sf: SfConfig::default(),
            ems: EmsConfig::default(),
            contents: "USB Key".into(),
            weight_kg: None,
            declared_value: None,
            label_mask_recipient_name: false,
        }
    }
}

impl Default for SfConfig {
    fn default() -> Self {
        SfConfig {
            monthly_account: String::new(),
            product: "顺丰标快".into(),
            payment: "寄付月结".into(),
            layout_file: None,
            waybill_patterns: vec![r"^SF\d{13}$".into(), r"^\d{12}$".into()],
        }
    }
}

impl Default for EmsConfig {
    fn default() -> Self {
        EmsConfig {
            layout_file: None,
            waybill_patterns: vec![r"^(\d{13}|[A-Z]{2}\d{9}[A-Z]{2})$".into()],
        }
    }
}

/// `weight_kg = 0.2` and `weight_kg = "0.2"` both read as text.
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum T {
        S(String),
        I(i64),
        F(f64),
    }
    Ok(Option::<T>::deserialize(d)?.map(|t| match t {
        T::S(s) => s,
        T::I(i) => i.to_string(),
        T::F(f) => f.to_string(),
    }))
}

/// 付款方式 values SF's import takes.
pub const SF_PAYMENTS: [&str; 4] = ["寄付月结", "寄付现结", "到付", "第三方付"];

fn is_phone(s: &str) -> bool {
    Mobile::parse(s).is_ok() && s.trim() == s || is_landline(s)
}

fn is_postcode(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A plain decimal with at most `places` decimals: `0.2`, `200`, `199.5`.
fn is_decimal(s: &str, places: usize) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty() && digits(int) && digits(frac) && frac.len() <= places && !s.ends_with('.')
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl SenderConfig {
    /// §5: `广东省深圳市南山区科技园路1号`.
    pub fn full_address(&self) -> String {
        full_address(&self.province, &self.city, &self.district, &self.detail)
    }
}

impl CourierConfig {
    /// Checks the form of what is set, once, before any export. Whether everything a layout
    /// needs is set is checked when a batch is written.
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.sender;
        if !s.phone.is_empty() && !is_phone(&s.phone) {
            return Err(format!(
                "sender.phone '{}' is neither a mobile number nor a landline like 0755-12345678",
                s.phone
            ));
        }
        if !s.postcode.is_empty() && !is_postcode(&s.postcode) {
            return Err(format!("sender.postcode '{}' is not 6 digits", s.postcode));
        }
        let fields = [
            ("sender.company", &s.company),
            ("sender.name", &s.name),
            ("sender.province", &s.province),
            ("sender.city", &s.city),
            ("sender.district", &s.district),
            ("sender.detail", &s.detail),
            ("contents", &self.contents),
            ("sf.product", &self.sf.product),
        ];
        for (name, v) in fields {
            if v.chars().any(char::is_control) {
                return Err(format!("{name} contains a control character"));
            }
        }
        if !s.name.is_empty() {
            check_name(&s.name).map_err(|e| format!("sender.name {e}"))?;
        }
        let a = &self.sf.monthly_account;
        let ten_digits = a.len() == 10 && a.bytes().all(|b| b.is_ascii_digit());
        if !a.is_empty() && !ten_digits {
            return Err(format!("sf.monthly_account '{a}' is not 10 digits"));
        }
        if !SF_PAYMENTS.contains(&self.sf.payment.as_str()) {
            return Err(format!(
                "sf.payment '{}' must be one of {}",
                self.sf.payment,
                SF_PAYMENTS.join(" / ")
            ));
        }
        if self.sf.product.trim().is_empty() {
            return Err("sf.product is empty".into());
        }
        if self.contents.trim().is_empty() {
            return Err("contents is empty".into());
        }
        if let Some(w) = set(&self.weight_kg)
            && !(is_decimal(w, 3) && w.bytes().any(|b| (b'1'..=b'9').contains(&b)))
        {
            return Err(format!("weight_kg '{w}' is not a positive number like 0.2"));
        }
        if let Some(v) = set(&self.declared_value)
            && !is_decimal(v, 2)
        {
            return Err(format!("declared_value '{v}' is not an amount like 200"));
        }
        for (name, list) in [
            ("sf.waybill_patterns", &self.sf.waybill_patterns),
            ("ems.waybill_patterns", &self.ems.waybill_patterns),
        ] {
            if list.is_empty() {
                return Err(format!("{name} is empty"));
            }
            for p in list {
                Pattern::parse(p).map_err(|e| format!("{name}: '{p}': {e}"))?;
            }
        }
        Ok(())
    }

    /// The layout to write with: `layout_file` when set, otherwise the shipped one.
    pub fn layout(&self, courier: Courier) -> Result<CourierLayout, CourierError> {
        let file = match courier {
            Courier::Sf => &self.sf.layout_file,
            Courier::Ems => &self.ems.layout_file,
        };
        let layout = match file {
            Some(p) => CourierLayout::load(p)?,
            None => CourierLayout::shipped(courier),
        };
        if layout.courier != courier {
            return Err(CourierError::Invalid(format!(
                "layout {} is for {}, not {}",
                layout.name, layout.courier, courier
            )));
        }
        Ok(layout)
    }

    fn waybill_patterns(&self, courier: Courier) -> &[String] {
        match courier {
            Courier::Sf => &self.sf.waybill_patterns,
            Courier::Ems => &self.ems.waybill_patterns,
        }
    }
}

/// Whether `waybill` (trimmed and upper-cased, as `read_tracking` gives it) has one of the
/// configured forms of `courier` (§7). A pattern `validate` refuses never matches.
pub fn waybill_matches(cfg: &CourierConfig, courier: Courier, waybill: &str) -> bool {
    cfg.waybill_patterns(courier)
        .iter()
        .filter_map(|p| Pattern::parse(p).ok())
        .any(|p| p.matches(waybill))
}

// ---------------------------------------------------------------------------------------------
// Waybill patterns: the small part of regular expressions the contract's patterns use
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Class {
    Lit(char),
    Digit,
    Any,
    Set(Vec<(char, char)>),
}

impl Class {
    fn matches(&self, c: char) -> bool {
        match self {
            Class::Lit(l) => *l == c,
            Class::Digit => c.is_ascii_digit(),
            Class::Any => true,
            Class::Set(ranges) => ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Atom {
    class: Class,
    min: usize,
    max: usize,
}

/// An anchored pattern: alternatives of atom sequences, always matched against the whole text.
#[derive(Debug, Clone, PartialEq)]
struct Pattern(Vec<Vec<Atom>>);

impl Pattern {
    fn parse(p: &str) -> Result<Pattern, String> {
        let s = p.strip_prefix('^').unwrap_or(p);
        let s = match s.strip_suffix('$') {
            Some(t) if !t.ends_with('\\') => t,
            _ => s,
        };
        let s = match s.strip_prefix("(?:").or_else(|| s.strip_prefix('(')) {
            Some(inner) if s.ends_with(')') => &inner[..inner.len() - 1],
            _ => s,
        };
        let mut alts = vec![Vec::new()];
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            let class = match c {
                '|' => {
                    alts.push(Vec::new());
                    continue;
                }
                '\\' => match chars.next() {
                    Some('d') => Class::Digit,
                    Some(e) if e.is_ascii_punctuation() => Class::Lit(e),
                    other => {
                        return Err(format!(
                            "the escape \\{} is not supported",
                            other.unwrap_or(' ')
                        ));
                    }
                },
                '[' => {
                    let mut ranges = Vec::new();
                    loop {
                        match chars.next() {
                            None => return Err("a [ is not closed".into()),
                            Some(']') if !ranges.is_empty() => break,
                            Some('^') if ranges.is_empty() => {
                                return Err("negated classes [^…] are not supported".into());
                            }
                            Some('\\') => match chars.next() {
                                Some('d') => ranges.push(('0', '9')),
                                Some(e) if e.is_ascii_punctuation() => ranges.push((e, e)),
                                _ => return Err("an unsupported escape inside [ ]".into()),
                            },
                            Some(a) => {
                                if chars.peek() == Some(&'-') {
                                    chars.next();
                                    match chars.next() {
                                        Some(']') | None => {
                                            return Err("a range inside [ ] has no end".into());
                                        }
                                        Some(b) if b >= a => ranges.push((a, b)),
                                        Some(_) => {
                                            return Err("a range inside [ ] is reversed".into());
                                        }
                                    }
                                } else {
                                    ranges.push((a, a));
                                }
                            }
                        }
                    }
                    Class::Set(ranges)
                }
                '.' => Class::Any,
                '(' | ')' | '{' | '}' | '*' | '+' | '?' | '^' | '$' => {
                    return Err(format!("'{c}' is not supported here"));
                }
                c => Class::Lit(c),
            };
            let (min, max) = match chars.peek() {
                Some('?') => (0, 1),
                Some('*') => (0, usize::MAX),
                Some('+') => (1, usize::MAX),
                Some('{') => {
                    chars.next();
                    let body: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    let num = |t: &str| {
                        t.trim()
                            .parse::<usize>()
                            .map_err(|_| format!("'{{{body}}}' is not a count"))
                    };
                    let (min, max) = match body.split_once(',') {
                        None => (num(&body)?, num(&body)?),
                        Some((a, "")) => (num(a)?, usize::MAX),
                        Some((a, b)) => (num(a)?, num(b)?),
                    };
                    if min > max {
                        return Err(format!("'{{{body}}}' is reversed"));
                    }
                    alts.last_mut().expect("one").push(Atom { class, min, max });
                    continue;
                }
                _ => (1, 1),
            };
            if (min, max) != (1, 1) {
                chars.next();
            }
            alts.last_mut().expect("one").push(Atom { class, min, max });
        }
        if alts.iter().any(Vec::is_empty) {
            return Err("an alternative is empty".into());
        }
        Ok(Pattern(alts))
    }

    fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        self.0.iter().any(|atoms| match_here(atoms, &chars))
    }
}

/// Backtracking over short strings (a waybill is at most a few dozen characters).
fn match_here(atoms: &[Atom], text: &[char]) -> bool {
    let Some((a, rest)) = atoms.split_first() else {
        return text.is_empty();
    };
    let most = text
        .iter()
        .take(a.max)
        .take_while(|c| a.class.matches(**c))
        .count();
    (a.min..=most).rev().any(|k| match_here(rest, &text[k..]))
}

// ---------------------------------------------------------------------------------------------
// Shipments and the checks of §5
// ---------------------------------------------------------------------------------------------

/// One parcel: an application's mailing address under its order number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShipmentRow {
    /// `hall_reference`, `-2`, `-3` … on a re-shipment.
    pub order_no: String,
    pub recipient_name: String,
    pub recipient_mobile: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
    pub postcode: Option<String>,
}

impl ShipmentRow {
    pub fn full_address(&self) -> String {
        full_address(&self.province, &self.city, &self.district, &self.detail)
    }
}

const MUNICIPALITIES: [&str; 4] = ["北京市", "天津市", "上海市", "重庆市"];

/// §5: province + city (left out when it repeats the province, or is `市辖区`) + district (left
/// out when it repeats the city) + detail, without separators; a prefix the detail already
/// starts with is not written twice.
pub fn full_address(province: &str, city: &str, district: &str, detail: &str) -> String {
    let (province, city, district, detail) =
        (province.trim(), city.trim(), district.trim(), detail.trim());
    let municipality = MUNICIPALITIES.contains(&province);
    let mut parts: Vec<&str> = Vec::with_capacity(3);
    for p in [province, city, district] {
        let placeholder = p == "市辖区" || (municipality && p == "县");
        if !p.is_empty() && !placeholder && parts.last() != Some(&p) {
            parts.push(p);
        }
    }
    // The detail may repeat the tail of the prefix: 深圳市南山区科技园路1号, 南山区科技园路1号 ….
    let keep = (0..parts.len())
        .find(|&i| detail.starts_with(parts[i]))
        .unwrap_or(parts.len());
    let mut out = parts[..keep].concat();
    out.push_str(detail);
    out
}

/// 1–30 characters after trimming, no control characters; `·` is fine (阿卜杜·热合曼).
fn check_name(name: &str) -> Result<(), String> {
    let n = name.trim().chars().count();
    if n == 0 {
        return Err("is empty".into());
    }
    if n > 30 {
        return Err(format!("has {n} characters; at most 30"));
    }
    if name.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    Ok(())
}

/// The value a row gives a row source.
fn row_value<'r>(part: &Source, row: &'r ShipmentRow, full: &'r str) -> &'r str {
    match part {
        Source::OrderNo => &row.order_no,
        Source::Recipient(p) => match p {
            Part::Name => row.recipient_name.trim(),
            Part::Phone => row.recipient_mobile.trim(),
            Part::Province => row.province.trim(),
            Part::City => row.city.trim(),
            Part::District => row.district.trim(),
            Part::Detail => row.detail.trim(),
            Part::Postcode => row.postcode.as_deref().unwrap_or("").trim(),
            Part::FullAddress => full,
            Part::Company => "",
        },
        _ => "",
    }
}

/// The rules of §5, checked before a shipment goes into a batch. `Err` is the reason shown on
/// the exceptions list; such a shipment is not exported.
pub fn check_row(
    courier: Courier,
    layout: &CourierLayout,
    row: &ShipmentRow,
) -> Result<(), String> {
    let o = &row.order_no;
    if o.is_empty() || o.len() > 30 || !o.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "order number '{o}' must be 1 to 30 ASCII characters without spaces"
        ));
    }
    check_name(&row.recipient_name).map_err(|e| format!("the recipient's name {e}"))?;
    let m = row.recipient_mobile.trim();
    if Mobile::parse(m).is_err() && !is_landline(m) {
        return Err(format!(
            "the recipient's mobile '{m}' is not 11 digits 1[3-9]… (nor a landline like 0755-12345678)"
        ));
    }
    for (what, v) in [
        ("province", &row.province),
        ("city", &row.city),
        ("district", &row.district),
        ("detail", &row.detail),
    ] {
        if v.chars().any(char::is_control) {
            return Err(format!("the address ({what}) contains a control character"));
        }
        if what != "district" && v.trim().is_empty() {
            return Err(format!("the address has no {what}"));
        }
    }
    let n = row.detail.trim().chars().count();
    if n > 100 {
        return Err(format!(
            "the detailed address has {n} characters; at most 100"
        ));
    }
    let postcode = row.postcode.as_deref().map(str::trim).unwrap_or("");
    if !postcode.is_empty() && !is_postcode(postcode) {
        return Err(format!("the postcode '{postcode}' is not 6 digits"));
    }
    if courier == Courier::Ems && postcode.is_empty() {
        return Err("EMS needs the postcode".into());
    }
    let sources = layout.sources().map_err(|e| e.to_string())?;
    let full = row.full_address();
    for (c, s) in layout.columns.iter().zip(&sources) {
        if c.required && s.is_per_row() && row_value(s, row, &full).is_empty() {
            return Err(format!("{} is empty", c.header));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writing the batch workbook
// ---------------------------------------------------------------------------------------------

fn xlsx(e: rust_xlsxwriter::XlsxError) -> CourierError {
    CourierError::Xlsx(e.to_string())
}

/// What the export needs a column for, whatever the layout: the order number and the
/// recipient's name, mobile and address; the postcode for EMS; weight and value once set.
fn needed(cfg: &CourierConfig, courier: Courier) -> Vec<Vec<Source>> {
    let mut out = vec![
        vec![Source::OrderNo],
        vec![Source::Recipient(Part::Name)],
        vec![Source::Recipient(Part::Phone)],
        vec![
            Source::Recipient(Part::FullAddress),
            Source::Recipient(Part::Detail),
        ],
        vec![Source::Contents],
    ];
    if courier == Courier::Ems {
        out.push(vec![Source::Recipient(Part::Postcode)]);
    }
    if set(&cfg.weight_kg).is_some() {
        out.push(vec![Source::WeightKg]);
    }
    if set(&cfg.declared_value).is_some() {
        out.push(vec![Source::DeclaredValue]);
    }
    out
}

/// The value of a source that does not depend on the row (`None`: it does).
fn fixed_value(s: &Source, cfg: &CourierConfig, sender_full: &str) -> Option<String> {
    let sender = &cfg.sender;
    let v: &str = match s {
        Source::Empty => "",
        Source::Const(t) => t,
        Source::Sender(p) => match p {
            Part::Company => &sender.company,
            Part::Name => &sender.name,
            Part::Phone => &sender.phone,
            Part::Province => &sender.province,
            Part::City => &sender.city,
            Part::District => &sender.district,
            Part::Detail => &sender.detail,
            Part::Postcode => &sender.postcode,
            Part::FullAddress => sender_full,
        },
        Source::Contents => &cfg.contents,
        Source::SfProduct => &cfg.sf.product,
        Source::SfPayment => &cfg.sf.payment,
        Source::SfMonthlyAccount => &cfg.sf.monthly_account,
        Source::WeightKg => set(&cfg.weight_kg).unwrap_or(""),
        Source::DeclaredValue => set(&cfg.declared_value).unwrap_or(""),
        Source::Seq | Source::OrderNo | Source::Recipient(_) => return None,
    };
    Some(v.trim().to_owned())
}

/// The courier's batch-order workbook: group headings (merged) and headers from the layout, one
/// row per shipment from `data_row` on, every cell text, unused columns empty. The same rows
/// give the same bytes. Every row passes `check_row` first (the caller lists the failures as
/// exceptions and leaves them out); a failing or repeated one refuses the whole file.
pub fn write_batch(
    layout: &CourierLayout,
    cfg: &CourierConfig,
    courier: Courier,
    rows: &[ShipmentRow],
) -> Result<Vec<u8>, CourierError> {
    cfg.validate().map_err(CourierError::Config)?;
    layout.check()?;
    if layout.courier != courier {
        return Err(CourierError::Invalid(format!(
            "layout {} is for {}, not {}",
            layout.name, layout.courier, courier
        )));
    }
    let sources = layout.sources()?;
    for any_of in needed(cfg, courier) {
        if !any_of.iter().any(|s| sources.contains(s)) {
            return Err(CourierError::MissingColumn {
                layout: layout.name.clone(),
                header: layout.header_for(&any_of[0]),
                field: any_of[0].name(),
            });
        }
    }
    let sender_full = cfg.sender.full_address();
    let fixed: Vec<Option<String>> = sources
        .iter()
        .map(|s| fixed_value(s, cfg, &sender_full))
        .collect();
    for ((c, s), v) in layout.columns.iter().zip(&sources).zip(&fixed) {
        let monthly = *s == Source::SfMonthlyAccount && cfg.sf.payment == "寄付月结";
        if (c.required || monthly) && v.as_deref() == Some("") {
            return Err(CourierError::Config(format!(
                "column {} needs {}",
                c.header,
                s.setting()
            )));
        }
    }
    let mut seen = HashSet::new();
    for r in rows {
        check_row(courier, layout, r).map_err(|reason| CourierError::Row {
            order_no: r.order_no.clone(),
            reason,
        })?;
        if !seen.insert(r.order_no.as_str()) {
            return Err(CourierError::Row {
                order_no: r.order_no.clone(),
                reason: "appears twice in the batch".into(),
            });
        }
    }
    let last = u64::from(layout.data_row) + rows.len() as u64;
    if last > 1_048_576 {
        return Err(CourierError::Invalid("too many rows for one sheet".into()));
    }

    // Built-in number format 49 is Excel's "@" (Text): leading zeros and long numbers stay.
    let text = Format::new().set_num_format_index(49);
    let head = text
        .clone()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let mut wb = Workbook::new();
    // A fixed creation time keeps the output byte-identical for the same rows.
    let created = ExcelDateTime::from_ymd(2026, 1, 1).map_err(xlsx)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let ws = wb.add_worksheet_with_low_memory().map_err(xlsx)?;
    ws.set_name(&layout.sheet).map_err(xlsx)?;
    write_head(ws, layout, &sources, &text, &head).map_err(xlsx)?;
    let first = layout.data_row - 1;
    for (i, r) in rows.iter().enumerate() {
        let n = first + i as u32;
        let full = r.full_address();
        let seq = (i + 1).to_string();
        for (col, (s, v)) in sources.iter().zip(&fixed).enumerate() {
            let value = match (s, v) {
                (_, Some(v)) => v.as_str(),
                (Source::Seq, None) => seq.as_str(),
                (s, None) => row_value(s, r, &full),
            };
            if !value.is_empty() {
                ws.write_string_with_format(n, col as u16, value, &text)
                    .map_err(xlsx)?;
            }
        }
    }
    wb.save_to_buffer().map_err(xlsx)
}

/// Text format and width on every column, the merged group headings, the headers.
fn write_head(
    ws: &mut Worksheet,
    layout: &CourierLayout,
    sources: &[Source],
    text: &Format,
    head: &Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (i, (c, s)) in layout.columns.iter().zip(sources).enumerate() {
        let width = match s {
            Source::Sender(Part::FullAddress) | Source::Recipient(Part::FullAddress) => 40.0,
            Source::Sender(Part::Detail) | Source::Recipient(Part::Detail) => 30.0,
            _ => (c.header.chars().count() as f64 * 2.2 + 2.0).clamp(8.0, 24.0),
        };
        ws.set_column_format(i as u16, text)?;
        ws.set_column_width(i as u16, width)?;
    }
    let hr = layout.header_row - 1;
    if !layout.groups.is_empty() {
        let mut groups: Vec<(usize, usize, &str)> = layout
            .groups
            .iter()
            .map(|g| {
                let a = layout.find(&g.first).expect("checked when loaded");
                let b = layout.find(&g.last).expect("checked when loaded");
                (a, b, g.title.as_str())
            })
            .collect();
        groups.sort();
        for (a, b, title) in groups {
            if a == b {
                ws.write_string_with_format(hr - 1, a as u16, title, head)?;
            } else {
                ws.merge_range(hr - 1, a as u16, hr - 1, b as u16, title, head)?;
            }
        }
    }
    for (i, c) in layout.columns.iter().enumerate() {
        ws.write_string_with_format(hr, i as u16, &c.header, head)?;
    }
    ws.set_freeze_panes(layout.data_row - 1, 0)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The tracking import (§7)
// ---------------------------------------------------------------------------------------------

/// A file's format errors: a missing column (no header row in rows 1–5), the file unreadable,
/// or the cells that are wrong, each with row and column. The same error the other imports give,
/// so `?` turns it into `ImportError`.
pub type TrackingError = SheetError;

/// One waybill number given back for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRow {
    /// The spreadsheet row (1-based) it came from.
    pub row: usize,
    pub order_no: String,
    /// Trimmed, upper-cased.
    pub waybill: String,
    /// Absent: the caller uses the import time.
    pub shipped_at: Option<DateTime<Utc>>,
    /// From a courier column, when the file has one (a conflict if it differs from the batch's).
    pub courier: Option<Courier>,
}

pub const ORDER_HEADERS: [&str; 4] = ["订单号", "用户订单号", "客户订单号", "订单编号"];
pub const WAYBILL_HEADERS: [&str; 5] = ["运单号", "运单号码", "快递单号", "母单号", "邮件号"];
pub const TIME_HEADERS: [&str; 5] = ["寄件时间", "揽收时间", "发货时间", "下单时间", "打印时间"];
pub const COURIER_HEADERS: [&str; 3] = ["快递公司", "承运商", "物流公司"];

/// A cell as read, before it is interpreted.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Empty,
    Text(String),
    Number(f64),
    Time(NaiveDateTime),
    /// A spreadsheet error such as `#VALUE!`.
    Bad(String),
}

/// (spreadsheet row number, cells)
type Grid = Vec<(usize, Vec<Value>)>;

/// Reads the waybill numbers from the courier's export or any list: xlsx/xls (first visible
/// sheet) or CSV (UTF-8 or GBK). The header row is the first of rows 1–5 naming an order column
/// and a waybill column (aliases above); time and courier columns are optional. Any bad cell
/// refuses the whole file. Checking each waybill against its order's courier needs the
/// database: the caller does it with `waybill_matches`.
pub fn read_tracking(bytes: &[u8]) -> Result<Vec<TrackingRow>, TrackingError> {
    read_tracking_with(bytes, &budget::current())
}

/// As [`read_tracking`], within the given budgets.
pub fn read_tracking_with(
    bytes: &[u8],
    b: &FileBudgets,
) -> Result<Vec<TrackingRow>, TrackingError> {
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    let is_ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let grid = if is_zip || is_ole {
        workbook_grid(bytes, b)?
    } else {
        csv_grid(bytes, b)?
    };
    let (at, cols) = find_header(&grid)?;
    let mut out = Vec::with_capacity(grid.len().saturating_sub(at + 1));
    let mut errors = Vec::new();
    for (row, cells) in &grid[at + 1..] {
        if cells.iter().all(|c| *c == Value::Empty) {
            continue;
        }
        let cell = |i: usize| cells.get(i).unwrap_or(&Value::Empty);
        let mut fail = |col: usize, message: String| {
            errors.push(RowError {
                row: *row,
                column: format!("{} ({})", column_letter(col), cols.headers[col]),
                message,
            })
        };
        let order = key_text(cell(cols.order)).map_err(|m| fail(cols.order, m));
        let waybill = key_text(cell(cols.waybill))
            .map(|w| w.to_uppercase())
            .map_err(|m| fail(cols.waybill, m));
        let shipped_at = match cols.time {
            Some(i) => shipped_time(cell(i)).map_err(|m| fail(i, m)),
            None => Ok(None),
        };
        let courier = match cols.courier {
            Some(i) => courier_of(cell(i)).map_err(|m| fail(i, m)),
            None => Ok(None),
        };
        if let (Ok(order_no), Ok(waybill), Ok(shipped_at), Ok(courier)) =
            (order, waybill, shipped_at, courier)
        {
            out.push(TrackingRow {
                row: *row,
                order_no,
                waybill,
                shipped_at,
                courier,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SheetError::Rows(errors))
    }
}

struct TrackingCols {
    headers: Vec<String>,
    order: usize,
    waybill: usize,
    time: Option<usize>,
    courier: Option<usize>,
}

fn header_texts(cells: &[Value]) -> Vec<String> {
    cells
        .iter()
        .map(|c| match c {
            Value::Text(s) => s.trim().trim_start_matches('\u{feff}').to_owned(),
            _ => String::new(),
        })
        .collect()
}

/// The first alias present wins, so 运单号 is taken over 母单号 when both are there.
fn position(headers: &[String], aliases: &[&str]) -> Option<usize> {
    let normed: Vec<String> = headers.iter().map(|h| norm_header(h)).collect();
    aliases.iter().find_map(|a| {
        let want = norm_header(a);
        normed.iter().position(|h| *h == want)
    })
}

/// The first of rows 1–5 with an order and a waybill column; when none, the missing one named.
fn find_header(grid: &Grid) -> Result<(usize, TrackingCols), SheetError> {
    let (mut has_order, mut has_waybill) = (false, false);
    for (i, (row, cells)) in grid.iter().enumerate() {
        if *row > 5 {
            break;
        }
        let headers = header_texts(cells);
        let order = position(&headers, &ORDER_HEADERS);
        let waybill = position(&headers, &WAYBILL_HEADERS);
        has_order |= order.is_some();
        has_waybill |= waybill.is_some();
        if let (Some(order), Some(waybill)) = (order, waybill) {
            let time = position(&headers, &TIME_HEADERS);
            let courier = position(&headers, &COURIER_HEADERS);
            let cols = TrackingCols {
                headers,
                order,
                waybill,
                time,
                courier,
            };
            return Ok((i, cols));
        }
    }
    let order = ORDER_HEADERS.join("/");
    let waybill = WAYBILL_HEADERS.join("/");
    Err(SheetError::MissingColumn(match (has_order, has_waybill) {
        (true, false) => format!("{waybill} (in one of rows 1–5)"),
        (false, true) => format!("{order} (in one of rows 1–5)"),
        _ => format!("{order} with {waybill} (in one of rows 1–5)"),
    }))
}

/// An order or waybill number: text, or a whole number short enough to be exact.
fn key_text(v: &Value) -> Result<String, String> {
    match v {
        Value::Text(s) => {
            let t = s.trim();
            if t.contains(['E', 'e']) && t.contains('+') && t.parse::<f64>().is_ok() {
                Err(format!(
                    "'{t}' is a number in exponent form and has lost digits; \
                     format the column as text or use the courier's original file"
                ))
            } else {
                Ok(t.to_owned())
            }
        }
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(format!("{}", *n as i64)),
        Value::Number(_) => {
            Err("is stored as a number and has lost digits; format the column as text".into())
        }
        Value::Empty => Err("is empty".into()),
        Value::Time(_) => Err("is a date, not a number".into()),
        Value::Bad(e) => Err(format!("holds the spreadsheet error {e}")),
    }
}

/// Beijing time: an Excel date-time, or text `YYYY-MM-DD HH:MM[:SS]` (also with `/`, or
/// RFC 3339). Empty: not given.
fn shipped_time(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    let naive = match v {
        Value::Empty => return Ok(None),
        Value::Time(t) => *t,
        Value::Text(s) => {
            let t = s.trim();
            if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
                return Ok(Some(dt.with_timezone(&Utc)));
            }
            [
                "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y/%m/%d %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .ok_or_else(|| format!("'{t}' is not a time (YYYY-MM-DD HH:MM[:SS])"))?
        }
        // A date-time that lost its format: Excel's serial days, 2000 to 2099.
        Value::Number(f) if (36_526.0..73_051.0).contains(f) => {
            let base = NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("valid");
            base + Duration::seconds((f * 86_400.0).round() as i64)
        }
        Value::Bad(e) => return Err(format!("holds the spreadsheet error {e}")),
        Value::Number(_) => return Err("is not a time (YYYY-MM-DD HH:MM[:SS])".into()),
    };
    Ok(Some(
        beijing()
            .from_local_datetime(&naive)
            .single()
            .expect("fixed offset")
            .with_timezone(&Utc),
    ))
}

fn courier_of(v: &Value) -> Result<Option<Courier>, String> {
    match v {
        Value::Empty => Ok(None),
        Value::Text(s) => Courier::parse(s).map(Some).ok_or_else(|| {
            format!(
                "'{}' is not a known courier (顺丰/SF or EMS/中国邮政)",
                s.trim()
            )
        }),
        _ => Err("is not a courier name".into()),
    }
}

fn workbook_grid(bytes: &[u8], b: &FileBudgets) -> Result<Grid, SheetError> {
    let (_, rows) = budget::xlsx_rows(bytes, b, |sheets| {
        sheets
            .iter()
            .find(|s| s.visible == calamine::SheetVisible::Visible)
            .map(|s| s.name.clone())
    })?;
    Ok(rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i + 1, r.iter().map(value_of).collect()))
        .collect())
}

fn value_of(d: &Data) -> Value {
    match d {
        Data::Empty => Value::Empty,
        Data::String(s) if s.trim().is_empty() => Value::Empty,
        Data::String(s) => Value::Text(s.trim().to_owned()),
        Data::Int(i) => Value::Number(*i as f64),
        Data::Float(f) => Value::Number(*f),
        Data::Bool(b) => Value::Text(b.to_string()),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_datetime() => Value::Time(t),
            _ => Value::Number(dt.as_f64()),
        },
        Data::DateTimeIso(s) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
            .map(Value::Time)
            .unwrap_or_else(|_| Value::Text(s.clone())),
        Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(e) => Value::Bad(format!("{e:?}")),
    }
}

/// CSV (UTF-8 or GBK, as `sheet::decode_text` tells apart), every cell text, numbered as a
/// spreadsheet shows the lines (blank lines counted).
fn csv_grid(bytes: &[u8], b: &FileBudgets) -> Result<Grid, SheetError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    fn cfg() -> CourierConfig {
        CourierConfig {
            sender: SenderConfig {
                company: "深圳某CA有限公司".into(),
                name: "王五".into(),
                phone: "0755-88886666".into(),
                province: "广东省".into(),
                city: "深圳市".into(),
                district: "福田区".into(),
                detail: "深南大道1号".into(),
                postcode: "518000".into(),
            },
            sf: SfConfig {
                monthly_account: "0755123456".into(),
                ..SfConfig::default()
            },
            ..CourierConfig::default()
        }
    }

    fn row(i: usize) -> ShipmentRow {
        ShipmentRow {
            order_no: format!("WT2026112500{i:02}"),
            recipient_name: "张三".into(),
            recipient_mobile: "13800138000".into(),
            province: "广东省".into(),
            city: "深圳市".into(),
            district: "南山区".into(),
            detail: "科技园路1号".into(),
            postcode: Some("518057".into()),
        }
    }

    fn open(bytes: &[u8]) -> Xlsx<Cursor<&[u8]>> {
        calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap()
    }

    fn s(v: &str) -> Data {
        Data::String(v.into())
    }

    // ---- couriers, layouts, settings ------------------------------------------------------------

    #[test]
    fn couriers() {
        assert_eq!(Courier::Sf.code(), "SF");
        assert_eq!(Courier::Ems.to_string(), "EMS");
        for t in ["sf", "SF", "顺丰", "顺丰速运", " Sf "] {
            assert_eq!(Courier::parse(t), Some(Courier::Sf), "{t}");
        }
        for t in ["ems", "EMS", "中国邮政", "邮政"] {
            assert_eq!(Courier::parse(t), Some(Courier::Ems), "{t}");
        }
        assert_eq!(Courier::parse("圆通"), None);
        assert_eq!(Courier::Sf.label_zh(), "顺丰速运");
    }

    #[test]
    fn the_shipped_layouts() {
        let sf = CourierLayout::shipped(Courier::Sf);
        assert_eq!(sf.name, "sf-standard-57");
        assert_eq!(sf.columns.len(), 57);
        assert_eq!((sf.header_row, sf.data_row), (2, 3));
        assert_eq!(sf.find("收方联系方式"), Some(12));
        assert_eq!(sf.find("商品名称"), Some(14), "an alias");
        assert_eq!(sf.find("*托寄物内容"), Some(14), "a required mark");
        assert_eq!(sf.find("优惠月结卡号"), Some(56));
        let user = CourierLayout::from_toml(include_str!("../../reports/couriers/sf-user-44.toml"))
            .unwrap();
        assert_eq!(user.columns.len(), 44);
        assert_eq!(user.find("手机号码"), user.find("收件手机"));
        let ems = CourierLayout::shipped(Courier::Ems);
        assert_eq!((ems.name.as_str(), ems.columns.len()), ("ems-basic", 19));
        assert!(ems.columns[7].required, "收件人邮编");
    }

    #[test]
    fn broken_layouts_are_refused() {
        let sf = include_str!("../../reports/couriers/sf.toml");
        let cases = [
            (
                sf.replace("\"sf.product\"", "\"sf.prodcut\""),
                "unknown source",
            ),
            (sf.replace("\"子单号\"", "\"运单号\""), "appears twice"),
            (
                sf.replace("last = \"寄方地址\"", "last = \"寄方住址\""),
                "lacks",
            ),
            (sf.replace("header_row = 2", "header_row = 1"), "row above"),
            (
                sf.replace("data_row = 3", "data_row = 2"),
                "header_row < data_row",
            ),
            (
                sf.replace("first = \"收方公司\"", "first = \"寄方地址\""),
                "overlaps",
            ),
        ];
        for (text, want) in cases {
            let e = CourierLayout::from_toml(&text).unwrap_err();
            assert!(e.to_string().contains(want), "{e} / {want}");
        }
        assert!(CourierLayout::from_toml("name = 1").is_err());
        assert!(matches!(
            CourierLayout::load(Path::new("/nonexistent/sf.toml")),
            Err(CourierError::Io { .. })
        ));
        let wrong = CourierConfig {
            ems: EmsConfig {
                layout_file: Some(PathBuf::from("reports/couriers/sf.toml")),
                ..EmsConfig::default()
            },
            ..cfg()
        };
        assert!(
            wrong
                .layout(Courier::Ems)
                .unwrap_err()
                .to_string()
                .contains("is for SF")
        );
        assert_eq!(cfg().layout(Courier::Sf).unwrap().name, "sf-standard-57");
    }

    #[test]
    fn settings() {
        assert!(CourierConfig::default().validate().is_ok());
        let d = CourierConfig::default();
        assert_eq!(
            (d.sf.product.as_str(), d.sf.payment.as_str()),
            ("顺丰标快", "寄付月结")
        );
        assert_eq!(d.contents, "USB Key");
        assert!(cfg().validate().is_ok());
        let bad = |f: &dyn Fn(&mut CourierConfig), want: &str| {
            let mut c = cfg();
            f(&mut c);
            let e = c.validate().unwrap_err();
            assert!(e.contains(want), "{e} / {want}");
        };
        bad(&|c| c.sf.monthly_account = "12345".into(), "10 digits");
        bad(
            &|c| c.sf.payment = "月结".into(),
            "寄付月结 / 寄付现结 / 到付 / 第三方付",
        );
        bad(&|c| c.sender.phone = "88886666".into(), "landline");
        bad(&|c| c.sender.postcode = "51800".into(), "6 digits");
        bad(&|c| c.weight_kg = Some("0".into()), "positive");
        bad(&|c| c.weight_kg = Some("0.2kg".into()), "positive");
        bad(&|c| c.declared_value = Some("1.234".into()), "amount");
        bad(&|c| c.contents = " ".into(), "contents is empty");
        bad(&|c| c.sender.detail = "a\nb".into(), "control");
        bad(
            &|c| c.ems.waybill_patterns = vec!["^(a)(b)$".into()],
            "ems.waybill_patterns",
        );
        bad(
            &|c| c.sf.waybill_patterns.clear(),
            "sf.waybill_patterns is empty",
        );
        let c: CourierConfig = toml::from_str(
            "weight_kg = 0.2\ndeclared_value = 200\n[sender]\nname = \"王五\"\n[sf]\nproduct = \"顺丰特快\"",
        )
        .unwrap();
        assert_eq!(c.weight_kg.as_deref(), Some("0.2"));
        assert_eq!(c.declared_value.as_deref(), Some("200"));
        assert_eq!(
            (c.sf.product.as_str(), c.sf.payment.as_str()),
            ("顺丰特快", "寄付月结")
        );
        assert_eq!(c.sf.waybill_patterns.len(), 2);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn waybill_patterns() {
        let c = CourierConfig::default();
        assert!(waybill_matches(&c, Courier::Sf, "SF1234567890123"));
        assert!(waybill_matches(&c, Courier::Sf, "123456789012"), "legacy");
        assert!(!waybill_matches(&c, Courier::Sf, "SF123456789012"));
        assert!(!waybill_matches(&c, Courier::Sf, "SF12345678901234"));
        assert!(!waybill_matches(&c, Courier::Sf, "1234567890123"));
        assert!(waybill_matches(&c, Courier::Ems, "1234567890123"));
        assert!(waybill_matches(&c, Courier::Ems, "EA123456789CN"));
        assert!(!waybill_matches(&c, Courier::Ems, "SF1234567890123"));
        assert!(!waybill_matches(&c, Courier::Ems, "EA12345678CN"));
        let p = |s: &str| Pattern::parse(s).unwrap();
        assert!(p("^JD[0-9A-F]{4,6}-?X+$").matches("JD0A1FXX"));
        assert!(p("^JD[0-9A-F]{4,6}-?X+$").matches("JD0A1F2-X"));
        assert!(!p("^JD[0-9A-F]{4,6}-?X+$").matches("JD0A1-X"));
        assert!(p(r"^a.c\.d*$").matches("abc."));
        assert!(p("^(?:YT\\d{3,}|ZT\\d{4})$").matches("YT12345"));
        assert!(!p("^(?:YT\\d{3,}|ZT\\d{4})$").matches("ZT12345"));
        // Groups other than one around the whole pattern are refused, not misread.
        for bad in [
            "^(?:YT|ZT)\\d{3,}$",
            "^(a)|(b)$",
            "^(a)(b)$",
            "^[^0-9]$",
            "^a{2,1}$",
            "^[a-$",
            r"^\w+$",
            "^a||b$",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    // ---- addresses and rows ---------------------------------------------------------------------

    #[test]
    fn full_addresses() {
        let f = full_address;
        assert_eq!(
            f("广东省", "深圳市", "南山区", "科技园路1号"),
            "广东省深圳市南山区科技园路1号"
        );
        // Municipalities: the city repeats the province, or is 市辖区.
        assert_eq!(
            f("北京市", "北京市", "朝阳区", "建国路1号"),
            "北京市朝阳区建国路1号"
        );
        assert_eq!(
            f("上海市", "市辖区", "浦东新区", "世纪大道1号"),
            "上海市浦东新区世纪大道1号"
        );
        assert_eq!(
            f("重庆市", "县", "巫山县", "广东中路1号"),
            "重庆市巫山县广东中路1号"
        );
        // No county level: the district empty or a street.
        assert_eq!(
            f("广东省", "东莞市", "", "鸿福路1号"),
            "广东省东莞市鸿福路1号"
        );
        assert_eq!(
            f("广东省", "东莞市", "南城街道", "鸿福路1号"),
            "广东省东莞市南城街道鸿福路1号"
        );
        // Province-administered county-level city: city and district coincide.
        assert_eq!(
            f("湖北省", "仙桃市", "仙桃市", "仙桃大道1号"),
            "湖北省仙桃市仙桃大道1号"
        );
        assert_eq!(
            f("河南省", "济源市", "", "济渎路1号"),
            "河南省济源市济渎路1号"
        );
        // Autonomous regions, functional zones, spaces trimmed.
        assert_eq!(
            f(" 内蒙古自治区", "呼和浩特市 ", "新城区", " 新华大街1号 "),
            "内蒙古自治区呼和浩特市新城区新华大街1号"
        );
        assert_eq!(
            f("广东省", "深圳市", "大鹏新区", "葵涌街道1号"),
            "广东省深圳市大鹏新区葵涌街道1号"
        );
        // A prefix the detail already has is not repeated.
        assert_eq!(
            f(
                "广东省",
                "深圳市",
                "南山区",
                "广东省深圳市南山区科技园路1号"
            ),
            "广东省深圳市南山区科技园路1号"
        );
        assert_eq!(
            f("广东省", "深圳市", "南山区", "深圳市南山区科技园路1号"),
            "广东省深圳市南山区科技园路1号"
        );
        assert_eq!(
            f("广东省", "深圳市", "南山区", "南山区科技园路1号"),
            "广东省深圳市南山区科技园路1号"
        );
        assert_eq!(
            f("北京市", "北京市", "朝阳区", "北京市朝阳区建国路1号"),
            "北京市朝阳区建国路1号"
        );
        assert_eq!(
            f("北京市", "市辖区", "朝阳区", "朝阳区建国路1号"),
            "北京市朝阳区建国路1号"
        );
        // A detail that merely resembles a name is kept as it is.
        assert_eq!(
            f("广东省", "中山市", "", "中山路1号"),
            "广东省中山市中山路1号"
        );
    }

    #[test]
    fn rows_are_checked() {
        let sf = CourierLayout::shipped(Courier::Sf);
        let ems = CourierLayout::shipped(Courier::Ems);
        assert_eq!(check_row(Courier::Sf, &sf, &row(1)), Ok(()));
        assert_eq!(check_row(Courier::Ems, &ems, &row(1)), Ok(()));
        let ok = |f: &dyn Fn(&mut ShipmentRow)| {
            let mut r = row(1);
            f(&mut r);
            check_row(Courier::Sf, &sf, &r)
        };
        let fails = |f: &dyn Fn(&mut ShipmentRow), want: &str| {
            let e = ok(f).unwrap_err();
            assert!(e.contains(want), "{e} / {want}");
        };
        assert_eq!(ok(&|r| r.recipient_name = "阿卜杜·热合曼".into()), Ok(()));
        assert_eq!(ok(&|r| r.recipient_name = " 张三 ".into()), Ok(()));
        assert_eq!(ok(&|r| r.recipient_name = "张".repeat(30)), Ok(()));
        assert_eq!(ok(&|r| r.recipient_mobile = "0755-12345678".into()), Ok(()));
        assert_eq!(ok(&|r| r.district = String::new()), Ok(()));
        assert_eq!(ok(&|r| r.postcode = None), Ok(()), "optional for SF");
        assert_eq!(ok(&|r| r.detail = "路".repeat(100)), Ok(()));
        assert_eq!(ok(&|r| r.order_no = "WT202611250001-2".into()), Ok(()));
        fails(&|r| r.recipient_name = "张".repeat(31), "31 characters");
        fails(&|r| r.recipient_name = "  ".into(), "name is empty");
        fails(&|r| r.recipient_name = "张\u{7}三".into(), "control");
        fails(
            &|r| r.recipient_mobile = "12800138000".into(),
            "mobile '12800138000'",
        );
        fails(&|r| r.recipient_mobile = "1380013800".into(), "mobile");
        fails(&|r| r.recipient_mobile = "138-0013-8000".into(), "mobile");
        fails(&|r| r.detail = "路".repeat(101), "101 characters");
        fails(&|r| r.detail = "科技园\r\n路".into(), "control");
        fails(&|r| r.city = String::new(), "no city");
        fails(&|r| r.postcode = Some("51805".into()), "not 6 digits");
        fails(&|r| r.order_no = "WT 1".into(), "ASCII");
        fails(&|r| r.order_no = "WT申请1".into(), "ASCII");
        fails(&|r| r.order_no = "W".repeat(31), "30 ASCII");
        let mut r = row(1);
        r.postcode = None;
        assert!(
            check_row(Courier::Ems, &ems, &r)
                .unwrap_err()
                .contains("postcode")
        );
        r.postcode = Some(String::new());
        assert!(check_row(Courier::Ems, &ems, &r).is_err());
    }

    // ---- the workbook ---------------------------------------------------------------------------

    #[test]
    fn the_sf_workbook_column_by_column() {
        let layout = CourierLayout::shipped(Courier::Sf);
        let mut c = cfg();
        c.weight_kg = Some("0.2".into());
        let mut second = row(2);
        second.order_no = "0012345".into();
        second.province = "北京市".into();
        second.city = "北京市".into();
        second.district = "朝阳区".into();
        second.detail = "建国路1号".into();
        let bytes = write_batch(&layout, &c, Courier::Sf, &[row(1), second]).unwrap();
        let mut wb = open(&bytes);
        assert_eq!(wb.sheet_names(), ["Sheet1"]);
        let range = wb.worksheet_range("Sheet1").unwrap();
        let at = |r: u32, col: usize| {
            range
                .get_value((r, col as u32))
                .cloned()
                .unwrap_or(Data::Empty)
        };
        // Row 1: the group headings, merged over 7–10, 11–14, 15–20, 21–57.
        assert_eq!(at(0, 6), s("寄件方信息"));
        assert_eq!(at(0, 10), s("收件方信息"));
        assert_eq!(at(0, 14), s("商品信息"));
        assert_eq!(at(0, 20), s("发货信息"));
        assert_eq!(at(0, 0), Data::Empty);
        let mut merged = wb.merge_cells_by_sheet_name("Sheet1").unwrap();
        merged.sort_by_key(|d| d.start);
        let spans: Vec<_> = merged.iter().map(|d| (d.start, d.end)).collect();
        assert_eq!(
            spans,
            [
                ((0, 6), (0, 9)),
                ((0, 10), (0, 13)),
                ((0, 14), (0, 19)),
                ((0, 20), (0, 56))
            ]
        );
        // Row 2: the headers in order.
        for (i, col) in layout.columns.iter().enumerate() {
            assert_eq!(at(1, i), s(&col.header), "header {}", i + 1);
        }
        // Row 3 on: every written cell is text; the others are empty.
        let want: Vec<(usize, &str)> = vec![
            (1, "1"),
            (2, "WT202611250001"),
            (7, "深圳某CA有限公司"),
            (8, "王五"),
            (9, "0755-88886666"),
            (10, "广东省深圳市福田区深南大道1号"),
            (12, "张三"),
            (13, "13800138000"),
            (14, "广东省深圳市南山区科技园路1号"),
            (15, "USB Key"),
            (17, "1"),
            (21, "1"),
            (22, "顺丰标快"),
            (23, "寄付月结"),
            (24, "0755123456"),
            (25, "0.2"),
        ];
        for col in 1..=57 {
            let expected = want
                .iter()
                .find(|(c, _)| *c == col)
                .map(|(_, v)| s(v))
                .unwrap_or(Data::Empty);
            assert_eq!(
                at(2, col - 1),
                expected,
                "row 3, column {col} ({})",
                layout.columns[col - 1].header
            );
        }
        assert_eq!(at(3, 0), s("2"));
        assert_eq!(at(3, 1), s("0012345"), "leading zeros kept");
        assert_eq!(at(3, 13), s("北京市朝阳区建国路1号"));
        assert_eq!(at(4, 1), Data::Empty);
        // The same rows give the same bytes.
        assert_eq!(
            write_batch(&layout, &c, Courier::Sf, &[row(1), row(2)]).unwrap(),
            write_batch(&layout, &c, Courier::Sf, &[row(1), row(2)]).unwrap()
        );
    }

    #[test]
    fn the_other_layouts() {
        let user = CourierLayout::from_toml(include_str!("../../reports/couriers/sf-user-44.toml"))
            .unwrap();
        let bytes = write_batch(&user, &cfg(), Courier::Sf, &[row(1)]).unwrap();
        let mut wb = open(&bytes);
        let range = wb.worksheet_range("Sheet1").unwrap();
        let at = |h: &str, r: u32| {
            let c = user.find(h).unwrap() as u32;
            range.get_value((r, c)).cloned().unwrap_or(Data::Empty)
        };
        assert_eq!(at("用户订单号", 0), s("用户订单号"));
        assert_eq!(at("用户订单号", 1), s("WT202611250001"));
        assert_eq!(at("收件手机", 1), s("13800138000"));
        assert_eq!(at("收件电话", 1), Data::Empty, "for a landline");
        assert_eq!(at("收件详细地址", 1), s("广东省深圳市南山区科技园路1号"));
        assert_eq!(at("运费付款方式", 1), s("寄付月结"));
        assert_eq!(at("件数", 1), s("1"));
        assert!(wb.merge_cells_by_sheet_name("Sheet1").unwrap().is_empty());

        let ems = CourierLayout::shipped(Courier::Ems);
        let bytes = write_batch(&ems, &cfg(), Courier::Ems, &[row(1)]).unwrap();
        let mut wb = open(&bytes);
        let range = wb.worksheet_range("Sheet1").unwrap();
        let got: Vec<Data> = (0..19)
            .map(|c| range.get_value((1, c)).cloned().unwrap_or(Data::Empty))
            .collect();
        let want = [
            "WT202611250001",
            "张三",
            "13800138000",
            "广东省",
            "深圳市",
            "南山区",
            "科技园路1号",
            "518057",
            "王五",
            "0755-88886666",
            "广东省",
            "深圳市",
            "福田区",
            "深南大道1号",
            "518000",
            "USB Key",
            "1",
            "",
            "",
        ];
        let want: Vec<Data> = want
            .iter()
            .map(|v| if v.is_empty() { Data::Empty } else { s(v) })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn what_the_export_refuses() {
        let sf = CourierLayout::shipped(Courier::Sf);
        // A layout without a column the mapping needs: named.
        let text = include_str!("../../reports/couriers/sf.toml").replace(
            r#"{ header = "收方联系方式", source = "recipient.mobile", required = true },"#,
            r#"{ header = "收方联系方式" },"#,
        );
        let lacking = CourierLayout::from_toml(&text).unwrap();
        let e = write_batch(&lacking, &cfg(), Courier::Sf, &[row(1)]).unwrap_err();
        assert_eq!(
            e,
            CourierError::MissingColumn {
                layout: "sf-standard-57".into(),
                header: "收方联系方式".into(),
                field: "recipient.mobile".into()
            }
        );
        // Weight set, but the layout has no weight column.
        let text =
            include_str!("../../reports/couriers/sf.toml").replace(r#"source = "weight_kg""#, "");
        let no_weight = CourierLayout::from_toml(&text).unwrap();
        let mut c = cfg();
        c.weight_kg = Some("0.2".into());
        assert!(
            write_batch(&no_weight, &c, Courier::Sf, &[row(1)])
                .unwrap_err()
                .to_string()
                .contains("包裹重量/KG")
        );
        // Settings a required column needs.
        let mut c = cfg();
        c.sender.name.clear();
        let e = write_batch(&sf, &c, Courier::Sf, &[row(1)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "courier settings: column 寄方姓名 needs courier.sender.name"
        );
        let mut c = cfg();
        c.sf.monthly_account.clear();
        let e = write_batch(&sf, &c, Courier::Sf, &[row(1)]).unwrap_err();
        assert!(e.to_string().contains("courier.sf.monthly_account"), "{e}");
        c.sf.payment = "寄付现结".into();
        assert!(write_batch(&sf, &c, Courier::Sf, &[row(1)]).is_ok());
        // sf-user-44 has no account column: none needed.
        let user = CourierLayout::from_toml(include_str!("../../reports/couriers/sf-user-44.toml"))
            .unwrap();
        c.sf.payment = "寄付月结".into();
        assert!(write_batch(&user, &c, Courier::Sf, &[row(1)]).is_ok());
        // Bad or repeated rows, the wrong courier.
        let mut bad = row(2);
        bad.recipient_mobile = "123".into();
        let e = write_batch(&sf, &cfg(), Courier::Sf, &[row(1), bad]).unwrap_err();
        assert!(
            matches!(&e, CourierError::Row { order_no, .. } if order_no == "WT202611250002"),
            "{e}"
        );
        let e = write_batch(&sf, &cfg(), Courier::Sf, &[row(1), row(1)]).unwrap_err();
        assert!(e.to_string().contains("appears twice"));
        let e = write_batch(&sf, &cfg(), Courier::Ems, &[row(1)]).unwrap_err();
        assert!(e.to_string().contains("is for SF, not EMS"));
    }

    #[test]
    fn ten_thousand_rows() {
        let rows: Vec<ShipmentRow> = (1..=10_000)
            .map(|i| ShipmentRow {
                order_no: format!("WT20261125{i:05}"),
                ..row(1)
            })
            .collect();
        let layout = CourierLayout::shipped(Courier::Sf);
        // Its time is measured in benches/couriers.rs, not bounded here.
        let bytes = write_batch(&layout, &cfg(), Courier::Sf, &rows).unwrap();
        let mut wb = open(&bytes);
        let range = wb.worksheet_range("Sheet1").unwrap();
        assert_eq!(range.get_value((10_001, 1)), Some(&s("WT2026112510000")));
        assert_eq!(range.get_value((10_001, 0)), Some(&s("10000")));
    }

    // ---- tracking -------------------------------------------------------------------------------

    enum V<'a> {
        T(&'a str),
        N(f64),
        D(&'a str),
    }

    /// A courier export: `title` rows above the header, then the rows.
    fn export(title: usize, headers: &[&str], rows: &[Vec<V>]) -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        for t in 0..title {
            ws.write_string(t as u32, 0, "顺丰速运 运单导出").unwrap();
        }
        let h = title as u32;
        for (c, v) in headers.iter().enumerate() {
            ws.write_string(h, c as u16, *v).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            let r = h + 1 + r as u32;
            for (c, v) in row.iter().enumerate() {
                let c = c as u16;
                match v {
                    V::T("") => {}
                    V::T(t) => {
                        ws.write_string(r, c, *t).unwrap();
                    }
                    V::N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    V::D(d) => {
                        let t = ExcelDateTime::parse_from_str(d).unwrap();
                        ws.write_datetime_with_format(r, c, &t, &date).unwrap();
                    }
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, sec: u32) -> DateTime<Utc> {
        beijing()
            .with_ymd_and_hms(y, m, d, h, min, sec)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn rows_error(e: TrackingError) -> Vec<RowError> {
        match e {
            SheetError::Rows(r) => r,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn an_xlsx_export_under_a_title_row() {
        let bytes = export(
            1,
            &["序号", "订单号", "运单号", "寄件时间", "快递公司"],
            &[
                vec![
                    V::N(1.0),
                    V::T("WT202611250001"),
                    V::T(" sf1234567890123 "),
                    V::D("2026-11-26 09:30:00"),
                    V::T("顺丰速运"),
                ],
                vec![
                    V::N(2.0),
                    V::T("WT202611250002"),
                    V::N(123456789012.0),
                    V::T("2026/11/26 10:05"),
                    V::T(""),
                ],
                vec![
                    V::N(3.0),
                    V::T("WT202611250003"),
                    V::T("SF1234567890125"),
                    V::T(""),
                    V::T("SF"),
                ],
            ],
        );
        let rows = read_tracking(&bytes).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            TrackingRow {
                row: 3,
                order_no: "WT202611250001".into(),
                waybill: "SF1234567890123".into(),
                shipped_at: Some(at(2026, 11, 26, 9, 30, 0)),
                courier: Some(Courier::Sf),
            }
        );
        assert_eq!(rows[1].waybill, "123456789012", "a number cell, exact");
        assert_eq!(rows[1].shipped_at, Some(at(2026, 11, 26, 10, 5, 0)));
        assert_eq!(rows[1].courier, None);
        assert_eq!((rows[2].row, rows[2].shipped_at), (5, None));
    }

    #[test]
    fn the_batch_layout_with_waybills_filled() {
        // The courier's export may keep the batch layout: group row 1, headers in row 2.
        let layout = CourierLayout::shipped(Courier::Sf);
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.merge_range(0, 6, 0, 9, "寄件方信息", &Format::new())
            .unwrap();
        for (c, col) in layout.columns.iter().enumerate() {
            ws.write_string(1, c as u16, &col.header).unwrap();
        }
        ws.write_string(2, 0, "1").unwrap();
        ws.write_string(2, 1, "WT202611250001").unwrap();
        ws.write_string(2, 2, "SF1234567890123").unwrap();
        let rows = read_tracking(&wb.save_to_buffer().unwrap()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].row, rows[0].order_no.as_str()),
            (3, "WT202611250001")
        );
        assert_eq!(rows[0].waybill, "SF1234567890123");
        // The batch file as written (no waybills yet) is refused, naming the cell.
        let bytes = write_batch(&layout, &cfg(), Courier::Sf, &[row(1)]).unwrap();
        let e = rows_error(read_tracking(&bytes).unwrap_err());
        assert_eq!(
            (e[0].row, e[0].column.as_str(), e[0].message.as_str()),
            (3, "C (运单号)", "is empty")
        );
    }

    #[test]
    fn a_gbk_csv_with_other_headers() {
        let text = "用户订单号,快递单号,揽收时间,物流公司\r\n\
                    WT202611250001,ea123456789cn,2026-11-26 09:30:15,中国邮政\r\n\
                    \r\n\
                    WT202611250002,1234567890123,2026-11-26T10:00:00+08:00,EMS\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let rows = read_tracking(&gbk).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].waybill, "EA123456789CN");
        assert_eq!(rows[0].shipped_at, Some(at(2026, 11, 26, 9, 30, 15)));
        assert_eq!(rows[0].courier, Some(Courier::Ems));
        assert_eq!(rows[1].row, 4, "the blank line counts");
        assert_eq!(rows[1].shipped_at, Some(at(2026, 11, 26, 10, 0, 0)));
        // UTF-8 with a BOM, 运单号 preferred over 母单号.
        let text = "\u{feff}订单编号,母单号,运单号\nWT1,SF1,SF2\n";
        let rows = read_tracking(text.as_bytes()).unwrap();
        assert_eq!(rows[0].waybill, "SF2");
    }

    #[test]
    fn malformed_files_are_refused_naming_row_and_column() {
        let h = ["订单号", "运单号", "发货时间", "承运商"];
        let good = || {
            vec![
                V::T("WT1"),
                V::T("SF1234567890123"),
                V::T("2026-11-26 09:30"),
                V::T("顺丰"),
            ]
        };
        let cases: Vec<(usize, V, usize, &str, &str)> = vec![
            (0, V::T(""), 2, "A (订单号)", "is empty"),
            (1, V::T(""), 2, "B (运单号)", "is empty"),
            (1, V::T("1.23457E+14"), 2, "B (运单号)", "exponent form"),
            (1, V::N(1.5), 2, "B (运单号)", "lost digits"),
            (
                2,
                V::T("26.11.2026"),
                2,
                "C (发货时间)",
                "'26.11.2026' is not a time",
            ),
            (2, V::T("2026-11-26"), 2, "C (发货时间)", "is not a time"),
            (
                3,
                V::T("圆通"),
                2,
                "D (承运商)",
                "'圆通' is not a known courier",
            ),
        ];
        for (col, v, row, column, message) in cases {
            let mut bad = good();
            bad[col] = v;
            let bytes = export(0, &h, &[bad, good()]);
            let e = rows_error(read_tracking(&bytes).unwrap_err());
            assert_eq!(e.len(), 1, "{e:?}");
            assert_eq!((e[0].row, e[0].column.as_str()), (row, column));
            assert!(
                e[0].message.contains(message),
                "{} / {message}",
                e[0].message
            );
        }
        // All errors are collected, in CSV as well.
        let csv =
            "订单号,运单号,寄件时间\nWT1,,\n,SF1234567890123,2026-11-26 9:30\nWT3,SF1,yesterday\n";
        let e = rows_error(read_tracking(csv.as_bytes()).unwrap_err());
        let at: Vec<(usize, &str)> = e.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            at,
            [(2, "B (运单号)"), (3, "A (订单号)"), (4, "C (寄件时间)")]
        );
        assert_eq!(e[0].to_string(), "row 2, column B (运单号): is empty");
        // No header row in rows 1–5.
        let late = export(5, &h, &[good()]);
        let e = read_tracking(&late).unwrap_err();
        assert!(
            matches!(&e, SheetError::MissingColumn(m) if m.contains("rows 1–5")),
            "{e}"
        );
        let e = read_tracking("订单号,单号\nWT1,SF1\n".as_bytes()).unwrap_err();
        assert!(
            matches!(&e, SheetError::MissingColumn(m) if m.starts_with("运单号/运单号码")),
            "{e}"
        );
        let e = read_tracking("order,waybill\nWT1,SF1\n".as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .contains("订单号/用户订单号/客户订单号/订单编号 with 运单号"),
            "{e}"
        );
        assert!(matches!(
            read_tracking(b"PK\x03\x04garbage"),
            Err(SheetError::Unreadable(_))
        ));
        // A header with no rows under it: nothing to import.
        assert_eq!(read_tracking("订单号,运单号\n".as_bytes()).unwrap(), []);
    }

    #[test]
    fn a_hundred_thousand_rows() {
        let mut csv = String::from("订单号,运单号,寄件时间,快递公司\n");
        for i in 0..100_000 {
            csv.push_str(&format!(
                "WT2026{i:08},SF{:013},2026-11-26 09:30:00,顺丰\n",
                i
            ));
        }
        let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
        // Its time is measured in benches/couriers.rs, not bounded here.
        let rows = read_tracking(&gbk).unwrap();
        assert_eq!(rows.len(), 100_000);
        assert_eq!(rows[99_999].row, 100_001);
        assert_eq!(rows[99_999].waybill, "SF0000000099999");
    }
}
