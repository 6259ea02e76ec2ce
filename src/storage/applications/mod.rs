//! Applications, their versions, scans, events and decisions.

mod returned_parts;
mod status_view;

pub use returned_parts::{ReturnedPart, insert_parts, returned_parts};
pub use status_view::StatusView;

use super::{DbResult, Exec, Storage, Tx};
use crate::domain::ids::ApplicationId;
use crate::domain::{
    intake::NewApplication,
    scan::{MediaType, ScanKind},
    status::Status,
};
use crate::{on_exec, on_pool, on_tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRef {
    pub kind: ScanKind,
    pub sha256: String,
    pub media_type: MediaType,
    pub size_bytes: i64,
}

/// The first version of a new application.
pub struct NewRow<'a> {
    pub application_id: &'a ApplicationId,
    pub app: &'a NewApplication,
    pub body: &'a str,
    pub received_at: i64,
    pub review_due_at: i64,
    pub scans: &'a [ScanRef],
    pub actor: &'a str,
}

pub async fn insert_new(tx: &mut Tx, r: &NewRow<'_>) -> DbResult<()> {
    let a = r.app;
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into applications (application_id, hall_reference, certificate_serial, status, \
                version, row_version, applicant_name, id_type, id_number, mobile, email, \
                payment_channel, out_trade_no, amount_fen, paid_at, invoice_wanted, submitted_at, \
                received_at, review_due_at, created_at, updated_at) \
            values ($1, $2, $3, 'submitted', 1, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                $14, $15, $16, $15, $15)",
        )
        .bind(r.application_id)
        .bind(&a.hall_reference)
        .bind(a.certificate_serial.as_str())
        .bind(&a.applicant.name)
        .bind(a.applicant.id.id_type().code())
        .bind(a.applicant.id.number())
        .bind(a.applicant.mobile.as_str())
        .bind(a.applicant.email.as_str())
        .bind(a.payment.channel.code())
        .bind(&a.payment.out_trade_no)
        .bind(a.payment.amount.get())
        .bind(a.payment.paid_at.timestamp_millis())
        .bind(a.invoice.is_some())
        .bind(a.submitted_at.timestamp_millis())
        .bind(r.received_at)
        .bind(r.review_due_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    insert_version(tx, r.application_id, 1, r.body, r.received_at, r.scans).await?;
    add_event(
        tx,
        r.application_id,
        r.received_at,
        Status::Submitted,
        r.actor,
        None,
    )
    .await
}

pub async fn insert_version(
    tx: &mut Tx,
    application_id: &ApplicationId,
    version: i64,
    body: &str,
    received_at: i64,
    scans: &[ScanRef],
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into application_versions (application_id, version, body, received_at) \
            values ($1, $2, $3, $4)",
        )
        .bind(application_id)
        .bind(version)
        .bind(body)
        .bind(received_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    for s in scans {
        on_tx!(tx, |c| {
            sqlx::query(
                "insert into application_scans (application_id, version, kind, sha256, media_type, \
                    size_bytes) \
                values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(application_id)
            .bind(version)
            .bind(s.kind.code())
            .bind(&s.sha256)
            .bind(s.media_type.mime())
            .bind(s.size_bytes)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    // Every version is pre-checked after intake, by the job, never in the request.
    super::prechecks::enqueue(tx, application_id, version, received_at).await
}

pub async fn add_event(
    tx: &mut Tx,
    application_id: &ApplicationId,
    at: i64,
    status: Status,
    actor: &str,
    note: Option<&str>,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into application_events (application_id, at, status, actor, note) \
            values ($1, $2, $3, $4, $5)",
        )
        .bind(application_id)
        .bind(at)
        .bind(status.code())
        .bind(actor)
        .bind(note)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    // A status the hall sees change is pushed to its endpoint, queued with the change.
    super::webhooks::queue_status_change(tx, application_id, at).await
}

pub async fn id_by_hall_reference(
    e: impl Into<Exec<'_>>,
    hall_reference: &str,
) -> DbResult<Option<ApplicationId>> {
    on_exec!(e, |c| sqlx::query_scalar::<_, ApplicationId>(
        "select application_id from applications where hall_reference = $1"
    )
    .bind(hall_reference)
    .fetch_optional(c)
    .await)
}

pub async fn id_exists(tx: &mut Tx, application_id: &ApplicationId) -> DbResult<bool> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "select count(*) from applications where application_id = $1"
    )
    .bind(application_id)
    .fetch_one(c)
    .await
    .map(|n| n > 0))
}

/// What a state change needs to know of an application.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Current {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub status: Status,
    pub version: i64,
    pub row_version: i64,
    pub claimed_by: Option<String>,
    pub applicant_name: String,
    pub email: String,
    /// Where the applicant's SMS go (`domain::contact::Mobile` when not erased).
    pub mobile: String,
    pub review_due_at: i64,
}

pub async fn current(tx: &mut Tx, application_id: &ApplicationId) -> DbResult<Option<Current>> {
    on_tx!(tx, |c| {
        sqlx::query_as::<_, Current>(
            "select application_id, hall_reference, status, version, row_version, claimed_by, \
                applicant_name, email, mobile, review_due_at \
            from applications \
            where application_id = $1",
        )
        .bind(application_id)
        .fetch_optional(c)
        .await
    })
}

pub async fn version_body(
    e: impl Into<Exec<'_>>,
    application_id: &ApplicationId,
    version: i64,
) -> DbResult<String> {
    find_version_body(e, application_id, version)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

pub async fn find_version_body(
    e: impl Into<Exec<'_>>,
    application_id: &ApplicationId,
    version: i64,
) -> DbResult<Option<String>> {
    on_exec!(e, |c| sqlx::query_scalar::<_, String>(
        "select body from application_versions where application_id = $1 and version = $2"
    )
    .bind(application_id)
    .bind(version)
    .fetch_optional(c)
    .await)
}

#[derive(sqlx::FromRow)]
struct ScanRow {
    kind: String,
    sha256: String,
    media_type: String,
    size_bytes: i64,
}

impl ScanRow {
    fn into_ref(self) -> Option<ScanRef> {
        Some(ScanRef {
            kind: ScanKind::parse(&self.kind)?,
            sha256: self.sha256,
            media_type: MediaType::from_mime(&self.media_type)?,
            size_bytes: self.size_bytes,
        })
    }
}

const SCANS_OF: &str = "select kind, sha256, media_type, size_bytes \
    from application_scans \
    where application_id = $1 and version = $2 \
    order by kind";

pub async fn scans_of(
    tx: &mut Tx,
    application_id: &ApplicationId,
    version: i64,
) -> DbResult<Vec<ScanRef>> {
    let rows = on_tx!(tx, |c| sqlx::query_as::<_, ScanRow>(SCANS_OF)
        .bind(application_id)
        .bind(version)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().filter_map(ScanRow::into_ref).collect())
}

/// Moves a returned application to its next version. Updates only if nobody changed the row
/// since `seen` was read; returns whether it did.
pub async fn resubmit(
    tx: &mut Tx,
    seen: &Current,
    app: &NewApplication,
    received_at: i64,
    review_due_at: i64,
) -> DbResult<bool> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update applications \
            set status = 'submitted', version = version + 1, row_version = row_version + 1, \
                certificate_serial = $1, applicant_name = $2, id_type = $3, id_number = $4, mobile \
                = $5, email = $6, invoice_wanted = $7, received_at = $8, review_due_at = $9, \
                claimed_by = null, updated_at = $8, payment_channel = $12, out_trade_no = $13, \
                amount_fen = $14, paid_at = $15 \
            where application_id = $10 and row_version = $11 and status = 'returned'",
        )
        .bind(app.certificate_serial.as_str())
        .bind(&app.applicant.name)
        .bind(app.applicant.id.id_type().code())
        .bind(app.applicant.id.number())
        .bind(app.applicant.mobile.as_str())
        .bind(app.applicant.email.as_str())
        .bind(app.invoice.is_some())
        .bind(received_at)
        .bind(review_due_at)
        .bind(&seen.application_id)
        .bind(seen.row_version)
        .bind(app.payment.channel.code())
        .bind(&app.payment.out_trade_no)
        .bind(app.payment.amount.get())
        .bind(app.payment.paid_at.timestamp_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Changes the status if the row is still as `seen`; returns whether it did. `claimed_by` is
/// set as given (None clears it).
pub async fn transition(
    tx: &mut Tx,
    seen: &Current,
    to: Status,
    claimed_by: Option<&str>,
    at: i64,
) -> DbResult<bool> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update applications \
            set status = $1, claimed_by = $2, row_version = row_version + 1, updated_at = $3 \
            where application_id = $4 and row_version = $5",
        )
        .bind(to.code())
        .bind(claimed_by)
        .bind(at)
        .bind(&seen.application_id)
        .bind(seen.row_version)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Records a reviewer's decision and its reasons (code, text the applicant sees).
pub async fn insert_decision(
    tx: &mut Tx,
    seen: &Current,
    outcome: Status,
    decided_by: &str,
    at: i64,
    note: Option<&str>,
    reasons: &[(String, String)],
) -> DbResult<i64> {
    let id = on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "insert into decisions (application_id, version, outcome, decided_by, decided_at, \
                note) \
            values ($1, $2, $3, $4, $5, $6) \
            returning decision_id",
        )
        .bind(&seen.application_id)
        .bind(seen.version)
        .bind(outcome.code())
        .bind(decided_by)
        .bind(at)
        .bind(note)
        .fetch_one(c)
        .await
    })?;
    for (i, (code, text)) in reasons.iter().enumerate() {
        on_tx!(tx, |c| {
            sqlx::query(
                "insert into decision_reasons (decision_id, position, code, text_shown) \
                values ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(i as i64)
            .bind(code)
            .bind(text)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    Ok(id)
}

impl Storage {
    pub async fn application_id_by_hall_reference(
        &self,
        hall_reference: &str,
    ) -> DbResult<Option<ApplicationId>> {
        id_by_hall_reference(self.read_pool(), hall_reference).await
    }

    pub async fn scans(
        &self,
        application_id: &ApplicationId,
        version: i64,
    ) -> DbResult<Vec<ScanRef>> {
        let rows = on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ScanRow>(SCANS_OF)
            .bind(application_id)
            .bind(version)
            .fetch_all(p)
            .await)?;
        let mut scans: Vec<ScanRef> = rows.into_iter().filter_map(ScanRow::into_ref).collect();
        // In the order reviewers read them: forms, ID front and back, the photo.
        scans.sort_by_key(|s| s.kind);
        Ok(scans)
    }

    /// The status of an application, if it exists.
    pub async fn application_status(
        &self,
        application_id: &ApplicationId,
    ) -> DbResult<Option<Status>> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, Status>(
            "select status from applications where application_id = $1"
        )
        .bind(application_id)
        .fetch_optional(p)
        .await)
    }

    pub async fn application_count(&self) -> DbResult<i64> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from applications"
        )
        .fetch_one(p)
        .await)
    }

    /// Counts of the tables an intake writes, to show a refused request changed nothing.
    pub async fn intake_footprint(&self) -> DbResult<[i64; 5]> {
        let mut out = [0i64; 5];
        for (i, t) in [
            "applications",
            "application_versions",
            "application_scans",
            "application_events",
            "audit_log",
        ]
        .iter()
        .enumerate()
        {
            let sql = format!("select count(*) from {t}");
            out[i] = on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(p)
                .await)?;
        }
        Ok(out)
    }
}
