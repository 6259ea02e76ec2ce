//! The fulfilment desk's work: recording production, courier batches, label prints, the tracking
//! import and returned parcels. Each is one transaction with its audit records and timeline
//! events; the CLI and the pages call these same functions.

use crate::domain::{
    calendar::beijing,
    serial::CertificateSerial,
    status::{Action, Status},
};
use crate::exchange::couriers::{
    self, Courier, CourierConfig, CourierError, ShipmentRow, TrackingError,
};
use crate::finance::sha256_hex;
use crate::storage::{
    Storage, Tx,
    applications::{self, Current},
    audit::{self, AuditEntry},
    fulfilment::{self as store, NewBatch},
    invoices::next_counter,
    outbox,
};
use crate::views::mail;
use serde::Serialize;

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

async fn change_status(
    tx: &mut Tx,
    seen: &Current,
    action: Action,
    actor: &str,
    note: &str,
    at: i64,
) -> Result<Status, FulfilmentError> {
    let from = seen.status();
    let to = from
        .apply(action)
        .map_err(|e| FulfilmentError::Refused(format!("{}: {e}", seen.application_id)))?;
    if !applications::transition(tx, seen, to, seen.claimed_by.as_deref(), at).await? {
        return Err(FulfilmentError::Conflict(seen.application_id.clone()));
    }
    applications::add_event(tx, &seen.application_id, at, to, actor, Some(note)).await?;
    Ok(to)
}

async fn audit_app(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    application_id: &str,
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
            subject_id: application_id,
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
    pub application_id: String,
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

/// A new courier batch: its number, the courier's batch-order file, and the applications left
/// out with their reason (an address the courier would refuse).
#[derive(Debug)]
pub struct CourierBatch {
    pub batch_id: i64,
    pub batch_no: String,
    pub file: Vec<u8>,
    pub shipments: usize,
    pub left_out: Vec<(String, String)>,
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

/// Puts the ready applications (those given, or all) into a new batch for `courier` and writes
/// the courier's batch-order workbook. None when nothing is ready.
pub async fn create_batch(
    storage: &Storage,
    cfg: &CourierConfig,
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
    let ready = store::ready_to_ship(&mut tx, only).await?;
    let mut rows: Vec<(String, ShipmentRow)> = Vec::new();
    let mut left_out = Vec::new();
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
            return Err(FulfilmentError::Conflict(app.clone()));
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
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor,
            action: "courier_batch.created",
            subject_type: "courier_batch_file",
            subject_id: &sha,
            before: None,
            after: Some(&batch_no),
            request_id: None,
        },
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
                seen.status(),
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

/// What a tracking import did (`operations.md`: the last line of `import-tracking`), and the
/// rows that did not fit, for the clerk.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TrackingSummary {
    pub lines: usize,
    pub shipped: usize,
    pub unchanged: usize,
    pub conflict: usize,
    pub duplicate_waybill: usize,
    pub unknown_order: usize,
    #[serde(skip)]
    pub problems: Vec<(usize, &'static str, String, String)>,
}

fn tracking_link(courier: &str, waybill: &str) -> String {
    match courier {
        "ems" => format!("https://www.ems.com.cn/queryList?mailNum={waybill}"),
        _ => format!("https://www.sf-express.com/chn/sc/waybill/waybill-detail/{waybill}"),
    }
}

/// Reads the courier's export (order number → waybill number), marks the parcels shipped and
/// queues the applicants' e-mails. A malformed file changes nothing.
pub async fn import_tracking(
    storage: &Storage,
    cfg: &CourierConfig,
    bytes: &[u8],
    actor: &str,
    at: i64,
) -> Result<TrackingSummary, FulfilmentError> {
    let rows = couriers::read_tracking(bytes)?;
    let mut s = TrackingSummary {
        lines: rows.len(),
        ..Default::default()
    };
    let mut tx = storage.begin().await?;
    crate::storage::advisory_lock(&mut tx, crate::storage::Lock::Fulfilment).await?;
    // First every row's shape against its order's courier: a wrong waybill refuses the file.
    let mut found = Vec::with_capacity(rows.len());
    for r in &rows {
        let sh = store::shipment_by_order(&mut tx, &r.order_no).await?;
        if let Some(sh) = &sh {
            let courier = Courier::parse(&sh.courier).unwrap_or(Courier::Sf);
            if !couriers::waybill_matches(cfg, courier, &r.waybill) {
                return Err(FulfilmentError::Refused(format!(
                    "row {}, column 运单号: '{}' is not a {} waybill number",
                    r.row,
                    r.waybill,
                    courier.label_zh()
                )));
            }
        }
        found.push(sh);
    }
    for (r, sh) in rows.iter().zip(found) {
        let problem = |kind: &'static str, s: &mut TrackingSummary| {
            s.problems
                .push((r.row, kind, r.order_no.clone(), r.waybill.clone()));
        };
        let Some(sh) = sh else {
            s.unknown_order += 1;
            problem("unknown_order", &mut s);
            continue;
        };
        // Re-read: an earlier row of this file may have shipped it.
        let sh = store::shipment_in_tx(&mut tx, sh.shipment_id)
            .await?
            .expect("just found");
        if r.courier.is_some_and(|c| key(c) != sh.courier) {
            s.conflict += 1;
            problem("conflict", &mut s);
            continue;
        }
        match sh.waybill.as_deref() {
            Some(w) if w == r.waybill => {
                s.unchanged += 1;
                continue;
            }
            Some(_) => {
                s.conflict += 1;
                problem("conflict", &mut s);
                continue;
            }
            None => {}
        }
        if store::shipment_by_waybill(&mut tx, &sh.courier, &r.waybill)
            .await?
            .is_some()
        {
            s.duplicate_waybill += 1;
            problem("duplicate_waybill", &mut s);
            continue;
        }
        if sh.state != "batched" {
            s.conflict += 1;
            problem("conflict", &mut s);
            continue;
        }
        let shipped_at = r.shipped_at.map(|t| t.timestamp_millis()).unwrap_or(at);
        let Some(seen) = applications::current(&mut tx, &sh.application_id).await? else {
            continue;
        };
        store::mark_shipped(&mut tx, sh.shipment_id, &r.waybill, shipped_at).await?;
        let courier = Courier::parse(&sh.courier).unwrap_or(Courier::Sf);
        let note = format!("{} 运单号 {}", courier.label_zh(), r.waybill);
        change_status(&mut tx, &seen, Action::Ship, actor, &note, at).await?;
        audit_app(
            &mut tx,
            actor,
            "application.shipped",
            &sh.application_id,
            Some("in_production"),
            Some(&note),
            at,
        )
        .await?;
        let m = mail::applicant_shipped(
            &seen.applicant_name,
            &seen.hall_reference,
            courier.label_zh(),
            &r.waybill,
            &tracking_link(&sh.courier, &r.waybill),
        );
        outbox::enqueue_mail(
            &mut tx,
            &format!("applicant:shipped:{}", sh.order_no),
            "applicant_shipped",
            &seen.email,
            &m,
            Some(&sh.application_id),
            at,
        )
        .await?;
        s.shipped += 1;
    }
    let summary = serde_json::to_string(&s).expect("plain struct");
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor,
            action: "tracking.imported",
            subject_type: "tracking_file",
            subject_id: &sha256_hex(bytes),
            before: None,
            after: Some(&summary),
            request_id: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// A parcel came back undeliverable: recorded with its reason; the application waits in the
/// queue for a re-send (a new order number next time).
pub async fn return_parcel(
    storage: &Storage,
    shipment_id: i64,
    reason: &str,
    actor: &str,
    at: i64,
) -> Result<String, FulfilmentError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(FulfilmentError::Refused("a reason is required".into()));
    }
    let mut tx = storage.begin().await?;
    let sh = store::shipment_in_tx(&mut tx, shipment_id)
        .await?
        .ok_or_else(|| FulfilmentError::Refused("no such parcel".into()))?;
    if !store::mark_returned(&mut tx, shipment_id, reason, at).await? {
        return Err(FulfilmentError::Conflict(sh.order_no));
    }
    let seen = applications::current(&mut tx, &sh.application_id)
        .await?
        .ok_or_else(|| FulfilmentError::Refused("no such application".into()))?;
    let note = format!(
        "退件：{reason}（运单号 {}）",
        sh.waybill.as_deref().unwrap_or("")
    );
    change_status(&mut tx, &seen, Action::ReturnParcel, actor, &note, at).await?;
    audit_app(
        &mut tx,
        actor,
        "application.parcel_returned",
        &sh.application_id,
        Some("shipped"),
        Some(&note),
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(sh.application_id)
}
