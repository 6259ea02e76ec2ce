//! The desks' work, one module per desk, named as the desk is in every layer (`web::<desk>`,
//! `views::<desk>`, `storage::<desk>`): each action is one transaction with its audit record,
//! and the pages, the intake API, the CLI and the jobs call these same functions.

/// Assignment by the server: fewest open claims, a cap, nearest deadline first; away; hand back.
pub mod assignment;
/// Bulk actions: a supervisor reassigns, releases or prioritises many applications at once.
pub mod bulk;
/// What a decision brings with it (decision row, invoice request, SLA window, mail; refunds).
pub(crate) mod decision;
/// Returned applications never resubmitted: closed as expired after the configured days.
pub mod expiry;
/// Finance: bill imports and reconciliation, the cases they raise.
pub mod finance;
/// Four eyes: acceptances held for a second reviewer's approval, the rules.
pub mod four_eyes;
/// Fulfilment: production, courier batches, label prints, tracking, returned parcels.
pub mod fulfilment;
/// Hotline: masked look-ups and views (audited, limited per hour), checks, call notes.
pub mod hotline;
/// Intake: applications submitted and resubmitted by the online hall.
pub mod intake;
/// Invoices (数电票): batches for the tax platform and what it issued.
pub mod invoicing;
/// Internal notes on an application and the colleagues they mention.
pub mod notes;
/// How far a long import is, for its job's page.
pub mod progress;
/// Returns by part: which scans and fields a return sent back, and the resubmission's check.
pub mod returned_parts;
/// Review: staff actions on an application (status change + event + audit in one transaction).
pub mod review;
/// Revocation of the lost certificate: the CRL import, the batch gate's override, the
/// serials for the CA operator, the issued certificate's file.
pub mod revocation;
/// Scans: a PDF scan's pages rendered to images for the review page, once per scan.
pub mod scan_pages;
/// Supervision: the dashboard's figures, and the reports under reports/ run for a period.
pub mod supervision;

/// Records the download of an export (refunds owed, the daily report, an invoice batch, a
/// supervision report): who, what, and the file's hash.
pub async fn record_export(
    storage: &crate::storage::Storage,
    actor: &str,
    action: &str,
    bytes: &[u8],
    what: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let sha = crate::storage::scan_files::sha256_hex(bytes);
    storage
        .audit_view(&crate::storage::audit::AuditEntry {
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
