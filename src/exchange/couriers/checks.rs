//! The checks of §5: the form of phones, postcodes and amounts, a shipment's address written
//! out in full, the rules a row passes before it goes into a batch, and the masks on labels (§6).

use super::layout::{Part, Source};
use super::{Courier, CourierLayout};
use crate::domain::contact::{Mobile, is_landline};

pub(super) fn is_phone(s: &str) -> bool {
    Mobile::parse(s).is_ok() && s.trim() == s || is_landline(s)
}

pub(super) fn is_postcode(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A plain decimal with at most `places` decimals: `0.2`, `200`, `199.5`.
pub(super) fn is_decimal(s: &str, places: usize) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty() && digits(int) && digits(frac) && frac.len() <= places && !s.ends_with('.')
}

pub(super) fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

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
pub(super) fn check_name(name: &str) -> Result<(), String> {
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
pub(super) fn row_value<'r>(part: &Source, row: &'r ShipmentRow, full: &'r str) -> &'r str {
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
