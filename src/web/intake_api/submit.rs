//! intake-api.md: POST /api/v1/applications and PUT /api/v1/applications/{id}/resubmission.
//!
//! Order of work: read the parts; hash the scans; answer a retry from its idempotency record;
//! check the body; check what can be checked by reading (registry, hall reference, state); store
//! the scans (content-addressed, fsynced); then one transaction that claims the key, checks
//! again and writes. So a refused request leaves no row and no file, and a committed row never
//! points at a missing file. The transaction runs in its own task: a client that hangs up cannot
//! abandon it half-way.

use super::schema::{ApiStatus, ResubmissionForm, SubmissionForm, Submitted};
use super::{ApiClient, ApiError, ErrorBody, parts};
use crate::domain::{
    calendar::beijing,
    ids::ApplicationId,
    intake::{NewApplication, is_idempotency_key},
    scan::ScanKind,
    status::{Action, Status},
};
use crate::storage::{
    self, Tx,
    applications::{self, NewRow, ScanRef},
    audit::{self, AuditEntry},
    certificates,
    idempotency::{self, Stored},
    ms,
    scan_files::{ScanStore, Staged, sha256_hex},
};
use crate::web::state::AppState;
use crate::workflow::{self, ActionError};
use axum::{
    Extension, Json,
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tower_http::request_id::RequestId;
use tracing::Instrument;

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let v = headers.get("idempotency-key").ok_or_else(|| {
        ApiError::invalid_field("Idempotency-Key", "the header Idempotency-Key is required")
    })?;
    let s = v.to_str().unwrap_or_default();
    if !is_idempotency_key(s) {
        return Err(ApiError::invalid_field(
            "Idempotency-Key",
            "must be 1 to 64 printable ASCII characters",
        ));
    }
    Ok(s.to_owned())
}

fn request_id(rid: &RequestId) -> String {
    rid.header_value().to_str().unwrap_or_default().to_owned()
}

/// What makes two requests "the same": method and path, the JSON (canonical: keys sorted),
/// and the scans by content.
fn request_hash(route: &str, json: Option<&Value>, scans: &[ScanRef]) -> String {
    let mut s = format!(
        "{route}\n{}\n",
        json.map(Value::to_string).unwrap_or_default()
    );
    for scan in scans {
        s.push_str(&format!("{}:{}\n", scan.kind.code(), scan.sha256));
    }
    sha256_hex(s.as_bytes())
}

/// The scans' references (hash computed) and their bytes, in part order; nothing stored yet.
async fn hash_scans(
    scans: BTreeMap<ScanKind, parts::Scan>,
) -> Result<(Vec<ScanRef>, Vec<Bytes>), ApiError> {
    let kinds: Vec<_> = scans
        .iter()
        .map(|(k, s)| (*k, s.media_type, s.bytes.len() as i64))
        .collect();
    let (files, shas) = ScanStore::hash_all(scans.into_values().map(|s| s.bytes).collect()).await?;
    let refs = kinds
        .into_iter()
        .zip(shas)
        .map(|((kind, media_type, size_bytes), sha256)| ScanRef {
            kind,
            sha256,
            media_type,
            size_bytes,
        })
        .collect();
    Ok((refs, files))
}

/// Writes the scans; `Staged::confirm` in the transaction then fences them from the sweep.
async fn store_scans(
    state: &AppState,
    refs: &[ScanRef],
    files: Vec<Bytes>,
) -> Result<Staged, ApiError> {
    let files = refs.iter().map(|r| r.sha256.clone()).zip(files).collect();
    Ok(state.scans.stage(&state.storage, files).await?)
}

fn parse_application(v: &Value, now: DateTime<Utc>) -> Result<NewApplication, ApiError> {
    NewApplication::parse(v, Some(now)).map_err(|e| ApiError::invalid_field(e.field, e.message))
}

/// The contract's rule: the serial exists and its holder has the applicant's ID number.
fn registry_matches(c: &crate::domain::certificate::Certificate, app: &NewApplication) -> bool {
    c.holder.number() == app.applicant.id.number()
}

/// One answer whether the serial is unknown or someone else's.
fn registry_error() -> ApiError {
    ApiError::invalid_field(
        "certificate_serial",
        "no certificate with this serial belongs to the applicant's ID number",
    )
}

async fn check_registry(tx: &mut Tx, app: &NewApplication) -> Result<(), ApiError> {
    match certificates::find(tx, &app.certificate_serial).await? {
        Some(c) if registry_matches(&c, app) => Ok(()),
        _ => Err(registry_error()),
    }
}

async fn precheck_registry(state: &AppState, app: &NewApplication) -> Result<(), ApiError> {
    match state.storage.certificate(&app.certificate_serial).await? {
        Some(c) if registry_matches(&c, app) => Ok(()),
        _ => Err(registry_error()),
    }
}

/// The answer a stored record gives: a replay (200) or a conflict (409); None while the first
/// request with that key is still in flight.
fn answer_from(stored: Stored, hash: &str) -> Result<Option<Response>, ApiError> {
    if stored.request_hash != hash {
        return Err(ApiError::idempotency_conflict());
    }
    let Some(body) = stored.response_body else {
        return Ok(None);
    };
    let body: Value = serde_json::from_str(&body).map_err(|_| ApiError::internal())?;
    Ok(Some((StatusCode::OK, Json(body)).into_response()))
}

/// A retry is answered from its record before its body is checked again.
async fn known_answer(
    state: &AppState,
    client: &str,
    key: &str,
    hash: &str,
) -> Result<Option<Response>, ApiError> {
    match state.storage.idempotency_record(client, key).await? {
        Some(stored) => answer_from(stored, hash),
        None => Ok(None),
    }
}

/// Claims the key inside the transaction, or answers from the record a concurrent request
/// committed meanwhile.
async fn claim_or_replay(
    tx: &mut Tx,
    client: &str,
    key: &str,
    hash: &str,
    now: i64,
) -> Result<Option<Response>, ApiError> {
    if idempotency::claim(tx, client, key, hash, now).await? {
        return Ok(None);
    }
    let stored = idempotency::stored(tx, client, key)
        .await?
        .ok_or_else(ApiError::internal)?;
    answer_from(stored, hash)?
        .map(Some)
        .ok_or_else(ApiError::internal)
}

fn due_json(id: &str, version: Option<i64>, due: DateTime<Utc>) -> Value {
    json!(Submitted {
        id: id.to_owned(),
        status: ApiStatus::Submitted,
        version,
        review_due_at: due.with_timezone(&beijing()).to_rfc3339(),
    })
}

/// Runs the transaction in its own task, inside the request's span (its log lines keep the id).
async fn in_own_task<F>(f: F) -> Result<Response, ApiError>
where
    F: Future<Output = Result<Response, ApiError>> + Send + 'static,
{
    tokio::spawn(f.in_current_span()).await.map_err(|e| {
        tracing::error!(error = %e, "intake task failed");
        ApiError::internal()
    })?
}

/// Submits an application: the `application` JSON and the five scans.
// intake-api.md: POST /api/v1/applications
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    operation_id = "submit_application",
    params(("Idempotency-Key" = String, Header, description = "1–64 printable ASCII characters; a retry with the same key and body gets the first answer",
        pattern = "^[ -~]{1,64}$", example = "WT202611250001-1")),
    request_body(content = SubmissionForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Submitted", body = Submitted),
        (status = 200, description = "A retry with the same key and body: the first answer again", body = Submitted),
        (status = 400, description = "A field is malformed (`invalid_field`, naming it) or a part is missing (`missing_part`)", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 409, description = "`idempotency_conflict` (the key was used with another body) or `duplicate_hall_reference`", body = ErrorBody),
        (status = 413, description = "A scan over 2 MiB (`file_too_large`) or the body over the client's limit (`body_too_large`)", body = ErrorBody),
        (status = 415, description = "A scan is not JPEG, PNG, BMP, GIF or PDF by its content (`unsupported_file_type`)", body = ErrorBody),
        (status = 429, description = "Over the client's rate or concurrent uploads (`rate_limited`, `too_many_uploads`), with `Retry-After`", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn submit_application(
    State(state): State<AppState>,
    ApiClient(client): ApiClient,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let mp =
        mp.map_err(|_| ApiError::invalid_field("body", "the body must be multipart/form-data"))?;
    let mut parts = parts::read(mp).await?;
    let json = parts
        .application
        .take()
        .ok_or_else(|| ApiError::missing_part("application"))?;
    if let Some(k) = ScanKind::ALL
        .into_iter()
        .find(|k| !parts.scans.contains_key(k))
    {
        return Err(ApiError::missing_part(k.code()));
    }
    let (scans, files) = hash_scans(parts.scans).await?;
    let hash = request_hash("POST /api/v1/applications", Some(&json), &scans);
    if let Some(replay) = known_answer(&state, &client, &key, &hash).await? {
        return Ok(replay);
    }
    let now = state.clock.now();
    let app = parse_application(&json, now)?;
    precheck_registry(&state, &app).await?;
    if state
        .storage
        .application_id_by_hall_reference(&app.hall_reference)
        .await?
        .is_some()
    {
        // A concurrent copy of this very request may have committed since the look-up above.
        if let Some(replay) = known_answer(&state, &client, &key, &hash).await? {
            return Ok(replay);
        }
        return Err(ApiError::duplicate_hall_reference());
    }
    let staged = store_scans(&state, &scans, files).await?;
    let rid = request_id(&rid);
    in_own_task(async move {
        let mut tx = state.storage.begin().await?;
        // The deadline follows the calendar in effect now, not a cached copy (issue 17, item 6).
        let cal = storage::calendar::in_effect(&mut tx).await?;
        if let Some(replay) = claim_or_replay(&mut tx, &client, &key, &hash, ms(now)).await? {
            return Ok(replay);
        }
        staged.confirm(&mut tx).await?;
        check_registry(&mut tx, &app).await?;
        if applications::id_by_hall_reference(&mut tx, &app.hall_reference)
            .await?
            .is_some()
        {
            return Err(ApiError::duplicate_hall_reference());
        }
        // 30 random bits a day: a clash is rare, but it must not be taken for a duplicate.
        let day = now.with_timezone(&beijing()).date_naive();
        let mut id = ApplicationId::generate(day);
        while applications::id_exists(&mut tx, id.as_str()).await? {
            id = ApplicationId::generate(day);
        }
        let due = cal.review_due_at(app.submitted_at);
        let actor = format!("api:{client}");
        let body = app.to_json().to_string();
        let row = NewRow {
            application_id: id.as_str(),
            app: &app,
            body: &body,
            received_at: ms(now),
            review_due_at: ms(due),
            scans: &scans,
            actor: &actor,
        };
        if let Err(e) = applications::insert_new(&mut tx, &row).await {
            // A concurrent request with another key and the same hall_reference won the race.
            return Err(if storage::is_unique_violation(&e) {
                ApiError::duplicate_hall_reference()
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
                request_id: Some(&rid),
            },
        )
        .await?;
        let response = due_json(id.as_str(), None, due);
        idempotency::complete(&mut tx, &client, &key, 201, &response.to_string()).await?;
        tx.commit().await?;
        tracing::info!(application_id = %id, "application submitted");
        Ok((StatusCode::CREATED, Json(response)).into_response())
    })
    .await
}

fn not_returned(from: Status) -> ApiError {
    ApiError::invalid_state(format!(
        "only a returned application can be resubmitted; this one is {from}"
    ))
}

/// Resubmits a returned application: every part optional; what is given replaces the previous version's.
// intake-api.md: PUT /api/v1/applications/{id}/resubmission
#[utoipa::path(put, path = "/api/v1/applications/{id}/resubmission", tag = "applications",
    operation_id = "resubmit_application",
    params(("id" = String, Path, description = "The application id", example = "BF20261125-7K3M9Q"),
        ("Idempotency-Key" = String, Header, description = "1–64 printable ASCII characters",
        pattern = "^[ -~]{1,64}$", example = "WT202611250001-2")),
    request_body(content = ResubmissionForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Resubmitted: a new version waits for review", body = Submitted,
            example = json!({"id": "BF20261125-7K3M9Q", "status": "submitted", "version": 2, "review_due_at": "2026-12-03T18:00:00+08:00"})),
        (status = 400, description = "A field is malformed (`invalid_field`) or nothing was sent", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such application (`not_found`)", body = ErrorBody),
        (status = 409, description = "Not in status `returned` (`invalid_state`) or `idempotency_conflict`", body = ErrorBody),
        (status = 413, description = "A scan over 2 MiB (`file_too_large`) or the body over the client's limit (`body_too_large`)", body = ErrorBody),
        (status = 415, description = "A scan is not JPEG, PNG, BMP, GIF or PDF by its content (`unsupported_file_type`)", body = ErrorBody),
        (status = 429, description = "Over the client's rate or concurrent uploads, with `Retry-After`", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn resubmit_application(
    State(state): State<AppState>,
    ApiClient(client): ApiClient,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<String>,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let id = ApplicationId::parse(&id).ok_or_else(ApiError::not_found)?;
    let mp =
        mp.map_err(|_| ApiError::invalid_field("body", "the body must be multipart/form-data"))?;
    let mut parts = parts::read(mp).await?;
    let json = parts.application.take();
    if json.is_none() && parts.scans.is_empty() {
        return Err(ApiError::invalid_field(
            "body",
            "nothing to resubmit: send the application part, scans, or both",
        ));
    }
    let (new_scans, files) = hash_scans(parts.scans).await?;
    let route = format!("PUT /api/v1/applications/{id}/resubmission");
    let hash = request_hash(&route, json.as_ref(), &new_scans);
    if let Some(replay) = known_answer(&state, &client, &key, &hash).await? {
        return Ok(replay);
    }
    let now = state.clock.now();
    let new_app = json
        .as_ref()
        .map(|j| parse_application(j, now))
        .transpose()?;
    let status = state
        .storage
        .application_status(id.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let from = Status::parse(&status).ok_or_else(ApiError::internal)?;
    if from.apply(Action::Resubmit).is_err() {
        // A concurrent copy of this very request may have committed since the look-up above.
        if let Some(replay) = known_answer(&state, &client, &key, &hash).await? {
            return Ok(replay);
        }
        return Err(not_returned(from));
    }
    if let Some(app) = &new_app {
        precheck_registry(&state, app).await?;
    }
    let staged = store_scans(&state, &new_scans, files).await?;
    let rid = request_id(&rid);
    in_own_task(async move {
        let mut tx = state.storage.begin().await?;
        // The deadline follows the calendar in effect now, not a cached copy (issue 17, item 6).
        let cal = storage::calendar::in_effect(&mut tx).await?;
        if let Some(replay) = claim_or_replay(&mut tx, &client, &key, &hash, ms(now)).await? {
            return Ok(replay);
        }
        staged.confirm(&mut tx).await?;
        let seen = applications::current(&mut tx, id.as_str())
            .await?
            .ok_or_else(ApiError::not_found)?;
        let from = seen.status();
        from.apply(Action::Resubmit)
            .map_err(|_| not_returned(from))?;
        let app = match new_app {
            Some(app) => {
                if app.hall_reference != seen.hall_reference {
                    return Err(ApiError::invalid_field(
                        "hall_reference",
                        "differs from the application's hall_reference",
                    ));
                }
                check_registry(&mut tx, &app).await?;
                app
            }
            None => {
                let body = applications::version_body(&mut tx, id.as_str(), seen.version).await?;
                let v: Value = serde_json::from_str(&body).map_err(|_| ApiError::internal())?;
                NewApplication::parse(&v, None).map_err(|_| ApiError::internal())?
            }
        };
        // The new window counts from the resubmission's receipt.
        let due = cal.review_due_at(now);
        let actor = format!("api:{client}");
        let version = match workflow::resubmit_in(
            &mut tx,
            &seen,
            &app,
            new_scans,
            ms(now),
            ms(due),
            &actor,
            Some(&rid),
        )
        .await
        {
            Ok(v) => v,
            Err(ActionError::Conflict) => {
                return Err(ApiError::invalid_state(
                    "the application changed meanwhile; fetch its status and try again",
                ));
            }
            Err(ActionError::Db(e)) => return Err(e.into()),
            Err(_) => return Err(not_returned(from)),
        };
        let response = due_json(id.as_str(), Some(version), due);
        idempotency::complete(&mut tx, &client, &key, 200, &response.to_string()).await?;
        tx.commit().await?;
        tracing::info!(application_id = %id, version, "application resubmitted");
        Ok((StatusCode::OK, Json(response)).into_response())
    })
    .await
}
