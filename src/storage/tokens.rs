//! API clients' bearer tokens, stored only as SHA-256 hashes.

use super::{DbResult, Storage, Tx};
use crate::{on_pool, on_tx};

pub async fn insert(tx: &mut Tx, name: &str, token_hash: &str, at: i64) -> DbResult<i64> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
        "insert into api_tokens (name, token_hash, created_at) values ($1, $2, $3) returning token_id"
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
