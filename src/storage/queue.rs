//! The reviewer queue and the application page's data. The queue reads the partial index
//! `applications_queue` (priority and deadline order over waiting applications only), pages by
//! keyset (priority, deadline, id) rather than offset, so the first and the thousandth page cost the same.

use super::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use super::{
    DbResult, Storage, Tx,
    applications::{Current, ScanRef},
};
use crate::domain::ids::ApplicationId;
use crate::domain::status::Status;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// `Submitted` or `InReview`; None: both.
    pub status: Option<Status>,
    /// Only applications whose deadline is before this instant.
    pub overdue_at: Option<i64>,
    /// Only applications claimed by this actor (`staff:<username>`).
    pub claimed_by: Option<String>,
    /// Only applications without a claim.
    pub unclaimed: bool,
    /// Only resubmissions (version > 1).
    pub resubmissions: bool,
    /// Only applications whose current version's pre-checks flagged something.
    pub with_findings: bool,
    /// An application id, hall reference, certificate serial or mobile number.
    pub search: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub application_id: ApplicationId,
    pub applicant_name: String,
    pub status: Status,
    pub version: i64,
    pub submitted_at: i64,
    pub received_at: i64,
    pub review_due_at: i64,
    pub payment_channel: String,
    pub claimed_by: Option<String>,
    /// Pre-check findings flagged on the current version.
    pub findings: i64,
    /// What a bulk action's checkbox carries, so that a change since the page was read is refused.
    pub row_version: i64,
    /// 0: a supervisor prioritised it (sorted first); 1: everything else.
    pub queue_rank: i64,
}

/// Flagged pre-check findings of the current version (indexed by application and flag).
const FLAGGED: &str = "(select count(*) from precheck_findings f where f.application_id = \
        applications.application_id and f.version = applications.version and f.flagged)";

/// The queue's order: prioritised first, then deadline, then id.
const QUEUE_ORDER: Order = Order {
    keys: &[
        ("queue_rank", Kind::Int),
        ("review_due_at", Kind::Int),
        ("application_id", Kind::Text),
    ],
    desc: false,
};

impl Keyed for QueueRow {
    fn key(&self) -> Vec<Bind> {
        vec![
            Bind::I(self.queue_rank),
            Bind::I(self.review_due_at),
            Bind::S(self.application_id.to_string()),
        ]
    }
}

impl Storage {
    /// One page of the queue in (priority, deadline, id) order, with the count of the whole filter.
    pub async fn queue_page(&self, f: &QueueFilter, req: &PageReq) -> DbResult<Page<QueueRow>> {
        let mut sql = Sql::new(format!(
            "select application_id, applicant_name, status, version, submitted_at, received_at, \
                review_due_at, payment_channel, claimed_by, {FLAGGED} as findings, row_version, \
                queue_rank \
            from applications \
            where status in ('submitted', 'in_review', 'awaiting_approval')",
        ));
        if let Some(s) = &f.status {
            sql.push(" and status = ?", [Bind::S(s.code().to_owned())]);
        }
        if let Some(t) = f.overdue_at {
            sql.push(" and review_due_at < ?", [Bind::I(t)]);
        }
        if let Some(c) = &f.claimed_by {
            sql.push(" and claimed_by = ?", [Bind::S(c.clone())]);
        }
        if f.unclaimed {
            sql.push(" and claimed_by is null", []);
        }
        if f.resubmissions {
            sql.push(" and version > 1", []);
        }
        if f.with_findings {
            sql.push(&format!(" and {FLAGGED} > 0"), []);
        }
        if let Some(q) = &f.search {
            let q = q.trim().to_owned();
            sql.push(
                " and (application_id = ? or hall_reference = ? or certificate_serial = ? or \
                    mobile = ?)",
                [
                    Bind::S(q.to_ascii_uppercase()),
                    Bind::S(q.clone()),
                    Bind::S(q.to_ascii_uppercase()),
                    Bind::S(q),
                ],
            );
        }
        self.page(&sql, &QUEUE_ORDER, &[], req).await
    }

    /// The first unclaimed waiting application, prioritised first, by deadline (the "next" key).
    pub async fn next_unclaimed(&self) -> DbResult<Option<ApplicationId>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar::<_, ApplicationId>(
                "select application_id \
                from applications \
                where status in ('submitted', 'in_review', 'awaiting_approval') and status = 'submitted' and claimed_by \
                    is null \
                order by queue_rank, review_due_at, application_id \
                limit 1",
            )
            .fetch_optional(p)
            .await
        })
    }
}

/// The application's queue rank (0: prioritised), read inside the caller's transaction.
pub async fn queue_rank(tx: &mut Tx, id: &ApplicationId) -> DbResult<Option<i64>> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "select queue_rank from applications where application_id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await
    })
}

/// Sets the queue rank if the row is still the version `seen` (a change like any other: the
/// row version moves on); false when someone changed it first.
pub async fn set_queue_rank(tx: &mut Tx, seen: &Current, rank: i64, at: i64) -> DbResult<bool> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update applications \
            set queue_rank = $1, row_version = row_version + 1, updated_at = $2 \
            where application_id = $3 and row_version = $4",
        )
        .bind(rank)
        .bind(at)
        .bind(&seen.application_id)
        .bind(seen.row_version)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Everything the application page shows.
#[derive(Debug, Clone)]
pub struct ReviewDetail {
    pub row: DetailRow,
    pub body: String,
    pub previous_body: Option<String>,
    pub scans: Vec<ScanRef>,
    pub previous_scans: Vec<ScanRef>,
    pub events: Vec<EventRow>,
    pub decisions: Vec<DecisionRow>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DetailRow {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub certificate_serial: String,
    pub status: Status,
    pub version: i64,
    pub row_version: i64,
    pub submitted_at: i64,
    pub received_at: i64,
    pub review_due_at: i64,
    pub claimed_by: Option<String>,
    pub payment_state: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub at: i64,
    pub status: Status,
    pub actor: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub decision_id: i64,
    pub version: i64,
    pub outcome: String,
    pub decided_by: String,
    pub decided_at: i64,
    pub note: Option<String>,
    pub reasons: String,
}

impl Storage {
    pub async fn review_detail(&self, id: &ApplicationId) -> DbResult<Option<ReviewDetail>> {
        let row = on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, DetailRow>(
                "select application_id, hall_reference, certificate_serial, status, version, \
                    row_version, submitted_at, received_at, review_due_at, claimed_by, \
                    payment_state \
                from applications \
                where application_id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        let Some(row) = row else { return Ok(None) };
        let body_of = |v: i64| super::applications::find_version_body(self.read_pool(), id, v);
        let body = body_of(row.version).await?.unwrap_or_default();
        let (previous_body, previous_scans) = if row.version > 1 {
            (
                body_of(row.version - 1).await?,
                self.scans(id, row.version - 1).await?,
            )
        } else {
            (None, Vec::new())
        };
        let scans = self.scans(id, row.version).await?;
        let events = on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, EventRow>(
                "select at, status, actor, note \
                from application_events \
                where application_id = $1 \
                order by at, event_id",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })?;
        // Reasons folded into one text per decision: "code: text" lines.
        let decisions = on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, DecisionRow>(
                "select d.decision_id, d.version, d.outcome, d.decided_by, d.decided_at, d.note, \
                    coalesce((select string_agg(r.code || ': ' || r.text_shown, ' ' order by \
                    r.position) from decision_reasons r where r.decision_id = d.decision_id), '') \
                    as reasons \
                from decisions d \
                where d.application_id = $1 \
                order by d.decided_at, d.decision_id",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })?;
        Ok(Some(ReviewDetail {
            row,
            body,
            previous_body,
            scans,
            previous_scans,
            events,
            decisions,
        }))
    }
}
