//! Courier batches: the ready applications put into a batch with the courier's batch-order
//! workbook, and the labels and packing lists printed from it.

use super::{FulfilmentError, audit_app, key};
use crate::desks::finance::sha256_hex;
use crate::domain::ids::ApplicationId;
use crate::domain::{calendar::beijing, status::Status};
use crate::exchange::{
    audit_file,
    couriers::{self, Courier, CourierConfig, ShipmentRow},
};
use crate::storage::{
    Storage, applications,
    audit::{self, AuditEntry},
    fulfilment::{self as store, NewBatch},
    invoices::next_counter,
};

/// What the label and packing-list pages show of a batch.
pub fn label_batch(
    cfg: &CourierConfig,
    b: &crate::storage::fulfilment::BatchRow,
    shipments: &[crate::storage::fulfilment::BatchShipment],
    now: chrono::DateTime<chrono::Utc>,
) -> crate::views::labels::LabelBatch {
    use crate::views::labels::{LabelBatch, LabelSender, LabelShipment};
    let courier = Courier::parse(&b.courier).unwrap_or(Courier::Sf);
    let (product, payment) = match courier {
        Courier::Sf => (cfg.sf.product.clone(), cfg.sf.payment.clone()),
        Courier::Ems => (String::new(), String::new()),
    };
    LabelBatch {
        batch_no: b.batch_no.clone(),
        courier,
        product,
        printed_on: now.with_timezone(&beijing()).format("%Y-%m-%d").to_string(),
        sender: LabelSender::from(&cfg.sender),
        shipments: shipments
            .iter()
            .filter(|s| s.state != "returned")
            .map(|s| {
                let row = shipment_row(s.order_no.clone(), &s.body);
                LabelShipment {
                    order_no: s.order_no.clone(),
                    waybill: s.waybill.clone(),
                    address: row.full_address(),
                    recipient_name: row.recipient_name,
                    recipient_mobile: row.recipient_mobile,
                }
            })
            .collect(),
        contents: cfg.contents.clone(),
        payment,
        mask_recipient_name: cfg.label_mask_recipient_name,
    }
}

/// A new courier batch: its number, the courier's batch-order file, and the applications left
/// out with their reason (an address the courier would refuse).
#[derive(Debug)]
pub struct CourierBatch {
    pub batch_id: i64,
    pub batch_no: String,
    pub file: Vec<u8>,
    pub shipments: usize,
    pub left_out: Vec<(ApplicationId, String)>,
}

fn shipment_row(order_no: String, body: &str) -> ShipmentRow {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let m = &v["mailing_address"];
    let s = |k: &str| m[k].as_str().unwrap_or("").to_owned();
    ShipmentRow {
        order_no,
        recipient_name: s("recipient"),
        recipient_mobile: s("mobile"),
        province: s("province"),
        city: s("city"),
        district: s("district"),
        detail: s("detail"),
        postcode: m["postcode"].as_str().map(str::to_owned),
    }
}

/// Whether a courier batch waits for the lost certificate's revocation: on when a CA
/// certificate is configured (`BACKOFFICE_CA_CERT`; without it no CRL can be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationGate {
    On,
    Off,
}

impl RevocationGate {
    pub fn of(settings: &crate::config::revocation::RevocationSettings) -> Self {
        if settings.ca_cert.is_some() {
            RevocationGate::On
        } else {
            RevocationGate::Off
        }
    }
}

/// Puts the ready applications (those given, or all) into a new batch for `courier` and writes
/// the courier's batch-order workbook. None when nothing is ready. Without the revocation gate
/// (tests, benches, the demo); the desk and the CLI use [`create_gated_batch`].
pub async fn create_batch(
    storage: &Storage,
    cfg: &CourierConfig,
    courier: Courier,
    only: Option<&[String]>,
    actor: &str,
    at: i64,
) -> Result<Option<CourierBatch>, FulfilmentError> {
    create_gated_batch(storage, cfg, RevocationGate::Off, courier, only, actor, at).await
}

/// The gate's refusal: which applications wait for which revocation.
fn held_message(held: &[(ApplicationId, String)]) -> String {
    let list: Vec<String> = held
        .iter()
        .map(|(a, serial)| format!("{a}（{serial}）"))
        .collect();
    format!(
        "遗失证书尚未吊销，不能放入快递批次：{}。请待 CA 的吊销列表（CRL）确认，或由主管填写理由放行。\
         The lost certificate is not yet revoked: {}.",
        list.join("、"),
        list.join(", ")
    )
}

/// [`create_batch`] with the revocation gate: with the gate on, an application whose lost
/// certificate is neither revoked nor let through by a supervisor is refused when selected
/// (nothing is batched) and left out of "all ready".
pub async fn create_gated_batch(
    storage: &Storage,
    cfg: &CourierConfig,
    gate: RevocationGate,
    courier: Courier,
    only: Option<&[String]>,
    actor: &str,
    at: i64,
) -> Result<Option<CourierBatch>, FulfilmentError> {
    let layout = cfg.layout(courier)?;
    let today = chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .with_timezone(&beijing())
        .date_naive();
    let mut tx = storage.begin().await?;
    crate::storage::advisory_lock(&mut tx, crate::storage::Lock::Fulfilment).await?;
    let mut ready = store::ready_to_ship(&mut tx, only).await?;
    let mut left_out = Vec::new();
    let mut held = Vec::new();
    if gate == RevocationGate::On {
        let ids: Vec<ApplicationId> = ready.iter().map(|r| r.application_id.clone()).collect();
        held = crate::storage::revocations::held(&mut tx, &ids).await?;
        if only.is_some() && !held.is_empty() {
            return Err(FulfilmentError::Refused(held_message(&held)));
        }
        ready.retain(|r| !held.iter().any(|(a, _)| *a == r.application_id));
        for (a, serial) in &held {
            left_out.push((
                a.clone(),
                format!("lost certificate {serial} not yet revoked"),
            ));
        }
    }
    let mut rows: Vec<(ApplicationId, ShipmentRow)> = Vec::new();
    for r in ready {
        let order_no = if r.previous_shipments == 0 {
            r.hall_reference.clone()
        } else {
            format!("{}-{}", r.hall_reference, r.previous_shipments + 1)
        };
        let row = shipment_row(order_no, &r.body);
        match couriers::check_row(courier, &layout, &row) {
            Ok(()) => rows.push((r.application_id, row)),
            Err(why) => left_out.push((r.application_id, why)),
        }
    }
    if rows.is_empty() {
        tx.commit().await?;
        if !held.is_empty() {
            return Err(FulfilmentError::Refused(held_message(&held)));
        }
        return Ok(None);
    }
    let only_rows: Vec<ShipmentRow> = rows.iter().map(|(_, r)| r.clone()).collect();
    let file = couriers::write_batch(&layout, cfg, courier, &only_rows)?;
    let sha = sha256_hex(&file);
    let day = today.format("%Y%m%d").to_string();
    let seq = next_counter(&mut tx, &format!("courier_batch:{day}"), 1).await?;
    let batch_no = format!("{}{day}-{seq:03}", courier.code().to_uppercase());
    let batch_id = store::insert_batch(
        &mut tx,
        &NewBatch {
            batch_no: &batch_no,
            courier: key(courier),
            shipments: rows.len() as i64,
            sha256: &sha,
            file: &file,
            at,
            by: actor,
        },
    )
    .await?;
    let note = format!("{} 批次 {batch_no}", courier.label_zh());
    for (app, row) in &rows {
        if !store::insert_shipment(&mut tx, app, batch_id, &row.order_no, key(courier), at).await? {
            return Err(FulfilmentError::Conflict(app.to_string()));
        }
        applications::add_event(&mut tx, app, at, Status::InProduction, actor, Some(&note)).await?;
        audit_app(
            &mut tx,
            actor,
            "shipment.batched",
            app,
            None,
            Some(&batch_no),
            at,
        )
        .await?;
    }
    let action = "courier_batch.created";
    audit_file(
        &mut tx,
        actor,
        action,
        "courier_batch_file",
        &sha,
        &batch_no,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(CourierBatch {
        batch_id,
        batch_no,
        file,
        shipments: rows.len(),
        left_out,
    }))
}

/// Labels or the packing list of a batch were printed: on each application's timeline.
pub async fn record_print(
    storage: &Storage,
    batch_id: i64,
    what: &str,
    actor: &str,
    at: i64,
) -> Result<(), FulfilmentError> {
    let shipments = storage.batch_shipments(batch_id).await?;
    let Some(batch) = storage.courier_batch(batch_id).await? else {
        return Ok(());
    };
    let mut tx = storage.begin().await?;
    let note = format!("{what}（批次 {}）", batch.batch_no);
    for s in &shipments {
        if let Some(seen) = applications::current(&mut tx, &s.application_id).await? {
            applications::add_event(
                &mut tx,
                &s.application_id,
                at,
                seen.status,
                actor,
                Some(&note),
            )
            .await?;
        }
    }
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor,
            action: "courier_batch.printed",
            subject_type: "courier_batch",
            subject_id: &batch.batch_no,
            before: None,
            after: Some(what),
            request_id: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A batch's courier workbook (its number and bytes) for download, the download audited; None
/// when there is no such batch.
pub async fn batch_file(
    storage: &Storage,
    id: i64,
    actor: &str,
    at: i64,
) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    let Some((batch_no, bytes)) = storage.courier_batch_file(id).await? else {
        return Ok(None);
    };
    storage
        .audit_view(&AuditEntry {
            at,
            actor,
            action: "courier_batch.downloaded",
            subject_type: "courier_batch_file",
            subject_id: &sha256_hex(&bytes),
            after: Some(&batch_no),
            ..Default::default()
        })
        .await?;
    Ok(Some((batch_no, bytes)))
}
