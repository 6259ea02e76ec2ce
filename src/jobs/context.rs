//! What the scheduled jobs reach: the database, the settings, the scan store, the calendar, the
//! clock and the process's counters. The web layer's `AppState` wraps it (and dereferences to
//! it), so a job runs from a handler, the scheduler or a test alike.

use crate::{
    clock::Clock,
    config::Settings,
    metrics::Metrics,
    storage::{Storage, calendar::CalendarCache, scan_files::ScanStore},
};
use std::sync::{Arc, atomic::AtomicBool};

#[derive(Clone)]
pub struct Context {
    pub storage: Storage,
    pub settings: Arc<Settings>,
    pub scans: ScanStore,
    pub calendar: CalendarCache,
    pub clock: Clock,
    /// This process's request and job counters (`/metrics`).
    pub metrics: Arc<Metrics>,
    /// Set while this instance runs a pre-check pass (`jobs::run_prechecks`).
    pub prechecks_running: Arc<AtomicBool>,
    /// Held while this instance runs an import job (`jobs::imports`): one at a time, the others
    /// wait their turn rather than for the database.
    pub imports_running: Arc<tokio::sync::Mutex<()>>,
}
