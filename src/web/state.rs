//! What every handler can reach.

use crate::{
    clock::Clock,
    config::Settings,
    storage::{Storage, calendar::CalendarCache, scan_files::ScanStore},
};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub storage: Storage,
    pub settings: Arc<Settings>,
    pub scans: ScanStore,
    pub calendar: CalendarCache,
    pub clock: Clock,
    /// casbin: the model of roles.conf with the policy rows of the database.
    pub authz: Arc<crate::web::identity::Authz>,
    /// This process's request and job counters (`/metrics`).
    pub metrics: Arc<crate::web::metrics::Metrics>,
    /// The intake API's per-client buckets, upload slots and use counters (this instance's).
    pub api_limits: Arc<crate::web::api_limits::ApiLimiter>,
    /// Turns for password hashing (argon2), `WebLimits::password_hashes` at once.
    pub password_hashes: Arc<tokio::sync::Semaphore>,
    /// Set while this instance runs a pre-check pass (`jobs::run_prechecks`).
    pub prechecks_running: Arc<std::sync::atomic::AtomicBool>,
}
