//! The demo's fulfilment desk: certificates and media made, an SF batch whose waybills come
//! back from the courier, and the stand-in sender written to the settings file.

use crate::domain::ids::ApplicationId;
use crate::{domain::calendar::beijing, storage::ms, web::state::AppState};
use chrono::Utc;

/// The courier settings, with the demo's stand-in sender when none is configured (written to the
/// data directory's settings file when there is none, so that `serve` batches parcels too).
pub(super) fn courier_config(
    state: &AppState,
) -> anyhow::Result<crate::exchange::couriers::CourierConfig> {
    let mut cfg = state.settings.courier.clone();
    if cfg.sender.name.is_empty() {
        cfg.sender = demo_sender();
        cfg.sf.monthly_account = "7550000001".into();
        let path = state.settings.data_dir.join(crate::config::SETTINGS_FILE);
        if !path.exists() {
            std::fs::write(&path, DEMO_SETTINGS)?;
            println!(
                "Wrote {} (a stand-in sender for courier batches).",
                path.display()
            );
        }
    }
    Ok(cfg)
}

/// What one round of production and shipping did.
pub(super) struct Shipped {
    pub(super) made: usize,
    pub(super) batch_no: String,
    pub(super) parcels: usize,
    pub(super) shipped: usize,
}

/// The made applications get a certificate and a medium (numbered from `first`); those to post
/// go into an SF batch whose waybill numbers come back from the courier.
pub(super) async fn produce_and_ship(
    state: &AppState,
    cfg: &crate::exchange::couriers::CourierConfig,
    made: &[(ApplicationId, bool)],
    at: chrono::DateTime<Utc>,
    first: usize,
) -> anyhow::Result<Option<Shipped>> {
    use crate::desks::fulfilment::{self, Production};
    use crate::exchange::couriers::Courier;
    if made.is_empty() {
        return Ok(None);
    }
    let items: Vec<Production> = made
        .iter()
        .enumerate()
        .map(|(k, (id, _))| {
            let k = first + k;
            Production {
                application_id: id.clone(),
                certificate_serial: format!(
                    "0150612{:012X}",
                    at.timestamp() as u64 * 1000 + k as u64
                ),
                medium_no: format!("UK-{}-{k:05}", at.format("%Y%m")),
            }
        })
        .collect();
    fulfilment::record_production(&state.storage, &items, "staff:fulfillment", ms(at)).await?;
    let post: Vec<String> = made
        .iter()
        .filter(|(_, p)| *p)
        .map(|(id, _)| id.to_string())
        .collect();
    let Some(batch) = fulfilment::create_batch(
        &state.storage,
        cfg,
        Courier::Sf,
        Some(&post),
        "staff:fulfillment",
        ms(at),
    )
    .await?
    else {
        return Ok(Some(Shipped {
            made: items.len(),
            batch_no: String::new(),
            parcels: 0,
            shipped: 0,
        }));
    };
    let shipments = state.storage.batch_shipments(batch.batch_id).await?;
    let mut csv = String::from("订单号,运单号,寄件时间\r\n");
    let sent = at.with_timezone(&beijing()).format("%Y-%m-%d %H:%M:%S");
    for (k, s) in shipments.iter().enumerate() {
        csv.push_str(&format!(
            "{},SF{:013},{sent}\r\n",
            s.order_no,
            1_400_000_000_000u64 + (at.timestamp() as u64 % 100_000) * 100 + k as u64
        ));
    }
    let t = fulfilment::import_tracking(
        &state.storage,
        cfg,
        csv.as_bytes(),
        "staff:fulfillment",
        ms(at),
    )
    .await?;
    Ok(Some(Shipped {
        made: items.len(),
        batch_no: batch.batch_no,
        parcels: batch.shipments,
        shipped: t.shipped,
    }))
}

/// Today's made applications: those to post are batched and shipped, the rest wait for the
/// fulfilment desk's batch.
pub(super) async fn demo_fulfilment(
    state: &AppState,
    made: &[(ApplicationId, bool)],
    first: usize,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let cfg = courier_config(state)?;
    if let Some(s) = produce_and_ship(state, &cfg, made, now, first).await? {
        let posted = made.iter().filter(|(_, p)| *p).count();
        println!(
            "Fulfilment: {} made; batch {} with {} parcels, {} shipped; {} made and waiting for a batch.",
            s.made,
            s.batch_no,
            s.parcels,
            s.shipped,
            s.made - posted
        );
    }
    Ok(())
}

const DEMO_SETTINGS: &str =
    "# Written by `backoffice demo`: a stand-in sender for the courier batches. Replace it with the
# CA's own address, SF monthly account and product before real use (README, Configuration).
[courier]
contents = \"USB Key\"

[courier.sender]
company = \"深圳市电子商务安全证书管理中心（演示）\"
name = \"制证组\"
phone = \"0755-86000000\"
province = \"广东省\"
city = \"深圳市\"
district = \"南山区\"
detail = \"科技园南区深圳湾科技生态园10栋\"
postcode = \"518057\"

[courier.sf]
monthly_account = \"7550000001\"
";

fn demo_sender() -> crate::exchange::couriers::SenderConfig {
    let text = DEMO_SETTINGS;
    #[derive(serde::Deserialize)]
    struct F {
        courier: crate::exchange::couriers::CourierConfig,
    }
    toml::from_str::<F>(text)
        .expect("the demo settings parse")
        .courier
        .sender
}
