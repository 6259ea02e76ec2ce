//! Delivers the queued webhooks. Due deliveries are claimed under a lease (longer than twice a
//! request's time limit, so a live worker's claim never lapses while it posts), posted at once
//! side by side, each signed at the moment it is sent with the client's current secrets, and
//! finished — delivered, due again after a doubling backoff, or parked after
//! `BACKOFFICE_WEBHOOK_MAX_ATTEMPTS` — only while the claim is ours. Every attempt is kept.

use crate::config::webhook::WebhookSettings;
use crate::domain::webhook::signature_header;
use crate::storage::webhooks::{DeliveryRow, EndpointRow, Outcome};
use crate::storage::{DbResult, Storage};
use crate::webhook::{Answer, Sender, Signed};
use std::collections::HashMap;

/// How many deliveries one claim takes (posted side by side).
pub const BATCH: i64 = 16;

/// The lease of a claim, from the settings' time limit.
pub fn lease_ms(s: &WebhookSettings) -> i64 {
    (s.timeout_secs as i64) * 1000 * 2 + 30_000
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub delivered: usize,
    pub failed: usize,
    pub parked: usize,
}

impl Delivered {
    fn add(&mut self, o: &Delivered) {
        self.delivered += o.delivered;
        self.failed += o.failed;
        self.parked += o.parked;
    }

    pub fn total(&self) -> usize {
        self.delivered + self.failed + self.parked
    }
}

async fn attempt(
    sender: &Sender,
    endpoint: Option<&EndpointRow>,
    row: &DeliveryRow,
    now: i64,
) -> Answer {
    let Some(ep) = endpoint else {
        return Answer {
            error: Some("the client has no endpoint any more".into()),
            ..Default::default()
        };
    };
    let secrets = ep.signing_secrets(now);
    if secrets.is_empty() {
        return Answer {
            error: Some("the endpoint's secret is not a whsec_ secret".into()),
            ..Default::default()
        };
    }
    let timestamp = now.div_euclid(1000);
    let refs: Vec<_> = secrets.iter().collect();
    let signature = signature_header(&refs, &row.event_id, timestamp, row.payload.as_bytes());
    sender
        .post(&Signed {
            url: &ep.url,
            id: &row.event_id,
            timestamp,
            signature: &signature,
            body: &row.payload,
        })
        .await
}

/// One claim of at most [`BATCH`] due deliveries, posted side by side.
pub async fn deliver(
    storage: &Storage,
    sender: &Sender,
    s: &WebhookSettings,
    now: i64,
) -> DbResult<Delivered> {
    let rows = storage
        .claim_webhooks(now, now + lease_ms(s), BATCH)
        .await?;
    let mut endpoints: HashMap<String, Option<EndpointRow>> = HashMap::new();
    for r in &rows {
        if !endpoints.contains_key(&r.client) {
            let ep = storage.webhook_endpoint(&r.client).await?;
            endpoints.insert(r.client.clone(), ep);
        }
    }
    let answers = futures_util::future::join_all(
        rows.iter()
            .map(|r| attempt(sender, endpoints[&r.client].as_ref(), r, now)),
    )
    .await;
    let mut d = Delivered::default();
    for (row, a) in rows.iter().zip(answers) {
        let delivered = a.delivered();
        let park = !delivered && row.attempts + 1 >= s.max_attempts;
        let error = match (&a.error, a.status) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(st)) if !delivered => Some(format!("answered {st}")),
            _ => None,
        };
        let o = Outcome {
            http_status: a.status.map(i64::from),
            body_head: a.body_head.as_deref(),
            error: error.as_deref(),
            duration_ms: a.duration_ms,
            delivered,
        };
        let retry_at = now + s.backoff_ms(row.attempts + 1);
        if !storage.finish_webhook(row, &o, now, retry_at, park).await? {
            tracing::warn!(
                delivery_id = row.delivery_id,
                "webhook attempt finished after its claim was taken over"
            );
        }
        match (delivered, park) {
            (true, _) => d.delivered += 1,
            (false, true) => {
                tracing::warn!(delivery_id = row.delivery_id, client = %row.client, error = ?error, "webhook parked");
                d.parked += 1
            }
            (false, false) => d.failed += 1,
        }
    }
    Ok(d)
}

/// Claims until nothing is due at `now` (tests, the benchmark, and the loop's each tick).
pub async fn deliver_all(
    storage: &Storage,
    sender: &Sender,
    s: &WebhookSettings,
    now: i64,
) -> DbResult<Delivered> {
    let mut total = Delivered::default();
    loop {
        let d = deliver(storage, sender, s, now).await?;
        if d.total() == 0 {
            return Ok(total);
        }
        total.add(&d);
    }
}

/// Every `BACKOFFICE_WEBHOOK_POLL_MS`, what is due is delivered (on every instance: the
/// claims keep them apart).
pub async fn run_forever(state: super::Context, sender: Sender) {
    let s = state.settings.webhook.clone();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(s.poll_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = state.clock.now().timestamp_millis();
        let r = deliver_all(&state.storage, &sender, &s, now).await;
        if let Err(e) = &r {
            tracing::error!(error = %e, "webhook delivery failed");
        }
        if r.as_ref().map_or(true, |d| d.total() > 0) {
            state.metrics.job("webhooks", r.is_err());
        }
    }
}
