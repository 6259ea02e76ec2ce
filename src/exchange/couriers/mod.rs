//! Courier batches (`../shared/contracts/courier-batch.md`): the courier's batch-order workbook
//! written from a layout file (header rows, per-column source and `required` flag, columns found
//! by header text, every cell text), the address and row checks of §5, and the read-back of the
//! waybill numbers (§7), all or nothing, naming row and column.
//!
//! `layout` reads the layout files (`reports/couriers/*.toml`), `settings` checks `[courier]`
//! (its structs are `config::courier`), `pattern` the waybill patterns, `checks` a shipment's
//! address and row, `batch_xlsx` writes the workbook and `tracking` reads the waybills back.

mod batch_xlsx;
mod checks;
mod layout;
mod pattern;
mod settings;
#[cfg(test)]
mod tests;
mod tracking;

pub use self::batch_xlsx::write_batch;
pub use self::checks::{ShipmentRow, check_row, full_address};
pub use self::layout::{CourierColumn, CourierLayout, GroupHeading};
pub use self::settings::{SF_PAYMENTS, waybill_matches};
pub use self::tracking::{
    COURIER_HEADERS, ORDER_HEADERS, TIME_HEADERS, TrackingError, TrackingRow, WAYBILL_HEADERS,
    read_tracking, read_tracking_with,
};
pub use crate::config::courier::{CourierConfig, EmsConfig, SenderConfig, SfConfig};
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// Why a layout, the settings or a batch was refused.
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
