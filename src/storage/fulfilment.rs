//! The fulfilment desk's tables: productions, courier batches, shipments.

use super::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use super::{DbResult, Storage, Tx};
use crate::domain::ids::ApplicationId;
use crate::domain::status::Status;
use crate::{on_pool, on_tx};

pub async fn insert_production(
    tx: &mut Tx,
    application_id: &ApplicationId,
    serial: &str,
    medium_no: &str,
    by: &str,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into productions (application_id, certificate_serial, medium_no, produced_by, \
                produced_at) \
            values ($1, $2, $3, $4, $5)",
        )
        .bind(application_id)
        .bind(serial)
        .bind(medium_no)
        .bind(by)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// What a shipment needs of an application: its reference and the mailing address as sent.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct ReadyRow {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub body: String,
    pub previous_shipments: i64,
}

/// Produced applications in no open batch and not shipped: those given, or all (oldest first).
pub async fn ready_to_ship(tx: &mut Tx, only: Option<&[String]>) -> DbResult<Vec<ReadyRow>> {
    let base = "select a.application_id, a.hall_reference, v.body, (select count(*) from shipments \
            s where s.application_id = a.application_id) as previous_shipments \
        from applications a \
        join application_versions v on v.application_id = a.application_id and v.version = \
            a.version \
        where a.status = 'in_production' and not exists (select 1 from shipments s where \
            s.application_id = a.application_id and s.state = 'batched')";
    match only {
        None => {
            let sql = format!("{base} order by a.updated_at, a.application_id");
            on_tx!(tx, |c| sqlx::query_as::<_, ReadyRow>(&sql)
                .fetch_all(c)
                .await)
        }
        Some(ids) => {
            let mut out = Vec::new();
            for chunk in ids.chunks(400) {
                let sql = format!(
                    "{base} and a.application_id in ({}) order by a.updated_at, a.application_id",
                    super::finance::placeholders(1, chunk.len())
                );
                let rows: Vec<ReadyRow> = on_tx!(tx, |c| {
                    let mut q = sqlx::query_as::<_, ReadyRow>(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    q.fetch_all(c).await
                })?;
                out.extend(rows);
            }
            Ok(out)
        }
    }
}

pub struct NewBatch<'a> {
    pub batch_no: &'a str,
    pub courier: &'a str,
    pub shipments: i64,
    pub sha256: &'a str,
    pub file: &'a [u8],
    pub at: i64,
    pub by: &'a str,
}

pub async fn insert_batch(tx: &mut Tx, b: &NewBatch<'_>) -> DbResult<i64> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "insert into courier_batches (batch_no, courier, shipments, sha256, file, created_at, \
                created_by) \
            values ($1, $2, $3, $4, $5, $6, $7) \
            returning batch_id",
        )
        .bind(b.batch_no)
        .bind(b.courier)
        .bind(b.shipments)
        .bind(b.sha256)
        .bind(b.file)
        .bind(b.at)
        .bind(b.by)
        .fetch_one(c)
        .await
    })
}

/// A new parcel in a batch. False when the application is already in an open batch (someone
/// else's batch won).
pub async fn insert_shipment(
    tx: &mut Tx,
    application_id: &ApplicationId,
    batch_id: i64,
    order_no: &str,
    courier: &str,
    at: i64,
) -> DbResult<bool> {
    let r = on_tx!(tx, |c| sqlx::query(
        "insert into shipments (application_id, batch_id, order_no, courier, created_at) \
        values ($1, $2, $3, $4, $5) \
        on conflict (application_id) \
        where state = 'batched' do nothing"
    )
    .bind(application_id)
    .bind(batch_id)
    .bind(order_no)
    .bind(courier)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(r == 1)
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct ShipmentRow {
    pub shipment_id: i64,
    pub application_id: ApplicationId,
    pub batch_id: i64,
    pub order_no: String,
    pub courier: String,
    pub waybill: Option<String>,
    pub shipped_at: Option<i64>,
    pub state: String,
    pub return_reason: Option<String>,
}

const SHIPMENT_COLUMNS: &str = "select shipment_id, application_id, batch_id, order_no, courier, \
        waybill, shipped_at, state, return_reason \
    from shipments";

pub async fn shipment_by_order(tx: &mut Tx, order_no: &str) -> DbResult<Option<ShipmentRow>> {
    let sql = format!("{SHIPMENT_COLUMNS} where order_no = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, ShipmentRow>(&sql)
        .bind(order_no)
        .fetch_optional(c)
        .await)
}

pub async fn shipment_by_waybill(
    tx: &mut Tx,
    courier: &str,
    waybill: &str,
) -> DbResult<Option<ShipmentRow>> {
    let sql = format!("{SHIPMENT_COLUMNS} where courier = $1 and waybill = $2");
    on_tx!(tx, |c| sqlx::query_as::<_, ShipmentRow>(&sql)
        .bind(courier)
        .bind(waybill)
        .fetch_optional(c)
        .await)
}

pub async fn shipment_in_tx(tx: &mut Tx, shipment_id: i64) -> DbResult<Option<ShipmentRow>> {
    let sql = format!("{SHIPMENT_COLUMNS} where shipment_id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, ShipmentRow>(&sql)
        .bind(shipment_id)
        .fetch_optional(c)
        .await)
}

/// The parcel got its waybill and left. False if it was no longer waiting (someone was first).
pub async fn mark_shipped(
    tx: &mut Tx,
    shipment_id: i64,
    waybill: &str,
    shipped_at: i64,
) -> DbResult<bool> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "update shipments \
            set waybill = $1, shipped_at = $2, state = 'shipped' \
            where shipment_id = $3 and state = 'batched'",
        )
        .bind(waybill)
        .bind(shipped_at)
        .bind(shipment_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn mark_returned(tx: &mut Tx, shipment_id: i64, reason: &str, at: i64) -> DbResult<bool> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "update shipments \
            set state = 'returned', return_reason = $1, returned_at = $2 \
            where shipment_id = $3 and state = 'shipped'",
        )
        .bind(reason)
        .bind(at)
        .bind(shipment_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// One row of the production queue.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct QueueRow {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub applicant_name: String,
    pub status: Status,
    pub row_version: i64,
    pub accepted_at: Option<i64>,
    pub certificate_serial: Option<String>,
    pub medium_no: Option<String>,
    pub batch_no: Option<String>,
    pub returned: Option<String>,
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct BatchRow {
    pub batch_id: i64,
    pub batch_no: String,
    pub courier: String,
    pub shipments: i64,
    pub sha256: String,
    pub created_at: i64,
    pub created_by: String,
    pub shipped: i64,
}

/// A parcel of a batch with what a label and the packing list show.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct BatchShipment {
    pub shipment_id: i64,
    pub application_id: ApplicationId,
    pub order_no: String,
    pub waybill: Option<String>,
    pub state: String,
    pub shipped_at: Option<i64>,
    pub body: String,
}

/// The production queue's parts: to produce, produced and ready to ship, in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    ToProduce,
    ToShip,
    Batched,
}

/// The production queue: oldest acceptance first.
const QUEUE_ORDER: Order = Order {
    keys: &[("accepted_at", Kind::Int), ("application_id", Kind::Text)],
    desc: false,
};

/// Courier batches: newest first.
const BATCH_ORDER: Order = Order {
    keys: &[("batch_id", Kind::Int)],
    desc: true,
};

impl Keyed for QueueRow {
    fn key(&self) -> Vec<Bind> {
        vec![
            Bind::I(self.accepted_at.unwrap_or(0)),
            Bind::S(self.application_id.to_string()),
        ]
    }
}

impl Keyed for BatchRow {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.batch_id)]
    }
}

impl Storage {
    /// Accepted applications to produce and produced ones not yet in a batch, oldest acceptance
    /// first (a returned parcel shows again as produced and not batched); at most `limit`.
    pub async fn fulfilment_queue(&self, limit: i64) -> DbResult<Vec<QueueRow>> {
        let req = PageReq::first(limit);
        Ok(self.fulfilment_queue_page(None, &req).await?.rows)
    }

    /// One page of the production queue (of one stage, or all), with its whole count.
    pub async fn fulfilment_queue_page(
        &self,
        stage: Option<Stage>,
        req: &PageReq,
    ) -> DbResult<Page<QueueRow>> {
        let mut sql = Sql::new(
            "select a.application_id, a.hall_reference, a.applicant_name, a.status, \
                a.row_version, coalesce((select max(d.decided_at) from decisions d where \
                d.application_id = a.application_id and d.outcome = 'accepted'), 0) as \
                accepted_at, (select p.certificate_serial from productions p where \
                p.application_id = a.application_id order by p.produced_at desc, \
                p.production_id desc limit 1) as certificate_serial, (select p.medium_no from \
                productions p where p.application_id = a.application_id order by p.produced_at \
                desc, p.production_id desc limit 1) as medium_no, (select b.batch_no from \
                shipments s join courier_batches b on b.batch_id = s.batch_id where \
                s.application_id = a.application_id and s.state = 'batched') as batch_no, \
                (select s.return_reason from shipments s where s.application_id = \
                a.application_id and s.state = 'returned' order by s.returned_at desc limit 1) \
                as returned \
            from applications a \
            where a.status in ('accepted', 'in_production')",
        );
        let batched = "exists (select 1 from shipments s where s.application_id = \
            a.application_id and s.state = 'batched')";
        match stage {
            Some(Stage::ToProduce) => sql.push(" and a.status = 'accepted'", []),
            Some(Stage::ToShip) => sql.push(
                &format!(" and a.status = 'in_production' and not {batched}"),
                [],
            ),
            Some(Stage::Batched) => sql.push(
                &format!(" and a.status = 'in_production' and {batched}"),
                [],
            ),
            None => &mut sql,
        };
        self.page(&sql, &QUEUE_ORDER, &[], req).await
    }

    /// Courier batches, newest first; at most `limit`.
    pub async fn courier_batches(&self, limit: i64) -> DbResult<Vec<BatchRow>> {
        Ok(self
            .courier_batches_page(&PageReq::first(limit))
            .await?
            .rows)
    }

    /// One page of the courier batches, newest first, with their whole count.
    pub async fn courier_batches_page(&self, req: &PageReq) -> DbResult<Page<BatchRow>> {
        let sql = Sql::new(
            "select b.batch_id, b.batch_no, b.courier, b.shipments, b.sha256, b.created_at, \
                b.created_by, (select count(*) from shipments s where s.batch_id = b.batch_id \
                and s.state <> 'batched') as shipped \
            from courier_batches b",
        );
        self.page(&sql, &BATCH_ORDER, &[], req).await
    }

    pub async fn courier_batch(&self, batch_id: i64) -> DbResult<Option<BatchRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, BatchRow>(
                "select b.batch_id, b.batch_no, b.courier, b.shipments, b.sha256, b.created_at, \
                    b.created_by, (select count(*) from shipments s where s.batch_id = b.batch_id \
                    and s.state <> 'batched') as shipped \
                from courier_batches b \
                where b.batch_id = $1",
            )
            .bind(batch_id)
            .fetch_optional(p)
            .await
        })
    }

    pub async fn courier_batch_file(&self, batch_id: i64) -> DbResult<Option<(String, Vec<u8>)>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, (String, Vec<u8>)>(
                "select batch_no, file from courier_batches where batch_id = $1",
            )
            .bind(batch_id)
            .fetch_optional(p)
            .await
        })
    }

    pub async fn batch_shipments(&self, batch_id: i64) -> DbResult<Vec<BatchShipment>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, BatchShipment>(
                "select s.shipment_id, s.application_id, s.order_no, s.waybill, s.state, \
                    s.shipped_at, v.body \
                from shipments s \
                join applications a on a.application_id = s.application_id \
                join application_versions v on v.application_id = a.application_id and v.version = \
                    a.version \
                where s.batch_id = $1 \
                order by s.shipment_id",
            )
            .bind(batch_id)
            .fetch_all(p)
            .await
        })
    }

    /// The latest parcel that left for this application: (courier, waybill, shipped at).
    pub async fn shipment_of(
        &self,
        application_id: &ApplicationId,
    ) -> DbResult<Option<(String, String, i64)>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<
            _,
            (String, String, i64),
        >(
            "select courier, waybill, shipped_at \
            from shipments \
            where application_id = $1 and state = 'shipped' \
            order by shipped_at desc \
            limit 1"
        )
        .bind(application_id)
        .fetch_optional(p)
        .await)
    }

    pub async fn shipments_of(&self, application_id: &ApplicationId) -> DbResult<Vec<ShipmentRow>> {
        let sql = format!("{SHIPMENT_COLUMNS} where application_id = $1 order by shipment_id");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ShipmentRow>(&sql)
            .bind(application_id)
            .fetch_all(p)
            .await)
    }
}
