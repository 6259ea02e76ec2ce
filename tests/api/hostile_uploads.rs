//! Large staff uploads go through the pages (the CSRF check no longer buffers bodies), and the
//! CSRF check still refuses what it must: a file upload without its token or with a wrong one,
//! a form from another site, a url-encoded form over its limit, a file declared over the desk's
//! limit. Each refusal is a page in Chinese (the default locale), and changes nothing.

use crate::both;
use crate::fulfilment::{accepted, with_sender};
use crate::helpers::*;
use backoffice::exchange::couriers::Courier;
use rand::RngCore;
use std::io::Write;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn upload_to(
    b: &StaffBrowser,
    url_path: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    b.http
        .post(b.url(url_path))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The tax platform's zip: an export listing `n` invoices and one PDF per invoice, each PDF
/// `pdf_bytes` of random (incompressible) bytes after its header.
fn invoice_zip(n: usize, pdf_bytes: usize) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let numbers: Vec<String> = (0..n).map(|i| format!("2644200000{i:010}")).collect();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("发票基础信息").unwrap();
    let head = [
        "序号",
        "数电发票号码",
        "销方识别号",
        "销方名称",
        "购买方名称",
        "开票日期",
        "金额",
        "税额",
        "价税合计",
        "发票状态",
        "是否正数发票",
        "备注",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, number) in numbers.iter().enumerate() {
        let r = i as u32 + 1;
        let vals = [
            (i + 1).to_string(),
            number.clone(),
            "91440300MA5XXXXXX1".into(),
            "深圳某数字证书认证有限公司".into(),
            format!("客户{i}"),
            "2026-11-25 11:00:00".into(),
            "200.00".into(),
            "0".into(),
            "200.00".into(),
            "正常".into(),
            "是".into(),
            String::new(),
        ];
        for (c, v) in vals.iter().enumerate() {
            ws.write_string(r, c as u16, v).unwrap();
        }
    }
    let export = wb.save_to_buffer().unwrap();
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("全量发票查询导出结果.xlsx", stored).unwrap();
    z.write_all(&export).unwrap();
    let mut rng = rand::rng();
    for number in &numbers {
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut noise = vec![0u8; pdf_bytes];
        rng.fill_bytes(&mut noise);
        pdf.extend_from_slice(&noise);
        z.start_file(
            format!("发票/dzfp_{number}_深圳某数字证书认证有限公司_20261125110000.pdf"),
            stored,
        )
        .unwrap();
        z.write_all(&pdf).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// A 50 MB zip of 500 invoice PDFs imported through the finance page.
async fn a_50_mb_invoice_zip_is_imported_through_the_page(b: Backend) {
    let app = TestApp::spawn(b).await;
    let fin = app.signed_in_staff("qian.li", "finance").await;
    fin.get_page("/finance/invoices").await;
    let zip = invoice_zip(500, 100 * 1024);
    assert!(zip.len() > 50_000_000, "{} bytes", zip.len());
    let r = upload_to(
        &fin,
        &format!("/finance/invoices/issued?_csrf={}", fin.csrf()),
        "issued.zip",
        zip,
    )
    .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    // Every line of the export was read; none belongs to an application of this database.
    assert!(
        page.contains("行数 500") && page.contains("无对应 500"),
        "{}",
        &page[..page.len().min(3000)]
    );
}

/// A 20 MB tracking file of 105,000 rows imported through the fulfilment page: the first row
/// ships the parcel, the others repeat it (unchanged).
async fn a_20_mb_tracking_file_is_imported_through_the_page(b: Backend) {
    let app = TestApp::spawn_with(b, with_sender).await;
    let (id, hall) = accepted(&app, 1).await;
    backoffice::desks::fulfilment::record_production(
        &app.storage,
        &[backoffice::desks::fulfilment::Production {
            application_id: aid(&id),
            certificate_serial: "0150512140479057F1".into(),
            medium_no: "UK71".into(),
        }],
        "staff:x",
        1,
    )
    .await
    .unwrap();
    let cfg = app.state.settings.courier.clone();
    backoffice::desks::fulfilment::create_batch(
        &app.storage,
        &cfg,
        Courier::Sf,
        None,
        "staff:x",
        2,
    )
    .await
    .unwrap()
    .expect("a batch with the produced parcel");

    let rows = 105_000;
    let remark =
        "包裹已由顺丰速运揽收，收件人手机号已核对，寄件备注：请工作日派送，勿放快递柜。".repeat(2);
    let mut csv = String::from("订单号,运单号,寄件时间,备注\r\n");
    for _ in 0..rows {
        csv.push_str(&format!(
            "{hall},SF1234567890123,2026-11-25 16:30:00,{remark}\r\n"
        ));
    }
    let bytes = encoding_rs::GBK.encode(&csv).0.into_owned();
    assert!(bytes.len() > 20_000_000, "{} bytes", bytes.len());

    let clerk = app.signed_in_staff("zhao.qiang", "fulfillment").await;
    clerk.get_page("/fulfilment").await;
    let started = std::time::Instant::now();
    let r = upload_to(
        &clerk,
        &format!("/fulfilment/tracking?_csrf={}", clerk.csrf()),
        "tracking.csv",
        bytes,
    )
    .await;
    // Queued as a job at once; its page follows it to the end.
    assert_eq!(r.status(), 303);
    let job = location(&r);
    assert!(job.starts_with("/fulfilment/imports/"), "{job}");
    // While it runs, its page shows the rows done so far.
    let mut seen_between = false;
    let page = loop {
        let page = clerk.get_page(&job).await;
        if !page.contains("data-refresh") {
            break page;
        }
        let done = page
            .split("id=\"job-progress\" max=\"")
            .nth(1)
            .and_then(|s| s.split("value=\"").nth(1))
            .and_then(|s| s.split('"').next())
            .and_then(|v| v.parse::<usize>().ok());
        seen_between |= done.is_some_and(|d| d > 0 && d < rows);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(seen_between, "the page never showed the rows done so far");
    eprintln!(
        "{rows} tracking rows through the job: {:?}",
        started.elapsed()
    );
    assert!(
        counted(&page, "行数", rows as i64)
            && counted(&page, "已寄出", 1)
            && counted(&page, "无变化", rows as i64 - 1),
        "{}",
        &page[..page.len().min(3000)]
    );
    let v = app.get_json(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(v["status"], "shipped");
    assert_eq!(v["shipment"]["tracking_number"], "SF1234567890123");
}

/// File uploads carry their token in the action's query: without it, or with a wrong one, the
/// upload is refused with a page and nothing is imported; so is a form from another site.
async fn uploads_without_the_token_are_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let fin = app.signed_in_staff("qian.li", "finance").await;
    fin.get_page("/finance/invoices").await;
    let zip = invoice_zip(3, 1024);
    for path in [
        "/finance/invoices/issued".to_owned(),
        "/finance/invoices/issued?_csrf=0123456789abcdef".to_owned(),
        format!("/finance/invoices/issued?_csrf={}x", fin.csrf()),
    ] {
        let r = upload_to(&fin, &path, "issued.zip", zip.clone()).await;
        assert_eq!(r.status(), 403, "{path}");
        let page = r.text().await.unwrap();
        assert!(page.contains("表单已过期，请刷新页面后重试。"), "{page}");
    }
    // The right token, from another site's page: refused too.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(zip.clone()).file_name("issued.zip"),
    );
    let r = fin
        .http
        .post(fin.url(&format!("/finance/invoices/issued?_csrf={}", fin.csrf())))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("拒绝来自其他网站的表单提交")
    );
    let page = fin.get_page("/finance/invoices").await;
    assert!(!page.contains("26442000000000000000"), "nothing imported");
    // The token in the X-CSRF-Token header works as the query does.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(zip).file_name("issued.zip"),
    );
    let r = fin
        .http
        .post(fin.url("/finance/invoices/issued"))
        .header("x-csrf-token", fin.csrf())
        .header("origin", &app.addr)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("无对应 3"));
}

/// A url-encoded form over the form limit, and a file declared over the desk's limit, are
/// refused with a page naming the limit, before the body is read.
async fn forms_and_files_over_their_limits_are_refused_with_a_page(b: Backend) {
    let app = TestApp::spawn(b).await;
    let agent = app.signed_in_staff("sun.li", "hotline").await;
    agent.get_page("/hotline").await;
    let long = "x".repeat(1024 * 1024 + 1);
    let r = agent
        .post_raw(
            "/hotline/WT0000000000000000/note",
            &[("note", long.as_str()), ("_csrf", &agent.csrf())],
        )
        .await;
    assert_eq!(r.status(), 413);
    let page = r.text().await.unwrap();
    assert!(page.contains("表单超过 1024 KiB 上限"), "{page}");

    // 70 MiB declared to the fulfilment desk (64 MiB): answered before a byte of it is sent.
    let clerk = app.signed_in_staff("zhao.qiang", "fulfillment").await;
    clerk.get_page("/fulfilment").await;
    let cookie = format!("bo_session={}", clerk.cookie("bo_session").unwrap());
    let addr = app.addr.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        format!(
            "POST /fulfilment/tracking?_csrf={} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
             Content-Type: multipart/form-data; boundary=X\r\nContent-Length: {}\r\n\r\n",
            clerk.csrf(),
            70 * 1024 * 1024
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !String::from_utf8_lossy(&got).contains("</html>") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), s.read(&mut buf))
            .await
            .expect("answered without the body")
            .unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("文件超过 64 MiB 上限"), "{text}");
}

both!(
    a_50_mb_invoice_zip_is_imported_through_the_page,
    a_20_mb_tracking_file_is_imported_through_the_page,
    uploads_without_the_token_are_refused,
    forms_and_files_over_their_limits_are_refused_with_a_page,
);
