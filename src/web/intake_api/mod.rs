//! The online hall's JSON API (`../shared/contracts/intake-api.md`): bearer tokens,
//! idempotent multipart submissions and resubmissions, status and certificate look-ups.

#[cfg(any(test, feature = "bench-support"))]
mod fuzzing;
pub mod openapi;
mod parts;
pub mod schema;
mod submit;

pub use super::api_error::{ApiError, ErrorBody, ErrorCode};
#[cfg(any(test, feature = "bench-support"))]
pub use fuzzing::{fuzz_json_body, fuzz_multipart};
pub use parts::BODY_LIMIT;

use super::state::AppState;
use crate::domain::{
    calendar::beijing,
    certificate::{CertStatus, mask_name},
    ids::ApplicationId,
    serial::CertificateSerial,
};
use crate::storage::{applications::StatusView, from_ms};
use crate::web::identity::Identity;
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State},
    http::request::Parts,
};
use schema::{
    ApiStatus, ApplicationStatus, CertificateStatus, CertificateView, HistoryEntry, IssuedInvoice,
    ReturnReason, ReturnedPart, Shipment,
};
use serde::Deserialize;
use utoipa::IntoParams;

super::routes! {
    nest "/api/v1";
    "/applications" => get(find_by_hall_reference).post(submit::submit_application);
    "/applications/{id}" => get(get_application);
    "/applications/{id}/resubmission" => put(submit::resubmit_application);
    "/certificates/{serial}" => get(get_certificate);
    "/openapi.json" => get(openapi::openapi_json);
    "/docs" => get(openapi::docs_page);
}

/// The API's router, nested at [`PREFIX`]: its routes, and the contract's error bodies for a
/// path or method it does not know.
pub fn router() -> Router<AppState> {
    routes()
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

fn status_body(v: &StatusView) -> ApplicationStatus {
    ApplicationStatus {
        id: v.application_id.to_string(),
        hall_reference: v.hall_reference.clone(),
        status: v.status.into(),
        status_label: v.status.label_zh().to_owned(),
        version: v.version,
        review_due_at: rfc3339(v.review_due_at),
        return_reasons: v
            .return_reasons
            .iter()
            .map(|(code, text)| ReturnReason {
                code: code.clone(),
                text: text.clone(),
            })
            .collect(),
        returned_parts: v
            .returned_parts
            .iter()
            .map(|p| ReturnedPart {
                part: p.part.code(),
                reasons: p
                    .reasons
                    .iter()
                    .map(|(code, text)| ReturnReason {
                        code: code.clone(),
                        text: text.clone(),
                    })
                    .collect(),
            })
            .collect(),
        shipment: v.shipment.as_ref().map(|(courier, waybill, at)| Shipment {
            courier: courier.to_uppercase(),
            tracking_number: waybill.clone(),
            shipped_at: rfc3339(*at),
        }),
        // Additive: the invoice once issued (数电票), for the hall's "my invoice" page.
        invoice: v.invoice.as_ref().map(|(number, at)| IssuedInvoice {
            status: "issued".into(),
            number: number.clone(),
            issued_at: rfc3339(*at),
        }),
        history: v
            .history
            .iter()
            .map(|(at, s)| HistoryEntry {
                at: rfc3339(*at),
                status: ApiStatus::from(*s),
            })
            .collect(),
    }
}

/// The application's status, reasons, shipment and history.
// intake-api.md: GET /api/v1/applications/{id}
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications",
    operation_id = "get_application",
    params(("id" = String, Path, description = "The application id", example = "BF20261125-7K3M9Q")),
    responses(
        (status = 200, description = "The application", body = ApplicationStatus),
        schema::Unauthorised,
        (status = 404, description = "No such application (`not_found`)", body = ErrorBody),
        (status = 429, description = "Over the client's rate (`rate_limited`), with `Retry-After`", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn get_application(
    State(state): State<AppState>,
    _client: ApiClient,
    Path(id): Path<String>,
) -> Result<Json<ApplicationStatus>, ApiError> {
    let id = ApplicationId::parse(&id).ok_or_else(ApiError::not_found)?;
    let view = state
        .storage
        .status_view(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(status_body(&view)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ByHallReference {
    /// The hall's reference of the application.
    #[param(required = true, pattern = "^[!-~]{1,64}$", example = "WT202611250001")]
    hall_reference: Option<String>,
}

/// The application with that hall reference (the hall may have lost our id).
// intake-api.md: GET /api/v1/applications?hall_reference=…
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications",
    operation_id = "find_application_by_hall_reference",
    params(ByHallReference),
    responses(
        (status = 200, description = "The application", body = ApplicationStatus),
        (status = 400, description = "`hall_reference` missing or malformed (`invalid_field`)", body = ErrorBody),
        schema::Unauthorised,
        (status = 404, description = "No application with that hall reference (`not_found`)", body = ErrorBody),
        (status = 429, description = "Over the client's rate (`rate_limited`), with `Retry-After`", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn find_by_hall_reference(
    State(state): State<AppState>,
    _client: ApiClient,
    Query(q): Query<ByHallReference>,
) -> Result<Json<ApplicationStatus>, ApiError> {
    let r = q.hall_reference.ok_or_else(|| {
        ApiError::invalid_field(
            "hall_reference",
            "the query parameter hall_reference is required",
        )
    })?;
    if !crate::domain::intake::is_reference(&r) {
        return Err(ApiError::invalid_field(
            "hall_reference",
            "must be 1 to 64 printable ASCII characters without spaces",
        ));
    }
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
    Ok(Json(status_body(&view)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ByIdNumber {
    /// The holder's ID number (any of the contract's ID types).
    #[param(required = true, example = "11010519491231002X")]
    id_number: Option<String>,
}

/// The certificate for the hall's look-up step; the same 404 whether the serial is unknown or
/// belongs to someone else, so serials cannot be probed.
// intake-api.md: GET /api/v1/certificates/{serial}?id_number=…
#[utoipa::path(get, path = "/api/v1/certificates/{serial}", tag = "certificates",
    operation_id = "get_certificate",
    params(("serial" = String, Path, description = "The certificate serial", example = "0150512140479054C03"), ByIdNumber),
    responses(
        (status = 200, description = "The certificate belongs to that ID number", body = CertificateView),
        schema::Unauthorised,
        (status = 404, description = "Unknown serial, or not that holder's (`not_found`)", body = ErrorBody),
        (status = 429, description = "Over the client's rate (`rate_limited`), with `Retry-After`", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(crate) async fn get_certificate(
    State(state): State<AppState>,
    _client: ApiClient,
    Path(serial): Path<String>,
    Query(q): Query<ByIdNumber>,
) -> Result<Json<CertificateView>, ApiError> {
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
    Ok(Json(CertificateView {
        serial: cert.serial.as_str().to_owned(),
        cert_type: cert.cert_type,
        holder_name_masked: mask_name(&cert.holder_name),
        valid_from: cert.valid_from.to_string(),
        valid_to: cert.valid_to.to_string(),
        status: match cert.status {
            CertStatus::Valid => CertificateStatus::Valid,
            CertStatus::Revoked => CertificateStatus::Revoked,
            CertStatus::Expired => CertificateStatus::Expired,
        },
    }))
}
