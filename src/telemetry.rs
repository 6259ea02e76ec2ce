//! Structured logs: text for people, JSON for log shippers. Each request's lines carry its id
//! (the id itself travels in `crate::request_id`).

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
