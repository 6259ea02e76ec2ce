//! Invoice requests, batches for the tax platform, and the invoices it issued.

use super::{DbResult, Tx};
use crate::domain::ids::ApplicationId;
use crate::domain::money::Fen;
use crate::domain::status::Status;
use crate::{on_pool, on_tx};

pub struct NewRequest<'a> {
    pub application_id: &'a str,
    pub hall_reference: &'a str,
    pub title: &'a str,
    pub tax_id: Option<&'a str>,
    pub email: &'a str,
    pub amount_fen: Fen,
    pub at: i64,
}

/// Records an accepted application's invoice request (once).
pub async fn insert_request(tx: &mut Tx, r: &NewRequest<'_>) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into invoice_requests (application_id, hall_reference, title, tax_id, email, \
                amount_fen, created_at, updated_at) \
            values ($1, $2, $3, $4, $5, $6, $7, $7) \
            on conflict (application_id) do nothing",
        )
        .bind(r.application_id)
        .bind(r.hall_reference)
        .bind(r.title)
        .bind(r.tax_id)
        .bind(r.email)
        .bind(r.amount_fen)
        .bind(r.at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The next value of a counter that never goes back (1 the first time).
pub async fn next_counter(tx: &mut Tx, name: &str, by: i64) -> DbResult<i64> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "insert into counters (name, value) \
        values ($1, $2) \
        on conflict (name) do update \
        set value = counters.value + excluded.value \
        returning value"
    )
    .bind(name)
    .bind(by)
    .fetch_one(c)
    .await)
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct RequestRow {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub title: String,
    pub tax_id: Option<String>,
    pub email: String,
    pub amount_fen: Fen,
    pub state: String,
    pub problem: Option<String>,
    pub batch_id: Option<i64>,
    pub serial: Option<String>,
    pub invoice_number: Option<String>,
    pub created_at: i64,
    pub payment_state: String,
    pub status: Status,
}

pub(super) const REQUEST_COLUMNS: &str = "select r.application_id, r.hall_reference, r.title, r.tax_id, \
        r.email, r.amount_fen, r.state, r.problem, r.batch_id, r.serial, r.invoice_number, \
        r.created_at, a.payment_state, a.status \
    from invoice_requests r \
    join applications a on a.application_id = r.application_id";

/// Pending requests ready for a batch: accepted (or further), paid, oldest first.
pub async fn ready_requests(tx: &mut Tx, limit: i64) -> DbResult<Vec<RequestRow>> {
    let sql = format!(
        "{REQUEST_COLUMNS} \
        where r.state = 'pending' and a.payment_state = 'verified' and a.status in ('accepted', \
            'in_production', 'shipped') \
        order by r.created_at, r.application_id \
        limit $1"
    );
    on_tx!(tx, |c| sqlx::query_as::<_, RequestRow>(&sql)
        .bind(limit)
        .fetch_all(c)
        .await)
}

pub async fn set_problem(
    tx: &mut Tx,
    application_id: &ApplicationId,
    problem: &str,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "update invoice_requests set problem = $1, updated_at = $2 where application_id = $3"
    )
    .bind(problem)
    .bind(at)
    .bind(application_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub struct NewBatch<'a> {
    pub batch_no: &'a str,
    pub requests: i64,
    pub sha256: &'a str,
    pub file: &'a [u8],
    pub at: i64,
    pub by: &'a str,
}

pub async fn insert_batch(tx: &mut Tx, b: &NewBatch<'_>) -> DbResult<i64> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "insert into invoice_batches (batch_no, requests, sha256, file, created_at, created_by) \
        values ($1, $2, $3, $4, $5, $6) \
        returning batch_id"
    )
    .bind(b.batch_no)
    .bind(b.requests)
    .bind(b.sha256)
    .bind(b.file)
    .bind(b.at)
    .bind(b.by)
    .fetch_one(c)
    .await)
}

/// Puts a pending request into a batch under its serial. False if it was no longer pending.
pub async fn mark_batched(
    tx: &mut Tx,
    application_id: &ApplicationId,
    batch_id: i64,
    serial: &str,
    at: i64,
) -> DbResult<bool> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "update invoice_requests \
            set state = 'batched', batch_id = $1, serial = $2, problem = null, updated_at = $3 \
            where application_id = $4 and state = 'pending'",
        )
        .bind(batch_id)
        .bind(serial)
        .bind(at)
        .bind(application_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Batched requests (those an issued invoice may belong to), with their batch's export time.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct OpenRequest {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub title: String,
    pub email: String,
    pub amount_fen: Fen,
    pub serial: Option<String>,
    pub exported_at: i64,
}

pub async fn open_requests(tx: &mut Tx) -> DbResult<Vec<OpenRequest>> {
    on_tx!(tx, |c| {
        sqlx::query_as::<_, OpenRequest>(
            "select r.application_id, r.hall_reference, r.title, r.email, r.amount_fen, r.serial, \
                b.created_at as exported_at \
            from invoice_requests r \
            join invoice_batches b on b.batch_id = r.batch_id \
            where r.state = 'batched'",
        )
        .fetch_all(c)
        .await
    })
}

/// A failed platform import: the request returns to pending (a new serial next time).
pub async fn fail_serial(tx: &mut Tx, serial: &str, reason: &str, at: i64) -> DbResult<bool> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "update invoice_requests \
            set state = 'pending', batch_id = null, serial = null, problem = $1, updated_at = $2 \
            where serial = $3 and state = 'batched'",
        )
        .bind(reason)
        .bind(at)
        .bind(serial)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn invoice_known(tx: &mut Tx, number: &str) -> DbResult<bool> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, bool>(
        "select exists (select 1 from issued_invoices where invoice_number = $1)"
    )
    .bind(number)
    .fetch_one(c)
    .await)
}

pub struct NewInvoice<'a> {
    pub number: &'a str,
    pub application_id: Option<&'a str>,
    pub issued_at: i64,
    pub buyer: &'a str,
    pub amount_fen: Fen,
    pub status: &'a str,
    pub positive: bool,
    pub reverses: Option<&'a str>,
    pub link: Option<&'a str>,
    pub at: i64,
}

pub async fn insert_invoice(tx: &mut Tx, i: &NewInvoice<'_>) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into issued_invoices (invoice_number, application_id, issued_at, buyer, \
                amount_fen, status, positive, reverses, link, imported_at) \
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
            on conflict (invoice_number) do nothing",
        )
        .bind(i.number)
        .bind(i.application_id)
        .bind(i.issued_at)
        .bind(i.buyer)
        .bind(i.amount_fen)
        .bind(i.status)
        .bind(i.positive)
        .bind(i.reverses)
        .bind(i.link)
        .bind(i.at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn mark_issued(
    tx: &mut Tx,
    application_id: &ApplicationId,
    number: &str,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update invoice_requests \
            set state = 'issued', invoice_number = $1, updated_at = $2 \
            where application_id = $3",
        )
        .bind(number)
        .bind(at)
        .bind(application_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    super::webhooks::queue_invoice_issued(tx, application_id, number, at).await
}

/// A red-letter invoice reverses a blue one: both rows say so; the request is reversed.
pub async fn mark_reversed(tx: &mut Tx, blue: &str, at: i64) -> DbResult<Option<String>> {
    let app: Option<Option<String>> = on_tx!(tx, |c| {
        sqlx::query_scalar::<_, Option<String>>(
            "update issued_invoices \
            set status = 'reversed' \
            where invoice_number = $1 \
            returning application_id",
        )
        .bind(blue)
        .fetch_optional(c)
        .await
    })?;
    let app = app.flatten();
    if let Some(a) = &app {
        on_tx!(tx, |c| {
            sqlx::query(
                "update invoice_requests \
                set state = 'reversed', updated_at = $1 \
                where application_id = $2",
            )
            .bind(at)
            .bind(a)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
    }
    Ok(app)
}

/// The stored invoice an e-mail is about.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct InvoiceMailRow {
    pub invoice_number: String,
    pub application_id: ApplicationId,
    pub issued_at: i64,
    pub amount_fen: Fen,
    pub link: Option<String>,
    pub file_sha256: Option<String>,
    pub download_token: Option<String>,
    pub title: String,
    pub email: String,
    pub hall_reference: String,
    /// The applicant's mobile, for the SMS beside the e-mail.
    pub mobile: String,
}

pub async fn invoice_for_mail(tx: &mut Tx, number: &str) -> DbResult<Option<InvoiceMailRow>> {
    on_tx!(tx, |c| {
        sqlx::query_as::<_, InvoiceMailRow>(
            "select i.invoice_number, i.application_id, i.issued_at, i.amount_fen, i.link, \
                i.file_sha256, i.download_token, r.title, r.email, r.hall_reference, a.mobile \
            from issued_invoices i \
            join invoice_requests r on r.application_id = i.application_id \
            join applications a on a.application_id = i.application_id \
            where i.invoice_number = $1 and i.positive",
        )
        .bind(number)
        .fetch_optional(c)
        .await
    })
}

/// Attaches a stored file to an invoice. False when the number is unknown.
pub async fn attach_file(
    tx: &mut Tx,
    number: &str,
    sha256: &str,
    name: &str,
    token: &str,
) -> DbResult<bool> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "update issued_invoices \
            set file_sha256 = $1, file_name = $2, download_token = coalesce(download_token, $3) \
            where invoice_number = $4",
        )
        .bind(sha256)
        .bind(name)
        .bind(token)
        .bind(number)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn record_issue(
    tx: &mut Tx,
    number: &str,
    outcome: &str,
    detail: &str,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into invoice_import_issues (invoice_number, outcome, detail, created_at) \
            values ($1, $2, $3, $4) \
            on conflict (invoice_number, outcome) do nothing",
        )
        .bind(number)
        .bind(outcome)
        .bind(detail)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct BatchRow {
    pub batch_id: i64,
    pub batch_no: String,
    pub requests: i64,
    pub sha256: String,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct IssueRow {
    pub issue_id: i64,
    pub invoice_number: String,
    pub outcome: String,
    pub detail: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct InvoiceFileRow {
    pub invoice_number: String,
    pub file_sha256: String,
    pub file_name: String,
}

impl super::Storage {
    /// A batch's stored file: (batch number, bytes).
    pub async fn invoice_batch_file(&self, batch_id: i64) -> DbResult<Option<(String, Vec<u8>)>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, (String, Vec<u8>)>(
                "select batch_no, file from invoice_batches where batch_id = $1",
            )
            .bind(batch_id)
            .fetch_optional(p)
            .await
        })
    }

    pub async fn invoice_file_by_token(&self, token: &str) -> DbResult<Option<InvoiceFileRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, InvoiceFileRow>(
            "select invoice_number, file_sha256, file_name \
            from issued_invoices \
            where download_token = $1 and file_sha256 is not null and status <> 'reversed'"
        )
        .bind(token)
        .fetch_optional(p)
        .await)
    }

    /// The issued (blue, not reversed) invoice of an application: (number, issued at).
    pub async fn invoice_of(
        &self,
        application_id: &ApplicationId,
    ) -> DbResult<Option<(String, i64)>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, (String, i64)>(
                "select invoice_number, issued_at \
                from issued_invoices \
                where application_id = $1 and positive and status <> 'reversed' \
                order by issued_at desc \
                limit 1",
            )
            .bind(application_id)
            .fetch_optional(p)
            .await
        })
    }
}
