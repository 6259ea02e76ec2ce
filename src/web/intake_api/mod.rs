//! The online hall's JSON API (`../shared/contracts/intake-api.md`): bearer tokens,
//! idempotent multipart submissions and resubmissions, status and certificate look-ups.

mod error;
mod parts;
mod submit;

pub use error::ApiError;
pub use parts::BODY_LIMIT;

use super::state::AppState;
use crate::domain::{
    calendar::beijing, certificate::mask_name, ids::ApplicationId, serial::CertificateSerial,
};
use crate::storage::{applications::StatusView, from_ms};
use crate::web::identity::Identity;
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State},
    http::request::Parts,
    routing::{get, put},
};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/applications",
            get(find_by_hall_reference).post(submit::submit_application),
        )
        .route("/applications/{id}", get(get_application))
        .route(
            "/applications/{id}/resubmission",
            put(submit::resubmit_application),
        )
        .route("/certificates/{serial}", get(get_certificate))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The API client behind a valid, unrevoked bearer token.
pub struct ApiClient(pub String);

impl FromRequestParts<AppState> for ApiClient {
    type Rejection = ApiError;

    /// The authorisation layer has resolved the token already.
    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        match parts.extensions.get::<Identity>() {
            Some(Identity::Api(name)) => Ok(ApiClient(name.clone())),
            _ => Err(ApiError::unauthorized()),
        }
    }
}

fn rfc3339(ms: i64) -> String {
    from_ms(ms).with_timezone(&beijing()).to_rfc3339()
}

fn status_json(v: &StatusView) -> Value {
    json!({
        "id": v.application_id,
        "hall_reference": v.hall_reference,
        "status": v.status.code(),
        "status_label": v.status.label_zh(),
        "version": v.version,
        "review_due_at": rfc3339(v.review_due_at),
        "return_reasons": v.return_reasons.iter().map(|(code, text)| json!({"code": code, "text": text})).collect::<Vec<_>>(),
        "shipment": v.shipment.as_ref().map(|(courier, waybill, at)| json!({
            "courier": courier.to_uppercase(),
            "tracking_number": waybill,
            "shipped_at": rfc3339(*at),
        })),
        // Additive: the invoice once issued (数电票), for the hall's "my invoice" page.
        "invoice": v.invoice.as_ref().map(|(number, at)| json!({"status": "issued", "number": number, "issued_at": rfc3339(*at)})),
        "history": v.history.iter().map(|(at, s)| json!({"at": rfc3339(*at), "status": s.code()})).collect::<Vec<_>>(),
    })
}

// intake-api.md: GET /api/v1/applications/{id}
async fn get_application(
    State(state): State<AppState>,
    _client: ApiClient,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ApplicationId::parse(&id).ok_or_else(ApiError::not_found)?;
    let view = state
        .storage
        .status_view(id.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(status_json(&view)))
}

#[derive(Deserialize)]
struct ByHallReference {
    hall_reference: Option<String>,
}

// intake-api.md: GET /api/v1/applications?hall_reference=…
async fn find_by_hall_reference(
    State(state): State<AppState>,
    _client: ApiClient,
    Query(q): Query<ByHallReference>,
) -> Result<Json<Value>, ApiError> {
    let r = q.hall_reference.filter(|r| !r.is_empty()).ok_or_else(|| {
        ApiError::invalid_field(
            "hall_reference",
            "the query parameter hall_reference is required",
        )
    })?;
    let id = state
        .storage
        .application_id_by_hall_reference(&r)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let view = state
        .storage
        .status_view(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(status_json(&view)))
}

#[derive(Deserialize)]
struct ByIdNumber {
    id_number: Option<String>,
}

// intake-api.md: GET /api/v1/certificates/{serial}?id_number=…; the same 404 whether the serial
// is unknown or belongs to someone else, so serials cannot be probed.
async fn get_certificate(
    State(state): State<AppState>,
    _client: ApiClient,
    Path(serial): Path<String>,
    Query(q): Query<ByIdNumber>,
) -> Result<Json<Value>, ApiError> {
    // Without an ID number nothing can match: the same 404 as any other miss.
    let id_number = q
        .id_number
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(ApiError::not_found)?;
    let serial = CertificateSerial::parse(&serial).map_err(|_| ApiError::not_found())?;
    let cert = state
        .storage
        .certificate(&serial)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let typed = id_number.trim().to_ascii_uppercase();
    if cert.holder.number() != typed {
        return Err(ApiError::not_found());
    }
    Ok(Json(json!({
        "serial": cert.serial.as_str(),
        "type": cert.cert_type,
        "holder_name_masked": mask_name(&cert.holder_name),
        "valid_from": cert.valid_from.to_string(),
        "valid_to": cert.valid_to.to_string(),
        "status": cert.status.code(),
    })))
}
