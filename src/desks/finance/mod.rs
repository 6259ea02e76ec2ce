//! The finance desk's work: importing merchant bills and reconciling them, resolving the cases
//! they raise. Each import and each resolution is one transaction with its audit record; the CLI
//! and the pages call these same functions.

mod bills;
mod cases;
mod reconcile;

pub use bills::{import_bill_file, import_bills};
pub use cases::{Resolution, resolve_case};
pub use reconcile::line_in;

use crate::exchange::payment_bills::BillError;
use crate::storage::{Storage, audit::AuditEntry};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum FinanceError {
    #[error(transparent)]
    Bill(#[from] BillError),
    #[error("the file is a {found} bill; expected {expected}")]
    WrongChannel { expected: String, found: String },
    #[error("{0}")]
    Refused(String),
    #[error("someone else resolved this case first")]
    Conflict,
    #[error("no such case")]
    NotFound,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// What an import did (`operations.md`: the last line of `import-payments`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    pub channel: String,
    pub lines: usize,
    pub new_lines: usize,
    pub matched: usize,
    pub amount_mismatch: usize,
    pub unmatched_payment: usize,
    pub missing_payment: usize,
    pub duplicate_payment: usize,
    pub refund: usize,
}

impl ImportSummary {
    fn add(&mut self, o: &ImportSummary) {
        self.lines += o.lines;
        self.new_lines += o.new_lines;
        self.matched += o.matched;
        self.amount_mismatch += o.amount_mismatch;
        self.unmatched_payment += o.unmatched_payment;
        self.missing_payment += o.missing_payment;
        self.duplicate_payment += o.duplicate_payment;
        self.refund += o.refund;
    }
}

pub use crate::storage::scan_files::sha256_hex;

/// Records the download of an export (refunds owed, the daily report, an invoice batch): who,
/// what, and the file's hash.
pub async fn record_export(
    storage: &Storage,
    actor: &str,
    action: &str,
    bytes: &[u8],
    what: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let sha = sha256_hex(bytes);
    storage
        .audit_view(&AuditEntry {
            at,
            actor,
            action,
            subject_type: "export_file",
            subject_id: &sha,
            before: None,
            after: Some(what),
            request_id: None,
        })
        .await
}
