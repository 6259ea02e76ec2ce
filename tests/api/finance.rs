//! The finance desk: bills imported and reconciled, each class provoked, re-import and
//! concurrent import, the cases and their resolution, the acceptance gate.

use crate::both;
use crate::downloads::{attachment_name, number_format};
use crate::helpers::*;
use backoffice::demo::bills::{self, Line};
use backoffice::desks::finance::{self, ImportSummary, Resolution};
use backoffice::domain::intake::PaymentChannel;
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
    app.storage
        .payment_state_of(&aid(id))
        .await
        .unwrap()
        .unwrap()
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
    assert_eq!(e.to_string(), "the file is a alipay bill; expected wechat");
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

/// Uploads a file as the desk's forms do (multipart, CSRF token in the query).
async fn upload(b: &StaffBrowser, path: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    b.http
        .post(b.url(&format!("{path}?_csrf={}", b.csrf())))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn sheet(bytes: &[u8], name: &str) -> calamine::Range<calamine::Data> {
    use calamine::Reader;
    let mut x: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    x.worksheet_range(name).unwrap()
}

fn cell(r: &calamine::Range<calamine::Data>, row: usize, col: usize) -> String {
    r.get((row, col)).map(|d| d.to_string()).unwrap_or_default()
}

/// The tax platform's export of issued invoices (发票查询统计 → 全量发票查询), as an xlsx.
fn platform_export(rows: &[(&str, &str, &str, &str, bool, &str)]) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("发票基础信息").unwrap();
    let head = [
        "序号",
        "发票代码",
        "发票号码",
        "数电发票号码",
        "销方识别号",
        "销方名称",
        "购方识别号",
        "购买方名称",
        "开票日期",
        "金额",
        "税额",
        "价税合计",
        "发票来源",
        "发票票种",
        "发票状态",
        "是否正数发票",
        "发票风险等级",
        "开票人",
        "备注",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, (number, buyer, total, date, positive, remark)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        let vals = [
            (i + 1).to_string(),
            String::new(),
            String::new(),
            number.to_string(),
            "91440300MA5XXXXXX1".into(),
            "深圳某数字证书认证有限公司".into(),
            String::new(),
            buyer.to_string(),
            date.to_string(),
            total.to_string(),
            "0".into(),
            total.to_string(),
            "电子发票服务平台".into(),
            "数电发票（普通发票）".into(),
            "正常".into(),
            (if *positive { "是" } else { "否" }).into(),
            "正常".into(),
            "财务".into(),
            remark.to_string(),
        ];
        for (c, v) in vals.iter().enumerate() {
            ws.write_string(r, c as u16, v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap().into_inner()
}

async fn the_finance_desk_from_bill_to_issued_invoice(b: Backend) {
    use backoffice::domain::status::Action;
    let app = TestApp::spawn(b).await;
    let person = paid(&app, 31, "wechat", 20000, yesterday(0)).await;
    let company = {
        let mut j = example_json();
        j["hall_reference"] = json!("WT202611240032");
        j["payment"]["out_trade_no"] = json!(order(32));
        j["payment"]["paid_at"] = json!(yesterday(1).to_rfc3339());
        j["applicant"]["email"] = json!("lisi@example.com");
        j["invoice"] = json!({"title": "深圳市某某科技有限公司", "tax_id": "91350100M000100Y43", "email": "finance@example.com"});
        let r = app.submit("fin-32", Submission::with_json(j).form()).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let short = paid(&app, 33, "wechat", 20000, yesterday(2)).await;
    let fin = app.signed_in_staff("zhao.min", "finance").await;
    fin.get_page("/finance/bills").await;

    // A bill whose total was edited is refused whole, naming the line; nothing is stored.
    let lines = vec![
        Line::pay(
            &order(31),
            "4200000000000000000000000031",
            20000,
            yesterday(0),
        ),
        Line::pay(
            &order(32),
            "4200000000000000000000000032",
            20000,
            yesterday(1),
        ),
        Line::pay(
            &order(33),
            "4200000000000000000000000033",
            18000,
            yesterday(2),
        ),
        Line::pay(
            &order(31),
            "4200000000000000000000000131",
            20000,
            yesterday(3),
        ),
    ];
    let good = bills::wechat(&lines);
    let text = String::from_utf8(good.clone()).unwrap();
    let edited = text.replacen("`4,`780.00", "`4,`770.00", 1);
    assert_ne!(edited, text);
    let bytes = edited.into_bytes();
    let (_, page) = upload_and_wait(&fin, "/finance/bills", "edited.csv", bytes).await;
    assert!(
        page.contains("未导入，未做任何更改") && page.contains("line 7"),
        "{page}"
    );
    assert!(app.storage.bill_imports(10).await.unwrap().is_empty());

    let (job, page) = upload_and_wait(&fin, "/finance/bills", "wx-20261124.csv", good).await;
    assert!(
        page.contains("wx-20261124.csv") && counted(&page, "金额不符", 1),
        "{page}"
    );
    // The desk's page lists both imports, each linking to its job.
    let page = fin.get_page("/finance/bills").await;
    assert!(page.contains(&format!("href=\"{job}\"")), "{page}");

    // The exceptions queue: the short payment, accepted with a note; a stale form loses.
    let page = fin.get_page("/finance/exceptions").await;
    assert!(page.contains(&order(33)) && page.contains("重复支付"));
    let case_id = app
        .storage
        .finance_cases(true, &["amount_mismatch"], 10)
        .await
        .unwrap()[0]
        .case_id;
    let page = fin
        .get_page(&format!("/finance/exceptions/{case_id}"))
        .await;
    assert!(page.contains("180.00") && page.contains("wx-20261124.csv") && page.contains(&short));
    let rv = hidden_field(&page, "row_version").unwrap();
    let form = [
        ("action", "accept"),
        ("row_version", rv.as_str()),
        ("note", "优惠券抵扣，已核对"),
    ];
    let r = fin
        .post_form(&format!("/finance/exceptions/{case_id}"), &form)
        .await;
    assert_eq!(location(&r), "/finance/exceptions?msg=case_closed");
    let r = fin
        .post_form(&format!("/finance/exceptions/{case_id}"), &form)
        .await;
    assert_eq!(
        location(&r),
        format!("/finance/exceptions/{case_id}?msg=case_conflict")
    );
    assert_eq!(state(&app, &short).await, "verified");
    assert!(
        app.audited(&case_id.to_string(), "finance_case.closed")
            .await
            == 1
    );

    // Refunds owed: the second payment of #31, exported for the merchant platform.
    let r = fin.get("/finance/refunds.xlsx").await;
    assert_eq!(r.status(), 200);
    assert_eq!(attachment_name(&r), "待退款_2026-11-25.xlsx");
    let xlsx = r.bytes().await.unwrap().to_vec();
    let s = sheet(&xlsx, "待退款");
    assert_eq!(s.height(), 2);
    assert_eq!(cell(&s, 0, 1), "商户订单号");
    assert_eq!(cell(&s, 1, 1), order(31));
    assert_eq!(cell(&s, 1, 2), "4200000000000000000000000131");
    assert_eq!(s.get((1, 3)), Some(&calamine::Data::Float(200.0)));
    assert_eq!(number_format(&xlsx, 1, 3).as_deref(), Some("#,##0.00"));
    let page = fin.get_page("/finance/refunds").await;
    assert!(page.contains("¥200.00"), "{page}");

    // The daily report: one day, one channel, real numbers and dates.
    let page = fin.get_page("/finance/report").await;
    assert!(page.contains("<svg") && page.contains("¥780.00"), "{page}");
    let r = fin.get("/finance/report.xlsx").await;
    assert_eq!(attachment_name(&r), "对账日报_2026-11-11_2026-11-24.xlsx");
    let xlsx = r.bytes().await.unwrap().to_vec();
    let s = sheet(&xlsx, "对账日报");
    assert_eq!(s.height(), 2);
    assert_eq!(cell(&s, 0, 3), "收款金额（元）");
    assert!(matches!(s.get((1, 0)), Some(calamine::Data::DateTime(_))));
    assert_eq!(s.get((1, 2)), Some(&calamine::Data::Float(4.0)));
    assert_eq!(s.get((1, 3)), Some(&calamine::Data::Float(780.0)));
    assert_eq!(number_format(&xlsx, 1, 3).as_deref(), Some("#,##0.00"));
    assert_eq!(
        number_format(&xlsx, 1, 2).as_deref(),
        None,
        "a count is no money"
    );
    assert_eq!(s.get((1, 7)), Some(&calamine::Data::Float(2.0)));

    // Accepted applications that asked for an invoice become requests; a batch holds each once.
    for id in [&person, &company] {
        app.staff_act(id, Action::Claim, &[]).await;
        app.staff_act(id, Action::Accept, &[]).await;
    }
    let page = fin.get_page("/finance/invoices").await;
    assert!(page.contains("深圳市某某科技有限公司"));
    let r = fin.post_form("/finance/invoices/batches", &[]).await;
    let to = location(&r);
    assert!(
        to.starts_with("/finance/invoices?msg=batch_created&batch="),
        "{to}"
    );
    let batch_id = to.rsplit('=').next().unwrap().to_owned();
    let r = fin.post_form("/finance/invoices/batches", &[]).await;
    assert_eq!(location(&r), "/finance/invoices?msg=nothing_to_batch");
    let r = fin
        .get(&format!("/finance/invoices/batches/{batch_id}"))
        .await;
    let name = attachment_name(&r);
    assert!(
        name.starts_with("开票批次_") && name.ends_with(".xlsx") && name.len() > 20,
        "{name}"
    );
    let file = r.bytes().await.unwrap().to_vec();
    let again = fin
        .get(&format!("/finance/invoices/batches/{batch_id}"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(file, again, "downloading a batch again gives the same file");
    let s1 = sheet(&file, "1-发票基本信息");
    assert_eq!(cell(&s1, 2, 0), "发票流水号");
    assert_eq!(s1.height(), 5);
    let rows: Vec<(String, String, String, String)> = (3..5)
        .map(|r| {
            (
                cell(&s1, r, 0),
                cell(&s1, r, 4),
                cell(&s1, r, 5),
                cell(&s1, r, 6),
            )
        })
        .collect();
    assert!(rows.iter().all(|r| r.0.starts_with("FP261125")), "{rows:?}");
    assert!(
        rows.contains(&(rows[0].0.clone(), "是".into(), "张三".into(), String::new()))
            || rows.iter().any(|r| r.2 == "张三" && r.1 == "是")
    );
    assert!(
        rows.iter()
            .any(|r| r.3 == "91350100M000100Y43" && r.1 == "否")
    );
    let s2 = sheet(&file, "2-发票明细信息");
    assert_eq!(cell(&s2, 3, 6), "200.00");
    assert_eq!(cell(&s2, 3, 8), "0.06");

    // The platform issued both; its export also holds another invoice of the CA's.
    let n_person = "26442000000000000031";
    let n_company = "26442000000000000032";
    let export = platform_export(&[
        (
            n_person,
            "张三",
            "200.00",
            "2026-11-25 11:00:00",
            true,
            "申请编号：WT202611240031",
        ),
        (
            n_company,
            "深圳市某某科技有限公司",
            "200.00",
            "2026-11-25 11:01:00",
            true,
            "申请编号：WT202611240032",
        ),
        (
            "26442000000000000999",
            "别的客户",
            "1000.00",
            "2026-11-25 11:02:00",
            true,
            "",
        ),
    ]);
    let pdf = b"%PDF-1.4\n% invoice 31\n".to_vec();
    let bundle = zip_of(&[
        ("全量发票查询导出结果.xlsx", export.clone()),
        (
            &format!("dzfp_{n_person}_深圳某数字证书认证有限公司_20261125110000.pdf"),
            pdf.clone(),
        ),
    ]);
    let r = upload(&fin, "/finance/invoices/issued", "issued.zip", bundle).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("已匹配 2") && page.contains("无对应 1") && page.contains("附件 1"),
        "{page}"
    );
    assert!(
        page.contains("26442000000000000999"),
        "the unmatched invoice is listed"
    );
    // Importing the same data again changes nothing.
    let r = upload(&fin, "/finance/invoices/issued", "issued.xlsx", export).await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("已匹配 0") && page.contains("已有 2"),
        "{page}"
    );

    // The applicant's e-mail links to the file; the link serves it to anyone holding it.
    let sink = crate::smtp_sink::SmtpSink::start().await;
    backoffice::jobs::outbox::deliver_all(
        &app.storage,
        &sink.mailer(),
        app.clock.now().timestamp_millis(),
    )
    .await
    .unwrap();
    let mails = sink.messages();
    let invoice_mail = mails
        .iter()
        .find(|m| m.subject().contains("发票已开具"))
        .expect("the invoice e-mail");
    assert_eq!(invoice_mail.to, ["zhangsan@example.com"]);
    let text = invoice_mail.text();
    assert!(text.contains(n_person), "{text}");
    let link = text
        .lines()
        .find_map(|l| l.strip_prefix("下载地址："))
        .expect("a download link")
        .to_owned();
    let path = &link[link.find("/invoice-files/").unwrap()..];
    let r = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(attachment_name(&r), format!("发票_{n_person}.pdf"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    // The SMS carries the same link (the token as the template's variable); the invoice with
    // the platform's record alone and no file here gets none (a link is no SMS variable).
    let sms: Vec<_> = app
        .storage
        .sms_messages("pending", 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "applicant_invoice_issued")
        .collect();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(
        sms[0].subject.ends_with(&link),
        "{} / {link}",
        sms[0].subject
    );
    let params: serde_json::Value = serde_json::from_str(&sms[0].body_text).unwrap();
    assert_eq!(params["number"], n_person);
    assert_eq!(
        params["token"].as_str().unwrap(),
        &path["/invoice-files/".len()..]
    );
    // Only one invoice e-mail per invoice, however often the import runs.
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.subject().contains("发票已开具"))
            .count(),
        1
    );

    // The hall's status and the hotline both say "invoice issued".
    let v = app
        .get_json(&format!("/api/v1/applications/{person}"))
        .await;
    assert_eq!(v["invoice"]["status"], "issued");
    assert_eq!(v["invoice"]["number"], n_person);
    let hotline = app.signed_in_staff("wu.qi", "hotline").await;
    let page = hotline.get_page(&format!("/hotline/{person}")).await;
    assert!(page.contains("已开具"), "{page}");
}
both!(the_finance_desk_from_bill_to_issued_invoice);

async fn a_supervisor_may_accept_an_unverified_payment_with_a_reason(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let chen = app.signed_in_staff("chen.hui", "supervisor").await;
    let page = chen.get_page(&format!("/review/{id}")).await;
    let r = chen
        .post_form(
            &format!("/review/{id}/claim"),
            &[("row_version", &hidden_field(&page, "row_version").unwrap())],
        )
        .await;
    let page = chen.follow(r).await;
    assert!(
        page.contains("payment_override"),
        "the supervisor is offered the override"
    );
    let rv = hidden_field(&page, "row_version").unwrap();
    // Without a reason: refused like anyone else.
    let r = chen
        .post_form(
            &format!("/review/{id}/accept"),
            &[("row_version", rv.as_str()), ("payment_override", "  ")],
        )
        .await;
    assert_eq!(location(&r), format!("/review/{id}?msg=payment_unverified"));
    let r = chen
        .post_form(
            &format!("/review/{id}/accept"),
            &[
                ("row_version", rv.as_str()),
                ("payment_override", "网厅支付截图已核对，账单次日到"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/review?msg=accepted");
    let audit = app.storage.audit_recent(50).await.unwrap();
    let o = audit
        .iter()
        .find(|a| a.action == "application.payment_override" && a.subject_id == id)
        .expect("the override is audited");
    assert_eq!(o.actor, "staff:chen.hui");
    assert_eq!(
        o.after_state.as_deref(),
        Some("unverified: 网厅支付截图已核对，账单次日到")
    );
}
both!(a_supervisor_may_accept_an_unverified_payment_with_a_reason);
