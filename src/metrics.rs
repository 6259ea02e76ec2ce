//! The process's Prometheus registry: requests by route pattern, method and status, latency
//! histograms, scheduled job runs and failures counted in this process, and the database
//! figures (queues, outbox, imports, unsealed audit records) set at scrape time. `web::metrics`
//! serves it on `/metrics`; the jobs count their runs in it.

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

    /// One served request: its route pattern, method, status and time.
    pub fn request(&self, route: String, method: String, status: u16, seconds: f64) {
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

    /// The figures read from the database at scrape time.
    pub fn set_gauges(&self, g: &crate::storage::metrics::Gauges) {
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

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self, out: &mut String) -> std::fmt::Result {
        encode(out, &self.registry)
    }
}
