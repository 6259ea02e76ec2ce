//! Files in and out. The CLI and the desk pages call the same functions.

pub mod barcode;
pub mod budget;
pub mod calendar;
pub mod certificates;
pub mod couriers;
pub mod csv_cell;
#[cfg(any(test, feature = "bench-support"))]
pub mod fuzzing;
pub mod grid;
pub mod invoices;
pub mod layout;
#[cfg(test)]
mod never_panic;
pub mod payment_bills;
pub mod report_stream;
pub mod reports;
pub mod sheet;

/// Why a sheet import changed nothing: a bad file (row and column named), or the database.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Sheet(#[from] sheet::SheetError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}
