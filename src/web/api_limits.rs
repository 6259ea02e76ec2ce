//! Per-client limits of the intake API, enforced after the token is resolved: a request rate
//! (token bucket), uploads in flight at once, and the body size (by `Content-Length` before a
//! byte is read, and while the body streams for a body without one). Refusals are 429 with
//! `Retry-After` or 413, with the contract's error body. The buckets live in memory, per instance:
//! N instances behind one balancer let a client through up to N times its rate.
//!
//! Use is counted in memory too (requests, errors, refusals, last use per token and Beijing day)
//! and added to `api_token_usage` every few seconds and at shutdown, so counting costs no write
//! per request.

use super::api_error::ApiError;
use crate::clock::Clock;
use crate::domain::{calendar::beijing, rate::TokenBucket};
use crate::storage::{
    Storage,
    tokens::{ApiTokenRow, UsageDelta},
};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

#[derive(Default)]
struct Client {
    bucket: Option<TokenBucket>,
    uploads: i64,
}

pub struct ApiLimiter {
    enabled: bool,
    started: Instant,
    clients: Mutex<HashMap<i64, Client>>,
    usage: Mutex<HashMap<(i64, String), UsageDelta>>,
}

/// An upload in flight; dropping it frees the slot.
pub struct UploadSlot {
    limiter: Arc<ApiLimiter>,
    token_id: i64,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        if let Some(c) = self
            .limiter
            .clients
            .lock()
            .expect("not poisoned")
            .get_mut(&self.token_id)
        {
            c.uploads -= 1;
        }
    }
}

impl ApiLimiter {
    pub fn new(enabled: bool) -> Arc<Self> {
        Arc::new(Self {
            enabled,
            started: Instant::now(),
            clients: Mutex::default(),
            usage: Mutex::default(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// One request against the token's rate; Err(seconds to wait).
    pub fn take(&self, token: &ApiTokenRow) -> Result<(), u64> {
        let now = self.now_ms();
        let mut clients = self.clients.lock().expect("not poisoned");
        let c = clients.entry(token.token_id).or_default();
        c.bucket
            .get_or_insert_with(|| TokenBucket::new(token.rate_per_minute, now))
            .take(token.rate_per_minute, now)
    }

    /// A slot for an upload, or None when the token has as many in flight as it may.
    pub fn begin_upload(self: &Arc<Self>, token: &ApiTokenRow) -> Option<UploadSlot> {
        let mut clients = self.clients.lock().expect("not poisoned");
        let c = clients.entry(token.token_id).or_default();
        if c.uploads >= token.max_concurrent_uploads {
            return None;
        }
        c.uploads += 1;
        Some(UploadSlot {
            limiter: self.clone(),
            token_id: token.token_id,
        })
    }

    /// Uploads in flight for a token now (tests wait for this state instead of sleeping).
    pub fn uploads_in_flight(&self, token_id: i64) -> i64 {
        let clients = self.clients.lock().expect("not poisoned");
        clients.get(&token_id).map_or(0, |c| c.uploads)
    }

    /// Counts one answered request.
    pub fn count(&self, token_id: i64, at: DateTime<Utc>, error: bool, limited: bool) {
        let day = at.with_timezone(&beijing()).format("%Y-%m-%d").to_string();
        let mut usage = self.usage.lock().expect("not poisoned");
        let d = usage
            .entry((token_id, day.clone()))
            .or_insert_with(|| UsageDelta {
                token_id,
                day,
                ..Default::default()
            });
        d.requests += 1;
        d.errors += i64::from(error);
        d.limited += i64::from(limited);
        d.last_used_at = d.last_used_at.max(at.timestamp_millis());
    }

    /// Adds what was counted since the last flush to the database; on failure it is kept for
    /// the next flush.
    pub async fn flush(&self, storage: &Storage) -> crate::storage::DbResult<()> {
        let deltas: Vec<UsageDelta> = {
            let mut usage = self.usage.lock().expect("not poisoned");
            std::mem::take(&mut *usage).into_values().collect()
        };
        if let Err(e) = storage.record_api_usage(&deltas).await {
            let mut usage = self.usage.lock().expect("not poisoned");
            for d in deltas {
                let cur = usage
                    .entry((d.token_id, d.day.clone()))
                    .or_insert_with(|| UsageDelta {
                        token_id: d.token_id,
                        day: d.day.clone(),
                        ..Default::default()
                    });
                cur.requests += d.requests;
                cur.errors += d.errors;
                cur.limited += d.limited;
                cur.last_used_at = cur.last_used_at.max(d.last_used_at);
            }
            return Err(e);
        }
        Ok(())
    }
}

fn with_retry_after(e: ApiError, secs: u64) -> Response {
    let mut r = e.into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// The declared body length, when the request has one.
fn content_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The layer on `/api/v1`: requests with a token pass the token's limits; others pass on.
pub async fn enforce(
    State(lim): State<Arc<ApiLimiter>>,
    State(clock): State<Clock>,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = req.extensions().get::<ApiTokenRow>().cloned() else {
        return next.run(req).await;
    };
    let at = clock.now();
    if !lim.enabled {
        let resp = next.run(req).await;
        lim.count(token.token_id, at, resp.status().as_u16() >= 400, false);
        return resp;
    }
    let refuse = |resp: Response| {
        lim.count(token.token_id, at, true, true);
        resp
    };
    if let Err(secs) = lim.take(&token) {
        return refuse(with_retry_after(
            ApiError::rate_limited(token.rate_per_minute),
            secs,
        ));
    }
    let max_body = u64::try_from(token.max_body_bytes).unwrap_or(0);
    // Refused on the declared length alone: not a byte of the body is read.
    if content_length(&req).is_some_and(|n| n > max_body) {
        return refuse(ApiError::body_too_large(max_body).into_response());
    }
    let uploading = matches!(*req.method(), Method::POST | Method::PUT);
    let _slot = if uploading {
        match lim.begin_upload(&token) {
            Some(slot) => Some(slot),
            None => {
                return refuse(with_retry_after(
                    ApiError::too_many_uploads(token.max_concurrent_uploads),
                    1,
                ));
            }
        }
    } else {
        None
    };
    // A body without a declared length is cut off at the limit while it streams.
    let req = req.map(|b| Body::new(http_body_util::Limited::new(b, max_body as usize)));
    let resp = next.run(req).await;
    lim.count(token.token_id, at, resp.status().as_u16() >= 400, false);
    resp
}
