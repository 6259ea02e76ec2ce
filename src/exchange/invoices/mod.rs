//! 数电票 batches (`../shared/contracts/invoice-batch.md`): the platform's batch-import workbook,
//! written from a layout file (sheets, hints, headers, version marker; columns found by header
//! text, every cell text), the checks a request passes before export, and the read-back of what
//! was issued (the platform's export, plain lists, invoice files, the failure list), all or nothing.
//!
//! The files: `layout` reads the layout file (the settings, `[invoice]`, are `config::InvoiceConfig`),
//! `rows` checks a request and maps it to the columns, `batch_xlsx` writes the workbook; `issued` reads back what was
//! issued (zip members and invoice files), `issued_table` finds a sheet's header row,
//! `issued_lines` turns its rows into invoices or failures, `issued_cells` reads one cell.

mod batch_xlsx;
mod issued;
mod issued_cells;
mod issued_lines;
mod issued_table;
mod layout;
mod rows;
#[cfg(test)]
mod tests;

/// The settings moved to `config`; this path stays for the callers that still use it.
pub use crate::config::InvoiceConfig;
pub use batch_xlsx::write_batch;
pub use issued::{
    FailureLine, InvoiceFile, IssuedError, IssuedFile, IssuedLine, read_issued, read_issued_with,
};
pub use layout::{ColumnLayout, Layout, LayoutError, SheetLayout, SheetRole, norm_header};
pub use rows::{InvoiceRow, check_row, serial};
