//! Idempotency records of the intake API, one per (client, Idempotency-Key).
//!
//! The request's transaction claims the key first (`on conflict do nothing`). A concurrent
//! request with the same key waits on the key's row lock (PostgreSQL) or on the single writer
//! (SQLite), finds the row once the first commits, and replays the stored response.

use super::{DbResult, Tx};
use crate::on_tx;

/// Claims the key; `false` when a record already exists.
pub async fn claim(
    tx: &mut Tx,
    client: &str,
    key: &str,
    request_hash: &str,
    at: i64,
) -> DbResult<bool> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into idempotency (client, idem_key, request_hash, created_at) \
            values ($1, $2, $3, $4) \
            on conflict (client, idem_key) do nothing",
        )
        .bind(client)
        .bind(key)
        .bind(request_hash)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    pub request_hash: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
}

pub async fn stored(tx: &mut Tx, client: &str, key: &str) -> DbResult<Option<Stored>> {
    on_tx!(tx, |c| {
        sqlx::query_as::<_, Stored>(
            "select request_hash, response_status, response_body \
            from idempotency \
            where client = $1 and idem_key = $2",
        )
        .bind(client)
        .bind(key)
        .fetch_optional(c)
        .await
    })
}

pub async fn complete(
    tx: &mut Tx,
    client: &str,
    key: &str,
    status: u16,
    body: &str,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update idempotency \
            set response_status = $1, response_body = $2 \
            where client = $3 and idem_key = $4",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(client)
        .bind(key)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

impl super::Storage {
    /// The record for a key, read outside any transaction: lets a retry be answered before its
    /// body is checked again.
    pub async fn idempotency_record(&self, client: &str, key: &str) -> DbResult<Option<Stored>> {
        crate::on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, Stored>(
                "select request_hash, response_status, response_body \
                from idempotency \
                where client = $1 and idem_key = $2",
            )
            .bind(client)
            .bind(key)
            .fetch_optional(p)
            .await
        })
    }
}
