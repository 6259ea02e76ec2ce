//! Events queued in the transaction of the change that causes them, once per client endpoint,
//! with their body fixed then.

use crate::domain::calendar::beijing;
use crate::domain::ids::ApplicationId;
use crate::domain::status::Status;
use crate::domain::webhook::{self as wh, Event};
use crate::on_tx;
use crate::storage::{DbResult, Tx, from_ms};

pub(super) fn rfc3339(ms: i64) -> String {
    from_ms(ms).with_timezone(&beijing()).to_rfc3339()
}

/// The clients with an endpoint and at least one active token.
async fn subscribers(tx: &mut Tx) -> DbResult<Vec<String>> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, String>(
        "select e.client from webhook_endpoints e \
        where exists (select 1 from api_tokens t where t.name = e.client and t.revoked_at is null) \
        order by e.client"
    )
    .fetch_all(c)
    .await)
}

async fn insert_for(
    tx: &mut Tx,
    clients: &[String],
    event_type: &str,
    app: &ApplicationId,
    payload: &str,
    at: i64,
) -> DbResult<()> {
    let event_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    for client in clients {
        on_tx!(tx, |c| sqlx::query(
            "insert into webhook_deliveries (client, event_id, event_type, application_id, \
                payload, next_attempt_at, created_at) \
            values ($1, $2, $3, $4, $5, $6, $6) \
            on conflict (client, event_id) do nothing"
        )
        .bind(client)
        .bind(&event_id)
        .bind(event_type)
        .bind(app)
        .bind(payload)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

async fn hall_reference(tx: &mut Tx, app: &ApplicationId) -> DbResult<String> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, String>(
        "select hall_reference from applications where application_id = $1"
    )
    .bind(app)
    .fetch_one(c)
    .await)
}

/// After a timeline event was added: when the status as the hall sees it changed, the event
/// `application.status_changed` for every endpoint (notes and internal steps are not events).
pub async fn queue_status_change(tx: &mut Tx, app: &ApplicationId, at: i64) -> DbResult<()> {
    let clients = subscribers(tx).await?;
    if clients.is_empty() {
        return Ok(());
    }
    let last: Vec<Status> = on_tx!(tx, |c| sqlx::query_scalar::<_, Status>(
        "select status from application_events where application_id = $1 \
        order by event_id desc limit 2"
    )
    .bind(app)
    .fetch_all(c)
    .await)?;
    let Some(now) = last.first().map(|s| s.as_seen_outside()) else {
        return Ok(());
    };
    let before = last.get(1).map(|s| s.as_seen_outside());
    if before == Some(now) {
        return Ok(());
    }
    let return_reasons = if now == Status::Returned {
        on_tx!(tx, |c| sqlx::query_as::<_, (String, String)>(
            "select code, text_shown from decision_reasons \
            where decision_id = (select max(decision_id) from decisions where application_id = \
                $1 and outcome = 'returned') \
            order by position"
        )
        .bind(app)
        .fetch_all(c)
        .await)?
        .into_iter()
        .map(|(code, text)| wh::Reason { code, text })
        .collect()
    } else {
        Vec::new()
    };
    let shipment = if now == Status::Shipped {
        on_tx!(tx, |c| sqlx::query_as::<
            _,
            (String, Option<String>, Option<i64>),
        >(
            "select courier, waybill, shipped_at from shipments \
            where application_id = $1 and state = 'shipped' \
            order by shipped_at desc limit 1"
        )
        .bind(app)
        .fetch_optional(c)
        .await)?
        .map(|(courier, waybill, shipped)| wh::Shipment {
            courier: courier.to_uppercase(),
            tracking_number: waybill.unwrap_or_default(),
            shipped_at: rfc3339(shipped.unwrap_or(at)),
        })
    } else {
        None
    };
    let event = Event {
        event_type: wh::STATUS_CHANGED.into(),
        timestamp: rfc3339(at),
        data: wh::StatusChanged {
            id: app.to_string(),
            hall_reference: hall_reference(tx, app).await?,
            status: now.code().into(),
            previous_status: before.map(|s| s.code().into()),
            changed_at: rfc3339(at),
            return_reasons,
            shipment,
        },
    };
    let payload = serde_json::to_string(&event).expect("an event serialises");
    insert_for(tx, &clients, wh::STATUS_CHANGED, app, &payload, at).await
}

/// An invoice was issued for an application: `application.invoice_issued` for every endpoint.
pub async fn queue_invoice_issued(
    tx: &mut Tx,
    app: &ApplicationId,
    number: &str,
    at: i64,
) -> DbResult<()> {
    let clients = subscribers(tx).await?;
    if clients.is_empty() {
        return Ok(());
    }
    let issued_at: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "select issued_at from issued_invoices where invoice_number = $1"
    )
    .bind(number)
    .fetch_optional(c)
    .await)?;
    let event = Event {
        event_type: wh::INVOICE_ISSUED.into(),
        timestamp: rfc3339(at),
        data: wh::InvoiceIssued {
            id: app.to_string(),
            hall_reference: hall_reference(tx, app).await?,
            invoice_number: number.to_owned(),
            issued_at: rfc3339(issued_at.unwrap_or(at)),
        },
    };
    let payload = serde_json::to_string(&event).expect("an event serialises");
    insert_for(tx, &clients, wh::INVOICE_ISSUED, app, &payload, at).await
}
