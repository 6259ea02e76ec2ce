//! The id of the HTTP request a task serves, carried in a task-local: the router sets it, audit
//! records take it, spawned work keeps it. Below every layer that reads it (storage, web).

tokio::task_local! {
    /// The id of the HTTP request being served (set by the router's request-id layer).
    static REQUEST_ID: String;
}

/// The request id of the request this task serves, if any: audit records take it when their
/// caller gave none, so every record written while serving a request names that request.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(|r| r.clone()).ok()
}

/// Runs `f` as serving request `id`.
pub async fn scope<F: std::future::Future>(id: Option<String>, f: F) -> F::Output {
    match id {
        Some(id) => REQUEST_ID.scope(id, f).await,
        None => f.await,
    }
}

/// `f`, carrying the current request id (and tracing span) into a spawned task.
pub fn carry<F: std::future::Future>(f: F) -> impl std::future::Future<Output = F::Output> {
    use tracing::Instrument;
    scope(current(), f).instrument(tracing::Span::current())
}
