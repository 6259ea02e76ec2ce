//! Writing the courier's batch-order workbook: group headings and headers from the layout, one
//! row per shipment, every cell text, the same rows giving the same bytes.

use super::checks::{check_row, row_value, set};
use super::layout::{Part, Source};
use super::{Courier, CourierConfig, CourierError, CourierLayout, ShipmentRow};
use crate::exchange::layout::{reproducible_workbook, text_format};
use rust_xlsxwriter::{Format, FormatAlign, Worksheet};
use std::collections::HashSet;

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

    let text = text_format();
    let head = text
        .clone()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let mut wb = reproducible_workbook().map_err(xlsx)?;
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
