//! Closing a finance case: linking a payment, confirming a refund, accepting a mismatch; one
//! transaction with its audit record, refused when someone else closed it first.

use super::FinanceError;
use crate::domain::ids::ApplicationId;
use crate::storage::{
    Storage,
    audit::{self, AuditEntry},
    finance as store,
};

/// How a clerk closes a case.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// An unmatched payment belongs to this application.
    Link { application_id: String },
    /// The money went back (or the refund in the bill is understood): the refund's number.
    ConfirmRefund { refund_no: String },
    /// The amount differs and finance accepts it.
    AcceptMismatch,
}

impl Resolution {
    pub fn code(&self) -> &'static str {
        match self {
            Resolution::Link { .. } => "linked",
            Resolution::ConfirmRefund { .. } => "refund_confirmed",
            Resolution::AcceptMismatch => "mismatch_accepted",
        }
    }
}

/// Closes a case with a note. `row_version`: what the clerk saw; someone else first → Conflict.
pub async fn resolve_case(
    storage: &Storage,
    case_id: i64,
    resolution: &Resolution,
    note: &str,
    row_version: Option<i64>,
    actor: &str,
    at: i64,
) -> Result<(), FinanceError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(FinanceError::Refused("a note is required".into()));
    }
    let mut tx = storage.begin().await?;
    crate::storage::advisory_lock(&mut tx, crate::storage::Lock::Reconciliation).await?;
    let case = store::case_row(&mut tx, case_id)
        .await?
        .ok_or(FinanceError::NotFound)?;
    if case.state != "open" || row_version.is_some_and(|v| v != case.row_version) {
        return Err(FinanceError::Conflict);
    }
    let allowed = match resolution {
        Resolution::Link { .. } => case.kind == "unmatched_payment",
        Resolution::ConfirmRefund { .. } => matches!(
            case.kind.as_str(),
            "duplicate_payment" | "refund_owed" | "unmatched_payment" | "unexpected_refund"
        ),
        Resolution::AcceptMismatch => case.kind == "amount_mismatch",
    };
    if !allowed {
        return Err(FinanceError::Refused(format!(
            "a {} case cannot be closed as {}",
            case.kind,
            resolution.code()
        )));
    }
    let mut touched: Vec<ApplicationId> = case.application_id.iter().cloned().collect();
    let refund_no = match resolution {
        Resolution::ConfirmRefund { refund_no } => {
            let r = refund_no.trim();
            if r.is_empty() || r.len() > 64 {
                return Err(FinanceError::Refused(
                    "the refund number is required".into(),
                ));
            }
            Some(r.to_owned())
        }
        Resolution::Link { application_id } => {
            let no_such =
                || FinanceError::Refused(format!("no application {}", application_id.trim()));
            let id = ApplicationId::parse(application_id).ok_or_else(no_such)?;
            let app = store::app_payment(&mut tx, &id)
                .await?
                .ok_or_else(no_such)?;
            if app.amount_fen != case.amount_fen {
                return Err(FinanceError::Refused(format!(
                    "the payment is {} yuan, the application's fee {} yuan",
                    case.amount_fen, app.amount_fen
                )));
            }
            if app.has_payment {
                return Err(FinanceError::Refused(format!(
                    "{} already has a payment; confirm a refund of this one instead",
                    app.application_id
                )));
            }
            let line_id = case.line_id.expect("an unmatched payment has its line");
            store::link_line(&mut tx, line_id, &app.application_id, "matched").await?;
            if let Some(missing) =
                store::open_case_of(&mut tx, &app.application_id, "missing_payment").await?
            {
                store::close_case(
                    &mut tx,
                    missing,
                    None,
                    "linked",
                    None,
                    Some(note),
                    actor,
                    at,
                )
                .await?;
            }
            touched.push(app.application_id);
            None
        }
        Resolution::AcceptMismatch => None,
    };
    if !store::close_case(
        &mut tx,
        case_id,
        Some(case.row_version),
        resolution.code(),
        refund_no.as_deref(),
        Some(note),
        actor,
        at,
    )
    .await?
    {
        return Err(FinanceError::Conflict);
    }
    let refs: Vec<&str> = touched.iter().map(ApplicationId::as_str).collect();
    store::refresh_payment_state(&mut tx, &refs).await?;
    let subject = case_id.to_string();
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor,
            action: "finance_case.closed",
            subject_type: "finance_case",
            subject_id: &subject,
            before: Some(&case.kind),
            after: Some(resolution.code()),
            request_id: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
