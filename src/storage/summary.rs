//! The supervision summary (migration 0009): counts per (figure, Beijing day, key) kept by
//! triggers in the transaction of every change that moves them, as +1 / -1 rows that
//! [`Storage::compact_supervision_counts`] folds together. The dashboard sums these rows instead
//! of aggregating the applications; [`Storage::recomputed_supervision_counts`] is the same
//! figures straight from the tables, which the tests compare with.

use super::{Backend, DbResult, Storage};
use crate::{on_pool, on_tx};

/// The figures the summary keeps (see the migration for what each counts).
pub const FIGURES: &[&str] = &[
    "waiting",
    "due",
    "rounds",
    "unshipped",
    "decided",
    "reason",
    "windows",
    "breached",
];

/// One summed (figure, day, key).
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq, PartialOrd, Ord)]
pub struct FigureCount {
    pub figure: String,
    pub day: i64,
    pub key: String,
    pub n: i64,
}

/// Every figure computed from the tables themselves (the migration's backfill, the same SQL).
const RECOMPUTE: &str = " \
    select 'waiting' as figure, (received_at + 28800000) / 86400000 as day, '' as key, count(*) as \
        n \
    from applications \
    where status in ('submitted', 'in_review', 'awaiting_approval') \
    group by (received_at + 28800000) / 86400000 \
    union all select 'due', (review_due_at + 28800000) / 86400000, '', count(*) \
    from applications \
    where status in ('submitted', 'in_review', 'awaiting_approval') \
    group by (review_due_at + 28800000) / 86400000 \
    union all select 'rounds', (submitted_at + 28800000) / 86400000, cast(version as text), \
        count(*) \
    from applications \
    group by (submitted_at + 28800000) / 86400000, version \
    union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', count(*) \
    from applications a \
    join decisions d on d.application_id = a.application_id and d.version = a.version \
    where a.status in ('accepted', 'in_production') and d.outcome = 'accepted' \
    group by (d.decided_at + 28800000) / 86400000 \
    union all select 'decided', (decided_at + 28800000) / 86400000, decided_by, count(*) \
    from decisions \
    group by (decided_at + 28800000) / 86400000, decided_by \
    union all select 'reason', (d.decided_at + 28800000) / 86400000, r.code, count(*) \
    from decisions d \
    join decision_reasons r on r.decision_id = d.decision_id \
    group by (d.decided_at + 28800000) / 86400000, r.code \
    union all select 'windows', (due_at + 28800000) / 86400000, '', count(*) \
    from review_windows \
    group by (due_at + 28800000) / 86400000 \
    union all select 'breached', (due_at + 28800000) / 86400000, '', count(*) \
    from sla_breaches \
    group by (due_at + 28800000) / 86400000 \
    union all select 'breached', (w.due_at + 28800000) / 86400000, '', count(*) \
    from review_windows w \
    where w.decided_at > w.due_at and not exists (select 1 from sla_breaches b where \
        b.application_id = w.application_id and b.version = w.version) \
    group by (w.due_at + 28800000) / 86400000";

/// `'a', 'b'` for figure names (constants of this module, never user input).
fn figure_list(figures: &[&str]) -> String {
    figures
        .iter()
        .map(|f| {
            assert!(FIGURES.contains(f), "a summary figure: {f}");
            format!("'{f}'")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Storage {
    /// The summed counts of `figures` on days [from_day, to_day), zero sums left out.
    pub async fn summary_counts(
        &self,
        figures: &[&str],
        from_day: i64,
        to_day: i64,
    ) -> DbResult<Vec<FigureCount>> {
        let sql = format!(
            "select figure, day, key, cast(sum(n) as bigint) as n \
            from supervision_counts \
            where figure in ({}) and day >= $1 and day < $2 \
            group by figure, day, key \
            having sum(n) <> 0 \
            order by figure, day, key",
            figure_list(figures)
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, FigureCount>(&sql)
            .bind(from_day)
            .bind(to_day)
            .fetch_all(p)
            .await)
    }

    /// The whole summary, summed (for the tests and the benchmark's check).
    pub async fn all_supervision_counts(&self) -> DbResult<Vec<FigureCount>> {
        self.summary_counts(FIGURES, i64::MIN, i64::MAX).await
    }

    /// The same figures computed from the tables, as the summary should hold them.
    pub async fn recomputed_supervision_counts(&self) -> DbResult<Vec<FigureCount>> {
        let sql = format!(
            "select figure, day, key, cast(sum(n) as bigint) as n \
            from ({RECOMPUTE}) x \
            group by figure, day, key \
            having sum(n) <> 0 \
            order by figure, day, key"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, FigureCount>(&sql)
            .fetch_all(p)
            .await)
    }

    /// Folds the +1 / -1 rows into one row per (figure, day, key), dropping zero sums; returns
    /// how many rows it wrote or removed. Safe to run on several instances at once: on PostgreSQL the delete
    /// hands exactly the rows it removed to the insert (rows another run removed first are not
    /// seen twice); on SQLite the write transaction runs alone.
    pub async fn compact_supervision_counts(&self) -> DbResult<u64> {
        let mut tx = self.begin().await?;
        let gone = match self.backend() {
            Backend::Postgres => on_tx!(&mut tx, |c| {
                sqlx::query(
                    "with groups as (select figure, day, key from supervision_counts group by \
                        figure, day, key having count(*) > 1), gone as (delete from \
                        supervision_counts s using groups g where s.figure = g.figure and s.day = \
                        g.day and s.key = g.key returning s.figure, s.day, s.key, s.n) insert into \
                        supervision_counts (figure, day, key, n) \
                    select figure, day, key, sum(n) \
                    from gone \
                    group by figure, day, key \
                    having sum(n) <> 0",
                )
                .execute(c)
                .await
                .map(|r| r.rows_affected())
            })?,
            Backend::Sqlite => {
                let last = on_tx!(&mut tx, |c| sqlx::query_scalar::<_, Option<i64>>(
                    "select max(count_id) from supervision_counts"
                )
                .fetch_one(c)
                .await)?
                .unwrap_or(0);
                on_tx!(&mut tx, |c| sqlx::query(
                    "insert into supervision_counts (figure, day, key, n) \
                    select figure, day, key, sum(n) \
                    from supervision_counts \
                    where count_id <= $1 \
                    group by figure, day, key \
                    having count(*) > 1 and sum(n) <> 0"
                )
                .bind(last)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
                on_tx!(&mut tx, |c| sqlx::query(
                    "delete \
                    from supervision_counts \
                    where count_id <= $1 and (figure, day, key) in (select figure, day, key from \
                        supervision_counts where count_id <= $1 group by figure, day, key having \
                        count(*) > 1)"
                )
                .bind(last)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?
            }
        };
        tx.commit().await?;
        Ok(gone)
    }
}
