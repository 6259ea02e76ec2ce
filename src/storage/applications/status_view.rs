//! The hall's view of one application: its status, history, return reasons, invoice and parcel.

use crate::domain::ids::ApplicationId;
use crate::domain::status::Status;
use crate::on_pool;
use crate::storage::{DbResult, Storage};

/// The hall's view of one application (intake-api.md, GET /api/v1/applications/{id}).
#[derive(Debug, Clone)]
pub struct StatusView {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub status: Status,
    pub version: i64,
    pub review_due_at: i64,
    pub return_reasons: Vec<(String, String)>,
    /// While returned: the parts to redo, each with its reasons.
    pub returned_parts: Vec<super::ReturnedPart>,
    pub history: Vec<(i64, Status)>,
    /// The issued invoice (数电票): number and issue time.
    pub invoice: Option<(String, i64)>,
    /// `unverified`, `verified` (a bill holds the payment) or `exception`.
    pub payment_state: String,
    /// Whether the applicant asked for an invoice.
    pub invoice_wanted: bool,
    /// The parcel that left: courier code, waybill number, shipped at.
    pub shipment: Option<(String, String, i64)>,
}

#[derive(sqlx::FromRow)]
struct StatusRow {
    application_id: ApplicationId,
    hall_reference: String,
    status: Status,
    version: i64,
    review_due_at: i64,
    payment_state: String,
    invoice_wanted: bool,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    at: i64,
    status: Status,
}

#[derive(sqlx::FromRow)]
struct ReasonRow {
    code: String,
    text_shown: String,
}

impl Storage {
    pub async fn status_view(
        &self,
        application_id: &ApplicationId,
    ) -> DbResult<Option<StatusView>> {
        let row = on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, StatusRow>(
                "select application_id, hall_reference, status, version, review_due_at, \
                    payment_state, invoice_wanted \
                from applications \
                where application_id = $1",
            )
            .bind(application_id)
            .fetch_optional(p)
            .await
        })?;
        let Some(row) = row else { return Ok(None) };
        // Outside (the hall, the hotline) an application awaiting approval is in review.
        let status = row.status.as_seen_outside();
        let events = on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, EventRow>(
                "select at, status \
                from application_events \
                where application_id = $1 \
                order by at, event_id",
            )
            .bind(application_id)
            .fetch_all(p)
            .await
        })?;
        // The reasons of the latest return, shown while the application waits for the applicant.
        let return_reasons = if status == Status::Returned {
            on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ReasonRow>(
                "select code, text_shown \
                from decision_reasons \
                where decision_id = (select max(decision_id) from decisions where application_id = \
                    $1 and outcome = 'returned') \
                order by position"
            )
            .bind(application_id)
            .fetch_all(p)
            .await)?
            .into_iter()
            .map(|r| (r.code, r.text_shown))
            .collect()
        } else {
            Vec::new()
        };
        let returned_parts = if status == Status::Returned {
            super::returned_parts(self.read_pool(), application_id, row.version).await?
        } else {
            Vec::new()
        };
        let invoice = self.invoice_of(application_id).await?;
        let shipment = if status == Status::Shipped {
            self.shipment_of(application_id).await?
        } else {
            None
        };
        Ok(Some(StatusView {
            invoice,
            shipment,
            payment_state: row.payment_state,
            invoice_wanted: row.invoice_wanted,
            application_id: row.application_id,
            hall_reference: row.hall_reference,
            status,
            version: row.version,
            review_due_at: row.review_due_at,
            return_reasons,
            returned_parts,
            // Status changes only: call notes and reassignments repeat the status they happened in.
            history: events
                .into_iter()
                .map(|e| (e.at, e.status.as_seen_outside()))
                .fold(Vec::new(), |mut h: Vec<(i64, Status)>, (at, s)| {
                    if h.last().is_none_or(|(_, last)| *last != s) {
                        h.push((at, s));
                    }
                    h
                }),
        }))
    }
}
