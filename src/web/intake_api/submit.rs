//! intake-api.md: POST /api/v1/applications and PUT /api/v1/applications/{id}/resubmission.
//!
//! The handlers read the request: the parts, the scans hashed, a retry answered from its
//! idempotency record, the body checked; then `desks::intake` does the work and they answer.

use super::schema::{ApiStatus, ResubmissionForm, SubmissionForm, Submitted};
use super::{ApiClient, ApiError, ErrorBody, parts, schema};
use crate::desks::intake::{self, Answer, IntakeError, Keyed};
use crate::domain::{
    calendar::beijing,
    ids::ApplicationId,
    intake::{NewApplication, is_idempotency_key},
    scan::ScanKind,
    status::Status,
};
use crate::storage::{
    applications::ScanRef,
    scan_files::{ScanStore, sha256_hex},
};
use crate::web::state::AppState;
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

fn parse_application(v: &Value, now: DateTime<Utc>) -> Result<NewApplication, ApiError> {
    NewApplication::parse(v, Some(now)).map_err(|e| ApiError::invalid_field(e.field, e.message))
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::IdempotencyConflict => ApiError::idempotency_conflict(),
            IntakeError::DuplicateHallReference => ApiError::duplicate_hall_reference(),
            IntakeError::NotTheHolder => ApiError::invalid_field(
                "certificate_serial",
                "no certificate with this serial belongs to the applicant's ID number",
            ),
            IntakeError::HallReferenceDiffers => ApiError::invalid_field(
                "hall_reference",
                "differs from the application's hall_reference",
            ),
            IntakeError::NotReturned(from) => not_returned(from),
            IntakeError::Changed => ApiError::invalid_state(
                "the application changed meanwhile; fetch its status and try again",
            ),
            IntakeError::Unchanged(parts) => ApiError::returned_part_unchanged(&parts),
            IntakeError::NotFound => ApiError::not_found(),
            IntakeError::Internal => ApiError::internal(),
            IntakeError::Scans(e) => e.into(),
            IntakeError::Db(e) => e.into(),
        }
    }
}

/// The desk's answer as the contract has it: a retry's is 200, a new one `new_status`.
fn answered(answer: Answer, new_status: StatusCode) -> Response {
    match answer {
        Answer::Replay(body) => (StatusCode::OK, Json(body)).into_response(),
        Answer::New(body) => (new_status, Json(body)).into_response(),
    }
}

/// A new (or resubmitted) application waits for review: assignment, when switched on, gives
/// it (and anything waiting before it) a reviewer before the answer leaves. A retry's replay
/// changed nothing, so nothing to assign.
async fn assign_new(state: &AppState, answer: &Answer) {
    if let Answer::New(_) = answer {
        crate::jobs::assignment::after_intake(&state.core).await;
    }
}

fn due_json(id: &str, version: Option<i64>, due: DateTime<Utc>) -> Value {
    json!(Submitted {
        id: id.to_owned(),
        status: ApiStatus::Submitted,
        version,
        review_due_at: due.with_timezone(&beijing()).to_rfc3339(),
    })
}

/// The body's parts; a body that is not multipart is refused.
async fn read_parts(mp: Result<Multipart, MultipartRejection>) -> Result<parts::Parts, ApiError> {
    let mp =
        mp.map_err(|_| ApiError::invalid_field("body", "the body must be multipart/form-data"))?;
    parts::read(mp).await
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
        schema::Unauthorised,
        (status = 409, description = "`idempotency_conflict` (the key was used with another body) or `duplicate_hall_reference`", body = ErrorBody),
        schema::UploadRefused,
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
    let mut parts = read_parts(mp).await?;
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
    let req = Keyed { client, key, hash };
    if let Some(replay) = intake::known_answer(&state.storage, &req).await? {
        return Ok(answered(Answer::Replay(replay), StatusCode::OK));
    }
    let now = state.clock.now();
    let app = parse_application(&json, now)?;
    let answer = intake::submit(
        state.storage.clone(),
        &state.scans,
        req,
        app,
        scans,
        files,
        now,
        request_id(&rid),
        due_json,
    )
    .await?;
    assign_new(&state, &answer).await;
    Ok(answered(answer, StatusCode::CREATED))
}

fn not_returned(from: Status) -> ApiError {
    ApiError::invalid_state(format!(
        "only a returned application can be resubmitted; this one is {}",
        from.as_seen_outside()
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
        schema::Unauthorised,
        (status = 404, description = "No such application (`not_found`)", body = ErrorBody),
        (status = 409, description = "Not in status `returned` (`invalid_state`) or `idempotency_conflict`", body = ErrorBody),
        (status = 422, description = "A part the return sent back (`returned_parts`) is left as it was — a scan with the same content (or not sent), a field with the same value (`returned_part_unchanged`; `field` names the first such part, `parts` lists them all); nothing is changed", body = ErrorBody,
            example = json!({"error": {"code": "returned_part_unchanged", "message": "the application was returned for these parts and they are unchanged: scan:id_front; send them again changed", "field": "id_front", "parts": ["scan:id_front"]}})),
        schema::UploadRefused,
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
    let mut parts = read_parts(mp).await?;
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
    let req = Keyed { client, key, hash };
    if let Some(replay) = intake::known_answer(&state.storage, &req).await? {
        return Ok(answered(Answer::Replay(replay), StatusCode::OK));
    }
    let now = state.clock.now();
    let new_app = json
        .as_ref()
        .map(|j| parse_application(j, now))
        .transpose()?;
    let answer = intake::resubmit(
        state.storage.clone(),
        &state.scans,
        req,
        id,
        new_app,
        new_scans,
        files,
        now,
        request_id(&rid),
        due_json,
    )
    .await?;
    assign_new(&state, &answer).await;
    Ok(answered(answer, StatusCode::OK))
}
