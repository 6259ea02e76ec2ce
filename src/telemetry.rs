//! Structured logs: text for people, JSON for log shippers. Each request's lines carry its id.

use crate::config::LogFormat;
use tracing_subscriber::{EnvFilter, fmt};

pub fn init(format: &LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            // Every enclosing span's fields: the request span's id stays on the line even
            // when a handler opens spans of its own.
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}

tokio::task_local! {
    /// The id of the HTTP request being served (set by the router's request-id layer).
    static REQUEST_ID: String;
}

/// The request id of the request this task serves, if any: audit records take it when their
/// caller gave none, so every record written while serving a request names that request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|r| r.clone()).ok()
}

/// Runs `f` as serving request `id`.
pub async fn with_request_id<F: std::future::Future>(id: Option<String>, f: F) -> F::Output {
    match id {
        Some(id) => REQUEST_ID.scope(id, f).await,
        None => f.await,
    }
}

/// `f`, carrying the current request id (and tracing span) into a spawned task.
pub fn carry<F: std::future::Future>(f: F) -> impl std::future::Future<Output = F::Output> {
    use tracing::Instrument;
    with_request_id(current_request_id(), f).instrument(tracing::Span::current())
}
