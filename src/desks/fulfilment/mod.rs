//! The fulfilment desk's work: recording production, courier batches, label prints, the tracking
//! import and returned parcels. Each is one transaction with its audit records and timeline
//! events; the CLI and the pages call these same functions.

mod batches;
mod tracking;

pub use batches::{
    CourierBatch, RevocationGate, batch_file, create_batch, create_gated_batch, label_batch,
    record_print,
};
pub use tracking::{TrackingSummary, import_tracking, return_parcel};

use crate::domain::ids::ApplicationId;
use crate::domain::{
    serial::CertificateSerial,
    status::{Action, Status},
};
use crate::exchange::couriers::{Courier, CourierError, TrackingError};
use crate::storage::{
    Storage, Tx,
    applications::{self, Current},
    audit::{self, AuditEntry},
    fulfilment as store,
};

#[derive(Debug, thiserror::Error)]
pub enum FulfilmentError {
    #[error(transparent)]
    Layout(#[from] CourierError),
    #[error(transparent)]
    File(#[from] TrackingError),
    #[error("{0}")]
    Refused(String),
    #[error("someone else changed {0} first")]
    Conflict(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// How a courier is stored: `sf`, `ems`.
pub fn key(c: Courier) -> &'static str {
    match c {
        Courier::Sf => "sf",
        Courier::Ems => "ems",
    }
}

pub(super) async fn change_status(
    tx: &mut Tx,
    seen: &Current,
    action: Action,
    actor: &str,
    note: &str,
    at: i64,
) -> Result<Status, FulfilmentError> {
    let from = seen.status;
    let to = from
        .apply(action)
        .map_err(|e| FulfilmentError::Refused(format!("{}: {e}", seen.application_id)))?;
    if !applications::transition(tx, seen, to, seen.claimed_by.as_deref(), at).await? {
        return Err(FulfilmentError::Conflict(seen.application_id.to_string()));
    }
    applications::add_event(tx, &seen.application_id, at, to, actor, Some(note)).await?;
    Ok(to)
}

pub(super) async fn audit_app(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    application_id: &ApplicationId,
    before: Option<&str>,
    after: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    audit::record(
        tx,
        &AuditEntry {
            at,
            actor,
            action,
            subject_type: "application",
            subject_id: application_id.as_str(),
            before,
            after,
            request_id: None,
        },
    )
    .await
}

/// One application's production: the new certificate's serial and the medium's number.
#[derive(Debug, Clone)]
pub struct Production {
    pub application_id: ApplicationId,
    pub certificate_serial: String,
    pub medium_no: String,
}

/// Records the production of the selection, all or nothing: each becomes `in_production`
/// (made, ready to ship).
pub async fn record_production(
    storage: &Storage,
    items: &[Production],
    actor: &str,
    at: i64,
) -> Result<usize, FulfilmentError> {
    let mut tx = storage.begin().await?;
    for p in items {
        let serial = CertificateSerial::parse(p.certificate_serial.trim()).map_err(|e| {
            FulfilmentError::Refused(format!("{}: certificate serial: {e}", p.application_id))
        })?;
        let medium = p.medium_no.trim();
        if medium.is_empty()
            || medium.chars().count() > 40
            || medium.chars().any(|c| c.is_control())
        {
            return Err(FulfilmentError::Refused(format!(
                "{}: the medium number is required (at most 40 characters)",
                p.application_id
            )));
        }
        let seen = applications::current(&mut tx, &p.application_id)
            .await?
            .ok_or_else(|| {
                FulfilmentError::Refused(format!("no application {}", p.application_id))
            })?;
        let note = format!("新证书 {} · 介质 {medium}", serial.as_str());
        change_status(&mut tx, &seen, Action::StartProduction, actor, &note, at).await?;
        store::insert_production(
            &mut tx,
            &p.application_id,
            serial.as_str(),
            medium,
            actor,
            at,
        )
        .await?;
        audit_app(
            &mut tx,
            actor,
            "application.produced",
            &p.application_id,
            Some("accepted"),
            Some(&note),
            at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(items.len())
}
