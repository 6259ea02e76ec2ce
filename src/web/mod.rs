//! HTTP: the router, one module per desk, and the layers every request passes.

pub mod health;
pub mod intake_api;
pub mod state;

use axum::{Router, http::Request, routing::get};
use state::AppState;
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .nest("/api/v1", intake_api::routes())
        .layer(
            ServiceBuilder::new()
                // An incoming X-Request-Id is kept; otherwise a UUID is made. Every response carries it.
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let rid = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: query strings may carry personal data (id_number).
                    tracing::info_span!("request", request_id = %rid, method = %req.method(), path = %req.uri().path())
                }))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}
