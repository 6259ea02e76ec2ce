//! `[courier]` in the settings (`../shared/contracts/courier-batch.md` §1, §6, §7): the sender,
//! the couriers' layouts, accounts and waybill patterns. Plain data read from TOML; checked by
//! `CourierConfig::validate` and used by `exchange::couriers`.

use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;

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
    /// `{n,m}`, `?`, `*`, `+`, one outer group with `|`), checked and matched by
    /// `exchange::couriers::waybill_matches`.
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
