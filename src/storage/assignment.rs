//! Assignment's rows: the settings a supervisor saved, reviewers away, and the reads an
//! assignment makes inside its transaction (the next waiting application, the reviewers who may
//! take it with their open claims). Open claims are applications in review a reviewer holds.

use super::{DbResult, Exec, Storage, Tx};
use crate::domain::assignment::{Candidate, Rules};
use crate::domain::ids::ApplicationId;
use crate::{on_exec, on_pool, on_tx};

#[derive(sqlx::FromRow)]
struct RulesRow {
    enabled: bool,
    cap: i64,
}

/// The settings a supervisor saved, None before the first save.
pub async fn saved_rules(e: impl Into<Exec<'_>>) -> DbResult<Option<Rules>> {
    let row = on_exec!(e, |c| sqlx::query_as::<_, RulesRow>(
        "select enabled, cap from assignment_settings where id = 1"
    )
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|r| Rules {
        enabled: r.enabled,
        cap: r
            .cap
            .clamp(1, i64::from(crate::domain::assignment::MAX_CAP)) as u32,
    }))
}

pub async fn save_rules(tx: &mut Tx, r: &Rules, by: &str, at: i64) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into assignment_settings (id, enabled, cap, updated_by, updated_at) \
        values (1, $1, $2, $3, $4) \
        on conflict (id) do update set enabled = excluded.enabled, cap = excluded.cap, \
            updated_by = excluded.updated_by, updated_at = excluded.updated_at"
    )
    .bind(r.enabled)
    .bind(i64::from(r.cap))
    .bind(by)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The unclaimed waiting application with the nearest deadline. On PostgreSQL a row another
/// transaction holds (a reviewer claiming it this instant) is skipped rather than waited for;
/// on SQLite the write transaction already excludes every other.
pub async fn next_waiting(tx: &mut Tx) -> DbResult<Option<ApplicationId>> {
    const SQL: &str = "select application_id from applications \
        where status = 'submitted' and claimed_by is null \
        order by queue_rank, review_due_at, application_id limit 1";
    match tx {
        Tx::Sqlite(t) => {
            sqlx::query_scalar::<_, ApplicationId>(SQL)
                .fetch_optional(&mut **t)
                .await
        }
        Tx::Postgres(t) => {
            sqlx::query_scalar::<_, ApplicationId>(&format!("{SQL} for update skip locked"))
                .fetch_optional(&mut **t)
                .await
        }
    }
}

/// Reviewers who may be given work at `now` (role reviewer, not disabled, not away), each with
/// their open claims.
pub async fn candidates(tx: &mut Tx, now: i64) -> DbResult<Vec<Candidate>> {
    let rows = on_tx!(tx, |c| sqlx::query_as::<_, (String, i64)>(
        "select 'staff:' || s.username, \
            (select count(*) from applications a \
                where a.claimed_by = 'staff:' || s.username and a.status = 'in_review') \
        from staff s \
        where s.role = 'reviewer' and not s.disabled \
            and not exists (select 1 from reviewer_away w where w.username = s.username \
                and (w.until_at is null or w.until_at > $1)) \
        order by s.username"
    )
    .bind(now)
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(actor, open)| Candidate { actor, open })
        .collect())
}

/// A reviewer's absence as stored (it may have ended: see `until_at`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AwayRow {
    pub username: String,
    pub kind: String,
    pub until_at: Option<i64>,
    pub since_at: i64,
    pub set_by: String,
}

impl AwayRow {
    /// Whether the absence holds at `now`.
    pub fn holds_at(&self, now: i64) -> bool {
        self.until_at.is_none_or(|u| u > now)
    }
}

pub async fn away_of(e: impl Into<Exec<'_>>, username: &str) -> DbResult<Option<AwayRow>> {
    on_exec!(e, |c| sqlx::query_as::<_, AwayRow>(
        "select username, kind, until_at, since_at, set_by from reviewer_away where username = $1"
    )
    .bind(username)
    .fetch_optional(c)
    .await)
}

pub async fn set_away(
    tx: &mut Tx,
    username: &str,
    kind: &str,
    until_at: Option<i64>,
    by: &str,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into reviewer_away (username, kind, until_at, since_at, set_by) \
        values ($1, $2, $3, $4, $5) \
        on conflict (username) do update set kind = excluded.kind, until_at = excluded.until_at, \
            since_at = excluded.since_at, set_by = excluded.set_by"
    )
    .bind(username)
    .bind(kind)
    .bind(until_at)
    .bind(at)
    .bind(by)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends an absence; whether there was one.
pub async fn clear_away(tx: &mut Tx, username: &str) -> DbResult<bool> {
    on_tx!(tx, |c| sqlx::query(
        "delete from reviewer_away where username = $1"
    )
    .bind(username)
    .execute(c)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// One row of the supervisor's board: a reviewer, their open claims, their absence.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BoardRow {
    pub username: String,
    pub display_name: String,
    pub open: i64,
    pub away_kind: Option<String>,
    pub away_until: Option<i64>,
}

impl Storage {
    /// A member's open claims as (application, row version), nearest deadline first.
    pub async fn open_claims_of(&self, actor: &str) -> DbResult<Vec<(ApplicationId, i64)>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<
            _,
            (ApplicationId, i64),
        >(
            "select application_id, row_version from applications \
            where claimed_by = $1 and status = 'in_review' \
            order by review_due_at, application_id"
        )
        .bind(actor)
        .fetch_all(p)
        .await)
    }

    /// Every active reviewer with their open claims and any absence holding at `now`.
    pub async fn assignment_board(&self, now: i64) -> DbResult<Vec<BoardRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, BoardRow>(
            "select s.username, s.display_name, \
                (select count(*) from applications a \
                    where a.claimed_by = 'staff:' || s.username and a.status = 'in_review') \
                    as open, \
                w.kind as away_kind, w.until_at as away_until \
            from staff s \
            left join reviewer_away w on w.username = s.username \
                and (w.until_at is null or w.until_at > $1) \
            where s.role = 'reviewer' and not s.disabled \
            order by s.username"
        )
        .bind(now)
        .fetch_all(p)
        .await)
    }
}
