//! The audit trail: who did what to which subject, when, and the state before and after.
//! Written in the same transaction as the change it records.

use super::{DbResult, Exec, Tx};
use crate::{on_exec, on_tx};

#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    pub at: i64,
    /// `api:<client>`, `staff:<username>` or `cli`.
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

pub async fn record(tx: &mut Tx, e: &AuditEntry<'_>) -> DbResult<()> {
    // Written while serving a request, a record names it even when its caller did not.
    let request_id = e
        .request_id
        .map(str::to_owned)
        .or_else(crate::request_id::current);
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into audit_log (at, actor, action, subject_type, subject_id, before_state, \
                after_state, request_id) \
            values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.at)
        .bind(e.actor)
        .bind(e.action)
        .bind(e.subject_type)
        .bind(e.subject_id)
        .bind(e.before)
        .bind(e.after)
        .bind(&request_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub audit_id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub request_id: Option<String>,
}

impl super::Storage {
    /// The newest records first (for pages and tests).
    pub async fn audit_recent(&self, limit: i64) -> DbResult<Vec<AuditRow>> {
        crate::on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, AuditRow>(
                "select audit_id, at, actor, action, subject_type, subject_id, before_state, \
                    after_state, request_id \
                from audit_log \
                order by audit_id desc \
                limit $1",
            )
            .bind(limit)
            .fetch_all(p)
            .await
        })
    }

    pub async fn audit_count(&self) -> DbResult<i64> {
        crate::on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from audit_log"
        )
        .fetch_one(p)
        .await)
    }
}

// ---- The hash chain (issue 10, part 3) ----

use crate::domain::audit::{Anchor, Break, ChainRecord, Sealer};

/// A record as read for sealing or verifying.
#[derive(sqlx::FromRow)]
pub(super) struct ChainRow {
    chain_pos: Option<i64>,
    pub(super) hash: Option<String>,
    audit_id: i64,
    at: i64,
    actor: String,
    action: String,
    subject_type: String,
    subject_id: String,
    before_state: Option<String>,
    after_state: Option<String>,
    request_id: Option<String>,
}

impl ChainRow {
    pub(super) fn record(&self) -> ChainRecord<'_> {
        ChainRecord {
            pos: self.chain_pos.unwrap_or(0),
            audit_id: self.audit_id,
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            subject_type: &self.subject_type,
            subject_id: &self.subject_id,
            before: self.before_state.as_deref(),
            after: self.after_state.as_deref(),
            request_id: self.request_id.as_deref(),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AnchorRow {
    day: String,
    first_pos: i64,
    last_pos: i64,
    last_hash: String,
    records: i64,
}

impl AnchorRow {
    pub(super) fn anchor(self) -> Result<Anchor, sqlx::Error> {
        let day = chrono::NaiveDate::parse_from_str(&self.day, "%Y-%m-%d").map_err(|_| {
            sqlx::Error::Protocol(format!("audit anchor day '{}' is not a date", self.day))
        })?;
        Ok(Anchor {
            day,
            first_pos: self.first_pos,
            last_pos: self.last_pos,
            last_hash: self.last_hash,
            records: self.records,
        })
    }
}

pub(super) const CHAIN_COLUMNS: &str = "chain_pos, hash, audit_id, at, actor, action, subject_type, \
        subject_id, before_state, after_state, request_id";

/// What `verify_audit` found.
#[derive(Debug)]
pub enum Verdict {
    Intact(u64),
    Broken(Break),
}

async fn latest_anchor(e: impl Into<Exec<'_>>) -> DbResult<Option<Anchor>> {
    let row = on_exec!(e, |c| {
        sqlx::query_as::<_, AnchorRow>(
            "select day, first_pos, last_pos, last_hash, records \
            from audit_anchors \
            order by day desc \
            limit 1",
        )
        .fetch_optional(c)
        .await
    })?;
    row.map(AnchorRow::anchor).transpose()
}

async fn store_anchor(tx: &mut Tx, a: &Anchor, now: i64) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into audit_anchors (day, first_pos, last_pos, last_hash, records, updated_at) \
            values ($1, $2, $3, $4, $5, $6) \
            on conflict (day) do update \
            set last_pos = excluded.last_pos, last_hash = excluded.last_hash, records = \
                excluded.records, updated_at = excluded.updated_at",
        )
        .bind(a.day.format("%Y-%m-%d").to_string())
        .bind(a.first_pos)
        .bind(a.last_pos)
        .bind(&a.last_hash)
        .bind(a.records)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
    })
}

impl super::Storage {
    /// Seals one run of at most `batch` unsealed records in one transaction. `None` when another
    /// instance holds the sealing lock and `wait` is false.
    async fn seal_batch(&self, now: i64, batch: i64, wait: bool) -> DbResult<Option<u64>> {
        self.pause_point(super::pauses::SEAL_BEGIN).await;
        let mut tx = self.begin().await?;
        // The lock makes sealing exactly-once across instances on PostgreSQL.
        if wait {
            super::advisory_lock(&mut tx, super::Lock::AuditSeal).await?;
        } else if !super::try_advisory_lock(&mut tx, super::Lock::AuditSeal).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        self.pause_point(super::pauses::SEAL_LOCKED).await;
        let rows = on_tx!(&mut tx, |c| {
            sqlx::query_as::<_, ChainRow>(&format!(
                "select {CHAIN_COLUMNS} \
                from audit_log \
                where chain_pos is null \
                order by audit_id \
                limit $1"
            ))
            .bind(batch)
            .fetch_all(c)
            .await
        })?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(Some(0));
        }
        let mut sealer =
            Sealer::new(latest_anchor(&mut tx).await?).map_err(sqlx::Error::Protocol)?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut positions = Vec::with_capacity(rows.len());
        let mut hashes = Vec::with_capacity(rows.len());
        for r in &rows {
            let (pos, hash, closed) = sealer.seal(&r.record());
            if let Some(a) = closed {
                store_anchor(&mut tx, &a, now).await?;
            }
            ids.push(r.audit_id);
            positions.push(pos);
            hashes.push(hash);
        }
        if let Some(a) = &sealer.anchor {
            store_anchor(&mut tx, a, now).await?;
        }
        match &mut tx {
            Tx::Postgres(t) => {
                sqlx::query(
                    "update audit_log a \
                    set chain_pos = v.pos, hash = v.hash \
                    from unnest($1::bigint[], $2::bigint[], $3::text[]) as v (id, pos, hash) \
                    where a.audit_id = v.id",
                )
                .bind(&ids)
                .bind(&positions)
                .bind(&hashes)
                .execute(&mut **t)
                .await?;
            }
            Tx::Sqlite(t) => {
                // One statement for the run (a JSON array of [id, pos, hash]), rather than a
                // round trip to the driver's thread per record while the single writer waits.
                let run: Vec<(i64, i64, &str)> = ids
                    .iter()
                    .zip(&positions)
                    .zip(&hashes)
                    .map(|((id, pos), hash)| (*id, *pos, hash.as_str()))
                    .collect();
                let run = serde_json::to_string(&run)
                    .map_err(|e| sqlx::Error::Protocol(format!("sealing: {e}")))?;
                sqlx::query(
                    "update audit_log set chain_pos = v.pos, hash = v.hash \
                    from (select value ->> 0 as id, value ->> 1 as pos, value ->> 2 as hash \
                        from json_each($1)) as v \
                    where audit_log.audit_id = v.id",
                )
                .bind(run)
                .execute(&mut **t)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Some(rows.len() as u64))
    }

    /// Gives every unsealed record its chain position and hash, in audit_id order, in runs of
    /// 5,000 records (one transaction each). With `wait` false it returns at once when another
    /// instance is sealing. Returns how many records it sealed.
    pub async fn seal_audit(&self, now: i64, wait: bool) -> DbResult<u64> {
        self.seal_audit_in_runs(now, wait, 5_000).await
    }

    pub async fn seal_audit_in_runs(&self, now: i64, wait: bool, batch: i64) -> DbResult<u64> {
        let mut total = 0;
        loop {
            match self.seal_batch(now, batch, wait).await? {
                None | Some(0) => return Ok(total),
                Some(n) => total += n,
            }
        }
    }

    /// The anchor of the newest day of the chain.
    pub async fn latest_audit_anchor(&self) -> DbResult<Option<Anchor>> {
        latest_anchor(self.read_pool()).await
    }

    /// How many records wait for sealing.
    pub async fn audit_unsealed(&self) -> DbResult<i64> {
        crate::on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from audit_log where chain_pos is null"
        )
        .fetch_one(p)
        .await)
    }
}

impl super::Storage {
    /// Queues the anchor's e-mail to the auditor and audits that it was sent, in one
    /// transaction. The same anchor goes to the same address once (false the second time).
    pub async fn send_audit_anchor(
        &self,
        anchor: &Anchor,
        recipient: &str,
        mail: &crate::domain::mail::Mail,
        actor: &str,
        request_id: Option<&str>,
        now: i64,
    ) -> DbResult<bool> {
        let key = format!(
            "audit-anchor:{}:{}:{recipient}",
            anchor.day, anchor.last_pos
        );
        let mut tx = self.begin().await?;
        let queued =
            super::outbox::enqueue_mail(&mut tx, &key, "audit_anchor", recipient, mail, None, now)
                .await?;
        if !queued {
            tx.rollback().await?;
            return Ok(false);
        }
        let after = serde_json::json!({
            "day": anchor.day.to_string(),
            "last_pos": anchor.last_pos,
            "last_hash": anchor.last_hash,
            "to": recipient,
        })
        .to_string();
        record(
            &mut tx,
            &AuditEntry {
                at: now,
                actor,
                action: "audit.anchor_sent",
                subject_type: "audit_anchor",
                subject_id: &anchor.day.to_string(),
                before: None,
                after: Some(&after),
                request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// How many records the chain holds (sealed).
    pub async fn audit_sealed(&self) -> DbResult<i64> {
        Ok(self.latest_audit_anchor().await?.map_or(0, |a| a.last_pos))
    }
}
