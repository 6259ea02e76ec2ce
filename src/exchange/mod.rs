//! Files in and out. The CLI and the desk pages call the same functions.

pub mod barcode;
pub mod budget;
pub mod calendar;
pub mod certificates;
pub mod couriers;
pub mod crl;
pub mod csv_cell;
pub mod formats;
#[cfg(any(test, feature = "bench-support"))]
pub mod fuzzing;
pub mod grid;
pub mod invoices;
pub mod layout;
#[cfg(test)]
mod never_panic;
pub mod payment_bills;
pub mod pdf_pages;
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

/// Records a file an import read or an export made on the audit trail, in the same transaction:
/// what was done (`action`), the kind of file, its SHA-256, and what it held or made.
pub async fn audit_file(
    tx: &mut crate::storage::Tx,
    actor: &str,
    action: &str,
    file_kind: &str,
    sha256: &str,
    after: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let entry = crate::storage::audit::AuditEntry {
        at,
        actor,
        action,
        subject_type: file_kind,
        subject_id: sha256,
        after: Some(after),
        ..Default::default()
    };
    crate::storage::audit::record(tx, &entry).await
}
