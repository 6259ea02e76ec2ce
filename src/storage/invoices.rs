//! Invoice requests, batches for the tax platform, and the invoices it issued.

use super::{DbResult, Tx};
use crate::on_tx;

pub struct NewRequest<'a> {
    pub application_id: &'a str,
    pub hall_reference: &'a str,
    pub title: &'a str,
    pub tax_id: Option<&'a str>,
    pub email: &'a str,
    pub amount_fen: i64,
    pub at: i64,
}

/// Records an accepted application's invoice request (once).
pub async fn insert_request(tx: &mut Tx, r: &NewRequest<'_>) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into invoice_requests (application_id, hall_reference, title, tax_id, email, amount_fen, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7) on conflict (application_id) do nothing"
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
