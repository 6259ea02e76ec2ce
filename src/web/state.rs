//! What every handler can reach: the jobs' `Context` (database, settings, scans, calendar,
//! clock, counters; `state.storage` reads through to it) and what only the web layer holds.

use super::{api_limits::ApiLimiter, identity::Authz};
use crate::{clock::Clock, jobs::Context};
use axum::extract::FromRef;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub core: Context,
    /// casbin: the model of roles.conf with the policy rows of the database.
    pub authz: Arc<Authz>,
    /// The intake API's per-client buckets, upload slots and use counters (this instance's).
    pub api_limits: Arc<ApiLimiter>,
    /// Turns for password hashing (argon2), `WebLimits::password_hashes` at once.
    pub password_hashes: Arc<tokio::sync::Semaphore>,
}

impl std::ops::Deref for AppState {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.core
    }
}

impl FromRef<AppState> for Arc<ApiLimiter> {
    fn from_ref(s: &AppState) -> Self {
        s.api_limits.clone()
    }
}

impl FromRef<AppState> for Clock {
    fn from_ref(s: &AppState) -> Self {
        s.clock.clone()
    }
}
