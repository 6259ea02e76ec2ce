//! The review SLA's data: overdue windows to escalate, what is due when, breaches and
//! compliance, and the addresses the reminders go to.

use super::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use super::{DbResult, Storage, Tx};
use crate::domain::ids::ApplicationId;
use crate::domain::status::Status;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueRow {
    pub application_id: ApplicationId,
    pub applicant_name: String,
    pub version: i64,
    pub review_due_at: i64,
    pub claimed_by: Option<String>,
}

const DUE_COLUMNS: &str = "application_id, applicant_name, version, review_due_at, claimed_by";

/// Due lists: by deadline, then id.
const DUE_ORDER: Order = Order {
    keys: &[("review_due_at", Kind::Int), ("application_id", Kind::Text)],
    desc: false,
};

/// Breaches: newest deadline first (an application's window is breached once per round).
const BREACH_ORDER: Order = Order {
    keys: &[
        ("due_at", Kind::Int),
        ("version", Kind::Int),
        ("application_id", Kind::Text),
    ],
    desc: true,
};

impl Keyed for DueRow {
    fn key(&self) -> Vec<Bind> {
        vec![
            Bind::I(self.review_due_at),
            Bind::S(self.application_id.to_string()),
        ]
    }
}

impl Keyed for BreachRow {
    fn key(&self) -> Vec<Bind> {
        vec![
            Bind::I(self.due_at),
            Bind::I(self.version),
            Bind::S(self.application_id.to_string()),
        ]
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub username: String,
    pub display_name: String,
    pub email: String,
}

impl Storage {
    /// Overdue review windows not escalated yet (the partial index `applications_to_escalate`).
    pub async fn overdue_unescalated(&self, now: i64, limit: i64) -> DbResult<Vec<DueRow>> {
        let sql = format!(
            "select {DUE_COLUMNS} \
            from applications \
            where status in ('submitted', 'in_review', 'awaiting_approval') and escalated_version < version and \
                review_due_at < $1 \
            order by review_due_at, application_id \
            limit $2"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DueRow>(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await)
    }

    /// Waiting applications due in [from, to), by deadline; at most `limit`.
    pub async fn due_between(&self, from: i64, to: i64, limit: i64) -> DbResult<Vec<DueRow>> {
        let req = PageReq::first(limit);
        Ok(self.due_between_page(from, to, &req).await?.rows)
    }

    /// One page of the waiting applications due in [from, to), by deadline, with their count.
    pub async fn due_between_page(
        &self,
        from: i64,
        to: i64,
        req: &PageReq,
    ) -> DbResult<Page<DueRow>> {
        let mut sql = Sql::new(format!("select {DUE_COLUMNS} from applications"));
        sql.push(
            " where status in ('submitted', 'in_review', 'awaiting_approval') and review_due_at >= ? and \
                review_due_at < ?",
            [Bind::I(from), Bind::I(to)],
        );
        self.page(&sql, &DUE_ORDER, &[], req).await
    }

    /// How many waiting applications are due in [from, to).
    pub async fn count_due_between(&self, from: i64, to: i64) -> DbResult<i64> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar::<_, i64>(
                "select count(*) \
                from applications \
                where status in ('submitted', 'in_review', 'awaiting_approval') and review_due_at >= $1 and \
                    review_due_at < $2",
            )
            .bind(from)
            .bind(to)
            .fetch_one(p)
            .await
        })
    }

    /// A reviewer's claimed applications due before `to` (overdue ones included).
    pub async fn claimed_due_before(
        &self,
        actor: &str,
        to: i64,
        limit: i64,
    ) -> DbResult<Vec<DueRow>> {
        let sql = format!(
            "select {DUE_COLUMNS} \
            from applications \
            where status in ('submitted', 'in_review', 'awaiting_approval') and claimed_by = $1 and review_due_at < $2 \
            order by review_due_at \
            limit $3"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DueRow>(&sql)
            .bind(actor)
            .bind(to)
            .bind(limit)
            .fetch_all(p)
            .await)
    }

    /// Unclaimed waiting applications by deadline.
    pub async fn unclaimed_by_deadline(&self, limit: i64) -> DbResult<Vec<DueRow>> {
        let sql = format!(
            "select {DUE_COLUMNS} \
            from applications \
            where status in ('submitted', 'in_review', 'awaiting_approval') and claimed_by is null \
            order by review_due_at, application_id \
            limit $1"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DueRow>(&sql)
            .bind(limit)
            .fetch_all(p)
            .await)
    }

    /// Active staff of a role with an e-mail address.
    pub async fn recipients(&self, role: &str) -> DbResult<Vec<Recipient>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, Recipient>(
                "select username, display_name, email \
                from staff \
                where role = $1 and not disabled and email is not null and email <> '' \
                order by username",
            )
            .bind(role)
            .fetch_all(p)
            .await
        })
    }

    /// Breaches whose deadline fell in [from, to), newest first; at most `limit`.
    pub async fn breaches_between(
        &self,
        from: i64,
        to: i64,
        limit: i64,
    ) -> DbResult<Vec<BreachRow>> {
        let req = PageReq::first(limit);
        Ok(self.breaches_between_page(from, to, &req).await?.rows)
    }

    /// One page of the breaches whose deadline fell in [from, to), newest first, with their
    /// count.
    pub async fn breaches_between_page(
        &self,
        from: i64,
        to: i64,
        req: &PageReq,
    ) -> DbResult<Page<BreachRow>> {
        let mut sql = Sql::new(
            "select b.application_id, b.version, b.due_at, b.recorded_at, a.applicant_name, \
                a.status, a.claimed_by \
            from sla_breaches b \
            join applications a on a.application_id = b.application_id",
        );
        sql.push(
            " where b.due_at >= ? and b.due_at < ?",
            [Bind::I(from), Bind::I(to)],
        );
        self.page(&sql, &BREACH_ORDER, &[], req).await
    }

    /// Review windows whose deadline fell in [from, to): (all, breached). A window counts once
    /// it was decided or its deadline passed.
    pub async fn sla_counts(&self, from: i64, to: i64) -> DbResult<(i64, i64)> {
        let decided = on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from review_windows where due_at >= $1 and due_at < $2"
        )
        .bind(from)
        .bind(to)
        .fetch_one(p)
        .await)?;
        let open_overdue = self.count_due_between(from, to).await?;
        // Breached: recorded by the sweep, or decided after the deadline before a sweep saw it.
        let breached = on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar::<_, i64>(
                "select (select count(*) from sla_breaches where due_at >= $1 and due_at < $2) + \
                    (select count(*) from review_windows w where w.due_at >= $1 and w.due_at < $2 \
                    and w.decided_at > w.due_at and not exists (select 1 from sla_breaches b where \
                    b.application_id = w.application_id and b.version = w.version))",
            )
            .bind(from)
            .bind(to)
            .fetch_one(p)
            .await
        })?;
        Ok((decided + open_overdue, breached))
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BreachRow {
    pub application_id: ApplicationId,
    pub version: i64,
    pub due_at: i64,
    pub recorded_at: i64,
    pub applicant_name: String,
    pub status: Status,
    pub claimed_by: Option<String>,
}

/// Marks one window escalated and records its breach; false if another worker did already.
pub async fn record_breach(tx: &mut Tx, d: &DueRow, at: i64) -> DbResult<bool> {
    let won = on_tx!(tx, |c| {
        sqlx::query(
            "update applications \
            set escalated_version = version \
            where application_id = $1 and version = $2 and escalated_version < version and status \
                in ('submitted', 'in_review', 'awaiting_approval') and review_due_at = $3",
        )
        .bind(&d.application_id)
        .bind(d.version)
        .bind(d.review_due_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })?;
    if won {
        on_tx!(tx, |c| {
            sqlx::query(
                "insert into sla_breaches (application_id, version, due_at, recorded_at) \
                values ($1, $2, $3, $4) \
                on conflict do nothing",
            )
            .bind(&d.application_id)
            .bind(d.version)
            .bind(d.review_due_at)
            .bind(at)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    Ok(won)
}

/// Closes a review window (accept or return) for the compliance figures.
pub async fn close_window(
    tx: &mut Tx,
    application_id: &ApplicationId,
    version: i64,
    due_at: i64,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into review_windows (application_id, version, due_at, decided_at) \
            values ($1, $2, $3, $4) \
            on conflict do nothing",
        )
        .bind(application_id)
        .bind(version)
        .bind(due_at)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}
