//! The audit trail: who did what to which subject, when, and the state before and after.
//! Written in the same transaction as the change it records.

use super::{DbResult, Tx};
use crate::on_tx;

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
        .or_else(crate::telemetry::current_request_id);
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

    /// Records a view of personal data (its own small transaction).
    pub async fn audit_view(&self, e: &AuditEntry<'_>) -> DbResult<()> {
        let mut tx = self.begin().await?;
        record(&mut tx, e).await?;
        tx.commit().await
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

use crate::domain::audit::{Anchor, Break, ChainRecord, Sealer, Verifier};

/// The advisory lock that makes sealing exactly-once across instances on PostgreSQL.
const SEAL_LOCK: i64 = 70070010;

/// A record as read for sealing or verifying.
#[derive(sqlx::FromRow)]
struct ChainRow {
    chain_pos: Option<i64>,
    hash: Option<String>,
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
    fn record(&self) -> ChainRecord<'_> {
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
struct AnchorRow {
    day: String,
    first_pos: i64,
    last_pos: i64,
    last_hash: String,
    records: i64,
}

impl AnchorRow {
    fn anchor(self) -> Result<Anchor, sqlx::Error> {
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

const CHAIN_COLUMNS: &str = "chain_pos, hash, audit_id, at, actor, action, subject_type, \
        subject_id, before_state, after_state, request_id";

/// What `verify_audit` found.
#[derive(Debug)]
pub enum Verdict {
    Intact(u64),
    Broken(Break),
}

async fn latest_anchor_tx(tx: &mut Tx) -> DbResult<Option<Anchor>> {
    let row = on_tx!(tx, |c| {
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
        if let Tx::Postgres(t) = &mut tx {
            let sql = if wait {
                "select true from (select pg_advisory_xact_lock($1)) l"
            } else {
                "select pg_try_advisory_xact_lock($1)"
            };
            let got: bool = sqlx::query_scalar(sql)
                .bind(SEAL_LOCK)
                .fetch_one(&mut **t)
                .await?;
            if !got {
                tx.rollback().await?;
                return Ok(None);
            }
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
            Sealer::new(latest_anchor_tx(&mut tx).await?).map_err(sqlx::Error::Protocol)?;
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
                for ((id, pos), hash) in ids.iter().zip(&positions).zip(&hashes) {
                    sqlx::query(
                        "update audit_log set chain_pos = $1, hash = $2 where audit_id = $3",
                    )
                    .bind(pos)
                    .bind(hash)
                    .bind(id)
                    .execute(&mut **t)
                    .await?;
                }
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
        let row = crate::on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, AnchorRow>(
                "select day, first_pos, last_pos, last_hash, records \
                from audit_anchors \
                order by day desc \
                limit 1",
            )
            .fetch_optional(p)
            .await
        })?;
        row.map(AnchorRow::anchor).transpose()
    }

    /// How many records wait for sealing.
    pub async fn audit_unsealed(&self) -> DbResult<i64> {
        crate::on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from audit_log where chain_pos is null"
        )
        .fetch_one(p)
        .await)
    }

    /// Walks the sealed chain in position order, day by day against the anchors, reading
    /// `page` records at a time; stops at the first record that does not fit.
    pub async fn verify_audit(&self, page: i64) -> DbResult<Verdict> {
        let anchors = crate::on_pool!(self.read_pool(), |p| sqlx::query_as::<_, AnchorRow>(
            "select day, first_pos, last_pos, last_hash, records from audit_anchors"
        )
        .fetch_all(p)
        .await)?
        .into_iter()
        .map(AnchorRow::anchor)
        .collect::<Result<Vec<_>, _>>()?;
        let mut v = Verifier::new(anchors);
        let mut after = 0i64;
        let sql = format!(
            "select {CHAIN_COLUMNS} from audit_log where chain_pos > $1 order by chain_pos limit $2"
        );
        loop {
            let rows = crate::on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ChainRow>(&sql)
                .bind(after)
                .bind(page)
                .fetch_all(p)
                .await)?;
            let Some(last) = rows.last() else { break };
            after = last.chain_pos.unwrap_or(after);
            for r in &rows {
                if let Err(b) = v.push(&r.record(), r.hash.as_deref()) {
                    return Ok(Verdict::Broken(b));
                }
            }
            if (rows.len() as i64) < page {
                break;
            }
        }
        Ok(match v.finish() {
            Ok(n) => Verdict::Intact(n),
            Err(b) => Verdict::Broken(b),
        })
    }
}

impl super::Storage {
    /// Queues the anchor's e-mail to the auditor and audits that it was sent, in one
    /// transaction. The same anchor goes to the same address once (false the second time).
    pub async fn send_audit_anchor(
        &self,
        anchor: &Anchor,
        recipient: &str,
        mail: &crate::views::mail::Mail,
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
