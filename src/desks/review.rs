//! Staff actions on an application: each is one transaction holding the status change, its
//! timeline event and its audit record. Two staff acting at once: the row_version condition
//! lets exactly one win; the other gets [`ActionError::Conflict`].

use super::decision::{decided, owe_refund};
use super::four_eyes;
use crate::domain::ids::ApplicationId;
use crate::domain::status::{Action, IllegalTransition, Status};
use crate::domain::{intake::NewApplication, returned_part::Part, scan::ScanKind};
use crate::storage::{
    Storage, Tx,
    applications::{self, Current, ScanRef},
    audit::{self, AuditEntry},
    finance, pauses,
    scan_files::ScanStore,
};
use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no such application")]
    NotFound,
    /// Four eyes: the reviewer who accepted cannot also approve (or reject) the acceptance.
    #[error("the reviewer who accepted cannot approve their own acceptance")]
    OwnApproval,
    /// Rejecting an approval needs a note for the reviewer who accepted.
    #[error("a note is needed")]
    NeedNote,
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("someone else changed this application first")]
    Conflict,
    #[error("another reviewer holds this application")]
    NotYours,
    /// Accepting needs a payment the bills verified, or a supervisor's override with a reason.
    #[error("the payment is {0}, not verified by a bill")]
    PaymentNotVerified(String),
    /// A resubmission left parts its return sent back as they were.
    #[error("returned parts left unchanged: {0:?}")]
    Unchanged(Vec<Part>),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub struct Actor<'a> {
    /// `staff:<username>`
    pub name: &'a str,
    pub request_id: Option<&'a str>,
    /// A supervisor may decide on applications other reviewers hold.
    pub may_override: bool,
}

/// A decision's returned reasons: (code, text shown to the applicant).
pub type Reasons = Vec<(String, String)>;

/// One staff action: with Accept and Return also the decision's reasons and note.
/// `expected_row_version`, when given, is what the staff member saw on the page.
#[derive(Default, Debug, Clone)]
pub struct Step {
    pub reasons: Reasons,
    /// With a return: the part each reason (by code) is about; a reason not listed is general.
    pub parts: Vec<(String, Part)>,
    pub note: Option<String>,
    pub expected_row_version: Option<i64>,
    /// A supervisor's reason to accept although the payment is not verified.
    pub payment_override: Option<String>,
    /// The configured four-eyes rules, in force until an admin saves rules of their own;
    /// None: no rule unless saved.
    pub four_eyes: Option<crate::domain::four_eyes::Rules>,
}

/// Applies `action` as one transaction: status, decision, event and audit record.
pub async fn act(
    storage: &Storage,
    application_id: &ApplicationId,
    action: Action,
    step: &Step,
    actor: &Actor<'_>,
    at: i64,
) -> Result<Status, ActionError> {
    let (reasons, note, expected_row_version) = (
        &step.reasons,
        step.note.as_deref(),
        step.expected_row_version,
    );
    storage.pause_point(pauses::ACT_BEGIN).await;
    let mut tx = storage.begin().await?;
    let seen: Current = applications::current(&mut tx, application_id)
        .await?
        .ok_or(ActionError::NotFound)?;
    storage.pause_point(pauses::ACT_READ).await;
    if expected_row_version.is_some_and(|v| v != seen.row_version) {
        return Err(ActionError::Conflict);
    }
    let from = seen.status;
    if matches!(action, Action::Accept | Action::Return | Action::Release)
        && !actor.may_override
        && seen.claimed_by.as_deref() != Some(actor.name)
    {
        return Err(ActionError::NotYours);
    }
    // A resubmission comes only through the intake API, which also makes the new version; the
    // four-eyes steps only through `desks::four_eyes`, an expiry only through `desks::expiry`.
    if matches!(
        action,
        Action::Resubmit
            | Action::RequestApproval
            | Action::Approve
            | Action::RejectApproval
            | Action::Expire
    ) {
        return Err(ActionError::Illegal(IllegalTransition { from, action }));
    }
    from.apply(action)?;
    let mut overridden = false;
    if action == Action::Accept {
        let state = finance::payment_state(&mut tx, application_id)
            .await?
            .unwrap_or_default();
        if state != "verified" {
            let reason = step
                .payment_override
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            match reason {
                Some(reason) if actor.may_override => {
                    overridden = true;
                    let after = format!("{state}: {reason}");
                    audit::record(
                        &mut tx,
                        &AuditEntry {
                            at,
                            actor: actor.name,
                            action: "application.payment_override",
                            subject_type: "application",
                            subject_id: application_id.as_str(),
                            before: Some(&state),
                            after: Some(&after),
                            request_id: actor.request_id,
                        },
                    )
                    .await?;
                }
                _ => return Err(ActionError::PaymentNotVerified(state)),
            }
        }
    }
    // Four eyes: an acceptance a rule holds waits for a second reviewer.
    let held = if action == Action::Accept {
        four_eyes::held_by(&mut tx, &seen, actor.name, step.four_eyes, overridden).await?
    } else {
        Vec::new()
    };
    let action = if held.is_empty() {
        action
    } else {
        Action::RequestApproval
    };
    let to = from.apply(action)?;
    let claimed_by = match action {
        Action::Claim => Some(actor.name),
        Action::Release => None,
        _ => seen.claimed_by.as_deref(),
    };
    if !applications::transition(&mut tx, &seen, to, claimed_by, at).await? {
        return Err(ActionError::Conflict);
    }
    storage.pause_point(pauses::ACT_WRITTEN).await;
    if from == Status::AwaitingApproval {
        // Any change to the application (a withdrawal) cancels its pending approval.
        four_eyes::cancel_pending(&mut tx, &seen, actor, action_name(action), at).await?;
    }
    if action == Action::RequestApproval {
        four_eyes::request(&mut tx, &seen, &held, actor.name, note, at).await?;
    }
    if matches!(action, Action::Accept | Action::Return) {
        let decision_id = decided(&mut tx, &seen, to, actor.name, at, note, reasons).await?;
        if action == Action::Return {
            let parts: Vec<_> = step
                .parts
                .iter()
                .filter(|(code, _)| reasons.iter().any(|(c, _)| c == code))
                .cloned()
                .collect();
            applications::insert_parts(&mut tx, decision_id, &parts).await?;
        }
    }
    if action == Action::Withdraw {
        owe_refund(&mut tx, application_id, at).await?;
    }
    Ok(finish_step(tx, application_id, at, (from, to), action, actor, note).await?)
}

/// The end of every status step: its timeline event and its audit record, committed with the
/// change (the review desk's actions and the four-eyes decisions).
pub(crate) async fn finish_step(
    mut tx: Tx,
    id: &ApplicationId,
    at: i64,
    (from, to): (Status, Status),
    action: Action,
    actor: &Actor<'_>,
    note: Option<&str>,
) -> Result<Status, sqlx::Error> {
    applications::add_event(&mut tx, id, at, to, actor.name, note).await?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor: actor.name,
            action: action_name(action),
            subject_type: "application",
            subject_id: id.as_str(),
            before: Some(from.code()),
            after: Some(to.code()),
            request_id: actor.request_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

pub(crate) fn action_name(a: Action) -> &'static str {
    match a {
        Action::Claim => "application.claimed",
        Action::Release => "application.released",
        Action::Accept => "application.accepted",
        Action::Return => "application.returned",
        Action::Resubmit => "application.resubmitted",
        Action::StartProduction => "application.production_started",
        Action::Ship => "application.shipped",
        Action::ReturnParcel => "application.parcel_returned",
        Action::Withdraw => "application.withdrawn",
        Action::RequestApproval => "application.approval_requested",
        Action::Approve => "application.approved",
        Action::RejectApproval => "application.approval_rejected",
        Action::Expire => "application.expired",
    }
}

/// A supervisor gives an application waiting for review to a reviewer (claimed for them).
pub async fn reassign(
    storage: &Storage,
    application_id: &ApplicationId,
    to: &str,
    expected_row_version: Option<i64>,
    actor: &Actor<'_>,
    at: i64,
) -> Result<(), ActionError> {
    let mut tx = storage.begin().await?;
    let seen: Current = applications::current(&mut tx, application_id)
        .await?
        .ok_or(ActionError::NotFound)?;
    if expected_row_version.is_some_and(|v| v != seen.row_version) {
        return Err(ActionError::Conflict);
    }
    let from = seen.status;
    if !matches!(from, Status::Submitted | Status::InReview) {
        return Err(ActionError::Illegal(IllegalTransition {
            from,
            action: Action::Claim,
        }));
    }
    if !applications::transition(&mut tx, &seen, Status::InReview, Some(to), at).await? {
        return Err(ActionError::Conflict);
    }
    let note = format!("reassigned to {}", to.trim_start_matches("staff:"));
    applications::add_event(
        &mut tx,
        application_id,
        at,
        Status::InReview,
        actor.name,
        Some(&note),
    )
    .await?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor: actor.name,
            action: "application.reassigned",
            subject_type: "application",
            subject_id: application_id.as_str(),
            before: Some(seen.claimed_by.as_deref().unwrap_or("-")),
            after: Some(to),
            request_id: actor.request_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A resubmission's writes inside the caller's transaction: the next version (its body, and the
/// new scans over the previous ones: parts not sent carry over), the status back to submitted
/// with the new deadline, the event and the audit record. Returns the new version number.
/// Refused ([`ActionError::Unchanged`]) when a part the return sent back is left as it was.
#[allow(clippy::too_many_arguments)]
pub async fn resubmit_in(
    tx: &mut Tx,
    seen: &Current,
    app: &NewApplication,
    new_scans: Vec<ScanRef>,
    received_at: i64,
    review_due_at: i64,
    actor: &str,
    request_id: Option<&str>,
) -> Result<i64, ActionError> {
    let from = seen.status;
    from.apply(Action::Resubmit)?;
    let id = &seen.application_id;
    let mut scans = applications::scans_of(tx, id, seen.version).await?;
    let returned = applications::returned_parts(&mut *tx, id, seen.version).await?;
    if !returned.is_empty() {
        let before = applications::version_body(&mut *tx, id, seen.version).await?;
        let left = super::returned_parts::left_unchanged(
            &returned,
            &before,
            &scans,
            Some(app),
            &new_scans,
        );
        if !left.is_empty() {
            return Err(ActionError::Unchanged(left));
        }
    }
    for s in new_scans {
        scans.retain(|old| old.kind != s.kind);
        scans.push(s);
    }
    scans.sort_by_key(|s| s.kind);
    if !applications::resubmit(tx, seen, app, received_at, review_due_at).await? {
        return Err(ActionError::Conflict);
    }
    let version = seen.version + 1;
    applications::insert_version(
        tx,
        id,
        version,
        &app.to_json().to_string(),
        received_at,
        &scans,
    )
    .await?;
    applications::add_event(
        tx,
        id,
        received_at,
        Status::Submitted,
        actor,
        Some(&format!("version {version}")),
    )
    .await?;
    audit::record(
        tx,
        &AuditEntry {
            at: received_at,
            actor,
            action: "application.resubmitted",
            subject_type: "application",
            subject_id: id.as_str(),
            before: Some(from.code()),
            after: Some(Status::Submitted.code()),
            request_id,
        },
    )
    .await?;
    Ok(version)
}

/// May `actor` decide (accept, return, release) on this application? A supervisor always; a
/// reviewer when the application is not claimed by someone else.
pub async fn may_decide(
    storage: &Storage,
    actor: &str,
    supervisor: bool,
    id: &ApplicationId,
) -> Result<bool, sqlx::Error> {
    if supervisor {
        return Ok(true);
    }
    let d = storage.review_detail(id).await?;
    Ok(d.is_none_or(|d| d.row.claimed_by.as_deref() == Some(actor)))
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] std::io::Error),
}

/// A scan of an application's version and its bytes (verified against their hash by the
/// store), None when there is no such scan. Each fetch is a view of personal data: audited
/// before the bytes go out.
#[allow(clippy::too_many_arguments)]
pub async fn scan(
    storage: &Storage,
    store: &ScanStore,
    id: &ApplicationId,
    version: i64,
    kind: ScanKind,
    actor: &str,
    request_id: &str,
    at: i64,
) -> Result<Option<(ScanRef, Bytes)>, ScanError> {
    let Some(scan) = storage
        .scans(id, version)
        .await?
        .into_iter()
        .find(|s| s.kind == kind)
    else {
        return Ok(None);
    };
    let bytes = store.get(&scan.sha256).await?;
    let what = format!("v{version}/{}", kind.code());
    audit_scan_view(storage, actor, id, &what, request_id, at).await?;
    Ok(Some((scan, bytes)))
}

/// The audit record of one view of a scan (or of one page of a PDF scan: `what` says which).
pub(crate) async fn audit_scan_view(
    storage: &Storage,
    actor: &str,
    id: &ApplicationId,
    what: &str,
    request_id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    storage
        .audit_view(&AuditEntry {
            at,
            actor,
            action: "scan.viewed",
            subject_type: "application",
            subject_id: id.as_str(),
            after: Some(what),
            request_id: Some(request_id),
            ..Default::default()
        })
        .await
}
