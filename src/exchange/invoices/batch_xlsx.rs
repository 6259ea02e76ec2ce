//! Writing the batch-import workbook: the layout's head rows, one text row per invoice and line.

use super::layout::{Layout, LayoutError, SheetLayout, SheetRole, cell_ref};
use super::rows::{Field, InvoiceRow, check_row, invoice_fields, line_fields};
use crate::config::InvoiceConfig;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet};
use std::collections::HashSet;

/// Where each field goes: its 0-based column, or `None` for an optional header the layout lacks.
fn resolve(sheet: &SheetLayout, fields: &[Field]) -> Result<Vec<Option<u16>>, LayoutError> {
    fields
        .iter()
        .map(|f| match sheet.find(f.header) {
            Some((col, _)) => Ok(Some(col)),
            None if f.needed => Err(LayoutError::MissingHeader {
                sheet: sheet.name.clone(),
                header: f.header.to_string(),
            }),
            None => Ok(None),
        })
        .collect()
}

fn xlsx(e: rust_xlsxwriter::XlsxError) -> LayoutError {
    LayoutError::Xlsx(e.to_string())
}

/// The batch-import workbook: the layout's sheets in order, rows 1–3 from the layout, one row per
/// invoice and per line from the data row on, then the hidden version sheet. Every cell is text.
/// The same rows give the same bytes. Rows are streamed (rust_xlsxwriter's low-memory mode), so
/// a large batch needs little memory; splitting into files of `max_per_file` is the caller's.
pub fn write_batch(
    layout: &Layout,
    cfg: &InvoiceConfig,
    rows: &[InvoiceRow],
) -> Result<Vec<u8>, LayoutError> {
    cfg.validate().map_err(LayoutError::Config)?;
    let invoices = layout
        .sheet(SheetRole::Invoices)
        .ok_or_else(|| LayoutError::Invalid("no sheet has role invoices".into()))?;
    let lines = layout
        .sheet(SheetRole::Lines)
        .ok_or_else(|| LayoutError::Invalid("no sheet has role lines".into()))?;
    let probe = InvoiceRow::default();
    let invoice_cols = resolve(invoices, &invoice_fields(cfg, &probe))?;
    let line_cols = resolve(lines, &line_fields(cfg, &probe))?;
    let mut seen = HashSet::new();
    for r in rows {
        check_row(layout, cfg, r).map_err(|reason| LayoutError::Row {
            serial: r.serial.clone(),
            reason,
        })?;
        if !seen.insert(r.serial.as_str()) {
            return Err(LayoutError::Row {
                serial: r.serial.clone(),
                reason: "appears twice in the batch".into(),
            });
        }
    }

    // Built-in number format 49 is Excel's "@" (Text), the format the platform's template uses.
    let text = Format::new().set_num_format_index(49);
    let head = text
        .clone()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let note = text
        .clone()
        .set_text_wrap()
        .set_align(FormatAlign::Left)
        .set_align(FormatAlign::Top);
    let mut wb = Workbook::new();
    // A fixed creation time keeps the output byte-identical for the same rows.
    let created = ExcelDateTime::from_ymd(2026, 1, 1).map_err(xlsx)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    for sheet in &layout.sheets {
        let ws = wb.add_worksheet_with_low_memory().map_err(xlsx)?;
        ws.set_name(&sheet.name).map_err(xlsx)?;
        write_head(ws, layout, sheet, &text, &head, &note).map_err(xlsx)?;
        let first = layout.data_row - 1;
        match sheet.role {
            Some(SheetRole::Invoices) => write_rows(ws, first, rows, &invoice_cols, &text, |r| {
                invoice_fields(cfg, r)
            })?,
            Some(SheetRole::Lines) => {
                write_rows(ws, first, rows, &line_cols, &text, |r| line_fields(cfg, r))?
            }
            _ => {}
        }
    }
    let (row, col) = cell_ref(&layout.marker_cell).expect("checked when loaded");
    let ws = wb.add_worksheet();
    ws.set_name(&layout.marker_sheet).map_err(xlsx)?;
    ws.write_string_with_format(row, col, &layout.marker, &text)
        .map_err(xlsx)?;
    ws.set_hidden(true);
    wb.save_to_buffer().map_err(xlsx)
}

/// Rows 1–3: the merged instruction, the hints and the headers (merged where a header spans).
fn write_head(
    ws: &mut Worksheet,
    layout: &Layout,
    sheet: &SheetLayout,
    text: &Format,
    head: &Format,
    note: &Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let width = u16::try_from(sheet.width()).expect("checked when loaded");
    for c in 0..width {
        ws.set_column_format(c, text)?;
        ws.set_column_width(c, 16)?;
    }
    let r = layout.instruction_row - 1;
    if width > 1 {
        ws.merge_range(r, 0, r, width - 1, &sheet.instruction, note)?;
    } else {
        ws.write_string_with_format(r, 0, &sheet.instruction, note)?;
    }
    ws.set_row_height(r, 48)?;
    for (r, pick) in [(layout.hint_row - 1, 0), (layout.header_row - 1, 1)] {
        let mut at = 0u16;
        for c in &sheet.columns {
            let value = if pick == 0 { &c.hint } else { &c.header };
            if c.span > 1 {
                ws.merge_range(r, at, r, at + c.span - 1, value, head)?;
            } else {
                ws.write_string_with_format(r, at, value, head)?;
            }
            at += c.span;
        }
    }
    ws.set_row_height(layout.header_row - 1, 32)?;
    Ok(())
}

fn write_rows(
    ws: &mut Worksheet,
    first: u32,
    rows: &[InvoiceRow],
    cols: &[Option<u16>],
    text: &Format,
    fields: impl Fn(&InvoiceRow) -> Vec<Field>,
) -> Result<(), LayoutError> {
    for (i, r) in rows.iter().enumerate() {
        let n = u32::try_from(i)
            .ok()
            .and_then(|i| first.checked_add(i))
            .ok_or_else(|| LayoutError::Invalid("too many rows for one sheet".into()))?;
        for (f, col) in fields(r).iter().zip(cols) {
            if let Some(col) = col
                && !f.value.is_empty()
            {
                ws.write_string_with_format(n, *col, &f.value, text)
                    .map_err(xlsx)?;
            }
        }
    }
    Ok(())
}
