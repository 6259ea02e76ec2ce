//! The hotline desk's reads and its two writes (a caller's verification, a call note).

use super::audit::AuditRow;
use super::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use super::{DbResult, Exec, Storage, Tx};
use crate::domain::ids::ApplicationId;
use crate::domain::status::Status;
use crate::{on_exec, on_pool, on_tx};

/// What the agent typed, as understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HotlineQuery {
    Id(String),
    Mobile(String),
    /// A hall reference or a certificate serial.
    Reference(String),
    /// A name and the last four characters of the ID number.
    NameLast4(String, String),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HotlineRow {
    pub application_id: ApplicationId,
    pub applicant_name: String,
    pub status: Status,
    pub received_at: i64,
    pub created_at: i64,
}

const ROW: &str = "application_id, applicant_name, status, received_at, created_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HotlineApp {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub status: Status,
    pub version: i64,
    pub applicant_name: String,
    pub id_type: String,
    pub id_number: String,
    pub mobile: String,
    pub submitted_at: i64,
    pub received_at: i64,
    pub review_due_at: i64,
    pub updated_at: i64,
    pub body: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Verification {
    pub at: i64,
    pub agent: String,
    pub method: String,
    pub matched: bool,
}

impl Keyed for AuditRow {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.audit_id)]
    }
}

impl Storage {
    /// Matching applications, newest first.
    pub async fn hotline_search(&self, q: &HotlineQuery, limit: i64) -> DbResult<Vec<HotlineRow>> {
        let (clause, a, b) = match q {
            HotlineQuery::Id(v) => ("application_id = $1", v.clone(), String::new()),
            HotlineQuery::Mobile(v) => ("mobile = $1", v.clone(), String::new()),
            HotlineQuery::Reference(v) => (
                "(hall_reference = $1 or certificate_serial = upper($1))",
                v.clone(),
                String::new(),
            ),
            HotlineQuery::NameLast4(n, l) => (
                "applicant_name = $1 and substr(id_number, length(id_number) - 3, 4) = upper($2)",
                n.clone(),
                l.clone(),
            ),
        };
        let binds_b = matches!(q, HotlineQuery::NameLast4(..));
        let sql = format!(
            "select {ROW} from applications where {clause} order by created_at desc limit {limit}"
        );
        on_pool!(self.read_pool(), |p| {
            let mut query = sqlx::query_as::<_, HotlineRow>(&sql).bind(a.clone());
            if binds_b {
                query = query.bind(b.clone());
            }
            query.fetch_all(p).await
        })
    }

    pub async fn hotline_app(&self, id: &ApplicationId) -> DbResult<Option<HotlineApp>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, HotlineApp>(
                "select a.application_id, a.hall_reference, a.status, a.version, a.applicant_name, \
                    a.id_type, a.id_number, a.mobile, a.submitted_at, a.received_at, \
                    a.review_due_at, a.updated_at, v.body \
                from applications a \
                join application_versions v on v.application_id = a.application_id and v.version = \
                    a.version \
                where a.application_id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })
    }

    pub async fn verifications(&self, id: &ApplicationId) -> DbResult<Vec<Verification>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, Verification>(
                "select at, agent, method, matched \
                from hotline_verifications \
                where application_id = $1 \
                order by at desc, verification_id desc \
                limit 10",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })
    }

    /// An application's failed caller checks since `since`.
    pub async fn failed_verifications_since(
        &self,
        id: &ApplicationId,
        since: i64,
    ) -> DbResult<i64> {
        failed_verifications_in(self.read_pool(), id, since).await
    }

    /// The look-ups (for supervisors), latest first, a page at a time with their count: who,
    /// when, the query, what was shown.
    pub async fn recent_lookups(&self, req: &PageReq) -> DbResult<Page<AuditRow>> {
        let sql = Sql::new(
            "select audit_id, at, actor, action, subject_type, subject_id, before_state, \
                after_state, request_id \
            from audit_log \
            where action in ('hotline.searched', 'hotline.throttled')",
        );
        let order = Order {
            keys: &[("audit_id", Kind::Int)],
            desc: true,
        };
        self.page(&sql, &order, &[], req).await
    }

    /// How many look-ups, views and checks an agent made since `since`, counted up to `cap` (the limit) only.
    pub async fn lookups_since(&self, actor: &str, since: i64, cap: i64) -> DbResult<i64> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar::<_, i64>(
                "select count(*) \
                from (select 1 from audit_log where actor = $1 and action in ('hotline.searched', \
                    'hotline.viewed', 'hotline.verified') and at >= $2 limit $3) as recent",
            )
            .bind(actor)
            .bind(since)
            .bind(cap)
            .fetch_one(p)
            .await
        })
    }

    /// Look-ups and views per agent and Beijing day since `since`: (agent, day number, look-ups, views).
    pub async fn lookups_by_agent_and_day(
        &self,
        since: i64,
    ) -> DbResult<Vec<(String, i64, i64, i64)>> {
        #[derive(sqlx::FromRow)]
        struct LookupRow {
            actor: String,
            day: i64,
            searches: i64,
            views: i64,
        }
        let rows = on_pool!(self.read_pool(), |p| sqlx::query_as::<_, LookupRow>(
            "select actor, (at + 28800000) / 86400000 as day, sum(case when action = \
                'hotline.searched' then 1 else 0 end) as searches, sum(case when action = \
                'hotline.viewed' then 1 else 0 end) as views \
            from audit_log \
            where action in ('hotline.searched', 'hotline.viewed') and at >= $1 \
            group by actor, (at + 28800000) / 86400000 \
            order by 2 desc, 1"
        )
        .bind(since)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.actor, r.day, r.searches, r.views))
            .collect())
    }
}

/// Failed verifications of an application since `since`, read inside the transaction that will
/// record the next one (after `advisory_lock`).
pub async fn failed_verifications_in(
    e: impl Into<Exec<'_>>,
    id: &ApplicationId,
    since: i64,
) -> DbResult<i64> {
    on_exec!(e, |c| {
        sqlx::query_scalar::<_, i64>(
            "select count(*) \
            from hotline_verifications \
            where application_id = $1 and not matched and at >= $2",
        )
        .bind(id)
        .bind(since)
        .fetch_one(c)
        .await
    })
}

pub async fn record_verification(
    tx: &mut Tx,
    id: &ApplicationId,
    at: i64,
    agent: &str,
    method: &str,
    matched: bool,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into hotline_verifications (application_id, at, agent, method, matched) \
            values ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(at)
        .bind(agent)
        .bind(method)
        .bind(matched)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}
