//! The finance desk: bills imported and reconciled, each class provoked, re-import and
//! concurrent import, the cases and their resolution, the acceptance gate.

use crate::both;
use crate::helpers::*;
use backoffice::demo::bills::{self, Line};
use backoffice::domain::intake::PaymentChannel;
use backoffice::finance::{self, ImportSummary, Resolution};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// Submits an application paid through `channel` with this order number and amount.
async fn paid(app: &TestApp, n: u32, channel: &str, fen: i64, paid_at: DateTime<Utc>) -> String {
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT20261124{n:04}"));
    j["payment"]["channel"] = json!(channel);
    j["payment"]["out_trade_no"] = json!(order(n));
    j["payment"]["amount_fen"] = json!(fen);
    j["payment"]["paid_at"] = json!(paid_at.to_rfc3339());
    let r = app
        .submit(&format!("fin-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn order(n: u32) -> String {
    format!("SZCA{:016X}", 0xA000_0000u64 + u64::from(n))
}

/// Yesterday (Beijing), 10:00 plus `h` hours.
fn yesterday(h: i64) -> DateTime<Utc> {
    test_now() - Duration::hours(24) + Duration::hours(h) - Duration::minutes(6)
}

async fn import(app: &TestApp, bytes: &[u8]) -> ImportSummary {
    let mut s = finance::import_bills(&app.storage, bytes, "bill.csv", None, "test", 0)
        .await
        .unwrap();
    assert_eq!(s.len(), 1);
    s.remove(0)
}

async fn state(app: &TestApp, id: &str) -> String {
    app.storage.payment_state_of(id).await.unwrap().unwrap()
}

async fn every_class_is_found_and_each_line_is_stored_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let matched = paid(&app, 1, "wechat", 20000, yesterday(0)).await;
    let mismatch = paid(&app, 2, "wechat", 20000, yesterday(1)).await;
    let missing = paid(&app, 3, "wechat", 20000, yesterday(2)).await;
    let twice = paid(&app, 4, "wechat", 20000, yesterday(3)).await;
    let refunded = paid(&app, 5, "wechat", 20000, yesterday(4)).await;
    // Alipay's and today's: not this bill's business.
    let other_channel = paid(&app, 6, "alipay", 20000, yesterday(5)).await;
    let today = paid(&app, 7, "wechat", 20000, test_now() - Duration::minutes(3)).await;

    let lines = vec![
        Line::pay(
            &order(1),
            "4200000000000000000000000001",
            20000,
            yesterday(0),
        ),
        Line::pay(
            &order(2),
            "4200000000000000000000000002",
            19900,
            yesterday(1),
        ),
        Line::pay(
            &order(4),
            "4200000000000000000000000004",
            20000,
            yesterday(3),
        ),
        Line::pay(
            &order(4),
            "4200000000000000000000000044",
            20000,
            yesterday(5),
        ),
        Line::pay(
            &order(5),
            "4200000000000000000000000005",
            20000,
            yesterday(4),
        ),
        Line::refund(
            &order(5),
            "4200000000000000000000000005",
            20000,
            yesterday(6),
            "R5",
        ),
        // money in, no application: the hall failed after payment
        Line::pay(
            &order(99),
            "4200000000000000000000000099",
            20000,
            yesterday(7),
        ),
    ];
    let bill = bills::wechat(&lines);
    let s = import(&app, &bill).await;
    assert_eq!(
        s,
        ImportSummary {
            channel: "wechat".into(),
            lines: 7,
            new_lines: 7,
            matched: 3,
            amount_mismatch: 1,
            unmatched_payment: 1,
            missing_payment: 1,
            duplicate_payment: 1,
            refund: 1,
        }
    );
    assert_eq!(state(&app, &matched).await, "verified");
    assert_eq!(state(&app, &twice).await, "verified");
    assert_eq!(state(&app, &mismatch).await, "exception");
    assert_eq!(state(&app, &missing).await, "exception");
    // A refund nobody expected: finance must look at it.
    assert_eq!(state(&app, &refunded).await, "exception");
    assert_eq!(state(&app, &other_channel).await, "unverified");
    assert_eq!(state(&app, &today).await, "unverified");
    let mut kinds: Vec<String> = app
        .storage
        .finance_cases(true, &[], 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.kind)
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "amount_mismatch",
            "duplicate_payment",
            "missing_payment",
            "unexpected_refund",
            "unmatched_payment"
        ]
    );

    // The same bill again changes nothing; two imports at once store every line once.
    let again = import(&app, &bill).await;
    assert_eq!(
        again,
        ImportSummary {
            channel: "wechat".into(),
            lines: 7,
            ..Default::default()
        }
    );
    let more = bills::wechat(&[
        Line::pay(
            &order(3),
            "4200000000000000000000000003",
            20000,
            yesterday(2),
        ),
        Line::refund(
            &order(4),
            "4200000000000000000000000044",
            20000,
            yesterday(9),
            "R4",
        ),
    ]);
    let (a, b2) = tokio::join!(
        finance::import_bills(&app.storage, &more, "a.csv", None, "test", 0),
        finance::import_bills(&app.storage, &more, "b.csv", None, "test", 0)
    );
    let (a, b2) = (a.unwrap().remove(0), b2.unwrap().remove(0));
    assert_eq!(a.new_lines + b2.new_lines, 2, "{a:?} {b2:?}");
    assert_eq!(a.matched + b2.matched, 1);
    assert_eq!(a.refund + b2.refund, 1);
    // The late payment closed the missing case; the refund of the second payment closed the
    // duplicate's case by itself.
    assert_eq!(state(&app, &missing).await, "verified");
    let open: Vec<String> = app
        .storage
        .finance_cases(true, &[], 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert!(!open.contains(&"duplicate_payment".to_string()), "{open:?}");
    assert!(!open.contains(&"missing_payment".to_string()), "{open:?}");
    let lines_of_4 = app.storage.bill_lines_of_order(&order(4)).await.unwrap();
    assert_eq!(lines_of_4.len(), 3);
    // Every import is audited with its file's SHA-256.
    let audits = app.storage.audit_recent(100).await.unwrap();
    assert!(
        audits
            .iter()
            .any(|a| a.action == "payments.imported" && a.subject_id == finance::sha256_hex(&bill))
    );
}
both!(every_class_is_found_and_each_line_is_stored_once);

async fn alipay_bills_and_zips_reconcile_like_wechat(b: Backend) {
    let app = TestApp::spawn(b).await;
    let a1 = paid(&app, 11, "alipay", 20000, yesterday(0)).await;
    let a2 = paid(&app, 12, "alipay", 20000, yesterday(1)).await;
    let day = (test_now() - Duration::hours(24))
        .with_timezone(&backoffice::domain::calendar::beijing())
        .date_naive();
    let bill = bills::alipay(
        &day.to_string(),
        &day.succ_opt().unwrap().to_string(),
        &[
            Line::pay(
                &order(11),
                "2026112422001457310829465111",
                20000,
                yesterday(0),
            ),
            Line::pay(
                &order(12),
                "2026112422001457310829465112",
                20000,
                yesterday(1),
            ),
        ],
    );
    // A wrong channel is refused, naming both.
    let e = finance::import_bills(
        &app.storage,
        &bill,
        "x.csv",
        Some(PaymentChannel::Wechat),
        "test",
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(e.to_string(), "this is a alipay bill, not a wechat one");
    // A truncated file changes nothing.
    let cut = &bill[..bill.len() * 2 / 3];
    let e = finance::import_bills(&app.storage, cut, "x.csv", None, "test", 0)
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("line "), "{e}");
    assert_eq!(state(&app, &a1).await, "unverified");
    let s = import(&app, &bill).await;
    assert_eq!(
        (s.channel.as_str(), s.matched, s.new_lines),
        ("alipay", 2, 2)
    );
    assert_eq!(state(&app, &a2).await, "verified");
}
both!(alipay_bills_and_zips_reconcile_like_wechat);

async fn clerks_close_cases_with_a_note_and_one_wins(b: Backend) {
    let app = TestApp::spawn(b).await;
    let mismatch = paid(&app, 21, "wechat", 20000, yesterday(0)).await;
    let lost = paid(&app, 22, "wechat", 20000, yesterday(1)).await;
    // The hall recorded another order number for #22; its payment arrives as an orphan.
    import(
        &app,
        &bills::wechat(&[
            Line::pay(
                &order(21),
                "4200000000000000000000000021",
                19000,
                yesterday(0),
            ),
            Line::pay(
                &order(98),
                "4200000000000000000000000098",
                20000,
                yesterday(1),
            ),
        ]),
    )
    .await;
    let cases = app.storage.finance_cases(true, &[], 10).await.unwrap();
    let case = |k: &str| cases.iter().find(|c| c.kind == k).unwrap().case_id;
    let (m, u, missing) = (
        case("amount_mismatch"),
        case("unmatched_payment"),
        case("missing_payment"),
    );
    let close = |id: i64, r: Resolution, note: &'static str| {
        let storage = app.storage.clone();
        async move { finance::resolve_case(&storage, id, &r, note, None, "staff:fin", 1).await }
    };
    // A note is required; a resolution must fit the case.
    let e = close(m, Resolution::AcceptMismatch, " ").await.unwrap_err();
    assert_eq!(e.to_string(), "a note is required");
    let e = close(u, Resolution::AcceptMismatch, "x").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "a unmatched_payment case cannot be closed as mismatch_accepted"
    );
    // Two clerks at once: one wins.
    let (r1, r2) = tokio::join!(
        close(m, Resolution::AcceptMismatch, "coupon"),
        close(m, Resolution::AcceptMismatch, "coupon")
    );
    assert!(r1.is_ok() != r2.is_ok(), "{r1:?} {r2:?}");
    assert_eq!(state(&app, &mismatch).await, "verified");
    // Linking the orphan to #22 closes its missing case too.
    let e = close(
        u,
        Resolution::Link {
            application_id: mismatch.clone(),
        },
        "hall log",
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("the payment is 200.00 yuan, the application's fee 200.00")
            || e.to_string().contains("already has a payment"),
        "{e}"
    );
    close(
        u,
        Resolution::Link {
            application_id: lost.clone(),
        },
        "hall log shows the order",
    )
    .await
    .unwrap();
    assert_eq!(state(&app, &lost).await, "verified");
    let c = app.storage.finance_case(missing).await.unwrap().unwrap();
    assert_eq!(
        (c.state.as_str(), c.resolution.as_deref()),
        ("closed", Some("linked"))
    );
}
both!(clerks_close_cases_with_a_note_and_one_wins);
