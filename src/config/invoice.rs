//! `[invoice]` in the settings: the service item, the seller and the batch size, checked once
//! (`invoice-batch.md` §2–§7). The layout file it names is read by `exchange::invoices`.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
}

/// `0`, `0.06`, `0.13`, `1`: a decimal between 0 and 1.
fn is_rate(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    let ok_form = !int.is_empty() && digits(int) && digits(frac) && frac.len() <= 6;
    ok_form && (int == "0" || (int == "1" && frac.bytes().all(|b| b == b'0')))
}
