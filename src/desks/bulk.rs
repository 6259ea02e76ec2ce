//! A supervisor's action on many applications of the queue at once: reassign to a reviewer,
//! release, prioritise or end the priority. Each application is its own transaction with its
//! timeline event and audit record, conditional on the row version the supervisor's queue
//! showed: a row someone changed since is refused alone, and the others go on.

use super::review::{self, ActionError, Actor, Step};
pub use crate::domain::bulk::{BulkAction, MAX_SELECTION, Outcome, Pick, Refusal};
use crate::domain::ids::ApplicationId;
use crate::domain::status::{Action, IllegalTransition};
use crate::storage::{
    Storage,
    applications::{self, Current},
    audit::{self, AuditEntry},
    queue,
};

/// Runs the action on every pick, in order, each its own transaction (duplicates once).
pub async fn run(
    storage: &Storage,
    action: &BulkAction,
    picks: &[String],
    actor: &Actor<'_>,
    at: i64,
) -> Vec<Outcome> {
    let mut out: Vec<Outcome> = Vec::new();
    for raw in picks {
        let Some(pick) = Pick::parse(raw) else {
            out.push(Outcome {
                id: raw.chars().take(40).collect(),
                refused: Some(Refusal::NotFound),
            });
            continue;
        };
        if out.iter().any(|o| o.id == pick.id.as_str()) {
            continue;
        }
        let result = one(storage, action, &pick, actor, at).await;
        let refused = match result {
            Ok(true) => None,
            Ok(false) => Some(Refusal::Unchanged),
            Err(ActionError::Conflict) => Some(Refusal::Conflict),
            Err(ActionError::NotFound) => Some(Refusal::NotFound),
            Err(ActionError::Db(e)) => {
                tracing::error!(error = %e, "bulk action failed on one application");
                Some(Refusal::Failed)
            }
            Err(_) => Some(Refusal::NotAllowed),
        };
        out.push(Outcome {
            id: pick.id.to_string(),
            refused,
        });
    }
    out
}

/// One pick's action: false when it changed nothing (already so).
async fn one(
    storage: &Storage,
    action: &BulkAction,
    pick: &Pick,
    actor: &Actor<'_>,
    at: i64,
) -> Result<bool, ActionError> {
    let expected = Some(pick.row_version);
    match action {
        BulkAction::Release => {
            let step = Step {
                expected_row_version: expected,
                ..Default::default()
            };
            review::act(storage, &pick.id, Action::Release, &step, actor, at)
                .await
                .map(|_| true)
        }
        BulkAction::Reassign(to) => {
            let to = format!("staff:{to}");
            review::reassign(storage, &pick.id, &to, expected, actor, at)
                .await
                .map(|()| true)
        }
        BulkAction::Prioritise | BulkAction::Deprioritise => {
            let on = *action == BulkAction::Prioritise;
            set_priority(storage, &pick.id, on, expected, actor, at).await
        }
    }
}

/// Prioritises an application waiting for review (or ends its priority): one transaction with
/// its timeline event and audit record; false when it was so already.
pub async fn set_priority(
    storage: &Storage,
    id: &ApplicationId,
    on: bool,
    expected_row_version: Option<i64>,
    actor: &Actor<'_>,
    at: i64,
) -> Result<bool, ActionError> {
    let mut tx = storage.begin().await?;
    let seen: Current = applications::current(&mut tx, id)
        .await?
        .ok_or(ActionError::NotFound)?;
    if expected_row_version.is_some_and(|v| v != seen.row_version) {
        return Err(ActionError::Conflict);
    }
    if !seen.status.awaits_review() {
        return Err(ActionError::Illegal(IllegalTransition {
            from: seen.status,
            action: Action::Claim,
        }));
    }
    let (rank, was) = (i64::from(!on), queue::queue_rank(&mut tx, id).await?);
    if was == Some(rank) {
        return Ok(false);
    }
    if !queue::set_queue_rank(&mut tx, &seen, rank, at).await? {
        return Err(ActionError::Conflict);
    }
    let (note, what) = if on {
        ("prioritised", "application.prioritised")
    } else {
        ("priority removed", "application.deprioritised")
    };
    applications::add_event(&mut tx, id, at, seen.status, actor.name, Some(note)).await?;
    let level = |r: i64| if r == 0 { "priority" } else { "normal" };
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor: actor.name,
            action: what,
            subject_type: "application",
            subject_id: id.as_str(),
            before: Some(level(1 - rank)),
            after: Some(level(rank)),
            request_id: actor.request_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
