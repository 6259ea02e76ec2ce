//! Quality sampling: decisions drawn for a second look and the supervisors' verdicts.

use super::{DbResult, Storage};
use crate::domain::ids::ApplicationId;
use crate::domain::sampling::Candidate;
use crate::on_pool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SampleRow {
    pub sample_id: i64,
    pub application_id: ApplicationId,
    pub reviewer: String,
    pub outcome: String,
    pub decided_at: i64,
    pub verdict: Option<String>,
    pub verdict_note: Option<String>,
    pub judged_by: Option<String>,
}

/// Samples judged and disagreed with, per reviewer or per reason.
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct Disagreement {
    pub key: String,
    pub judged: i64,
    pub disagreed: i64,
}

impl Storage {
    /// Decisions made in [from, to), the pool a week's sample is drawn from.
    pub async fn decisions_between(&self, from: i64, to: i64) -> DbResult<Vec<Candidate>> {
        let rows = on_pool!(self.read_pool(), |p| sqlx::query_as::<
            _,
            (i64, String, String),
        >(
            "select decision_id, application_id, decided_by \
            from decisions \
            where decided_at >= $1 and decided_at < $2 \
            order by decision_id"
        )
        .bind(from)
        .bind(to)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(decision_id, application_id, reviewer)| Candidate {
                decision_id,
                application_id,
                reviewer,
            })
            .collect())
    }

    /// Records drawn decisions; a decision drawn before stays as it was. Returns how many are new.
    /// The draw's audit record (`n` asked for) is written in the same transaction.
    pub async fn insert_samples(
        &self,
        drawn: &[Candidate],
        week: &str,
        (n, seed): (usize, i64),
        actor: &str,
        at: i64,
    ) -> DbResult<u64> {
        let mut tx = self.begin().await?;
        let mut added = 0;
        for c in drawn {
            added += crate::on_tx!(&mut tx, |t| {
                sqlx::query(
                    "insert into quality_samples (decision_id, application_id, reviewer, week, \
                        seed, drawn_by, drawn_at, created_at, updated_at) \
                    values ($1, $2, $3, $4, $5, $6, $7, $7, $7) \
                    on conflict (decision_id) do nothing",
                )
                .bind(c.decision_id)
                .bind(&c.application_id)
                .bind(&c.reviewer)
                .bind(week)
                .bind(seed)
                .bind(actor)
                .bind(at)
                .execute(t)
                .await
                .map(|r| r.rows_affected())
            })?;
        }
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor,
                action: "quality.sample_drawn",
                subject_type: "quality_week",
                subject_id: week,
                after: Some(&format!("n={n} seed={seed} added={added}")),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(added)
    }

    /// The samples of a week (its Monday), by reviewer.
    pub async fn samples_of_week(&self, week: &str) -> DbResult<Vec<SampleRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, SampleRow>(
                "select s.sample_id, s.application_id, s.reviewer, d.outcome, d.decided_at, \
                    s.verdict, s.verdict_note, s.judged_by \
                from quality_samples s \
                join decisions d on d.decision_id = s.decision_id \
                where s.week = $1 \
                order by s.reviewer, s.sample_id",
            )
            .bind(week)
            .fetch_all(p)
            .await
        })
    }

    /// A supervisor's verdict on a sample (may be changed later); false if there is no such sample.
    pub async fn record_verdict(
        &self,
        sample_id: i64,
        verdict: &str,
        note: &str,
        actor: &str,
        at: i64,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let before = crate::on_tx!(&mut tx, |p| sqlx::query_scalar::<_, Option<String>>(
            "select verdict from quality_samples where sample_id = $1"
        )
        .bind(sample_id)
        .fetch_optional(p)
        .await)?;
        let won = crate::on_tx!(&mut tx, |p| {
            sqlx::query(
                "update quality_samples \
                set verdict = $1, verdict_note = $2, judged_by = $3, judged_at = $4, updated_at = \
                    $4 \
                where sample_id = $5",
            )
            .bind(verdict)
            .bind(note)
            .bind(actor)
            .bind(at)
            .bind(sample_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1)
        })?;
        if won {
            super::audit::record(
                &mut tx,
                &super::audit::AuditEntry {
                    at,
                    actor,
                    action: "quality.verdict_recorded",
                    subject_type: "quality_sample",
                    subject_id: &sample_id.to_string(),
                    before: before.flatten().as_deref(),
                    after: Some(verdict),
                    ..Default::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(won)
    }

    /// Judged samples and disagreements per reviewer.
    pub async fn disagreement_by_reviewer(&self) -> DbResult<Vec<Disagreement>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, Disagreement>(
                "select reviewer as key, count(*) as judged, cast(coalesce(sum(case when verdict = \
                    'disagree' then 1 else 0 end), 0) as bigint) as disagreed \
                from quality_samples \
                where verdict is not null \
                group by reviewer \
                order by reviewer",
            )
            .fetch_all(p)
            .await
        })
    }

    /// Judged samples and disagreements per return reason (`accepted` for acceptances).
    pub async fn disagreement_by_reason(&self) -> DbResult<Vec<Disagreement>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, Disagreement>(
                "select coalesce(r.code, 'accepted') as key, count(*) as judged, \
                    cast(coalesce(sum(case when s.verdict = 'disagree' then 1 else 0 end), 0) as \
                    bigint) as disagreed \
                from quality_samples s \
                left \
                join decision_reasons r on r.decision_id = s.decision_id \
                where s.verdict is not null \
                group by coalesce(r.code, 'accepted') \
                order by 1",
            )
            .fetch_all(p)
            .await
        })
    }
}
