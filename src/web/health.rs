//! `/healthz`: 200 once the server is up and its database answers.

use super::state::AppState;
use axum::{extract::State, http::StatusCode};

super::routes! {
    "/healthz" => get(healthz);
}

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.storage.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}
