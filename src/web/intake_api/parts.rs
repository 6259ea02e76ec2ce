//! Reading the intake multipart body: the `application` JSON part and the five scans, each
//! checked for size while it streams in and typed by its content once complete.

use crate::domain::scan::{MAX_SCAN_BYTES, MediaType, ScanKind, sniff};
use crate::web::api_error::ApiError;
use axum::extract::{Multipart, multipart::MultipartError};
use bytes::{Bytes, BytesMut};
use serde_json::Value;
use std::collections::BTreeMap;

/// The JSON part's limit; a real body is about 2 KB.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
/// The whole request: five maximal scans, the JSON and room for part headers.
pub const BODY_LIMIT: usize = 5 * MAX_SCAN_BYTES + MAX_JSON_BYTES + 64 * 1024;

pub struct Scan {
    pub bytes: Bytes,
    pub media_type: MediaType,
}

#[derive(Default)]
pub struct Parts {
    pub application: Option<Value>,
    pub scans: BTreeMap<ScanKind, Scan>,
}

fn body_error(e: MultipartError) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE || crate::web::uploads::cut_off(&e) {
        ApiError::body_cut_off()
    } else {
        ApiError::invalid_field(
            "body",
            format!("the multipart body cannot be read: {}", e.body_text()),
        )
    }
}

pub async fn read(mut mp: Multipart) -> Result<Parts, ApiError> {
    let mut parts = Parts::default();
    while let Some(mut field) = mp.next_field().await.map_err(body_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "application" {
            MAX_JSON_BYTES
        } else {
            MAX_SCAN_BYTES
        };
        let kind = ScanKind::parse(&name);
        if name != "application" && kind.is_none() {
            return Err(ApiError::invalid_field(
                name.clone(),
                format!(
                    "unknown part '{name}'; expected application, application_form, eseal_form, id_front, id_back, liveness_photo"
                ),
            ));
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(body_error)? {
            if buf.len() + chunk.len() > limit {
                return Err(match kind {
                    Some(k) => ApiError::file_too_large(k.code()),
                    None => ApiError::invalid_field(
                        "application",
                        "the JSON part is larger than 64 KiB",
                    ),
                });
            }
            buf.extend_from_slice(&chunk);
        }
        let bytes = buf.freeze();
        match kind {
            None => {
                if parts.application.is_some() {
                    return Err(ApiError::invalid_field(
                        "application",
                        "the part is sent twice",
                    ));
                }
                let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    ApiError::invalid_field("application", format!("not valid JSON: {e}"))
                })?;
                parts.application = Some(v);
            }
            Some(k) => {
                if parts.scans.contains_key(&k) {
                    return Err(ApiError::invalid_field(k.code(), "the part is sent twice"));
                }
                let media_type = match sniff(&bytes) {
                    Ok(m) => m,
                    Err(crate::domain::scan::SniffError::Empty) => {
                        return Err(ApiError::invalid_field(k.code(), "the file is empty"));
                    }
                    Err(e) => return Err(ApiError::unsupported_file_type(k.code(), e)),
                };
                parts.scans.insert(k, Scan { bytes, media_type });
            }
        }
    }
    Ok(parts)
}
