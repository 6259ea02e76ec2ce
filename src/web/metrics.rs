//! `/metrics` in the Prometheus (OpenMetrics) text format (the registry is `crate::metrics`),
//! and the layer that counts every request in it. Only the bearer token
//! `BACKOFFICE_METRICS_TOKEN` reads it (identity `metrics`, a casbin subject like the roles).

use super::state::AppState;
use axum::{
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::time::Instant;

super::routes! {
    "/metrics" => get(metrics);
}

/// The method as a label: the standard methods by name, anything else `other`, so a client
/// inventing methods cannot grow the label set.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Counts every request by its matched route pattern (never the raw path: ids stay out of
/// the label values; a path no route matched is `other`), method (bounded: `method_label`)
/// and final status.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |m| m.as_str().to_owned());
    let method = method_label(req.method()).to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.request(
        route,
        method,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

/// `GET /metrics` (the `metrics` identity only; see `identity::resolve`).
pub async fn metrics(State(state): State<AppState>) -> Response {
    let now = state.clock.now().timestamp_millis();
    match state.storage.metric_gauges(now).await {
        Ok(g) => state.metrics.set_gauges(&g),
        Err(e) => {
            tracing::error!(error = %e, "metrics: database figures unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response();
        }
    }
    let mut body = String::new();
    if let Err(e) = state.metrics.encode(&mut body) {
        tracing::error!(error = %e, "metrics: encoding failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
