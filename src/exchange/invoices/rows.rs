//! The requests to export: their checks (§5) and the values each sheet's columns receive.

use super::layout::{Layout, SheetRole};
use crate::config::InvoiceConfig;
use crate::domain::money::Fen;
use chrono::NaiveDate;

/// One accepted, paid request that asked for an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceRow {
    pub serial: String,
    pub title: String,
    /// Present: an organisation; absent: an individual.
    pub tax_id: Option<String>,
    pub amount_fen: Fen,
    pub hall_reference: String,
    pub buyer_email: String,
}

/// `FP` + `YYMMDD` + 6-digit sequence: `FP261125000001`.
pub fn serial(prefix: &str, date: NaiveDate, seq: u32) -> String {
    format!("{prefix}{}{seq:06}", date.format("%y%m%d"))
}

/// One value the export writes, under the header it goes to. `needed`: the layout must have the
/// header (for the fixed columns, and for optional ones once the settings give them a value).
pub(super) struct Field {
    pub(super) header: &'static str,
    pub(super) needed: bool,
    pub(super) value: String,
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
pub(super) fn invoice_fields(cfg: &InvoiceConfig, row: &InvoiceRow) -> Vec<Field> {
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
pub(super) fn line_fields(cfg: &InvoiceConfig, row: &InvoiceRow) -> Vec<Field> {
    let amount = row.amount_fen.to_string();
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
    if row.amount_fen.get() <= 0 {
        return Err(format!("the amount {} is not positive", row.amount_fen));
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
