//! The courier's tracking export read back (parcels shipped, applicants told), and parcels
//! returned undeliverable.

use super::{FulfilmentError, audit_app, change_status, key};
use crate::desks::finance::sha256_hex;
use crate::domain::ids::ApplicationId;
use crate::domain::{sms::Sms, status::Action};
use crate::exchange::{
    audit_file,
    couriers::{self, Courier, CourierConfig},
};
use crate::storage::{Storage, applications, fulfilment as store, outbox};
use crate::views::mail;
use serde::Serialize;

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
    crate::desks::progress::total(rows.len());
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
        crate::desks::progress::advance(1);
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
        let mail_key = format!("applicant:shipped:{}", sh.order_no);
        let app = Some(sh.application_id.as_str());
        let (email, kind) = (&seen.email, "applicant_shipped");
        outbox::enqueue_mail(&mut tx, &mail_key, kind, email, &m, app, at).await?;
        let sms = Sms::shipped(&seen.hall_reference, courier.label_zh(), &r.waybill);
        outbox::enqueue_sms(&mut tx, &mail_key, &seen.mobile, &sms, app, at).await?;
        s.shipped += 1;
    }
    let summary = serde_json::to_string(&s).expect("plain struct");
    let sha = sha256_hex(bytes);
    audit_file(
        &mut tx,
        actor,
        "tracking.imported",
        "tracking_file",
        &sha,
        &summary,
        at,
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
) -> Result<ApplicationId, FulfilmentError> {
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
