//! Checking `[courier]` (`config::courier`) once, before any export, and choosing the layout a
//! courier's batches are written with.

use super::checks::{check_name, full_address, is_decimal, is_phone, is_postcode, set};
use super::pattern::{self, Pattern};
use super::{Courier, CourierConfig, CourierError, CourierLayout, SenderConfig};

/// 付款方式 values SF's import takes.
pub const SF_PAYMENTS: [&str; 4] = ["寄付月结", "寄付现结", "到付", "第三方付"];

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
        .any(|p| pattern::matches(p, waybill))
}
