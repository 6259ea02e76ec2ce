//! Four eyes' rows: the approval requests (at most one pending per application, closed by a
//! conditional update so that of two approvers exactly one wins) and the rules saved on the
//! admin page.

use super::{DbResult, Exec, Storage, Tx};
use crate::domain::four_eyes::{HOLDING_CHECKS, Rules};
use crate::domain::ids::ApplicationId;
use crate::{on_exec, on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApprovalRow {
    pub approval_id: i64,
    pub version: i64,
    pub requested_by: String,
    pub requested_at: i64,
    /// Rule codes, comma-separated (`domain::four_eyes::split`).
    pub reasons: String,
    pub note: Option<String>,
    pub state: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
}

const COLUMNS: &str = "approval_id, version, requested_by, requested_at, reasons, note, state, \
    decided_by, decided_at, decision_note";

/// Flagged findings of the holding checks on this version that no reviewer dismissed.
pub async fn unresolved_findings(
    tx: &mut Tx,
    application_id: &ApplicationId,
    version: i64,
    maker: &str,
) -> DbResult<i64> {
    let checks = HOLDING_CHECKS
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // A finding counts until someone other than the maker dismissed it (the maker cannot lift
    // the control by dismissing the flag), and a version whose pre-check has not finished counts
    // as one: nothing unseen passes on one pair of eyes.
    let sql = format!(
        "select (select count(*) from precheck_findings \
            where application_id = $1 and version = $2 and flagged and check_name in ({checks}) \
                and (verdict is null or verdict <> 'dismissed' or verdict_by = $3)) \
        + (case when exists (select 1 from precheck_jobs \
            where application_id = $1 and version = $2 and status = 'done') then 0 else 1 end)"
    );
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(&sql)
        .bind(application_id)
        .bind(version)
        .bind(maker)
        .fetch_one(c)
        .await)
}

pub struct NewApproval<'a> {
    pub application_id: &'a ApplicationId,
    pub version: i64,
    pub requested_by: &'a str,
    pub at: i64,
    pub reasons: &'a str,
    pub note: Option<&'a str>,
}

pub async fn insert(tx: &mut Tx, a: &NewApproval<'_>) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into approvals (application_id, version, requested_by, requested_at, reasons, \
            note) \
        values ($1, $2, $3, $4, $5, $6)"
    )
    .bind(a.application_id)
    .bind(a.version)
    .bind(a.requested_by)
    .bind(a.at)
    .bind(a.reasons)
    .bind(a.note)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The application's pending approval request, if any.
pub async fn pending(
    e: impl Into<Exec<'_>>,
    application_id: &ApplicationId,
) -> DbResult<Option<ApprovalRow>> {
    let sql =
        format!("select {COLUMNS} from approvals where application_id = $1 and state = 'pending'");
    on_exec!(e, |c| sqlx::query_as::<_, ApprovalRow>(&sql)
        .bind(application_id)
        .fetch_optional(c)
        .await)
}

/// Closes a pending request as `state` (approved, rejected, cancelled); false when it was no
/// longer pending (another approver, or a change of the application, came first).
pub async fn close(
    tx: &mut Tx,
    approval_id: i64,
    state: &str,
    by: &str,
    at: i64,
    note: Option<&str>,
) -> DbResult<bool> {
    on_tx!(tx, |c| sqlx::query(
        "update approvals set state = $1, decided_by = $2, decided_at = $3, decision_note = $4 \
        where approval_id = $5 and state = 'pending'"
    )
    .bind(state)
    .bind(by)
    .bind(at)
    .bind(note)
    .bind(approval_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

#[derive(sqlx::FromRow)]
struct RulesRow {
    unresolved_findings: bool,
    payment_override: bool,
    sample_percent: i64,
    sample_seed: i64,
}

/// The rules the admin page saved, None before the first save.
pub async fn saved_rules(e: impl Into<Exec<'_>>) -> DbResult<Option<Rules>> {
    let row = on_exec!(e, |c| sqlx::query_as::<_, RulesRow>(
        "select unresolved_findings, payment_override, sample_percent, sample_seed \
        from four_eyes_rules where id = 1"
    )
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|r| Rules {
        unresolved_findings: r.unresolved_findings,
        payment_override: r.payment_override,
        sample_percent: r.sample_percent.clamp(0, 100) as u8,
        sample_seed: r.sample_seed,
    }))
}

pub async fn save_rules(tx: &mut Tx, r: &Rules, by: &str, at: i64) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into four_eyes_rules (id, unresolved_findings, payment_override, sample_percent, \
            sample_seed, updated_by, updated_at) \
        values (1, $1, $2, $3, $4, $5, $6) \
        on conflict (id) do update set unresolved_findings = excluded.unresolved_findings, \
            payment_override = excluded.payment_override, sample_percent = \
            excluded.sample_percent, sample_seed = excluded.sample_seed, updated_by = \
            excluded.updated_by, updated_at = excluded.updated_at"
    )
    .bind(r.unresolved_findings)
    .bind(r.payment_override)
    .bind(i64::from(r.sample_percent))
    .bind(r.sample_seed)
    .bind(by)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

impl Storage {
    /// Every approval request of an application, oldest first.
    pub async fn approvals_of(&self, application_id: &ApplicationId) -> DbResult<Vec<ApprovalRow>> {
        let sql = format!(
            "select {COLUMNS} from approvals where application_id = $1 order by approval_id"
        );
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ApprovalRow>(&sql)
            .bind(application_id)
            .fetch_all(p)
            .await)
    }
}
