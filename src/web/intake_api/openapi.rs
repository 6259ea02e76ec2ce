//! The OpenAPI 3.1 document of the intake API, derived from the handlers' `#[utoipa::path]`
//! annotations and the wire types in `schema.rs`, served at `/api/v1/openapi.json`, and a
//! reference page rendered from it by our own view at `/api/v1/docs` (no CDN, no script).

use super::{ErrorBody, ErrorCode, schema, submit};
use crate::domain::webhook as wh;
use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use std::sync::OnceLock;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Back office intake API (介质遗失补办)",
        version = "1",
        description = "The API the online hall submits lost-media replacement applications through \
            (`intake-api.md`). Bodies are UTF-8 JSON; times are RFC 3339 with an offset; money is integer \
            fen. Every request needs `Authorization: Bearer <token>` (tokens are made by staff with \
            `create-api-token`). Every response carries `X-Request-Id`. Any 4xx/5xx has the body \
            `{\"error\": {\"code\", \"message\", \"field\"}}`. Each client has a request rate, a number of \
            concurrent uploads and a body size it may not exceed (429 with `Retry-After`, 413)."
    ),
    paths(
        submit::submit_application,
        super::find_by_hall_reference,
        super::get_application,
        submit::resubmit_application,
        super::get_certificate,
    ),
    components(schemas(ErrorBody, ErrorCode, schema::Submitted, schema::ApplicationStatus, schema::CertificateView,
        wh::StatusChanged, wh::InvoiceIssued, wh::Reason, wh::Shipment)),
    tags(
        (name = "applications", description = "Submissions, resubmissions and their status"),
        (name = "certificates", description = "The certificate registry look-up"),
    )
)]
struct ApiDoc;

/// The document as JSON, built once: the derived document plus what the derive cannot say
/// (the bearer scheme, the `application` part's JSON encoding, the `X-Request-Id` header).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        doc["components"]["securitySchemes"] = json!({
            "bearer": {"type": "http", "scheme": "bearer", "description": "A token from `create-api-token`"}
        });
        doc["components"]["headers"] = json!({
            "X-Request-Id": {"description": "The request's id (an incoming one is kept when plain)", "schema": {"type": "string"}}
        });
        doc["webhooks"] = webhooks();
        if let Some(paths) = doc["paths"].as_object_mut() {
            for item in paths.values_mut().filter_map(Value::as_object_mut) {
                for op in item.values_mut() {
                    if let Some(mp) = op.pointer_mut("/requestBody/content/multipart~1form-data") {
                        mp["encoding"] = json!({"application": {"contentType": "application/json"}});
                    }
                    if let Some(rs) = op["responses"].as_object_mut() {
                        for r in rs.values_mut() {
                            r["headers"]["X-Request-Id"] =
                                json!({"$ref": "#/components/headers/X-Request-Id"});
                            if r["description"]
                                .as_str()
                                .is_some_and(|d| d.contains("Retry-After"))
                            {
                                r["headers"]["Retry-After"] = json!({
                                    "description": "Seconds to wait before trying again",
                                    "schema": {"type": "integer", "minimum": 1}
                                });
                            }
                        }
                    }
                }
            }
        }
        doc
    })
}

/// The events pushed to a client's endpoint (OpenAPI 3.1 `webhooks`), each in the Standard
/// Webhooks envelope and signed with its three headers.
fn webhooks() -> Value {
    let header = |name: &str, description: &str| {
        json!({"name": name, "in": "header", "required": true, "description": description,
            "schema": {"type": "string"}})
    };
    let parameters = json!([
        header(
            "webhook-id",
            "The event's id (`msg_…`): the same for every attempt of it; an event seen before is a repeat"
        ),
        header(
            "webhook-timestamp",
            "Seconds since 1970 when this attempt was signed; refuse one too far from your clock"
        ),
        header(
            "webhook-signature",
            "`v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">` under the secret's bytes (`whsec_<base64>`); during a rotation's overlap two, space-separated: accept either"
        ),
    ]);
    let op = |ty: &str, data: &str, summary: &str| {
        json!({"post": {
            "summary": summary,
            "operationId": format!("webhook_{}", ty.replace('.', "_")),
            "tags": ["webhooks"],
            "parameters": parameters,
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "type": "object", "required": ["type", "timestamp", "data"],
                "properties": {
                    "type": {"type": "string", "const": ty},
                    "timestamp": {"type": "string", "format": "date-time", "description": "When the event happened"},
                    "data": {"$ref": format!("#/components/schemas/{data}")},
                }
            }}}},
            "responses": {
                "2XX": {"description": "Received. Anything else, or no answer within the time limit, is tried again with a doubling backoff, and parked after the last attempt"}
            }
        }})
    };
    json!({
        wh::STATUS_CHANGED: op(wh::STATUS_CHANGED, "StatusChanged",
            "The application's status, as GET /api/v1/applications/{id} shows it, changed (shipped: with the waybill)"),
        wh::INVOICE_ISSUED: op(wh::INVOICE_ISSUED, "InvoiceIssued",
            "The application's electronic invoice (数电票) was issued"),
    })
}

pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document().to_string(),
    )
        .into_response()
}

pub async fn docs_page() -> Response {
    crate::views::api_docs::reference_page(document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_is_in_the_document() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let own = ["/api/v1/openapi.json", "/api/v1/docs"];
        for (method, path) in crate::web::ROUTES {
            if !path.starts_with("/api/v1/") || own.contains(path) {
                continue;
            }
            let op = &doc["paths"][*path][method.to_ascii_lowercase()];
            assert!(
                op.is_object(),
                "{method} {path} is not in the OpenAPI document"
            );
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} does not document 401"
            );
        }
        // And nothing is documented that is not routed.
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let m = method.to_ascii_uppercase();
                assert!(
                    crate::web::ROUTES.contains(&(m.as_str(), path.as_str())),
                    "{m} {path} is documented but not routed"
                );
            }
        }
    }

    #[test]
    fn the_webhooks_are_documented() {
        let doc = document();
        for (ty, data) in [
            (wh::STATUS_CHANGED, "StatusChanged"),
            (wh::INVOICE_ISSUED, "InvoiceIssued"),
        ] {
            let op = &doc["webhooks"][ty]["post"];
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            assert_eq!(schema["properties"]["type"]["const"], ty);
            let r = schema["properties"]["data"]["$ref"].as_str().unwrap();
            assert!(doc.pointer(&r[1..]).is_some_and(Value::is_object), "{r}");
            assert_eq!(doc["components"]["schemas"][data]["type"], "object");
            let headers: Vec<_> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                headers,
                ["webhook-id", "webhook-timestamp", "webhook-signature"]
            );
        }
    }

    #[test]
    fn every_error_code_is_documented() {
        let codes = &document()["components"]["schemas"]["ErrorCode"]["enum"];
        for c in [
            "unauthorized",
            "invalid_field",
            "missing_part",
            "file_too_large",
            "unsupported_file_type",
            "not_found",
            "idempotency_conflict",
            "invalid_state",
            "duplicate_hall_reference",
        ] {
            assert!(
                codes.as_array().unwrap().contains(&json!(c)),
                "{c} missing: {codes}"
            );
        }
    }

    /// The reference page (`views::api_docs`) shows the whole document.
    #[test]
    fn the_page_shows_every_operation_and_schema() {
        let doc = document();
        let page = crate::views::api_docs::reference_page(doc).into_string();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for m in item.as_object().unwrap().keys() {
                let shown = format!("{} {}", m.to_ascii_uppercase(), path);
                assert!(page.contains(&shown), "{shown} not on the page");
            }
        }
        for name in doc["components"]["schemas"].as_object().unwrap().keys() {
            assert!(page.contains(&format!("id=\"schema-{name}\"")), "{name}");
        }
        assert!(
            page.contains("申请表未签名"),
            "the Chinese examples are shown"
        );
        assert!(!page.contains("<script"));
    }
}
