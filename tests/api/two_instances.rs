//! Two server instances on loopback ports sharing one PostgreSQL database and one S3 bucket,
//! driven at once: sessions, claims, the scheduled jobs, the outbox, imports, courier batches
//! and the scan sweep behave as with one instance. (`sla.rs` has the escalation sweep's own.)

use crate::fulfilment::{accepted, with_sender};
use crate::helpers::*;
use crate::moto::*;
use crate::smtp_sink::SmtpSink;
use backoffice::{
    domain::status::Action,
    exchange::couriers::Courier,
    jobs::{digest, outbox::deliver_all, scan_sweep, sla},
};
use serde_json::json;

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

const BASE: &str = "http://backoffice.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_behave_as_one() {
    let moto = Moto::start().await;
    let s3 = moto.bucket("shared").await;
    let tweak = |s: &mut backoffice::config::Settings| {
        with_sender(s);
        s.scan_store = s3_location(&s3);
    };
    let a = TestApp::spawn_with(Backend::Postgres, tweak).await;
    let b = TestApp::spawn_on_with(&a.database_url, tweak).await;

    // A session opened on one instance is valid on the other, and ends on both.
    let li = a.signed_in_staff("li.na", "reviewer").await;
    let li_b = li.at(&b.addr);
    assert_eq!(li_b.get("/review").await.status(), 200);

    // Applications arrive at both; scans stored by one are served by the other.
    let mut ids = Vec::new();
    for i in 0..6 {
        let mut j = example_json();
        j["hall_reference"] = json!(format!("WT-TWO-{i}"));
        j["payment"]["out_trade_no"] = json!(format!("SZCA{:016X}", 0xA000 + i));
        let inst = if i % 2 == 0 { &a } else { &b };
        let r = inst
            .submit(&format!("k-{i}"), Submission::with_json(j).form())
            .await;
        assert_eq!(r.status(), 201);
        ids.push(
            r.json::<serde_json::Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for (i, id) in ids.iter().enumerate() {
        let r = li_b.get(&format!("/review/{id}/scans/1/id_front")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.bytes().await.unwrap().to_vec(),
            jpeg(format!("front WT-TWO-{i}").as_bytes()),
            "the scan of {id} as the hall sent it"
        );
    }

    // Two reviewers claim the same application at once, one on each instance: one wins.
    let wang = a.signed_in_staff("wang.fang", "reviewer").await.at(&b.addr);
    let id = &ids[0];
    let page = format!("/review/{id}");
    let rv = hidden_field(&li.get_page(&page).await, "row_version").unwrap();
    wang.get_page(&page).await;
    let claim = format!("/review/{id}/claim");
    let form = [("row_version", rv.as_str())];
    let (ra, rb) = tokio::join!(li.post_form(&claim, &form), wang.post_form(&claim, &form));
    let won = [location(&ra), location(&rb)]
        .iter()
        .filter(|l| *l == &format!("/review/{id}?msg=claimed"))
        .count();
    assert_eq!(won, 1, "{} / {}", location(&ra), location(&rb));
    assert_eq!(a.audited(id, "application.claimed").await, 1);

    // Signing out on B ends the session on A too.
    li_b.get_page("/review").await;
    li_b.sign_out().await;
    assert_eq!(li.get("/review").await.status(), 303);

    // The scheduled jobs run on both at the same moment: each message is queued once.
    a.create_staff_with_email("boss", "supervisor", "boss@ca.example.cn")
        .await;
    let cal = a.storage.load_calendar().await.unwrap();
    let friday = at("2026-11-27T09:00:00+08:00");
    let team = Some("team@ca.example.cn");
    let (da, db) = tokio::join!(
        digest::send(&a.storage, &cal, team, BASE, friday),
        digest::send(&b.storage, &cal, team, BASE, friday)
    );
    // The team's digest and the claimant's; a second round on both finds nothing new.
    let digests = da.unwrap() + db.unwrap();
    assert_eq!(digests, 2);
    let (da, db) = tokio::join!(
        digest::send(&a.storage, &cal, team, BASE, friday),
        digest::send(&b.storage, &cal, team, BASE, friday)
    );
    assert_eq!(da.unwrap() + db.unwrap(), 0);
    let monday = at("2026-11-30T14:00:00+08:00");
    let (wa, wb) = tokio::join!(
        sla::warn_due_today(&a.storage, &cal, BASE, monday),
        sla::warn_due_today(&b.storage, &cal, BASE, monday)
    );
    assert_eq!(wa.unwrap() + wb.unwrap(), 1);
    let late = at("2026-12-01T09:00:00+08:00");
    let (sa, sb) = tokio::join!(
        sla::sweep(&a.storage, BASE, late),
        sla::sweep(&b.storage, BASE, late)
    );
    assert_eq!(sa.unwrap() + sb.unwrap(), 6);

    // The outbox, delivered by both at once: every message reaches the SMTP sink once.
    let sink = SmtpSink::start().await;
    let (ma, mb) = (sink.mailer(), sink.mailer());
    let (oa, ob) = tokio::join!(
        deliver_all(&a.storage, &ma, late),
        deliver_all(&b.storage, &mb, late)
    );
    let sent = oa.unwrap().sent + ob.unwrap().sent;
    assert_eq!(sent, digests + 1 + 6);
    let mut seen: Vec<_> = sink
        .messages()
        .iter()
        .map(|m| (m.to.clone(), m.subject()))
        .collect();
    assert_eq!(seen.len(), sent);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), sent, "a message went out twice");

    // The same bill imported on both at once: its lines are stored once.
    for id in &ids[1..] {
        a.staff_act(id, Action::Claim, &[]).await;
    }
    let p = a.storage.payment_of(&aid(&ids[1])).await.unwrap().unwrap();
    let bill = backoffice::demo::bills::wechat(&[backoffice::demo::bills::Line::pay(
        &p.out_trade_no,
        "4200000000000000000001",
        p.amount_fen.get(),
        chrono::DateTime::from_timestamp_millis(p.paid_at).unwrap(),
    )]);
    let (ia, ib) = tokio::join!(
        backoffice::desks::finance::import_bills(&a.storage, &bill, "bill.csv", None, "a", 1),
        backoffice::desks::finance::import_bills(&b.storage, &bill, "bill.csv", None, "b", 1)
    );
    let new = |r: Result<Vec<backoffice::desks::finance::ImportSummary>, _>| {
        r.unwrap().iter().map(|s| s.new_lines).sum::<usize>()
    };
    assert_eq!(new(ia) + new(ib), 1);
    assert_eq!(
        a.storage
            .payment_state_of(&aid(&ids[1]))
            .await
            .unwrap()
            .as_deref(),
        Some("verified")
    );

    // Courier batches made on both at once never share a parcel.
    let mut produced = Vec::new();
    for n in 0..6 {
        produced.push(accepted(&a, 40 + n).await.0);
    }
    let items: Vec<_> = produced
        .iter()
        .enumerate()
        .map(|(i, id)| backoffice::desks::fulfilment::Production {
            application_id: aid(id),
            certificate_serial: format!("0150512140479057F{i}"),
            medium_no: format!("UK7{i}"),
        })
        .collect();
    backoffice::desks::fulfilment::record_production(&b.storage, &items, "staff:x", 1)
        .await
        .unwrap();
    let cfg = a.state.settings.courier.clone();
    let (ba, bb) = tokio::join!(
        backoffice::desks::fulfilment::create_batch(
            &a.storage,
            &cfg,
            Courier::Sf,
            None,
            "staff:a",
            2
        ),
        backoffice::desks::fulfilment::create_batch(
            &b.storage,
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
    assert_eq!(n(ba) + n(bb), produced.len());
    for id in &produced {
        assert_eq!(
            a.storage.shipments_of(&aid(id)).await.unwrap().len(),
            1,
            "{id}"
        );
    }

    // The daily scan sweep: one instance runs it, the other sees the day taken.
    let (ra, rb) = tokio::join!(
        scan_sweep::run_once(&a.state),
        scan_sweep::run_once(&b.state)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra.is_some() != rb.is_some(), "{ra:?} / {rb:?}");
    assert_eq!(ra.or(rb).unwrap().deleted, 0);
}
