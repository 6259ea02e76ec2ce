//! A read-back table's rows as issued invoices or failure lines, every bad cell named.

use super::issued::{FailureLine, IssuedError, IssuedFile, IssuedLine};
use super::issued_cells::{
    invoice_number, issue_time, link, money, optional_text, required_text, yes_no,
};
use super::issued_table::{
    AMOUNT, BUYER, ISSUED_AT, LINK, NUMBER, POSITIVE, REASON, REMARK, SELLER, SERIAL, STATUS,
    Table, Value,
};
use super::layout::norm_header;
use crate::exchange::sheet::{RowError, column_letter};
use std::collections::HashMap;

/// Column positions by header aliases (first alias present wins).
struct Cols<'t> {
    table: &'t Table,
}

impl Cols<'_> {
    fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases.iter().find_map(|a| {
            let want = norm_header(a);
            self.table
                .headers
                .iter()
                .position(|h| norm_header(h) == want)
        })
    }

    fn need(&self, aliases: &[&str]) -> Result<usize, IssuedError> {
        self.find(aliases)
            .ok_or_else(|| IssuedError::MissingColumn {
                sheet: self.table.sheet.clone(),
                column: aliases.join(" | "),
            })
    }

    fn name(&self, i: usize) -> String {
        format!("{} ({})", column_letter(i), self.table.headers[i])
    }
}

pub(super) fn absorb(t: &Table, out: &mut IssuedFile) -> Result<(), IssuedError> {
    let c = Cols { table: t };
    if c.find(REASON).is_some() {
        out.failures.extend(failure_lines(t, &c)?);
    } else {
        out.lines.extend(issued_lines(t, &c)?);
    }
    Ok(())
}

/// Reads one cell with `parse`, recording an error that names row and column.
fn get<T>(
    c: &Cols,
    row: usize,
    cells: &[Value],
    col: usize,
    errors: &mut Vec<RowError>,
    parse: impl FnOnce(&Value) -> Result<T, String>,
) -> Option<T> {
    let v = cells.get(col).unwrap_or(&Value::Empty);
    parse(v)
        .map_err(|message| {
            errors.push(RowError {
                row,
                column: c.name(col),
                message,
            })
        })
        .ok()
}

/// The rows read, or every bad cell of the sheet.
fn all_or_nothing<T>(t: &Table, out: Vec<T>, errors: Vec<RowError>) -> Result<Vec<T>, IssuedError> {
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(IssuedError::Cells {
            sheet: t.sheet.clone(),
            errors,
        })
    }
}

fn failure_lines(t: &Table, c: &Cols) -> Result<Vec<FailureLine>, IssuedError> {
    let serial_col = c.need(SERIAL)?;
    let reason_col = c.need(REASON)?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (row, cells) in &t.rows {
        let serial = get(c, *row, cells, serial_col, &mut errors, required_text);
        let reason = get(c, *row, cells, reason_col, &mut errors, required_text);
        if let (Some(serial), Some(reason)) = (serial, reason) {
            out.push(FailureLine {
                row: *row,
                serial,
                reason,
            });
        }
    }
    all_or_nothing(t, out, errors)
}

fn issued_lines(t: &Table, c: &Cols) -> Result<Vec<IssuedLine>, IssuedError> {
    let number_col = c.need(NUMBER)?;
    let at_col = c.need(ISSUED_AT)?;
    let buyer_col = c.need(BUYER)?;
    let amount_col = c.need(AMOUNT)?;
    let opt = |aliases| c.find(aliases);
    let (positive_col, status_col, remark_col) = (opt(POSITIVE), opt(STATUS), opt(REMARK));
    let (serial_col, link_col, seller_col) = (opt(SERIAL), opt(LINK), opt(SELLER));
    // 信息汇总表 has one row per invoice line: its rows are summed per invoice number.
    let grouped = t.sheet == "信息汇总表";
    let mut errors = Vec::new();
    let mut out: Vec<IssuedLine> = Vec::new();
    // Invoice number → its place in `out`.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &t.rows {
        let row = *row;
        let e = &mut errors;
        let number = get(c, row, cells, number_col, e, invoice_number);
        let issued_at = get(c, row, cells, at_col, e, issue_time);
        let buyer = get(c, row, cells, buyer_col, e, required_text);
        let amount = get(c, row, cells, amount_col, e, money);
        let optional = |col: Option<usize>, e: &mut Vec<RowError>| -> Option<String> {
            col.and_then(|i| get(c, row, cells, i, e, optional_text).flatten())
        };
        let positive = positive_col.and_then(|i| get(c, row, cells, i, e, yes_no).flatten());
        let status = optional(status_col, e).unwrap_or_default();
        let remark = optional(remark_col, e).unwrap_or_default();
        let serial = optional(serial_col, e);
        let seller_tax_id = optional(seller_col, e);
        let link = link_col.and_then(|i| get(c, row, cells, i, e, link).flatten());
        let (Some(number), Some(issued_at), Some(buyer), Some(amount_fen)) =
            (number, issued_at, buyer, amount)
        else {
            continue;
        };
        if let Some(&i) = seen.get(&number) {
            let first = out[i].row;
            if !grouped {
                errors.push(RowError {
                    row,
                    column: c.name(number_col),
                    message: format!("invoice {number} appears already in row {first}"),
                });
                continue;
            }
            let line = &mut out[i];
            if line.issued_at != issued_at || line.buyer != buyer {
                errors.push(RowError {
                    row,
                    column: c.name(at_col),
                    message: format!(
                        "date or buyer differ from row {first} of the same invoice {number}"
                    ),
                });
                continue;
            }
            match line.amount_fen.checked_add(amount_fen) {
                Some(sum) => line.amount_fen = sum,
                None => errors.push(RowError {
                    row,
                    column: c.name(amount_col),
                    message: "the amounts overflow".into(),
                }),
            }
            continue;
        }
        seen.insert(number.clone(), out.len());
        out.push(IssuedLine {
            row,
            number,
            issued_at,
            buyer,
            amount_fen,
            // Without the column, a negative amount is what marks a red-letter invoice.
            positive: positive.unwrap_or(amount_fen.get() >= 0),
            status,
            remark,
            serial,
            link,
            seller_tax_id,
        });
    }
    all_or_nothing(t, out, errors)
}
