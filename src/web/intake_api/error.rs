//! The contract's error body: `{"error": {"code", "message", "field"}}` (intake-api.md, Errors).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field,
        }
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
            None,
        )
    }
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this client may not use this resource",
            None,
        )
    }
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            message,
            Some(field.into()),
        )
    }
    pub fn missing_part(part: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "missing_part",
            format!("the part '{part}' is required"),
            Some(part.into()),
        )
    }
    pub fn file_too_large(part: &str) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("'{part}' is larger than 2 MiB (2,097,152 bytes)"),
            Some(part.into()),
        )
    }
    pub fn unsupported_file_type(part: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            format!("'{part}': {why}"),
            Some(part.into()),
        )
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource", None)
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this method is not allowed here",
            None,
        )
    }
    pub fn idempotency_conflict() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "idempotency_conflict",
            "this Idempotency-Key was used with a different request",
            Some("Idempotency-Key".into()),
        )
    }
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_state", message, None)
    }
    pub fn duplicate_hall_reference() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "duplicate_hall_reference",
            "an application with this hall_reference exists already",
            Some("hall_reference".into()),
        )
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
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
        let mut err = json!({"code": self.code, "message": self.message});
        if let Some(f) = self.field {
            err["field"] = json!(f);
        }
        (self.status, Json(json!({ "error": err }))).into_response()
    }
}
