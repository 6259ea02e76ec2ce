//! Four eyes (dual control): an acceptance a rule holds puts the application in
//! `awaiting_approval`; a different reviewer or a supervisor approves (the acceptance takes
//! effect with everything it brings) or rejects it with a note (back in review with the
//! reviewer who accepted). Each is one transaction with its audit record; of two approvers at
//! once the conditional update on the pending request lets exactly one win.

use super::decision::decided;
use super::review::{ActionError, Actor};
use crate::domain::four_eyes::{self as rules, Facts, Reason, Rules};
use crate::domain::ids::ApplicationId;
use crate::domain::status::{Action, IllegalTransition, Status};
use crate::storage::{
    Storage, Tx,
    applications::{self, Current},
    audit::{self, AuditEntry},
    four_eyes as store, pauses,
};

/// The rules in force: the admin page's once saved, else the configuration's (`configured`,
/// None: none).
pub async fn rules_in_force(
    storage: &Storage,
    configured: Option<Rules>,
) -> Result<Rules, sqlx::Error> {
    Ok(store::saved_rules(storage.read_pool())
        .await?
        .or(configured)
        .unwrap_or_default())
}

/// The rules that hold this acceptance (empty: it takes effect at once).
pub(crate) async fn held_by(
    tx: &mut Tx,
    seen: &Current,
    maker: &str,
    configured: Option<Rules>,
    payment_overridden: bool,
) -> Result<Vec<Reason>, sqlx::Error> {
    let Some(r) = store::saved_rules(&mut *tx).await?.or(configured) else {
        return Ok(Vec::new());
    };
    let unresolved = if r.unresolved_findings {
        store::unresolved_findings(tx, &seen.application_id, seen.version, maker).await?
    } else {
        0
    };
    Ok(rules::reasons(
        &r,
        &Facts {
            application_id: seen.application_id.as_str(),
            version: seen.version,
            unresolved_findings: unresolved,
            payment_overridden,
        },
    ))
}

/// The request's row, in the acceptance's transaction.
pub(crate) async fn request(
    tx: &mut Tx,
    seen: &Current,
    held: &[Reason],
    maker: &str,
    note: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    store::insert(
        tx,
        &store::NewApproval {
            application_id: &seen.application_id,
            version: seen.version,
            requested_by: maker,
            at,
            reasons: &rules::join(held),
            note,
        },
    )
    .await
}

/// Cancels the application's pending request (a withdrawal, an expiry), with its audit record.
pub(crate) async fn cancel_pending(
    tx: &mut Tx,
    seen: &Current,
    actor: &Actor<'_>,
    why: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let Some(p) = store::pending(&mut *tx, &seen.application_id).await? else {
        return Ok(());
    };
    if store::close(tx, p.approval_id, "cancelled", actor.name, at, Some(why)).await? {
        audit::record(
            tx,
            &AuditEntry {
                at,
                actor: actor.name,
                action: "application.approval_cancelled",
                subject_type: "application",
                subject_id: seen.application_id.as_str(),
                before: Some("pending"),
                after: Some(why),
                request_id: actor.request_id,
            },
        )
        .await?;
    }
    Ok(())
}

/// The second reviewer's decision.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub note: Option<String>,
    /// The row version the approver saw on the page.
    pub expected_row_version: Option<i64>,
}

/// Approves (`approve`) or rejects the pending acceptance of `id`.
pub async fn decide(
    storage: &Storage,
    id: &ApplicationId,
    approve: bool,
    d: &Decision,
    actor: &Actor<'_>,
    at: i64,
) -> Result<Status, ActionError> {
    let action = if approve {
        Action::Approve
    } else {
        Action::RejectApproval
    };
    let note = d.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if !approve && note.is_none() {
        return Err(ActionError::NeedNote);
    }
    storage.pause_point(pauses::ACT_BEGIN).await;
    let mut tx = storage.begin().await?;
    let seen = applications::current(&mut tx, id)
        .await?
        .ok_or(ActionError::NotFound)?;
    storage.pause_point(pauses::ACT_READ).await;
    if d.expected_row_version
        .is_some_and(|v| v != seen.row_version)
    {
        return Err(ActionError::Conflict);
    }
    let from = seen.status;
    let to = from.apply(action)?;
    let pending = store::pending(&mut tx, id)
        .await?
        .ok_or(ActionError::Illegal(IllegalTransition { from, action }))?;
    // The maker can never be the checker, whatever their role.
    if pending.requested_by == actor.name {
        return Err(ActionError::OwnApproval);
    }
    let state = if approve { "approved" } else { "rejected" };
    if !store::close(&mut tx, pending.approval_id, state, actor.name, at, note).await?
        || !applications::transition(&mut tx, &seen, to, seen.claimed_by.as_deref(), at).await?
    {
        return Err(ActionError::Conflict);
    }
    if approve {
        // The acceptance takes effect as the maker made it: their decision, the mails, the
        // invoice request, the review window closed now, at the second decision.
        decided(
            &mut tx,
            &seen,
            to,
            &pending.requested_by,
            at,
            pending.note.as_deref(),
            &[],
        )
        .await?;
    }
    let event_note = match note {
        Some(n) => format!("{state}: {n}"),
        None => state.to_owned(),
    };
    super::review::finish_step(tx, id, at, (from, to), action, actor, Some(&event_note))
        .await
        .map_err(Into::into)
}

/// An admin saves the rules; audited with the rules before and after.
pub async fn save_rules(
    storage: &Storage,
    configured: Option<Rules>,
    new: &Rules,
    actor: &Actor<'_>,
    at: i64,
) -> Result<(), sqlx::Error> {
    let before = rules_in_force(storage, configured).await?;
    let mut tx = storage.begin().await?;
    store::save_rules(&mut tx, new, actor.name, at).await?;
    let (b, a) = (describe(&before), describe(new));
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor: actor.name,
            action: "four_eyes.rules_saved",
            subject_type: "four_eyes_rules",
            subject_id: "1",
            before: Some(&b),
            after: Some(&a),
            request_id: actor.request_id,
        },
    )
    .await?;
    tx.commit().await
}

/// The rules as one line for the audit trail.
pub fn describe(r: &Rules) -> String {
    format!(
        "findings={} payment_override={} sample_percent={} seed={}",
        on_off(r.unresolved_findings),
        on_off(r.payment_override),
        r.sample_percent,
        r.sample_seed
    )
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}
