//! The intake API's error body: `{"error": {"code", "message", "field"}}` (intake-api.md,
//! Errors), answered by its handlers and by the layers before them (authorisation, limits).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error code the API answers with (the contract's, plus `forbidden`, `method_not_allowed`,
/// `returned_part_unchanged`, `rate_limited`, `too_many_uploads`, `body_too_large` and
/// `internal_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthorized,
    Forbidden,
    InvalidField,
    MissingPart,
    FileTooLarge,
    UnsupportedFileType,
    NotFound,
    MethodNotAllowed,
    IdempotencyConflict,
    InvalidState,
    DuplicateHallReference,
    /// 422: a resubmission left a part the return sent back as it was (`parts` lists them).
    ReturnedPartUnchanged,
    RateLimited,
    TooManyUploads,
    BodyTooLarge,
    InternalError,
}

/// The error body: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": {"code": ErrorCode::InvalidField, "message": "must be a mainland mobile number: 11 digits starting 13–19", "field": "applicant.mobile"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For the developer (English).
    pub message: String,
    /// The JSON path (`applicant.id_number`), part name or header at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// Added, with `returned_part_unchanged` only: every part left unchanged, written as in
    /// `returned_parts` (`scan:id_front`, `field:applicant.mobile`); `field` names the first.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub parts: Option<Vec<String>>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub parts: Option<Vec<String>>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: ErrorCode,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field,
            parts: None,
        }
    }
    /// A resubmission that left returned parts as they were: `field` is the first part's
    /// multipart name or JSON path, `parts` all of them as `scan:…` / `field:…`.
    pub fn returned_part_unchanged(parts: &[crate::domain::returned_part::Part]) -> Self {
        let codes: Vec<String> = parts.iter().map(|p| p.code()).collect();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ReturnedPartUnchanged,
            format!(
                "the application was returned for these parts and they are unchanged: {}; send \
                 them again changed",
                codes.join(", ")
            ),
            parts.first().map(|p| p.name().to_owned()),
        );
        e.parts = Some(codes);
        e
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a valid bearer token is required",
            None,
        )
    }
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "this client may not use this resource",
            None,
        )
    }
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidField,
            message,
            Some(field.into()),
        )
    }
    pub fn missing_part(part: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::MissingPart,
            format!("the part '{part}' is required"),
            Some(part.into()),
        )
    }
    pub fn file_too_large(part: &str) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::FileTooLarge,
            format!("'{part}' is larger than 2 MiB (2,097,152 bytes)"),
            Some(part.into()),
        )
    }
    pub fn unsupported_file_type(part: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedFileType,
            format!("'{part}': {why}"),
            Some(part.into()),
        )
    }
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such resource",
            None,
        )
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "this method is not allowed here",
            None,
        )
    }
    pub fn idempotency_conflict() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            ErrorCode::IdempotencyConflict,
            "this Idempotency-Key was used with a different request",
            Some("Idempotency-Key".into()),
        )
    }
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::InvalidState, message, None)
    }
    pub fn duplicate_hall_reference() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            ErrorCode::DuplicateHallReference,
            "an application with this hall_reference exists already",
            Some("hall_reference".into()),
        )
    }
    pub fn rate_limited(per_minute: i64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!(
                "this client may make {per_minute} requests a minute; wait for Retry-After seconds"
            ),
            None,
        )
    }
    pub fn too_many_uploads(max: i64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyUploads,
            format!("this client may send {max} uploads at once; wait for one to finish"),
            None,
        )
    }
    pub fn body_too_large(max: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("the request body is larger than this client may send ({max} bytes)"),
            Some("body".into()),
        )
    }
    /// The body grew past a limit while it streamed in (no or a false Content-Length).
    pub fn body_cut_off() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            "the request body is larger than this client may send",
            Some("body".into()),
        )
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "the back office failed to process the request; quote the X-Request-Id when reporting it",
            None,
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        ApiError::internal()
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        tracing::error!(error = %e, "scan store error");
        ApiError::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
                parts: self.parts,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
