//! The webhook outbox. An event is queued, once per client endpoint, in the transaction of the
//! change that causes it (`queue_status_change` from `applications::add_event`,
//! `queue_invoice_issued` from `invoices::mark_issued`), with its body fixed then. The job
//! (`jobs::webhooks`) claims due deliveries under a lease and a fresh token (on PostgreSQL with
//! `for update skip locked`), posts them outside any transaction, and records the answer: every
//! attempt is kept, and the delivery is marked delivered, due again after a backoff, or parked,
//! only while its claim token is still there (the e-mail outbox's discipline).

use super::{DbResult, Pool, Storage, audit};
use crate::domain::webhook as wh;
use crate::{on_pool, on_tx};

mod queue;

use queue::rfc3339;
pub use queue::{queue_invoice_issued, queue_status_change};

/// A client's endpoint and secrets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub client: String,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl EndpointRow {
    /// The secrets that sign at `now`: the current one, and the previous during its overlap.
    pub fn signing_secrets(&self, now: i64) -> Vec<wh::Secret> {
        let previous = self
            .previous_secret
            .as_deref()
            .filter(|_| self.previous_until.is_some_and(|u| now < u));
        std::iter::once(self.secret.as_str())
            .chain(previous)
            .filter_map(wh::Secret::parse)
            .collect()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub delivery_id: i64,
    pub client: String,
    pub event_id: String,
    pub event_type: String,
    pub application_id: Option<String>,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub claim_token: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

const COLUMNS: &str = "delivery_id, client, event_id, event_type, application_id, payload, \
    status, attempts, next_attempt_at, claim_token, last_status, last_error, created_at, \
    delivered_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub attempt_id: i64,
    pub delivery_id: i64,
    pub at: i64,
    pub http_status: Option<i64>,
    pub body_head: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What one attempt came to, as it is recorded.
pub struct Outcome<'a> {
    pub http_status: Option<i64>,
    pub body_head: Option<&'a str>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
    pub delivered: bool,
}

/// What to change about an endpoint (each audited, the secret never written to the audit).
pub enum EndpointChange<'a> {
    /// Set or change the URL; a new endpoint gets `new_secret`.
    Url {
        url: &'a str,
        new_secret: &'a str,
    },
    /// A new secret; the current one signs along until `overlap_until`.
    Rotate {
        new_secret: &'a str,
        overlap_until: i64,
    },
    Remove,
}

impl Storage {
    pub async fn api_client_name(&self, token_id: i64) -> DbResult<Option<String>> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, String>(
            "select name from api_tokens where token_id = $1"
        )
        .bind(token_id)
        .fetch_optional(p)
        .await)
    }

    /// The ids of a client's tokens, oldest first (the pages name a client by one of them).
    pub async fn api_tokens_of(&self, client: &str) -> DbResult<Vec<i64>> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select token_id from api_tokens where name = $1 order by token_id"
        )
        .bind(client)
        .fetch_all(p)
        .await)
    }

    /// Every endpoint (the API clients page shows each client's).
    pub async fn webhook_endpoints(&self) -> DbResult<Vec<EndpointRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, EndpointRow>(
            "select client, url, secret, previous_secret, previous_until, created_at, updated_at \
            from webhook_endpoints order by client"
        )
        .fetch_all(p)
        .await)
    }

    pub async fn webhook_endpoint(&self, client: &str) -> DbResult<Option<EndpointRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, EndpointRow>(
            "select client, url, secret, previous_secret, previous_until, created_at, updated_at \
            from webhook_endpoints where client = $1"
        )
        .bind(client)
        .fetch_optional(p)
        .await)
    }

    /// Changes a client's endpoint; false when there is nothing to change (a rotation or
    /// removal without an endpoint, a first URL is always saved).
    pub async fn change_webhook_endpoint(
        &self,
        client: &str,
        change: &EndpointChange<'_>,
        now: i64,
        actor: &str,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let (n, action, after) = match change {
            EndpointChange::Url { url, new_secret } => {
                let n = on_tx!(&mut tx, |c| {
                    sqlx::query(
                    "insert into webhook_endpoints (client, url, secret, created_at, updated_at) \
                    values ($1, $2, $3, $4, $4) \
                    on conflict (client) do update set url = excluded.url, \
                        updated_at = excluded.updated_at"
                )
                .bind(client)
                .bind(url)
                .bind(new_secret)
                .bind(now)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
                (n, "webhook.endpoint_set", url.to_string())
            }
            EndpointChange::Rotate {
                new_secret,
                overlap_until,
            } => {
                let n = on_tx!(&mut tx, |c| {
                    sqlx::query(
                    "update webhook_endpoints \
                    set previous_secret = secret, previous_until = $1, secret = $2, updated_at = $3 \
                    where client = $4"
                )
                .bind(overlap_until)
                .bind(new_secret)
                .bind(now)
                .bind(client)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
                let until = rfc3339(*overlap_until);
                (
                    n,
                    "webhook.secret_rotated",
                    format!("previous until {until}"),
                )
            }
            EndpointChange::Remove => {
                let n = on_tx!(&mut tx, |c| sqlx::query(
                    "delete from webhook_endpoints where client = $1"
                )
                .bind(client)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
                (n, "webhook.endpoint_removed", String::new())
            }
        };
        if n > 0 {
            audit::record(
                &mut tx,
                &audit::AuditEntry {
                    at: now,
                    actor,
                    action,
                    subject_type: "api_client",
                    subject_id: client,
                    after: Some(&after),
                    ..Default::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Claims up to `limit` due deliveries until `lease_until` under a fresh token.
    pub async fn claim_webhooks(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> DbResult<Vec<DeliveryRow>> {
        let token = uuid::Uuid::new_v4().to_string();
        let lock = match &self.write {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => "for update skip locked",
        };
        let sql = format!(
            "update webhook_deliveries \
            set next_attempt_at = $1, claim_token = $4 \
            where delivery_id in (select delivery_id from webhook_deliveries \
                where status = 'pending' and next_attempt_at <= $2 \
                order by next_attempt_at, delivery_id limit $3 {lock}) \
            returning {COLUMNS}"
        );
        let mut tx = self.begin().await?;
        let rows = on_tx!(&mut tx, |c| sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .bind(&token)
            .fetch_all(c)
            .await)?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Records an attempt, and marks the delivery delivered, due again at `retry_at`, or parked
    /// (when `park`), only while the claim holds; false (the attempt kept all the same) when
    /// it was lost to another worker.
    pub async fn finish_webhook(
        &self,
        row: &DeliveryRow,
        o: &Outcome<'_>,
        now: i64,
        retry_at: i64,
        park: bool,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "insert into webhook_attempts (delivery_id, at, http_status, body_head, error, \
                duration_ms) \
            values ($1, $2, $3, $4, $5, $6)"
        )
        .bind(row.delivery_id)
        .bind(now)
        .bind(o.http_status)
        .bind(o.body_head)
        .bind(o.error)
        .bind(o.duration_ms)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let status = match (o.delivered, park) {
            (true, _) => "delivered",
            (false, true) => "parked",
            (false, false) => "pending",
        };
        let n = on_tx!(&mut tx, |c| sqlx::query(
            "update webhook_deliveries \
            set status = $1, attempts = attempts + 1, last_status = $2, last_error = $3, \
                next_attempt_at = $4, delivered_at = $5, claim_token = null \
            where delivery_id = $6 and status = 'pending' and claim_token = $7"
        )
        .bind(status)
        .bind(o.http_status)
        .bind(o.error)
        .bind(retry_at)
        .bind(o.delivered.then_some(now))
        .bind(row.delivery_id)
        .bind(&row.claim_token)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// An administrator sends a delivery again now (a parked one, or one delivered that the
    /// client lost); the same `webhook-id`. None when there is no such delivery of this client
    /// or it is waiting already.
    pub async fn resend_webhook(
        &self,
        delivery_id: i64,
        now: i64,
        actor: &str,
    ) -> DbResult<Option<String>> {
        let mut tx = self.begin().await?;
        let client: Option<String> = on_tx!(&mut tx, |c| sqlx::query_scalar::<_, String>(
            "update webhook_deliveries \
            set status = 'pending', attempts = 0, next_attempt_at = $1, claim_token = null \
            where delivery_id = $2 and status <> 'pending' \
            returning client"
        )
        .bind(now)
        .bind(delivery_id)
        .fetch_optional(c)
        .await)?;
        if let Some(cl) = &client {
            audit::record(
                &mut tx,
                &audit::AuditEntry {
                    at: now,
                    actor,
                    action: "webhook.resent",
                    subject_type: "webhook_delivery",
                    subject_id: &delivery_id.to_string(),
                    after: Some(cl),
                    ..Default::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(client)
    }

    /// A client's deliveries, newest first; at most `limit`.
    pub async fn webhook_deliveries(&self, client: &str, limit: i64) -> DbResult<Vec<DeliveryRow>> {
        let sql = format!(
            "select {COLUMNS} from webhook_deliveries where client = $1 \
            order by delivery_id desc limit $2"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(client)
            .bind(limit)
            .fetch_all(p)
            .await)
    }

    pub async fn webhook_delivery(&self, delivery_id: i64) -> DbResult<Option<DeliveryRow>> {
        let sql = format!("select {COLUMNS} from webhook_deliveries where delivery_id = $1");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(delivery_id)
            .fetch_optional(p)
            .await)
    }

    /// The attempts of a client's deliveries from `min_delivery_id` on, oldest first.
    pub async fn webhook_attempts(
        &self,
        client: &str,
        min_delivery_id: i64,
    ) -> DbResult<Vec<AttemptRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, AttemptRow>(
            "select a.attempt_id, a.delivery_id, a.at, a.http_status, a.body_head, a.error, \
                a.duration_ms \
            from webhook_attempts a join webhook_deliveries d on d.delivery_id = a.delivery_id \
            where d.client = $1 and a.delivery_id >= $2 \
            order by a.attempt_id"
        )
        .bind(client)
        .bind(min_delivery_id)
        .fetch_all(p)
        .await)
    }
}
