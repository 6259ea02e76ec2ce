//! Print pages for a courier batch (`courier-batch.md` §6): one 100 × 150 mm address/packing
//! label per page, and the batch's packing list (装箱单) on A4. Each is a complete document of
//! its own (not the app's page shell) with its CSS inline, so it prints the same from a file.
//!
//! The app's CSP (`views::PAGE_CSP`) has `style-src 'self'`, which blocks inline
//! `<style>`. A handler serving these pages sets `print_csp()` instead (the security layer keeps
//! a response's own CSP): the same policy with the hashes of the two style blocks allowed. The
//! pages have no `style` attributes and no scripts.

use crate::domain::masking;
use crate::exchange::barcode;
use crate::exchange::couriers::{Courier, SenderConfig};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

/// One batch as its print pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelBatch {
    pub batch_no: String,
    pub courier: Courier,
    /// `顺丰标快`; empty for a courier without products.
    pub product: String,
    /// `2026-11-25`, Beijing date.
    pub printed_on: String,
    pub sender: LabelSender,
    pub shipments: Vec<LabelShipment>,
    /// `courier.contents`.
    pub contents: String,
    /// `寄付月结` ….
    pub payment: String,
    /// `courier.label_mask_recipient_name`: `张*`.
    pub mask_recipient_name: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSender {
    pub company: String,
    pub name: String,
    pub phone: String,
    /// The full address (§5).
    pub address: String,
}

impl From<&SenderConfig> for LabelSender {
    fn from(s: &SenderConfig) -> Self {
        LabelSender {
            company: s.company.clone(),
            name: s.name.clone(),
            phone: s.phone.clone(),
            address: s.full_address(),
        }
    }
}

/// One parcel. Only what the courier needs: no ID number, serial, invoice data or e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelShipment {
    pub order_no: String,
    /// Absent until the tracking import: the label says `待回填运单号`.
    pub waybill: Option<String>,
    pub recipient_name: String,
    /// Unmasked here; the label masks it.
    pub recipient_mobile: String,
    /// The full address (§5).
    pub address: String,
}

/// The label sheet: 100 × 150 mm pages, no margins; 4 mm padding inside each label.
pub const LABEL_CSS: &str = r#"
@page { size: 100mm 150mm; margin: 0; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: #fff; color: #000; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif; font-size: 3.2mm; line-height: 1.3; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.label { width: 100mm; height: 150mm; padding: 4mm; overflow: hidden; display: flex; flex-direction: column; gap: 1.6mm; page-break-after: always; break-after: page; }
.label:last-child { page-break-after: auto; break-after: auto; }
.head { display: flex; justify-content: space-between; align-items: flex-end; border-bottom: 0.4mm solid #000; padding-bottom: 1mm; }
.head .courier { font-size: 4.2mm; font-weight: bold; }
.head .meta { font-size: 2.6mm; text-align: right; }
.waybill { height: 25mm; border: 0.3mm solid #000; display: flex; flex-direction: column; align-items: center; justify-content: center; }
.waybill.pending { border-style: dashed; font-size: 5mm; font-weight: bold; }
.number { font-family: "DejaVu Sans Mono", Consolas, monospace; font-weight: bold; letter-spacing: 0.2mm; }
.waybill .number { font-size: 3.8mm; }
.party { display: flex; gap: 2mm; border-bottom: 0.2mm solid #000; padding-bottom: 1.6mm; }
.party .tag { flex: none; width: 8mm; height: 8mm; border: 0.4mm solid #000; border-radius: 50%; display: flex; align-items: center; justify-content: center; font-weight: bold; font-size: 4.4mm; }
.party .who { font-weight: bold; }
.party .who span { margin-right: 3mm; }
.to { font-size: 4.2mm; }
.from { font-size: 2.9mm; }
.goods { display: flex; justify-content: space-between; font-size: 3mm; border-bottom: 0.2mm solid #000; padding-bottom: 1.6mm; }
.order { margin-top: auto; }
.order .number { font-size: 3mm; }
svg.barcode { display: block; max-width: 100%; height: auto; }
"#;

/// The packing list: A4 portrait.
pub const PACKING_CSS: &str = r#"
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { margin: 0; color: #000; background: #fff; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif; font-size: 9.5pt; line-height: 1.35; }
h1 { font-size: 15pt; margin: 0 0 2mm; }
.meta { display: flex; flex-wrap: wrap; gap: 2mm 8mm; margin: 0 0 4mm; }
table { width: 100%; border-collapse: collapse; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
th, td { border: 0.2mm solid #000; padding: 1.2mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; white-space: nowrap; }
.addr { width: 38%; }
.n { text-align: right; white-space: nowrap; }
.mono { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 8.5pt; white-space: nowrap; }
.check { width: 10mm; }
.sign { margin-top: 10mm; display: flex; gap: 25mm; }
"#;

/// `PAGE_CSP` with the two style blocks above allowed by hash; set it on the print responses.
pub fn print_csp() -> String {
    let hashes = format!("style-src 'self' {} {}", hash(LABEL_CSS), hash(PACKING_CSS));
    crate::views::PAGE_CSP.replacen("style-src 'self'", &hashes, 1)
}

/// A CSP hash source: `'sha256-…'` of the text exactly as it stands inside `<style>`.
fn hash(css: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(css.as_bytes())))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The inline SVG of a Code 128 as wide as fits `width_mm` (3 mm quiet zones included), with
/// modules of 0.25 to `max_module` mm in steps of 0.125 mm (whole dots at 203 dpi); `None`
/// (the text alone is printed) when the data cannot be encoded.
fn barcode(data: &str, width_mm: f64, height_mm: f64, max_module: f64) -> Option<Markup> {
    const QUIET: f64 = 3.0;
    let n = barcode::modules(data).ok()?.len() as f64;
    let fit = ((width_mm - 2.0 * QUIET) / n / 0.125).floor() * 0.125;
    let module = fit.clamp(0.25, max_module);
    barcode::svg(data, module, height_mm, QUIET)
        .ok()
        .map(PreEscaped)
}

fn recipient_name(batch: &LabelBatch, name: &str) -> String {
    if batch.mask_recipient_name {
        masking::name(name)
    } else {
        name.trim().to_owned()
    }
}

fn heading(batch: &LabelBatch) -> String {
    if batch.product.trim().is_empty() {
        batch.courier.label_zh().to_owned()
    } else {
        format!("{} · {}", batch.courier.label_zh(), batch.product.trim())
    }
}

fn label(batch: &LabelBatch, s: &LabelShipment) -> Markup {
    let sender = &batch.sender;
    let waybill = s
        .waybill
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty());
    html! {
        section.label {
            div.head {
                div.courier { (heading(batch)) }
                div.meta {
                    div { "批次 " (batch.batch_no) }
                    div { "打印 " (batch.printed_on) }
                }
            }
            @if let Some(w) = waybill {
                div.waybill {
                    @if let Some(svg) = barcode(w, 92.0, 15.0, 0.5) { (svg) }
                    div.number { (w) }
                }
            } @else {
                div.waybill.pending { "待回填运单号" }
            }
            div.party.to {
                div.tag { "收" }
                div {
                    div.who {
                        span { (recipient_name(batch, &s.recipient_name)) }
                        span { (masking::phone(&s.recipient_mobile)) }
                    }
                    div.addr { (s.address) }
                }
            }
            div.party.from {
                div.tag { "寄" }
                div {
                    @if !sender.company.is_empty() { div { (sender.company) } }
                    div.who {
                        span { (sender.name) }
                        span { (sender.phone) }
                    }
                    div.addr { (sender.address) }
                }
            }
            div.goods {
                span { "托寄物：" (batch.contents) }
                span { "件数：1/1" }
                span { "付款：" (batch.payment) }
            }
            div.order {
                div.number { "订单号 " (s.order_no) }
                @if let Some(svg) = barcode(&s.order_no, 60.0, 8.0, 0.25) { (svg) }
            }
        }
    }
}

fn document(title: &str, css: &'static str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { (title) }
                // Raw text: `hash` covers exactly these characters.
                style { (PreEscaped(css)) }
            }
            body { (body) }
        }
    }
}

/// One label per page, for the browser's print dialog or headless printing to PDF ("actual
/// size", no headers and footers).
pub fn labels_page(batch: &LabelBatch) -> Markup {
    let title = format!("面单 {}", batch.batch_no);
    document(
        &title,
        LABEL_CSS,
        html! {
            @for s in &batch.shipments { (label(batch, s)) }
        },
    )
}

/// 装箱单: the batch's parcels on A4, for packing and the hand-over to the courier.
pub fn packing_list(batch: &LabelBatch) -> Markup {
    let title = format!("装箱单 {}", batch.batch_no);
    document(
        &title,
        PACKING_CSS,
        html! {
            h1 { "装箱单" }
            div.meta {
                span { "批次 " (batch.batch_no) }
                span { (heading(batch)) }
                span { "托寄物 " (batch.contents) " · 每单 1 件" }
                span { "付款 " (batch.payment) }
                span { "打印 " (batch.printed_on) }
                span { "共 " (batch.shipments.len()) " 件" }
            }
            table {
                thead {
                    tr {
                        th.n { "序号" }
                        th { "订单号" }
                        th { "运单号" }
                        th { "收件人" }
                        th { "手机" }
                        th.addr { "收件地址" }
                        th.check { "核对" }
                    }
                }
                tbody {
                    @for (i, s) in batch.shipments.iter().enumerate() {
                        tr {
                            td.n { (i + 1) }
                            td.mono { (s.order_no) }
                            td.mono {
                                @match s.waybill.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
                                    Some(w) => (w),
                                    None => "待回填",
                                }
                            }
                            td { (recipient_name(batch, &s.recipient_name)) }
                            td.mono { (masking::phone(&s.recipient_mobile)) }
                            td.addr { (s.address) }
                            td.check {}
                        }
                    }
                }
            }
            div.sign {
                span { "装箱人：________" }
                span { "复核人：________" }
                span { "交接时间：________" }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: usize) -> LabelBatch {
        LabelBatch {
            batch_no: "SF-20261125-01".into(),
            courier: Courier::Sf,
            product: "顺丰标快".into(),
            printed_on: "2026-11-25".into(),
            sender: LabelSender {
                company: "深圳某CA有限公司".into(),
                name: "王五".into(),
                phone: "0755-88886666".into(),
                address: "广东省深圳市福田区深南大道1号".into(),
            },
            shipments: (1..=n)
                .map(|i| LabelShipment {
                    order_no: format!("WT2026112500{i:02}"),
                    waybill: (i % 2 == 1)
                        .then(|| format!("SF{:013}", 1_234_567_890_000u64 + i as u64)),
                    recipient_name: "张三".into(),
                    recipient_mobile: "13800138000".into(),
                    address: "广东省深圳市南山区科技园路1号".into(),
                })
                .collect(),
            contents: "USB Key".into(),
            payment: "寄付月结".into(),
            mask_recipient_name: false,
        }
    }

    #[test]
    fn one_label_per_parcel_and_no_break_after_the_last() {
        let html = labels_page(&batch(3)).into_string();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches(r#"<section class="label">"#).count(), 3);
        assert!(LABEL_CSS.contains("@page { size: 100mm 150mm; margin: 0; }"));
        assert!(LABEL_CSS.contains(".label:last-child { page-break-after: auto;"));
        assert!(LABEL_CSS.contains("page-break-after: always"));
        assert!(html.contains("顺丰速运 · 顺丰标快"));
        assert!(html.contains("SF-20261125-01") && html.contains("2026-11-25"));
        // Parcels 1 and 3 have a waybill barcode, 2 waits for one.
        assert!(html.contains("SF1234567890001"));
        assert!(html.contains(r#"aria-label="SF1234567890001""#));
        assert_eq!(html.matches("待回填运单号").count(), 1);
        // Recipient masked, sender not.
        assert!(html.contains("138****8000") && !html.contains("13800138000"));
        assert!(html.contains("张三") && html.contains("0755-88886666"));
        assert!(html.contains("广东省深圳市南山区科技园路1号"));
        assert!(
            html.contains("托寄物：USB Key")
                && html.contains("件数：1/1")
                && html.contains("付款：寄付月结")
        );
        for i in 1..=3 {
            let o = format!("WT2026112500{i:02}");
            assert!(html.contains(&format!("订单号 {o}")));
            assert!(
                html.contains(&format!(r#"aria-label="{o}""#)),
                "order barcode {o}"
            );
        }
        // A strict CSP: no style attributes, no scripts.
        assert!(!html.contains("style=") && !html.contains("<script"));
    }

    #[test]
    fn the_name_masked_on_request_and_markup_escaped() {
        let mut b = batch(1);
        b.mask_recipient_name = true;
        b.shipments[0].address = "<b>科技园</b>".into();
        let html = labels_page(&b).into_string();
        assert!(html.contains("张*") && !html.contains("张三"));
        assert!(html.contains("&lt;b&gt;科技园"));
        let html = packing_list(&b).into_string();
        assert!(html.contains("张*") && !html.contains("张三"));
    }

    #[test]
    fn barcodes_fit_the_label() {
        let html = labels_page(&batch(1)).into_string();
        // SF + 13 digits: 145 modules at 0.5 mm + 2 × 3 mm quiet zones = 78.5 mm.
        assert!(html.contains(r#"width="78.5mm" height="15mm""#), "{html}");
        // WT + 12 digits: 11 symbols + stop = 134 modules at 0.25 mm + 6 = 39.5 mm, 8 mm tall.
        assert!(html.contains(r#"width="39.5mm" height="8mm""#), "{html}");
        // A non-ASCII waybill prints as text only.
        let mut b = batch(1);
        b.shipments[0].waybill = Some("运单1".into());
        let html = labels_page(&b).into_string();
        assert!(html.contains("运单1") && !html.contains(r#"aria-label="运单1""#));
    }

    #[test]
    fn the_packing_list() {
        let html = packing_list(&batch(2)).into_string();
        assert!(PACKING_CSS.contains("@page { size: A4;"));
        assert!(html.contains("装箱单") && html.contains("共 2 件"));
        assert!(html.contains("托寄物 USB Key · 每单 1 件"));
        assert_eq!(html.matches("<tr>").count(), 3);
        assert!(html.contains("SF1234567890001") && html.contains("待回填"));
        assert!(html.contains("138****8000") && !html.contains("13800138000"));
    }

    #[test]
    fn the_csp_allows_exactly_the_inline_styles() {
        use base64::Engine;
        let csp = print_csp();
        for (css, page) in [
            (LABEL_CSS, labels_page(&batch(1)).into_string()),
            (PACKING_CSS, packing_list(&batch(1)).into_string()),
        ] {
            let inline = page
                .split("<style>")
                .nth(1)
                .and_then(|s| s.split("</style>").next())
                .unwrap();
            assert_eq!(inline, css);
            let digest = Sha256::digest(inline.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
            assert!(csp.contains(&format!("'sha256-{b64}'")), "{csp}");
        }
        assert!(csp.starts_with("default-src 'self'"));
        assert!(csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"));
        assert_ne!(csp, crate::views::PAGE_CSP);
        for n in 0..6 {
            let data = vec![0xA5u8; n];
            assert_eq!(
                base64(&data),
                base64::engine::general_purpose::STANDARD.encode(&data)
            );
        }
    }

    #[test]
    fn ten_thousand_labels() {
        let b = batch(10_000);
        let html = labels_page(&b).into_string();
        assert_eq!(html.matches(r#"<section class="label">"#).count(), 10_000);
    }
}
