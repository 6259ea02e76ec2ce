//! Assignment by the server (issue 22, item 3): when a supervisor switches it on, each waiting
//! application goes to the available reviewer with the fewest open claims, up to a cap per
//! reviewer, nearest deadline first. Reviewers away get nothing; a reviewer's open claims go back
//! to the pool in one action.
//!
//! Each assignment is one transaction: the assignment lock (PostgreSQL advisory lock; SQLite's
//! single writer already excludes), the next waiting application, the reviewers' open claims,
//! then the same conditional claim a reviewer's own makes, with its event and audit record. So
//! several instances assigning at once give each application to one reviewer, and nobody
//! over the cap; a reviewer claiming the same application at that moment wins or loses whole.

use super::review::{self, ActionError, Actor, Step};
use crate::domain::assignment::{self as rules, AwayKind, Rules};
use crate::domain::calendar::beijing_day;
use crate::domain::ids::ApplicationId;
use crate::domain::status::Action;
use crate::storage::{
    self, Lock, Storage, Tx, applications, assignment as store,
    audit::{self, AuditEntry},
};
use chrono::NaiveDate;

/// Who assigns, in events and audit records.
pub const ACTOR: &str = "system:assignment";

/// At most this many assignments in one pass (the periodic job comes back for the rest).
pub const PASS_LIMIT: usize = 200;

/// The settings in force: a supervisor's once saved, else the configuration's.
pub async fn rules_in_force(storage: &Storage, configured: Rules) -> Result<Rules, sqlx::Error> {
    Ok(store::saved_rules(storage.read_pool())
        .await?
        .unwrap_or(configured))
}

/// A supervisor saves the settings; audited with the settings before and after.
pub async fn save_rules(
    storage: &Storage,
    configured: Rules,
    new: &Rules,
    actor: &Actor<'_>,
    at: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = storage.begin().await?;
    let before = store::saved_rules(&mut tx).await?.unwrap_or(configured);
    store::save_rules(&mut tx, new, actor.name, at).await?;
    let (b, a) = (before.describe(), new.describe());
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor: actor.name,
            action: "assignment.settings_saved",
            subject_type: "assignment_settings",
            subject_id: "1",
            before: Some(&b),
            after: Some(&a),
            request_id: actor.request_id,
        },
    )
    .await?;
    tx.commit().await
}

/// What one assignment step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The application went to this reviewer (`staff:<username>`).
    Assigned(ApplicationId, String),
    /// The application changed under the step (a reviewer claimed it first): try again.
    Raced,
    /// Nothing to do: assignment off, nothing waiting, or every available reviewer at the cap.
    Nothing,
}

/// Assigns the waiting application with the nearest deadline, if assignment is on and a
/// reviewer has room.
pub async fn assign_next(
    storage: &Storage,
    configured: Rules,
    now: i64,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = storage.begin().await?;
    let outcome = assign_in(&mut tx, configured, now).await?;
    if matches!(outcome, Outcome::Assigned(..)) {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(outcome)
}

/// One assignment's reads and writes inside `tx` (committed by the caller when it assigned).
async fn assign_in(tx: &mut Tx, configured: Rules, now: i64) -> Result<Outcome, sqlx::Error> {
    storage::advisory_lock(tx, Lock::Assignment).await?;
    let r = store::saved_rules(&mut *tx).await?.unwrap_or(configured);
    if !r.enabled {
        return Ok(Outcome::Nothing);
    }
    let Some(id) = store::next_waiting(tx).await? else {
        return Ok(Outcome::Nothing);
    };
    let candidates = store::candidates(tx, now).await?;
    let Some(to) = rules::choose(&candidates, r.cap).map(|c| c.actor.clone()) else {
        return Ok(Outcome::Nothing);
    };
    let Some(seen) = applications::current(tx, &id).await? else {
        return Ok(Outcome::Raced);
    };
    let Ok(status) = seen.status.apply(Action::Claim) else {
        return Ok(Outcome::Raced);
    };
    if seen.claimed_by.is_some()
        || !applications::transition(tx, &seen, status, Some(&to), now).await?
    {
        return Ok(Outcome::Raced);
    }
    let note = format!("assigned to {}", to.trim_start_matches("staff:"));
    applications::add_event(tx, &id, now, status, ACTOR, Some(&note)).await?;
    audit::record(
        tx,
        &AuditEntry {
            at: now,
            actor: ACTOR,
            action: "application.assigned",
            subject_type: "application",
            subject_id: id.as_str(),
            before: Some("-"),
            after: Some(&to),
            request_id: None,
        },
    )
    .await?;
    Ok(Outcome::Assigned(id, to))
}

/// Assigns waiting applications, nearest deadline first, until nothing is waiting, every
/// available reviewer is at the cap, or `limit` were assigned; returns what it assigned.
pub async fn pass(
    storage: &Storage,
    configured: Rules,
    now: i64,
    limit: usize,
) -> Result<Vec<(ApplicationId, String)>, sqlx::Error> {
    let (mut done, mut raced) = (Vec::new(), 0);
    while done.len() < limit {
        match assign_next(storage, configured, now).await? {
            Outcome::Assigned(id, to) => done.push((id, to)),
            // Claimed by hand meanwhile: the next step reads again. Not forever, though.
            Outcome::Raced if raced < 20 => raced += 1,
            Outcome::Raced | Outcome::Nothing => break,
        }
    }
    Ok(done)
}

#[derive(Debug, thiserror::Error)]
pub enum AwayError {
    /// The last day away is before today.
    #[error("the last day away is in the past")]
    Past,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Marks `username` away (`last_day`: the last day away, Beijing; None: until they say they
/// are back); audited.
pub async fn set_away(
    storage: &Storage,
    username: &str,
    kind: AwayKind,
    last_day: Option<NaiveDate>,
    actor: &Actor<'_>,
    now: i64,
) -> Result<(), AwayError> {
    let (_, _, today) = beijing_day(now, 0);
    if last_day.is_some_and(|d| d < today) {
        return Err(AwayError::Past);
    }
    let until_at = last_day.map(rules::away_ends_at);
    let mut tx = storage.begin().await?;
    let before = store::away_of(&mut tx, username)
        .await?
        .filter(|a| a.holds_at(now))
        .map(|a| a.kind);
    store::set_away(&mut tx, username, kind.code(), until_at, actor.name, now).await?;
    let after = match last_day {
        Some(d) => format!("{} until {d}", kind.code()),
        None => kind.code().to_owned(),
    };
    audit::record(
        &mut tx,
        &AuditEntry {
            at: now,
            actor: actor.name,
            action: "staff.away",
            subject_type: "staff",
            subject_id: username,
            before: before.as_deref(),
            after: Some(&after),
            request_id: actor.request_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `username` is back: their absence ends now (audited); false when none was recorded.
pub async fn back(
    storage: &Storage,
    username: &str,
    actor: &Actor<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = storage.begin().await?;
    let Some(was) = store::away_of(&mut tx, username).await? else {
        return Ok(false);
    };
    store::clear_away(&mut tx, username).await?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at: now,
            actor: actor.name,
            action: "staff.back",
            subject_type: "staff",
            subject_id: username,
            before: Some(&was.kind),
            after: None,
            request_id: actor.request_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// What handing back did: applications released, and those that changed before their turn
/// (decided, or released by someone else meanwhile), left as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandBack {
    pub released: usize,
    pub changed: usize,
}

/// Releases every open claim of `holder` (`staff:<username>`) back to the pool, each as its own
/// release (event and audit record, as the review desk's), then one summary record. `actor`
/// is the holder, or a supervisor (`may_override`). Each release expects the row as listed, so
/// an application decided or given to someone else meanwhile is left alone.
pub async fn hand_back(
    storage: &Storage,
    holder: &str,
    actor: &Actor<'_>,
    at: i64,
) -> Result<HandBack, sqlx::Error> {
    let mut summary = HandBack::default();
    for (id, row_version) in storage.open_claims_of(holder).await? {
        let step = Step {
            note: Some("handed back".into()),
            expected_row_version: Some(row_version),
            ..Default::default()
        };
        match review::act(storage, &id, Action::Release, &step, actor, at).await {
            Ok(_) => summary.released += 1,
            Err(ActionError::Db(e)) => return Err(e),
            Err(_) => summary.changed += 1,
        }
    }
    let after = format!("released={} changed={}", summary.released, summary.changed);
    storage
        .audit_view(&AuditEntry {
            at,
            actor: actor.name,
            action: "staff.claims_handed_back",
            subject_type: "staff",
            subject_id: holder.trim_start_matches("staff:"),
            before: None,
            after: Some(&after),
            request_id: actor.request_id,
        })
        .await?;
    Ok(summary)
}
