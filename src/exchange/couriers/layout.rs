//! The layout file of a courier's batch order (§1–§4): sheet, header and data rows, group
//! headings, and per column its header, aliases, `required` flag and source (what goes in).

use super::{Courier, CourierError};
use crate::exchange::grid::{self, norm_header};
use crate::exchange::layout as shared;
use serde::Deserialize;
use std::path::Path;

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
pub(super) enum Source {
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
pub(super) enum Part {
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
    pub(super) fn name(&self) -> String {
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
    pub(super) fn is_per_row(&self) -> bool {
        matches!(self, Source::OrderNo | Source::Recipient(_))
    }

    /// The setting a value comes from, for error messages.
    pub(super) fn setting(&self) -> String {
        match self {
            Source::Sender(Part::FullAddress) => {
                "courier.sender.province/city/district/detail".into()
            }
            s => format!("courier.{}", s.name()),
        }
    }
}

impl CourierLayout {
    pub fn from_toml(text: &str) -> Result<CourierLayout, CourierError> {
        let layout: CourierLayout =
            toml::from_str(text).map_err(|e| CourierError::Toml(e.to_string()))?;
        layout.check()?;
        Ok(layout)
    }

    pub fn load(path: &Path) -> Result<CourierLayout, CourierError> {
        shared::load(path, CourierLayout::from_toml).map_err(|e| CourierError::Io {
            path: e.path,
            message: e.message,
        })
    }

    /// The layout shipped with the program: `sf-standard-57`, or the provisional `ems-basic`.
    pub fn shipped(courier: Courier) -> CourierLayout {
        let text = match courier {
            Courier::Sf => include_str!("../../../reports/couriers/sf.toml"),
            Courier::Ems => include_str!("../../../reports/couriers/ems.toml"),
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

    pub(super) fn sources(&self) -> Result<Vec<Source>, CourierError> {
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

    pub(super) fn check(&self) -> Result<(), CourierError> {
        let bad = |m: String| Err(CourierError::Invalid(m));
        if self.name.trim().is_empty() {
            return bad("the layout has no name".into());
        }
        grid::check_sheet_name(&self.sheet).map_err(CourierError::Invalid)?;
        if !shared::rows_in_order(&[self.header_row, self.data_row]) {
            return bad("1 <= header_row < data_row must hold".into());
        }
        if !self.groups.is_empty() && self.header_row < 2 {
            return bad("group headings need a row above the headers (header_row >= 2)".into());
        }
        if self.columns.is_empty() || self.columns.len() > 16_384 {
            return bad("the layout needs 1 to 16,384 columns".into());
        }
        if self.columns.iter().any(|c| c.header.trim().is_empty()) {
            return bad("a column has an empty header".into());
        }
        let names = self
            .columns
            .iter()
            .flat_map(|c| std::iter::once(&c.header).chain(&c.aliases));
        if let Some(h) = shared::repeated_header(names.map(String::as_str)) {
            return bad(format!("the header or alias '{h}' appears twice"));
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
    pub(super) fn header_for(&self, source: &Source) -> String {
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
