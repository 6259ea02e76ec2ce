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

pub use super::record_export;
