//! The fulfilment desk over HTTP: accept → produce → batch → file → tracking → shipped, the API's
//! `shipment`, the e-mail, returned parcels, malformed tracking files, concurrent batches.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::Action;
use backoffice::exchange::couriers::{Courier, CourierLayout};
use serde_json::json;

/// An accepted application with a paid, verified payment; `n` makes it unique.
pub async fn accepted(app: &TestApp, n: u32) -> (String, String) {
    let mut j = example_json();
    let hall = format!("WT2026112560{n:02}");
    j["hall_reference"] = json!(hall);
    j["payment"]["out_trade_no"] = json!(format!("SZCA{:016X}", 0xF000u64 + u64::from(n)));
    j["mailing_address"]["recipient"] = json!(format!("收件人{n}"));
    let r = app
        .submit(&format!("ful-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.verify_payment(&id).await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(&id, Action::Accept, &[]).await;
    (id, hall)
}

pub fn with_sender(s: &mut backoffice::config::Settings) {
    let c = &mut s.courier;
    c.sender.company = "深圳市数字证书认证中心".into();
    c.sender.name = "制证组".into();
    c.sender.phone = "0755-86000000".into();
    c.sender.province = "广东省".into();
    c.sender.city = "深圳市".into();
    c.sender.district = "南山区".into();
    c.sender.detail = "科技园南区深圳湾科技生态园10栋".into();
    c.sender.postcode = "518057".into();
    c.sf.monthly_account = "7550000001".into();
}

fn produce_form<'a>(ids: &'a [(String, String)], serial: &'a str) -> Vec<(String, String)> {
    let mut f = Vec::new();
    for (i, (id, _)) in ids.iter().enumerate() {
        f.push(("ids".to_string(), id.clone()));
        f.push((format!("serial.{id}"), format!("{serial}{i}")));
        f.push((format!("medium.{id}"), format!("UK-2026-{i:05}")));
    }
    f
}

async fn post_pairs(b: &StaffBrowser, path: &str, pairs: &[(String, String)]) -> reqwest::Response {
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post_form(path, &refs).await
}

fn tracking_csv(rows: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::from("订单号,运单号,寄件时间\r\n");
    for (order, waybill) in rows {
        s.push_str(&format!("{order},{waybill},2026-11-25 16:30:00\r\n"));
    }
    encoding_rs::GBK.encode(&s).0.into_owned()
}

async fn status(app: &TestApp, id: &str) -> String {
    app.get_json(&format!("/api/v1/applications/{id}")).await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn from_acceptance_to_the_applicants_door(b: Backend) {
    let app = TestApp::spawn_with(b, with_sender).await;
    let apps = vec![
        accepted(&app, 1).await,
        accepted(&app, 2).await,
        accepted(&app, 3).await,
    ];
    let clerk = app.signed_in_staff("zhao.qiang", "fulfillment").await;
    let page = clerk.get_page("/fulfilment").await;
    for (id, _) in &apps {
        assert!(page.contains(id.as_str()));
    }

    // Production, all or nothing: one bad serial refuses the selection.
    let mut bad = produce_form(&apps[..2], "0150512140479055D0");
    bad[1].1 = "not a serial!".into();
    let r = post_pairs(&clerk, "/fulfilment/production", &bad).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("certificate serial"));
    assert_eq!(status(&app, &apps[0].0).await, "accepted");
    let r = post_pairs(
        &clerk,
        "/fulfilment/production",
        &produce_form(&apps[..2], "0150512140479055D0"),
    )
    .await;
    assert_eq!(location(&r), "/fulfilment?msg=produced");
    assert_eq!(status(&app, &apps[0].0).await, "in_production");

    // A batch of everything ready: the two produced ones.
    clerk.get_page("/fulfilment").await;
    let r = clerk
        .post_form(
            "/fulfilment/batches",
            &[("courier", "sf"), ("scope", "all")],
        )
        .await;
    let to = location(&r);
    assert!(
        to.starts_with("/fulfilment/batches/") && to.ends_with("?msg=batch_created"),
        "{to}"
    );
    let batch = to
        .trim_start_matches("/fulfilment/batches/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let r = clerk
        .post_form(
            "/fulfilment/batches",
            &[("courier", "sf"), ("scope", "all")],
        )
        .await;
    assert_eq!(location(&r), "/fulfilment?msg=nothing_to_ship");

    // The batch-order file, column by column against the layout; the same bytes again.
    let r = clerk
        .get(&format!("/fulfilment/batches/{batch}/file"))
        .await;
    let name = crate::downloads::attachment_name(&r);
    assert!(
        name.starts_with("发货批次_") && name.ends_with(".xlsx") && name.len() > 20,
        "{name}"
    );
    let file = r.bytes().await.unwrap().to_vec();
    let again = clerk
        .get(&format!("/fulfilment/batches/{batch}/file"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(file, again);
    let layout = CourierLayout::shipped(Courier::Sf);
    let sheet = {
        use calamine::Reader;
        let mut x: calamine::Xlsx<_> =
            calamine::Xlsx::new(std::io::Cursor::new(file.clone())).unwrap();
        let name = x.sheet_names()[0].clone();
        x.worksheet_range(&name).unwrap()
    };
    let cell = |r: u32, c: u32| {
        sheet
            .get_value((r, c))
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let header_row = layout.header_row - 1;
    let col = |h: &str| {
        (0..sheet.width() as u32)
            .find(|&c| cell(header_row, c) == h)
            .unwrap_or_else(|| panic!("no column {h}"))
    };
    for (i, c) in layout.columns.iter().enumerate() {
        assert_eq!(cell(header_row, i as u32), c.header, "column {}", i + 1);
    }
    let first = layout.data_row - 1;
    let orders: Vec<String> = (0..2).map(|k| cell(first + k, col("订单号"))).collect();
    assert!(
        orders.contains(&apps[0].1) && orders.contains(&apps[1].1),
        "{orders:?}"
    );
    let k = orders.iter().position(|o| *o == apps[0].1).unwrap() as u32;
    assert_eq!(cell(first + k, col("收方姓名")), "收件人1");
    assert_eq!(cell(first + k, col("收方联系方式")), "13800138000");
    assert!(cell(first + k, col("收方地址")).starts_with("广东省深圳市"));
    assert_eq!(cell(first + k, col("寄方姓名")), "制证组");
    assert_eq!(cell(first + k, col("月结卡号")), "7550000001");
    assert_eq!(cell(first + k, col("托寄物内容")), "USB Key");
    assert_eq!(cell(first + 2, col("订单号")), "", "two parcels only");

    // Labels: one per parcel, the recipient's mobile masked, the order numbers there.
    let labels = clerk
        .get_page(&format!("/fulfilment/batches/{batch}/labels"))
        .await;
    assert_eq!(labels.matches("class=\"label\"").count(), 2, "{labels}");
    assert!(labels.contains("138****8000") && !labels.contains("13800138000"));
    assert!(labels.contains(&apps[1].1) && labels.contains("待回填运单号"));
    let packing = clerk
        .get_page(&format!("/fulfilment/batches/{batch}/packing"))
        .await;
    assert!(packing.contains(&apps[0].1));

    // Malformed tracking files are refused whole, naming the row and the column.
    clerk.get_page("/fulfilment/batches").await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            encoding_rs::GBK
                .encode("订单号,寄件时间\r\nWT1,2026-11-25 16:30\r\n")
                .0
                .into_owned(),
            "运单号",
        ),
        (tracking_csv(&[(&apps[0].1, "")]), "row 2"),
        (
            tracking_csv(&[(&apps[0].1, "SF12345")]),
            "row 2, column 运单号",
        ),
    ];
    for (bytes, named) in cases {
        // Refused by the import job: its page names the row and the column.
        let (_, page) = upload_and_wait(&clerk, "/fulfilment/tracking", "t.csv", bytes).await;
        assert!(
            page.contains("未导入，未做任何更改") && page.contains(named),
            "{named}: {page}"
        );
    }
    assert_eq!(status(&app, &apps[0].0).await, "in_production");

    // The good file: two shipped, an unknown order; then the same again, and a conflict.
    let good = tracking_csv(&[
        (&apps[0].1, "SF1234567890123"),
        (&apps[1].1, "SF1234567890124"),
        ("WT209901010001", "SF1234567890125"),
    ]);
    let (_, page) = upload_and_wait(&clerk, "/fulfilment/tracking", "t.csv", good.clone()).await;
    assert!(
        counted(&page, "已寄出", 2) && counted(&page, "订单号不存在", 1),
        "{page}"
    );
    assert!(
        page.contains("WT209901010001"),
        "the row that did not fit is listed"
    );
    let (_, page) = upload_and_wait(
        &clerk,
        "/fulfilment/tracking",
        "t.csv",
        tracking_csv(&[
            (&apps[0].1, "SF1234567890123"),
            (&apps[1].1, "SF9999999999999"),
        ]),
    )
    .await;
    assert!(
        counted(&page, "无变化", 1) && counted(&page, "与已登记运单号冲突", 1),
        "{page}"
    );
    assert_eq!(status(&app, &apps[0].0).await, "shipped");
    let v = app
        .get_json(&format!("/api/v1/applications/{}", apps[0].0))
        .await;
    assert_eq!(v["shipment"]["courier"], "SF");
    assert_eq!(v["shipment"]["tracking_number"], "SF1234567890123");
    assert_eq!(v["shipment"]["shipped_at"], "2026-11-25T16:30:00+08:00");

    // The applicant's e-mail with courier, waybill and link; the hotline sees the waybill.
    let sink = crate::smtp_sink::SmtpSink::start().await;
    backoffice::jobs::outbox::deliver_all(
        &app.storage,
        &sink.mailer(),
        app.clock.now().timestamp_millis(),
    )
    .await
    .unwrap();
    let shipped: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.subject().contains("已寄出"))
        .collect();
    assert_eq!(shipped.len(), 2);
    let text = shipped
        .iter()
        .find(|m| m.subject().contains(&apps[0].1))
        .unwrap()
        .text();
    assert!(
        text.contains("顺丰") && text.contains("SF1234567890123") && text.contains("https://"),
        "{text}"
    );
    // And an SMS beside it: the courier and the waybill as the shipped template's values.
    let sms = app.storage.sms_messages("pending", 50).await.unwrap();
    let shipped_sms = sms
        .iter()
        .find(|m| m.kind == "applicant_shipped" && m.subject.contains(&apps[0].1))
        .expect("the shipped SMS");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&shipped_sms.body_text).unwrap(),
        json!({"ref": apps[0].1, "courier": "顺丰速运", "waybill": "SF1234567890123"})
    );
    assert_eq!(
        sms.iter().filter(|m| m.kind == "applicant_shipped").count(),
        2
    );
    let hotline = app.signed_in_staff("zhou.min", "hotline").await;
    assert!(
        hotline
            .get_page(&format!("/hotline/{}", apps[0].0))
            .await
            .contains("SF1234567890123")
    );

    // A parcel comes back: recorded with a reason, the application waits to be sent again, and
    // the next batch gives it a new order number.
    let shipment = app.storage.shipments_of(&aid(&apps[0].0)).await.unwrap()[0].shipment_id;
    clerk
        .get_page(&format!("/fulfilment/batches/{batch}"))
        .await;
    let r = clerk
        .post_form(
            &format!("/fulfilment/shipments/{shipment}/returned"),
            &[("reason", "地址不详，无法投递")],
        )
        .await;
    assert_eq!(location(&r), "/fulfilment?msg=parcel_returned");
    assert_eq!(status(&app, &apps[0].0).await, "in_production");
    let page = clerk.get_page("/fulfilment").await;
    assert!(page.contains("地址不详"));
    let b2 = backoffice::desks::fulfilment::create_batch(
        &app.storage,
        &app.state.settings.courier,
        Courier::Ems,
        None,
        "staff:x",
        1,
    )
    .await
    .unwrap();
    let b2 = b2.expect("the returned parcel is ready again");
    assert_eq!(b2.shipments, 1);
    let s = app.storage.shipments_of(&aid(&apps[0].0)).await.unwrap();
    assert_eq!(s.last().unwrap().order_no, format!("{}-2", apps[0].1));

    // Everything is on the timeline and in the audit trail.
    let history = app
        .get_json(&format!("/api/v1/applications/{}", apps[0].0))
        .await["history"]
        .clone();
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.ends_with(&["accepted", "in_production", "shipped", "in_production"]),
        "{statuses:?}"
    );
    for action in [
        "application.produced",
        "shipment.batched",
        "application.shipped",
        "application.parcel_returned",
    ] {
        assert!(app.audited(&apps[0].0, action).await >= 1, "{action}");
    }
}
both!(from_acceptance_to_the_applicants_door);

async fn two_clerks_batching_at_once_never_share_a_parcel(b: Backend) {
    let app = TestApp::spawn_with(b, with_sender).await;
    let mut ids = Vec::new();
    for n in 10..16 {
        ids.push(accepted(&app, n).await);
    }
    let items: Vec<backoffice::desks::fulfilment::Production> = ids
        .iter()
        .enumerate()
        .map(|(i, (id, _))| backoffice::desks::fulfilment::Production {
            application_id: aid(id),
            certificate_serial: format!("0150512140479056E{i}"),
            medium_no: format!("UK{i}"),
        })
        .collect();
    backoffice::desks::fulfilment::record_production(&app.storage, &items, "staff:x", 1)
        .await
        .unwrap();
    let cfg = app.state.settings.courier.clone();
    let (a, c) = tokio::join!(
        backoffice::desks::fulfilment::create_batch(
            &app.storage,
            &cfg,
            Courier::Sf,
            None,
            "staff:a",
            2
        ),
        backoffice::desks::fulfilment::create_batch(
            &app.storage,
            &cfg,
            Courier::Ems,
            None,
            "staff:b",
            2
        )
    );
    let n = |r: Result<Option<backoffice::desks::fulfilment::CourierBatch>, _>| {
        r.unwrap().map(|b| b.shipments).unwrap_or(0)
    };
    assert_eq!(n(a) + n(c), ids.len());
    for (id, _) in &ids {
        assert_eq!(
            app.storage.shipments_of(&aid(id)).await.unwrap().len(),
            1,
            "{id}"
        );
    }
}
both!(two_clerks_batching_at_once_never_share_a_parcel);
