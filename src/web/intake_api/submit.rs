//! intake-api.md: POST /api/v1/applications and PUT /api/v1/applications/{id}/resubmission.
//!
//! The scans are stored (content-addressed, fsynced) before the transaction, so a committed row
//! never points at a missing file. The transaction runs in its own task: a client that hangs up
//! cannot abandon it half-way.

use super::{ApiClient, ApiError, parts};
use crate::domain::{
    calendar::beijing,
    ids::ApplicationId,
    intake::{NewApplication, is_reference},
    scan::ScanKind,
    status::{Action, Status},
};
use crate::storage::{
    self, Tx,
    applications::{self, NewRow, ScanRef},
    audit::{self, AuditEntry},
    certificates, idempotency, ms,
    scan_files::sha256_hex,
};
use crate::web::state::AppState;
use axum::{
    Extension, Json,
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tower_http::request_id::RequestId;

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let v = headers.get("idempotency-key").ok_or_else(|| {
        ApiError::invalid_field("Idempotency-Key", "the header Idempotency-Key is required")
    })?;
    let s = v.to_str().unwrap_or_default();
    if !is_reference(s) {
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

/// Stores the scans and returns their references in part order.
async fn store_scans(
    state: &AppState,
    scans: BTreeMap<ScanKind, parts::Scan>,
) -> Result<Vec<ScanRef>, ApiError> {
    let kinds: Vec<_> = scans
        .iter()
        .map(|(k, s)| (*k, s.media_type, s.bytes.len() as i64))
        .collect();
    let shas = state
        .scans
        .put_all(scans.into_values().map(|s| s.bytes).collect())
        .await?;
    Ok(kinds
        .into_iter()
        .zip(shas)
        .map(|((kind, media_type, size_bytes), sha256)| ScanRef {
            kind,
            sha256,
            media_type,
            size_bytes,
        })
        .collect())
}

fn parse_application(v: &Value, now: DateTime<Utc>) -> Result<NewApplication, ApiError> {
    NewApplication::parse(v, Some(now)).map_err(|e| ApiError::invalid_field(e.field, e.message))
}

/// The registry check: the serial exists and belongs to the applicant. One answer for both.
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

fn registry_matches(c: &crate::domain::certificate::Certificate, app: &NewApplication) -> bool {
    c.holder.number() == app.applicant.id.number()
        && c.holder.id_type() == app.applicant.id.id_type()
}

fn registry_error() -> ApiError {
    ApiError::invalid_field(
        "certificate_serial",
        "no certificate with this serial belongs to the applicant's ID number",
    )
}

/// Claims the key, or answers from the stored response: a replay (200) or a conflict (409).
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
    if stored.request_hash != hash {
        return Err(ApiError::idempotency_conflict());
    }
    let body: Value = serde_json::from_str(stored.response_body.as_deref().unwrap_or("null"))
        .map_err(|_| ApiError::internal())?;
    Ok(Some((StatusCode::OK, Json(body)).into_response()))
}

fn due_json(id: &str, version: Option<i64>, due: DateTime<Utc>) -> Value {
    let mut v = json!({"id": id, "status": "submitted", "review_due_at": due.with_timezone(&beijing()).to_rfc3339()});
    if let Some(n) = version {
        v["version"] = json!(n);
    }
    v
}

async fn in_own_task<F>(f: F) -> Result<Response, ApiError>
where
    F: Future<Output = Result<Response, ApiError>> + Send + 'static,
{
    tokio::spawn(f).await.map_err(|e| {
        tracing::error!(error = %e, "intake task failed");
        ApiError::internal()
    })?
}

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
    let now = state.clock.now();
    let app = parse_application(&json, now)?;
    // Checked here too, so that a refused request leaves no file behind; again in the transaction.
    precheck_registry(&state, &app).await?;
    let scans = store_scans(&state, parts.scans).await?;
    let hash = request_hash("POST /api/v1/applications", Some(&json), &scans);
    let rid = request_id(&rid);
    in_own_task(async move {
        let cal = state.calendar.get().await?;
        let mut tx = state.storage.begin().await?;
        if let Some(replay) = claim_or_replay(&mut tx, &client, &key, &hash, ms(now)).await? {
            return Ok(replay);
        }
        check_registry(&mut tx, &app).await?;
        if applications::id_by_hall_reference(&mut tx, &app.hall_reference)
            .await?
            .is_some()
        {
            return Err(ApiError::duplicate_hall_reference());
        }
        let id = ApplicationId::generate(now.with_timezone(&beijing()).date_naive());
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
    let now = state.clock.now();
    let new_app = json
        .as_ref()
        .map(|j| parse_application(j, now))
        .transpose()?;
    if let Some(app) = &new_app {
        precheck_registry(&state, app).await?;
    }
    let new_scans = store_scans(&state, parts.scans).await?;
    let route = format!("PUT /api/v1/applications/{id}/resubmission");
    let hash = request_hash(&route, json.as_ref(), &new_scans);
    let rid = request_id(&rid);
    in_own_task(async move {
        let cal = state.calendar.get().await?;
        let mut tx = state.storage.begin().await?;
        if let Some(replay) = claim_or_replay(&mut tx, &client, &key, &hash, ms(now)).await? {
            return Ok(replay);
        }
        let seen = applications::current(&mut tx, id.as_str())
            .await?
            .ok_or_else(ApiError::not_found)?;
        let from = seen.status();
        from.apply(Action::Resubmit).map_err(|_| {
            ApiError::invalid_state(format!(
                "only a returned application can be resubmitted; this one is {from}"
            ))
        })?;
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
        // Parts not sent carry over from the previous version.
        let mut scans = applications::scans_of(&mut tx, id.as_str(), seen.version).await?;
        for s in new_scans {
            scans.retain(|old| old.kind != s.kind);
            scans.push(s);
        }
        scans.sort_by_key(|s| s.kind);
        // The new window counts from the resubmission's receipt.
        let due = cal.review_due_at(now);
        let version = seen.version + 1;
        if !applications::resubmit(&mut tx, &seen, &app, ms(now), ms(due)).await? {
            return Err(ApiError::invalid_state(
                "the application changed meanwhile; fetch its status and try again",
            ));
        }
        let body = app.to_json().to_string();
        applications::insert_version(&mut tx, id.as_str(), version, &body, ms(now), &scans).await?;
        let actor = format!("api:{client}");
        applications::add_event(
            &mut tx,
            id.as_str(),
            ms(now),
            Status::Submitted,
            &actor,
            Some(&format!("version {version}")),
        )
        .await?;
        audit::record(
            &mut tx,
            &AuditEntry {
                at: ms(now),
                actor: &actor,
                action: "application.resubmitted",
                subject_type: "application",
                subject_id: id.as_str(),
                before: Some(from.code()),
                after: Some(Status::Submitted.code()),
                request_id: Some(&rid),
            },
        )
        .await?;
        let response = due_json(id.as_str(), Some(version), due);
        idempotency::complete(&mut tx, &client, &key, 200, &response.to_string()).await?;
        tx.commit().await?;
        tracing::info!(application_id = %id, version, "application resubmitted");
        Ok((StatusCode::OK, Json(response)).into_response())
    })
    .await
}
