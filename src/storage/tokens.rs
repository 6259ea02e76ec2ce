//! API clients' bearer tokens, stored only as SHA-256 hashes.

use super::{DbResult, Storage, Tx};
use crate::{on_pool, on_tx};

pub async fn insert(tx: &mut Tx, name: &str, token_hash: &str, at: i64) -> DbResult<i64> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "insert into api_tokens (name, token_hash, created_at) \
            values ($1, $2, $3) \
            returning token_id",
        )
        .bind(name)
        .bind(token_hash)
        .bind(at)
        .fetch_one(c)
        .await
    })
}

/// Revokes every active token of that client name; returns how many.
pub async fn revoke_by_name(tx: &mut Tx, name: &str, at: i64) -> DbResult<u64> {
    on_tx!(tx, |c| sqlx::query(
        "update api_tokens set revoked_at = $1 where name = $2 and revoked_at is null"
    )
    .bind(at)
    .bind(name)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
}

impl Storage {
    /// The client name of an active token with this hash.
    pub async fn api_client_by_token_hash(&self, token_hash: &str) -> DbResult<Option<String>> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, String>(
            "select name from api_tokens where token_hash = $1 and revoked_at is null"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)
    }
}

impl Storage {
    /// Creates a token for `name`; returns the token, which is shown once and stored only hashed.
    pub async fn create_api_token(&self, name: &str, at: i64, actor: &str) -> DbResult<String> {
        use rand::RngCore;
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = format!("bo_{}", hex::encode(raw));
        let mut tx = self.begin().await?;
        let id = insert(
            &mut tx,
            name,
            &super::scan_files::sha256_hex(token.as_bytes()),
            at,
        )
        .await?;
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor,
                action: "api_token.created",
                subject_type: "api_token",
                subject_id: &id.to_string(),
                after: Some(name),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Revokes every active token of `name`; returns how many.
    pub async fn revoke_api_tokens(&self, name: &str, at: i64, actor: &str) -> DbResult<u64> {
        let mut tx = self.begin().await?;
        let n = revoke_by_name(&mut tx, name, at).await?;
        if n > 0 {
            super::audit::record(
                &mut tx,
                &super::audit::AuditEntry {
                    at,
                    actor,
                    action: "api_token.revoked",
                    subject_type: "api_token",
                    subject_id: name,
                    before: Some("active"),
                    after: Some("revoked"),
                    ..Default::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// An active token and its client's limits (intake API, per-client limits).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub token_id: i64,
    pub name: String,
    pub rate_per_minute: i64,
    pub max_concurrent_uploads: i64,
    pub max_body_bytes: i64,
}

/// Requests counted in memory since the last flush, for one token and Beijing day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageDelta {
    pub token_id: i64,
    pub day: String,
    pub requests: i64,
    pub errors: i64,
    pub limited: i64,
    pub last_used_at: i64,
}

/// A token as the admin page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiClientRow {
    pub token_id: i64,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub rate_per_minute: i64,
    pub max_concurrent_uploads: i64,
    pub max_body_bytes: i64,
    pub last_used_at: Option<i64>,
}

/// One token's use on one day.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UsageRow {
    pub token_id: i64,
    pub day: String,
    pub requests: i64,
    pub errors: i64,
    pub limited: i64,
}

/// New limits for a token, as an admin set them (checked by the caller's parser).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub rate_per_minute: i64,
    pub max_concurrent_uploads: i64,
    pub max_body_bytes: i64,
}

impl Storage {
    /// The active token with this hash and its limits.
    pub async fn api_token_by_hash(&self, token_hash: &str) -> DbResult<Option<ApiTokenRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ApiTokenRow>(
            "select token_id, name, rate_per_minute, max_concurrent_uploads, max_body_bytes \
            from api_tokens \
            where token_hash = $1 and revoked_at is null"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)
    }

    /// Adds counted use (one transaction for the batch); the counters only ever grow.
    pub async fn record_api_usage(&self, deltas: &[UsageDelta]) -> DbResult<()> {
        if deltas.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for d in deltas {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                    "insert into api_token_usage (token_id, day, requests, errors, limited, \
                        last_used_at) \
                    values ($1, $2, $3, $4, $5, $6) \
                    on conflict (token_id, day) do update \
                    set requests = api_token_usage.requests + excluded.requests, errors = \
                        api_token_usage.errors + excluded.errors, limited = \
                        api_token_usage.limited + excluded.limited, last_used_at = case when \
                        excluded.last_used_at > api_token_usage.last_used_at then \
                        excluded.last_used_at else api_token_usage.last_used_at end",
                )
                .bind(d.token_id)
                .bind(&d.day)
                .bind(d.requests)
                .bind(d.errors)
                .bind(d.limited)
                .bind(d.last_used_at)
                .execute(c)
                .await
                .map(|_| ())
            })?;
        }
        tx.commit().await
    }

    /// Every token, active first, with its limits and when it was last used.
    pub async fn api_clients(&self) -> DbResult<Vec<ApiClientRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, ApiClientRow>(
                "select t.token_id, t.name, t.created_at, t.revoked_at, t.rate_per_minute, \
                    t.max_concurrent_uploads, t.max_body_bytes, (select max(u.last_used_at) from \
                    api_token_usage u where u.token_id = t.token_id) as last_used_at \
                from api_tokens t \
                order by t.revoked_at is not null, t.name, t.token_id",
            )
            .fetch_all(p)
            .await
        })
    }

    /// Use per token and day from `since_day` (YYYY-MM-DD) on.
    pub async fn api_usage_since(&self, since_day: &str) -> DbResult<Vec<UsageRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, UsageRow>(
            "select token_id, day, requests, errors, limited \
            from api_token_usage \
            where day >= $1 \
            order by token_id, day"
        )
        .bind(since_day)
        .fetch_all(p)
        .await)
    }

    /// Sets a token's limits with its audit record; false when there is no such token.
    pub async fn set_api_limits(
        &self,
        token_id: i64,
        limits: Limits,
        at: i64,
        actor: &str,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let before: Option<(i64, i64, i64)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
                "select rate_per_minute, max_concurrent_uploads, max_body_bytes \
                from api_tokens \
                where token_id = $1",
            )
            .bind(token_id)
            .fetch_optional(c)
            .await
        })?;
        let Some(before) = before else {
            return Ok(false);
        };
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "update api_tokens \
                set rate_per_minute = $1, max_concurrent_uploads = $2, max_body_bytes = $3 \
                where token_id = $4",
            )
            .bind(limits.rate_per_minute)
            .bind(limits.max_concurrent_uploads)
            .bind(limits.max_body_bytes)
            .bind(token_id)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let show = |r: i64, u: i64, b: i64| format!("rate={r}/min uploads={u} body={b}");
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor,
                action: "api_token.limits_changed",
                subject_type: "api_token",
                subject_id: &token_id.to_string(),
                before: Some(&show(before.0, before.1, before.2)),
                after: Some(&show(
                    limits.rate_per_minute,
                    limits.max_concurrent_uploads,
                    limits.max_body_bytes,
                )),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
