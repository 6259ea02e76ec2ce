//! Issue 21, items 3 and 4 through the real server. Uploads: each way an upload can fail is named
//! on the desk's page in the reader's language (no file, an empty one, a format the import does
//! not read, a body cut off, a file over the limit sent without its length), and the forms carry
//! `accept=` from the formats each import reads. PDF scans: a real PDF's page is served as a PNG
//! (audited as a view of the scan, rendered once, kept by the orphan sweep), a malformed one is
//! refused with a page, both on the review page with the original one click away.

use crate::both;
use crate::browser::realistic_submission;
use crate::helpers::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw request on its own connection (a body no client library would send); the answer, read
/// while the body is still being written (the server may answer before it has read it all).
async fn raw(app: &TestApp, b: &StaffBrowser, head: &str, body: &[u8]) -> String {
    let addr = app.addr.trim_start_matches("http://").to_owned();
    let cookie = format!("bo_session={}", b.cookie("bo_session").unwrap());
    let s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let mut all = head
        .replace("{addr}", &addr)
        .replace("{cookie}", &cookie)
        .replace("{csrf}", &b.csrf())
        .into_bytes();
    all.extend_from_slice(body);
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&all).await;
        wr
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !String::from_utf8_lossy(&got).contains("</html>") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), rd.read(&mut buf))
            .await
            .expect("an answer within 30 s")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    writer.abort();
    String::from_utf8_lossy(&got).into_owned()
}

async fn upload_failures_are_named_in_the_readers_language(b: Backend) {
    let app = TestApp::spawn(b).await;
    let clerk = app.signed_in_staff("zhao.qiang", "fulfillment").await;
    let page = clerk.get_page("/fulfilment/batches").await;
    // The form: accept= from the formats the tracking import reads, the limit written out.
    assert!(
        page.contains("accept=\".csv,.xlsx\"") && page.contains("data-upload"),
        "{page}"
    );
    assert!(page.contains("格式 .csv / .xlsx，最大 64 MiB"));

    // No file part at all.
    let form = reqwest::multipart::Form::new().text("note", "x");
    let r = clerk
        .http
        .post(clerk.url(&format!("/fulfilment/tracking?_csrf={}", clerk.csrf())))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("请选择文件（未收到文件，或文件为空）。")
    );
    // An empty file.
    let (status, page) = upload_file(&clerk, "/fulfilment/tracking", "t.csv", Vec::new()).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("请选择文件（未收到文件，或文件为空）。"),
        "{page}"
    );
    // A format the import does not read: named, with what it reads.
    let (status, page) = upload_file(
        &clerk,
        "/fulfilment/tracking",
        "运单.pdf",
        b"%PDF-1.4".to_vec(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("不支持“运单.pdf”的文件格式，未作任何更改。此处可导入：.csv / .xlsx。"),
        "{page}"
    );
    // A body cut off in the middle of the file: not "choose a file", but what happened.
    let body = "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\n\r\n订单号,运单号\r\n";
    let answer = raw(
        &app,
        &clerk,
        &format!(
            "POST /fulfilment/tracking?_csrf={{csrf}} HTTP/1.1\r\nHost: {{addr}}\r\nCookie: {{cookie}}\r\n\
             Content-Type: multipart/form-data; boundary=X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
        body.as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    assert!(answer.contains("上传未能完整读取"), "{answer}");
    assert!(!answer.contains("请选择文件"), "{answer}");

    // Over the calendar's 2 MiB, sent chunked (no length declared up front): the route's limit
    // stops the read and the page names the limit.
    let admin = app.signed_in_staff("root", "admin").await;
    admin.get_page("/admin/calendar").await;
    let mut chunked = Vec::new();
    let head = "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cal.csv\"\r\n\r\n";
    let line = "2026-10-01,放假,国庆节\r\n".repeat(4096);
    for part in std::iter::once(head.to_owned()).chain(std::iter::repeat_n(line, 40)) {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part.as_bytes());
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert!(chunked.len() > 3 * 1024 * 1024);
    let answer = raw(
        &app,
        &admin,
        "POST /admin/calendar/import?_csrf={csrf} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
         Content-Type: multipart/form-data; boundary=X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        &chunked,
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 422"),
        "{}",
        &answer[..answer.len().min(2000)]
    );
    assert!(
        answer.contains("文件超过 2 MiB 上限，未作任何更改。请拆分后分次上传。"),
        "{}",
        &answer[..answer.len().min(2000)]
    );

    // In English for a reader who chose English.
    let r = clerk
        .post_form(
            "/locale",
            &[("locale", "en"), ("next", "/fulfilment/batches")],
        )
        .await;
    assert_eq!(r.status(), 303);
    clerk.get_page("/fulfilment/batches").await;
    let (status, page) = upload_file(
        &clerk,
        "/fulfilment/tracking",
        "waybills.pdf",
        b"%PDF-1.4".to_vec(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("“waybills.pdf” is not a format read here; nothing was changed. This import reads .csv / .xlsx."),
        "{page}"
    );
    // Every desk's form carries its own formats.
    let fin = app.signed_in_staff("qian.li", "finance").await;
    assert!(
        fin.get_page("/finance/bills")
            .await
            .contains("accept=\".csv,.zip,.gz\"")
    );
    assert!(
        fin.get_page("/finance/invoices")
            .await
            .contains("accept=\".xlsx,.csv,.zip\"")
    );
    let (status, page) =
        upload_file(&fin, "/finance/bills", "bill.xlsx", b"PK\x03\x04".to_vec()).await;
    assert_eq!(status, 422);
    assert!(page.contains("此处可导入：.csv / .zip / .gz"), "{page}");
    assert!(
        admin
            .get_page("/admin/calendar")
            .await
            .contains("accept=\".csv,.xlsx\"")
    );
}

/// The reviewer of a submission whose forms are a real PDF and a malformed one.
async fn pdf_submission(app: &TestApp) -> (String, StaffBrowser) {
    let sub = realistic_submission(example_json()).set(
        "eseal_form",
        "eseal.pdf",
        "application/pdf",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n".to_vec(),
    );
    let r = app.submit("k-pdf-pages", sub.form()).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reviewer = app.signed_in_staff("li.jing", "reviewer").await;
    (id, reviewer)
}

async fn pdf_scans_are_shown_as_page_images(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (id, reviewer) = pdf_submission(&app).await;
    let page = reviewer.get_page(&format!("/review/{id}")).await;
    let form = format!("/review/{id}/scans/1/application_form");
    // The form's page as an image; the original PDF one click away; no frame.
    assert!(
        page.contains(&format!(
            "<img class=\"doc\" src=\"{form}?page=1\" alt=\"申请表\""
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("<a class=\"original\" href=\"{form}\"")),
        "{page}"
    );
    assert!(!page.contains("<iframe"), "{page}");
    // The malformed e-seal form: refused politely, the original still there.
    assert!(
        page.contains("无法将此 PDF 显示为图像，请打开原始 PDF 查看："),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/review/{id}/scans/1/eseal_form\"")));

    let r = reviewer.get(&format!("{form}?page=1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        r.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'self'"
    );
    let png = r.bytes().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    // The original is still the PDF itself.
    let r = reviewer.get(&form).await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    // No such page, not a number, not a PDF: nothing.
    for q in ["?page=2", "?page=0", "?page=x"] {
        assert_eq!(
            reviewer.get(&format!("{form}{q}")).await.status(),
            404,
            "{q}"
        );
    }
    assert_eq!(
        reviewer
            .get(&format!("/review/{id}/scans/1/id_front?page=1"))
            .await
            .status(),
        404
    );
    // The malformed PDF's page: a page saying why, in Chinese.
    let r = reviewer
        .get(&format!("/review/{id}/scans/1/eseal_form?page=1"))
        .await;
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(text.contains("无法将此 PDF 显示为图像"), "{text}");

    // Each page image shown is an audited view of the scan (the 404s were not).
    let views: Vec<String> = app
        .storage
        .audit_recent(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.subject_id == id && a.action == "scan.viewed")
        .filter_map(|a| a.after_state)
        .collect();
    assert_eq!(
        views
            .iter()
            .filter(|v| *v == "v1/application_form p1")
            .count(),
        1,
        "{views:?}"
    );

    // Rendered once, under the scan's hash; the failure recorded too, not retried on each view.
    let scans = app.storage.scans(&aid(&id), 1).await.unwrap();
    let sha = |k: &str| {
        scans
            .iter()
            .find(|s| s.kind.code() == k)
            .unwrap()
            .sha256
            .clone()
    };
    use backoffice::storage::scan_pages::Rendered;
    let Some(Rendered::Pages(pngs)) = app
        .storage
        .scan_render(&sha("application_form"))
        .await
        .unwrap()
    else {
        panic!("the form was not rendered");
    };
    assert_eq!(pngs.len(), 1);
    assert!(matches!(
        app.storage.scan_render(&sha("eseal_form")).await.unwrap(),
        Some(Rendered::Refused(_))
    ));
    let again = reviewer
        .get(&format!("{form}?page=1"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(again, png);

    // The orphan sweep (no grace) keeps the page image while the application references its
    // scan.
    let swept = backoffice::storage::scan_files::sweep::sweep(
        &app.storage,
        &app.state.scans,
        i64::MAX / 2,
        0,
    )
    .await
    .unwrap();
    assert_eq!(swept.deleted, 0, "{swept:?}");
    assert!(app.state.scans.get(&pngs[0]).await.is_ok());
}

/// Two renders of one PDF at once, one timed out under load: the pages the other stored stay,
/// whichever of the two is recorded last.
async fn a_refusal_never_hides_pages_another_render_stored(b: Backend) {
    use backoffice::storage::scan_pages::{self, Rendered};
    let app = TestApp::spawn(b).await;
    let pages = Rendered::Pages(vec!["a".repeat(64), "b".repeat(64)]);
    let refused = Rendered::Refused("rendering took longer than 20 s and was stopped".into());
    for (k, order) in [[&pages, &refused], [&refused, &pages]]
        .into_iter()
        .enumerate()
    {
        let scan = format!("{k:064}");
        for r in order {
            let mut tx = app.storage.begin().await.unwrap();
            scan_pages::save(&mut tx, &scan, r).await.unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(
            app.storage.scan_render(&scan).await.unwrap(),
            Some(pages.clone())
        );
    }
    // A refusal alone is read as one.
    let mut tx = app.storage.begin().await.unwrap();
    scan_pages::save(&mut tx, &"c".repeat(64), &refused)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        app.storage.scan_render(&"c".repeat(64)).await.unwrap(),
        Some(refused)
    );
}

both!(
    upload_failures_are_named_in_the_readers_language,
    pdf_scans_are_shown_as_page_images,
    a_refusal_never_hides_pages_another_render_stored,
);
