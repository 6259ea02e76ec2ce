//! `/metrics` in the Prometheus (OpenMetrics) text format: requests by route pattern, method
//! and status, latency histograms, job runs and failures counted in this process; queue sizes,
//! the overdue count, the outbox backlog and failures, import counts and unsealed audit records
//! read from the database at scrape time. Only the bearer token `BACKOFFICE_METRICS_TOKEN`
//! reads it (identity `metrics`, a casbin subject like the roles).

use super::state::AppState;
use axum::{
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use std::time::Instant;

super::routes! {
    "/metrics" => get(metrics);
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The process's registry and the families it fills.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    job_runs: Family<JobLabels, Counter>,
    job_failures: Family<JobLabels, Counter>,
    applications: Family<StatusLabels, Gauge>,
    outbox: Family<StatusLabels, Gauge>,
    outbox_failing: Gauge,
    imports: Family<KindLabels, Gauge>,
    overdue: Gauge,
    audit_unsealed: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("backoffice");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route pattern, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route pattern and method",
            latency.clone(),
        );
        let job_runs = Family::<JobLabels, Counter>::default();
        registry.register("job_runs", "Scheduled job runs", job_runs.clone());
        let job_failures = Family::<JobLabels, Counter>::default();
        registry.register(
            "job_failures",
            "Scheduled job runs that failed",
            job_failures.clone(),
        );
        let applications = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "applications",
            "Applications by status",
            applications.clone(),
        );
        let outbox = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "outbox_messages",
            "E-mails in the outbox by status (pending is the backlog)",
            outbox.clone(),
        );
        let outbox_failing = Gauge::default();
        registry.register(
            "outbox_failing",
            "Pending e-mails whose last delivery attempt failed",
            outbox_failing.clone(),
        );
        let imports = Family::<KindLabels, Gauge>::default();
        registry.register(
            "imports",
            "Files imported, by kind (from the audit trail)",
            imports.clone(),
        );
        let overdue = Gauge::default();
        registry.register(
            "overdue_applications",
            "Applications waiting for review past their deadline",
            overdue.clone(),
        );
        let audit_unsealed = Gauge::default();
        registry.register(
            "audit_unsealed",
            "Audit records not yet sealed into the hash chain",
            audit_unsealed.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            job_runs,
            job_failures,
            applications,
            outbox,
            outbox_failing,
            imports,
            overdue,
            audit_unsealed,
        }
    }

    /// One run of a scheduled job and whether it failed.
    pub fn job(&self, job: &str, failed: bool) {
        let l = JobLabels { job: job.into() };
        self.job_runs.get_or_create(&l).inc();
        if failed {
            self.job_failures.get_or_create(&l).inc();
        }
    }

    fn request(&self, route: String, method: String, status: u16, seconds: f64) {
        self.latency
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method: method.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    fn set_gauges(&self, g: &crate::storage::metrics::Gauges) {
        let set = |f: &Family<StatusLabels, Gauge>, rows: &[(String, i64)]| {
            for (status, n) in rows {
                f.get_or_create(&StatusLabels {
                    status: status.clone(),
                })
                .set(*n);
            }
        };
        // A status that emptied must read 0, not its last value.
        self.applications.clear();
        set(&self.applications, &g.applications_by_status);
        self.outbox.clear();
        set(&self.outbox, &g.outbox_by_status);
        for kind in [
            "certificates",
            "calendar",
            "payments",
            "invoices",
            "tracking",
        ] {
            let n = g
                .imports_by_action
                .iter()
                .find(|(a, _)| a.strip_suffix(".imported") == Some(kind))
                .map_or(0, |(_, n)| *n);
            self.imports
                .get_or_create(&KindLabels { kind: kind.into() })
                .set(n);
        }
        self.outbox_failing.set(g.outbox_failing);
        self.overdue.set(g.overdue);
        self.audit_unsealed.set(g.audit_unsealed);
    }
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
    if let Err(e) = encode(&mut body, &state.metrics.registry) {
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
