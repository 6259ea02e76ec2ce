//! The intake desk's work: an application submitted, or a returned one resubmitted, by the
//! online hall (`../shared/contracts/intake-api.md`).
//!
//! Order of work: check what can be checked by reading (registry, hall reference, state); store
//! the scans (content-addressed, fsynced); then one transaction that claims the idempotency key,
//! checks again and writes, and keeps the answer for a retry. So a refused request leaves no row
//! and no file, and a committed row never points at a missing file. The transaction runs in its
//! own task: a caller that hangs up cannot abandon it half-way.

use crate::desks::review::{self, ActionError};
use crate::domain::{
    calendar::{WorkingCalendar, beijing},
    certificate::Certificate,
    ids::ApplicationId,
    intake::NewApplication,
    returned_part::Part,
    status::{Action, Status},
};
use crate::storage::{
    self, Storage, Tx,
    applications::{self, NewRow, ScanRef},
    audit::{self, AuditEntry},
    certificates,
    idempotency::{self, Stored},
    ms,
    scan_files::ScanStore,
};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::ops::ControlFlow;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the idempotency key was used with another request")]
    IdempotencyConflict,
    #[error("an application with this hall reference exists")]
    DuplicateHallReference,
    /// One answer whether the serial is unknown or someone else's.
    #[error("no certificate with this serial belongs to the applicant's ID number")]
    NotTheHolder,
    #[error("differs from the application's hall_reference")]
    HallReferenceDiffers,
    #[error("only a returned application can be resubmitted; this one is {0}")]
    NotReturned(Status),
    #[error("the application changed meanwhile")]
    Changed,
    /// Parts the return sent back, left as they were (in the catalogue's order).
    #[error("returned parts left unchanged")]
    Unchanged(Vec<Part>),
    #[error("no such application")]
    NotFound,
    /// A stored record that cannot be read, or a transaction's task that failed.
    #[error("an internal record is unreadable")]
    Internal,
    #[error("scan store: {0}")]
    Scans(#[from] std::io::Error),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// A request under its idempotency key: `hash` is what makes two requests "the same".
#[derive(Clone)]
pub struct Keyed {
    pub client: String,
    pub key: String,
    pub hash: String,
}

/// What the hall is answered: the answer this request made, or a retry's (the first one's).
pub enum Answer {
    New(Value),
    Replay(Value),
}

/// The answer kept for retries: the application's id, version (None: the first) and deadline.
pub type Respond = fn(&str, Option<i64>, DateTime<Utc>) -> Value;

/// The answer a stored record gives: a replay or a conflict; None while the first request with
/// that key is still in flight.
fn answer_from(stored: Stored, hash: &str) -> Result<Option<Value>, IntakeError> {
    if stored.request_hash != hash {
        return Err(IntakeError::IdempotencyConflict);
    }
    let Some(body) = stored.response_body else {
        return Ok(None);
    };
    serde_json::from_str(&body)
        .map(Some)
        .map_err(|_| IntakeError::Internal)
}

/// A retry is answered from its record before its body is checked again.
pub async fn known_answer(storage: &Storage, req: &Keyed) -> Result<Option<Value>, IntakeError> {
    match storage.idempotency_record(&req.client, &req.key).await? {
        Some(stored) => answer_from(stored, &req.hash),
        None => Ok(None),
    }
}

/// Claims the key inside the transaction, or answers from the record a concurrent request
/// committed meanwhile.
async fn claim_or_replay(tx: &mut Tx, req: &Keyed, now: i64) -> Result<Option<Value>, IntakeError> {
    if idempotency::claim(tx, &req.client, &req.key, &req.hash, now).await? {
        return Ok(None);
    }
    let stored = idempotency::stored(tx, &req.client, &req.key)
        .await?
        .ok_or(IntakeError::Internal)?;
    answer_from(stored, &req.hash)?
        .map(Some)
        .ok_or(IntakeError::Internal)
}

/// Refused with `refusal`, unless a concurrent copy of this very request has committed since the
/// look-up that refused it: then its answer.
async fn replay_or(
    storage: &Storage,
    req: &Keyed,
    refusal: IntakeError,
) -> Result<Answer, IntakeError> {
    match known_answer(storage, req).await? {
        Some(replay) => Ok(Answer::Replay(replay)),
        None => Err(refusal),
    }
}

/// Begins a (re)submission's transaction: the calendar in effect now read in it (the deadline
/// follows it, not a cached copy: issue 17, item 6), the key claimed, the staged scans
/// confirmed; or, when a concurrent request answered the key meanwhile, that answer.
async fn begin(
    storage: &Storage,
    req: &Keyed,
    now: DateTime<Utc>,
    staged: storage::scan_files::Staged,
) -> Result<ControlFlow<Answer, (Tx, WorkingCalendar)>, IntakeError> {
    let mut tx = storage.begin().await?;
    let cal = storage::calendar::in_effect(&mut tx).await?;
    if let Some(replay) = claim_or_replay(&mut tx, req, ms(now)).await? {
        return Ok(ControlFlow::Break(Answer::Replay(replay)));
    }
    staged.confirm(&mut tx).await?;
    Ok(ControlFlow::Continue((tx, cal)))
}

/// The contract's rule: the serial exists and its holder has the applicant's ID number.
fn registry_matches(c: Option<Certificate>, app: &NewApplication) -> Result<(), IntakeError> {
    match c {
        Some(c) if c.holder.number() == app.applicant.id.number() => Ok(()),
        _ => Err(IntakeError::NotTheHolder),
    }
}

/// Writes the scans; `Staged::confirm` in the transaction then fences them from the sweep.
async fn stage(
    storage: &Storage,
    scans: &ScanStore,
    refs: &[ScanRef],
    files: Vec<Bytes>,
) -> Result<storage::scan_files::Staged, IntakeError> {
    let files = refs.iter().map(|r| r.sha256.clone()).zip(files).collect();
    Ok(scans.stage(storage, files).await?)
}

/// Runs the transaction in its own task, inside the caller's span (its log lines keep the id).
async fn in_own_task<F>(f: F) -> Result<Answer, IntakeError>
where
    F: Future<Output = Result<Answer, IntakeError>> + Send + 'static,
{
    tokio::spawn(f.in_current_span()).await.map_err(|e| {
        tracing::error!(error = %e, "intake task failed");
        IntakeError::Internal
    })?
}

/// Submits an application with its five scans (`refs` and `files` in the same order), as the
/// API client `req.client`.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    storage: Storage,
    scan_store: &ScanStore,
    req: Keyed,
    app: NewApplication,
    refs: Vec<ScanRef>,
    files: Vec<Bytes>,
    now: DateTime<Utc>,
    request_id: String,
    respond: Respond,
) -> Result<Answer, IntakeError> {
    registry_matches(storage.certificate(&app.certificate_serial).await?, &app)?;
    if storage
        .application_id_by_hall_reference(&app.hall_reference)
        .await?
        .is_some()
    {
        return replay_or(&storage, &req, IntakeError::DuplicateHallReference).await;
    }
    let staged = stage(&storage, scan_store, &refs, files).await?;
    in_own_task(async move {
        let (mut tx, cal) = match begin(&storage, &req, now, staged).await? {
            ControlFlow::Continue(begun) => begun,
            ControlFlow::Break(replay) => return Ok(replay),
        };
        registry_matches(
            certificates::find(&mut tx, &app.certificate_serial).await?,
            &app,
        )?;
        if applications::id_by_hall_reference(&mut tx, &app.hall_reference)
            .await?
            .is_some()
        {
            return Err(IntakeError::DuplicateHallReference);
        }
        // 30 random bits a day: a clash is rare, but it must not be taken for a duplicate.
        let day = now.with_timezone(&beijing()).date_naive();
        let mut id = ApplicationId::generate(day);
        while applications::id_exists(&mut tx, &id).await? {
            id = ApplicationId::generate(day);
        }
        let due = cal.review_due_at(app.submitted_at);
        let actor = format!("api:{}", req.client);
        let body = app.to_json().to_string();
        let row = NewRow {
            application_id: &id,
            app: &app,
            body: &body,
            received_at: ms(now),
            review_due_at: ms(due),
            scans: &refs,
            actor: &actor,
        };
        if let Err(e) = applications::insert_new(&mut tx, &row).await {
            // A concurrent request with another key and the same hall_reference won the race.
            return Err(if storage::is_unique_violation(&e) {
                IntakeError::DuplicateHallReference
            } else {
                e.into()
            });
        }
        audit::record(
            &mut tx,
            &AuditEntry {
                at: ms(now),
                actor: &actor,
                action: "application.submitted",
                subject_type: "application",
                subject_id: id.as_str(),
                before: None,
                after: Some(Status::Submitted.code()),
                request_id: Some(&request_id),
            },
        )
        .await?;
        let response = respond(id.as_str(), None, due);
        idempotency::complete(&mut tx, &req.client, &req.key, 201, &response.to_string()).await?;
        tx.commit().await?;
        tracing::info!(application_id = %id, "application submitted");
        Ok(Answer::New(response))
    })
    .await
}

/// Resubmits a returned application: the new `application` (None: the previous version's) and
/// the scans that replace the previous version's.
#[allow(clippy::too_many_arguments)]
pub async fn resubmit(
    storage: Storage,
    scan_store: &ScanStore,
    req: Keyed,
    id: ApplicationId,
    new_app: Option<NewApplication>,
    refs: Vec<ScanRef>,
    files: Vec<Bytes>,
    now: DateTime<Utc>,
    request_id: String,
    respond: Respond,
) -> Result<Answer, IntakeError> {
    let status = storage
        .application_status(&id)
        .await?
        .ok_or(IntakeError::NotFound)?;
    let from = status;
    if from.apply(Action::Resubmit).is_err() {
        return replay_or(&storage, &req, IntakeError::NotReturned(from)).await;
    }
    if let Some(app) = &new_app {
        registry_matches(storage.certificate(&app.certificate_serial).await?, app)?;
    }
    // Checked before the scans are stored: a refusal leaves no file (and again in the transaction).
    let left =
        super::returned_parts::left_unchanged_now(&storage, &id, new_app.as_ref(), &refs).await?;
    if !left.is_empty() {
        return replay_or(&storage, &req, IntakeError::Unchanged(left)).await;
    }
    let staged = stage(&storage, scan_store, &refs, files).await?;
    in_own_task(async move {
        let (mut tx, cal) = match begin(&storage, &req, now, staged).await? {
            ControlFlow::Continue(begun) => begun,
            ControlFlow::Break(replay) => return Ok(replay),
        };
        let seen = applications::current(&mut tx, &id)
            .await?
            .ok_or(IntakeError::NotFound)?;
        let from = seen.status;
        from.apply(Action::Resubmit)
            .map_err(|_| IntakeError::NotReturned(from))?;
        let app = match new_app {
            Some(app) => {
                if app.hall_reference != seen.hall_reference {
                    return Err(IntakeError::HallReferenceDiffers);
                }
                registry_matches(
                    certificates::find(&mut tx, &app.certificate_serial).await?,
                    &app,
                )?;
                app
            }
            None => {
                let body = applications::version_body(&mut tx, &id, seen.version).await?;
                let v: Value = serde_json::from_str(&body).map_err(|_| IntakeError::Internal)?;
                NewApplication::parse(&v, None).map_err(|_| IntakeError::Internal)?
            }
        };
        // The new window counts from the resubmission's receipt.
        let due = cal.review_due_at(now);
        let actor = format!("api:{}", req.client);
        let version = match review::resubmit_in(
            &mut tx,
            &seen,
            &app,
            refs,
            ms(now),
            ms(due),
            &actor,
            Some(&request_id),
        )
        .await
        {
            Ok(v) => v,
            Err(ActionError::Conflict) => return Err(IntakeError::Changed),
            Err(ActionError::Unchanged(left)) => return Err(IntakeError::Unchanged(left)),
            Err(ActionError::Db(e)) => return Err(e.into()),
            Err(_) => return Err(IntakeError::NotReturned(from)),
        };
        let response = respond(id.as_str(), Some(version), due);
        idempotency::complete(&mut tx, &req.client, &req.key, 200, &response.to_string()).await?;
        tx.commit().await?;
        tracing::info!(application_id = %id, version, "application resubmitted");
        Ok(Answer::New(response))
    })
    .await
}
