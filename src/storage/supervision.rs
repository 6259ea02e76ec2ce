//! The supervision dashboard's and the reports' figures: every one an aggregate computed by the
//! database over indexed columns, so the page costs the same with a million applications.
//! Days are Beijing days numbered from the epoch: `(ms + 8h) / 24h` in both databases.

use super::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use super::{DbResult, Storage};
use crate::domain::ids::ApplicationId;
use crate::domain::status::Status;
use crate::on_pool;
use futures_util::TryStreamExt;

/// `(ms + 8 h) / 1 day`: the Beijing day number of an instant, the same integer on both backends.
const BJ_DAY: &str = "28800000) / 86400000";

/// Applications waiting for review.
const WAITING: &str = "status in ('submitted', 'in_review', 'awaiting_approval')";

/// The breach register: windows missed, recorded by the sweep or decided late.
const BREACH_BASE: &str = "select x.application_id, x.version, a.applicant_name, \
        coalesce(v.received_at, a.received_at) as received_at, x.due_at, w.decided_at, \
        d.decided_by, a.status, x.application_id || '/' || cast(x.version as text) as row_key \
    from (select application_id, version, due_at from sla_breaches where due_at >= $1 and due_at < \
        $2 union select application_id, version, due_at from review_windows where due_at >= $1 and \
        due_at < $2 and decided_at > due_at) x \
    join applications a on a.application_id = x.application_id \
    left \
    join application_versions v on v.application_id = x.application_id and v.version = x.version \
    left \
    join review_windows w on w.application_id = x.application_id and w.version = x.version \
    left \
    join decisions d on d.application_id = x.application_id and d.version = x.version";

/// The shipment register: parcels created in a period.
const SHIPMENT_BASE: &str = "select s.order_no, s.application_id, a.applicant_name, s.courier, \
        s.waybill, s.state, s.created_at, s.shipped_at \
    from shipments s \
    join applications a on a.application_id = s.application_id \
    where s.created_at >= $1 and s.created_at < $2";

/// The registers' orders: by deadline, by creation.
const BREACH_ORDER: Order = Order {
    keys: &[("due_at", Kind::Int), ("row_key", Kind::Text)],
    desc: false,
};
const SHIPMENT_ORDER: Order = Order {
    keys: &[("created_at", Kind::Int), ("order_no", Kind::Text)],
    desc: false,
};

impl Keyed for BreachEntry {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.due_at), Bind::S(self.row_key.clone())]
    }
}

impl Keyed for ShipmentEntry {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.created_at), Bind::S(self.order_no.clone())]
    }
}

/// A register's `select` for [from, to) (its `$1`, `$2`), ready to page.
fn register(base: &str, from: i64, to: i64) -> Sql {
    Sql {
        text: base.to_owned(),
        binds: vec![Bind::I(from), Bind::I(to)],
    }
}

/// Which applications a figure stands for (the list behind a figure on the dashboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Figure {
    /// Waiting, received in [from, to).
    Waiting { from: i64, to: i64 },
    /// Waiting, due in [from, to).
    Due { from: i64, to: i64 },
    /// Decided by a reviewer in [from, to).
    DecidedBy {
        reviewer: String,
        from: i64,
        to: i64,
    },
    /// Returned for a reason in [from, to).
    Reason { code: String, from: i64, to: i64 },
    /// Submitted in [from, to) and needing this many rounds (`rounds` ≥ 5 means five or more).
    Rounds { rounds: i64, from: i64, to: i64 },
    /// Accepted (not shipped yet), accepted in [from, to).
    Unshipped { from: i64, to: i64 },
    /// A review window breached, deadline in [from, to).
    Breached { from: i64, to: i64 },
    /// A review window (closed, or open and waiting) with its deadline in [from, to).
    Deadline { from: i64, to: i64 },
    /// Submitted in [from, to) and resubmitted at least once.
    Resubmitted { from: i64, to: i64 },
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FigureRow {
    pub application_id: ApplicationId,
    pub applicant_name: String,
    pub status: Status,
    pub version: i64,
    pub received_at: i64,
    pub review_due_at: i64,
    pub claimed_by: Option<String>,
    /// The instant the list is sorted by, and what tells the row from others at that instant.
    pub sort_at: i64,
    pub row_key: String,
}

/// A figure's list: oldest first.
const FIGURE_ORDER: Order = Order {
    keys: &[("sort_at", Kind::Int), ("row_key", Kind::Text)],
    desc: false,
};

impl Keyed for FigureRow {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.sort_at), Bind::S(self.row_key.clone())]
    }
}

/// One (day, key, count) of a grouped figure; `key` is empty when grouped by day only.
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct DayCount {
    pub day: i64,
    pub key: String,
    pub n: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct KeyCount {
    pub key: String,
    pub n: i64,
}

/// A reviewer's decisions over a period (the workload report).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Workload {
    pub reviewer: String,
    pub accepted: i64,
    pub returned: i64,
    pub late: i64,
}

/// A breach in the register.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BreachEntry {
    pub application_id: ApplicationId,
    pub version: i64,
    pub applicant_name: String,
    pub received_at: i64,
    pub due_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub status: Status,
    /// Application and round: what tells two windows with one deadline apart.
    pub row_key: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShipmentEntry {
    pub order_no: String,
    pub application_id: ApplicationId,
    pub applicant_name: String,
    pub courier: String,
    pub waybill: Option<String>,
    pub state: String,
    pub created_at: i64,
    pub shipped_at: Option<i64>,
}

impl Storage {
    /// Return reasons given in [from, to), most frequent first.
    pub async fn reason_counts(&self, from: i64, to: i64) -> DbResult<Vec<KeyCount>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, KeyCount>(
                "select r.code as key, count(*) as n \
                from decisions d \
                join decision_reasons r using (decision_id) \
                where d.decided_at >= $1 and d.decided_at < $2 \
                group by r.code \
                order by 2 desc, 1",
            )
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await
        })
    }

    /// Applications (first) submitted per day in [from, to).
    pub async fn submitted_per_day(&self, from: i64, to: i64) -> DbResult<Vec<DayCount>> {
        let sql = format!(
            "select (submitted_at + {BJ_DAY} as day, '' as key, count(*) as n from applications \
                where submitted_at >= $1 and submitted_at < $2 group by (submitted_at + {BJ_DAY} \
                order by 1"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DayCount>(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await)
    }

    /// Decisions per day and outcome (`accepted`, `returned`).
    pub async fn decisions_per_day(&self, from: i64, to: i64) -> DbResult<Vec<DayCount>> {
        let sql = format!(
            "select (decided_at + {BJ_DAY} as day, outcome as key, count(*) as n from decisions \
                where decided_at >= $1 and decided_at < $2 group by (decided_at + {BJ_DAY}, \
                outcome order by 1, 2"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DayCount>(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await)
    }

    /// Breaches (recorded, or decided late) per day of the deadline, and shipments per day
    /// shipped, in [from, to).
    pub async fn breaches_and_shipments_per_day(
        &self,
        from: i64,
        to: i64,
    ) -> DbResult<Vec<DayCount>> {
        let sql = format!(
            "select (due_at + {BJ_DAY} as day, 'breached' as key, count(*) as n from (select \
                application_id, version, due_at from sla_breaches where due_at >= $1 and due_at < \
                $2 union select application_id, version, due_at from review_windows where due_at \
                >= $1 and due_at < $2 and decided_at > due_at) x group by (due_at + {BJ_DAY} union \
                all select (shipped_at + {BJ_DAY} as day, 'shipped' as key, count(*) as n from \
                shipments where shipped_at >= $1 and shipped_at < $2 group by (shipped_at + \
                {BJ_DAY} order by 1, 2"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, DayCount>(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await)
    }

    /// Decisions per reviewer in [from, to); late = decided after the window's deadline.
    pub async fn workload(&self, from: i64, to: i64) -> DbResult<Vec<Workload>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, Workload>(
                "select d.decided_by as reviewer, cast(coalesce(sum(case when d.outcome = \
                    'accepted' then 1 else 0 end), 0) as bigint) as accepted, \
                    cast(coalesce(sum(case when d.outcome = 'returned' then 1 else 0 end), 0) as \
                    bigint) as returned, cast(coalesce(sum(case when w.decided_at > w.due_at then \
                    1 else 0 end), 0) as bigint) as late \
                from decisions d \
                left \
                join review_windows w on w.application_id = d.application_id and w.version = \
                    d.version \
                where d.decided_at >= $1 and d.decided_at < $2 \
                group by d.decided_by \
                order by d.decided_by",
            )
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await
        })
    }

    /// Windows whose deadline in [from, to) was missed: recorded by the sweep, or decided late.
    /// Each row is handed to `f` as the database returns it; `f` returns false to stop.
    pub async fn breach_register_each(
        &self,
        from: i64,
        to: i64,
        limit: i64,
        f: impl FnMut(BreachEntry) -> bool,
    ) -> DbResult<()> {
        let sql = format!("{BREACH_BASE} order by x.due_at, row_key limit $3");
        self.register_each(&sql, from, to, limit, f).await
    }

    /// Streams a register's rows of [from, to) (`$1`, `$2`, at most `$3`) into `f`.
    async fn register_each<T>(
        &self,
        sql: &str,
        from: i64,
        to: i64,
        limit: i64,
        mut f: impl FnMut(T) -> bool,
    ) -> DbResult<()>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        on_pool!(self.read_pool(), |p| {
            let mut rows = sqlx::query_as::<_, T>(sql)
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch(p);
            while let Some(e) = rows.try_next().await? {
                if !f(e) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// One page of the breach register of [from, to), with its whole count.
    pub async fn breach_register_page(
        &self,
        from: i64,
        to: i64,
        req: &PageReq,
    ) -> DbResult<Page<BreachEntry>> {
        let sql = register(BREACH_BASE, from, to);
        self.page(&sql, &BREACH_ORDER, &[], req).await
    }

    /// One page of the shipment register of [from, to), with its whole count.
    pub async fn shipment_register_page(
        &self,
        from: i64,
        to: i64,
        req: &PageReq,
    ) -> DbResult<Page<ShipmentEntry>> {
        let sql = register(SHIPMENT_BASE, from, to);
        self.page(&sql, &SHIPMENT_ORDER, &[], req).await
    }

    /// Parcels created in [from, to), by order number, each handed to `f` as it comes (false
    /// stops).
    pub async fn shipment_register_each(
        &self,
        from: i64,
        to: i64,
        limit: i64,
        f: impl FnMut(ShipmentEntry) -> bool,
    ) -> DbResult<()> {
        let sql = format!("{SHIPMENT_BASE} order by s.created_at, s.order_no limit $3");
        self.register_each(&sql, from, to, limit, f).await
    }

    /// The applications behind a figure, oldest first: one row per thing counted (a decision, a
    /// reason given, a breached window), so the list is as long as the figure; one page of it.
    pub async fn figure_applications(
        &self,
        f: &Figure,
        req: &PageReq,
    ) -> DbResult<Page<FigureRow>> {
        let (i, s) = (Bind::I, |v: &String| Bind::S(v.clone()));
        // What follows `select`'s columns, the sort instant and the unique key of a row.
        let (tail, sort, key, binds): (String, &str, &str, Vec<Bind>) = match f {
            Figure::Waiting { from, to } => (
                format!(
                    "from applications a where a.{WAITING} and a.received_at >= ? and \
                    a.received_at < ?"
                ),
                "a.received_at",
                "a.application_id",
                vec![i(*from), i(*to)],
            ),
            Figure::Due { from, to } => (
                format!(
                    "from applications a where a.{WAITING} and a.review_due_at >= ? and \
                    a.review_due_at < ?"
                ),
                "a.review_due_at",
                "a.application_id",
                vec![i(*from), i(*to)],
            ),
            Figure::DecidedBy { reviewer, from, to } => (
                "from applications a join decisions d on d.application_id = a.application_id \
                    where d.decided_at >= ? and d.decided_at < ? and d.decided_by = ?"
                    .into(),
                "a.received_at",
                "a.application_id || '/' || cast(d.decision_id as text)",
                vec![i(*from), i(*to), s(reviewer)],
            ),
            Figure::Reason { code, from, to } => (
                "from applications a join decisions d on d.application_id = a.application_id \
                    join decision_reasons r on r.decision_id = d.decision_id where d.decided_at \
                    >= ? and d.decided_at < ? and r.code = ?"
                    .into(),
                "a.received_at",
                "a.application_id || '/' || cast(d.decision_id as text) || '/' || \
                    cast(r.position as text)",
                vec![i(*from), i(*to), s(code)],
            ),
            Figure::Rounds { rounds, from, to } => (
                "from applications a where a.submitted_at >= ? and a.submitted_at < ? and \
                    (a.version = ? or (? >= 5 and a.version >= 5))"
                    .into(),
                "a.received_at",
                "a.application_id",
                vec![i(*from), i(*to), i(*rounds), i(*rounds)],
            ),
            Figure::Unshipped { from, to } => (
                "from applications a join decisions d on d.application_id = a.application_id \
                    and d.version = a.version where a.status in ('accepted', 'in_production') \
                    and d.outcome = 'accepted' and d.decided_at >= ? and d.decided_at < ?"
                    .into(),
                "d.decided_at",
                "a.application_id || '/' || cast(d.decision_id as text)",
                vec![i(*from), i(*to)],
            ),
            Figure::Breached { from, to } => (
                "from applications a join (select application_id, version from sla_breaches \
                    where due_at >= ? and due_at < ? union select application_id, version from \
                    review_windows where due_at >= ? and due_at < ? and decided_at > due_at) x \
                    on x.application_id = a.application_id"
                    .into(),
                "a.received_at",
                "a.application_id || '/' || cast(x.version as text)",
                vec![i(*from), i(*to), i(*from), i(*to)],
            ),
            Figure::Deadline { from, to } => (
                format!(
                    "from applications a join (select application_id, 'w' || cast(version as \
                    text) as part from review_windows where due_at >= ? and due_at < ? union all \
                    select application_id, 'a' as part from applications where {WAITING} and \
                    review_due_at >= ? and review_due_at < ?) x on x.application_id = \
                    a.application_id"
                ),
                "a.received_at",
                "a.application_id || '/' || x.part",
                vec![i(*from), i(*to), i(*from), i(*to)],
            ),
            Figure::Resubmitted { from, to } => (
                "from applications a where a.submitted_at >= ? and a.submitted_at < ? and \
                    a.version >= 2"
                    .into(),
                "a.received_at",
                "a.application_id",
                vec![i(*from), i(*to)],
            ),
        };
        let mut sql = Sql::new(format!(
            "select a.application_id, a.applicant_name, a.status, a.version, a.received_at, \
                a.review_due_at, a.claimed_by, {sort} as sort_at, {key} as row_key "
        ));
        sql.push(&tail, binds);
        self.page(&sql, &FIGURE_ORDER, &[], req).await
    }
}
