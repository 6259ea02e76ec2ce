//! Uploads in headless Chromium (issue 21, item 3): the finance clerk picks a bill and sends it;
//! while it goes the button is disabled, the progress bar shows and a second submit sends
//! nothing; the end state is the import job's page with its result. A file over the limit
//! is refused before it is sent; a file of a format the import does not read ends on the page
//! naming the formats, in Chinese.

use crate::both;
use crate::browser::{Browser, shots_dir};
use crate::helpers::*;
use serde_json::json;

async fn signed_in(app: &TestApp, user: &str, role: &str) -> Browser {
    app.create_staff(user, role, "a long secret phrase").await;
    let b = Browser::start().await;
    b.goto(&app.url("/login")).await;
    b.type_into("input[name=username]", user).await;
    b.type_into("input[name=password]", "a long secret phrase")
        .await;
    b.click("button[type=submit].primary").await;
    assert!(
        b.wait_for("return location.pathname !== '/login'").await,
        "sign-in of {user}"
    );
    b
}

/// Counts the uploads the page sends (XMLHttpRequest.send), for the double-submit check.
const COUNT_SENDS: &str = "window.__sent = 0; const send = XMLHttpRequest.prototype.send; \
    XMLHttpRequest.prototype.send = function (b) { window.__sent++; return send.call(this, b); }; \
    return true";

async fn a_bill_upload_shows_its_progress_and_its_end(backend: Backend) {
    use backoffice::demo::bills::{self, Line};
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    let p = app.storage.payment_of(&aid(&id)).await.unwrap().unwrap();
    let at = chrono::DateTime::from_timestamp_millis(p.paid_at).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bill = dir.path().join("微信支付账单_20261125.csv");
    std::fs::write(
        &bill,
        bills::wechat(&[Line::pay(
            &p.out_trade_no,
            "4200000000000000000000000081",
            p.amount_fen.get(),
            at,
        )]),
    )
    .unwrap();
    let b = signed_in(&app, "chen.fang", "finance").await;
    b.goto(&app.url("/finance/bills")).await;
    assert!(
        b.wait_for("return document.readyState === 'complete'")
            .await
    );
    // The picker offers the formats the bill import reads.
    assert_eq!(
        b.eval("return document.querySelector('form.upload input[type=file]').accept")
            .await,
        json!(".csv,.zip,.gz")
    );
    b.type_into("form.upload input[type=file]", bill.to_str().unwrap())
        .await;
    b.eval(COUNT_SENDS).await;
    // A file over the limit is refused before a byte is sent, saying so.
    let refused = b
        .eval(
            "const f = document.querySelector('form.upload'); const limit = f.dataset.limit; \
             f.dataset.limit = '10'; f.requestSubmit(); f.dataset.limit = limit; \
             return [window.__sent, f.dataset.state, f.querySelector('output').textContent, \
                     document.querySelector('#upload-bill').disabled]",
        )
        .await;
    assert_eq!(
        refused,
        json!([
            0,
            "refused",
            "文件超过 256 MiB 上限，未发送。请拆分后分次上传。",
            false
        ])
    );
    let tmp = &shots_dir(backend);
    b.screenshot(&tmp.join("finance-bill-too-large.png")).await;
    // Two submits in a row: the first goes, the second is refused; the button is disabled and
    // the progress shows at once.
    let state = b
        .eval(
            "const f = document.querySelector('form.upload'); f.requestSubmit(); f.requestSubmit(); \
             return [window.__sent, document.querySelector('#upload-bill').disabled, \
                     !f.querySelector('.upload-state').hidden, f.dataset.state]",
        )
        .await;
    assert_eq!(state, json!([1, true, true, "sending"]));
    // The end state: the import job's page, which reloads itself until the job is done and
    // then shows its result.
    assert!(
        b.wait_for("return location.pathname.startsWith('/finance/imports/') && document.readyState === 'complete'")
            .await,
        "the upload never ended on the job's page"
    );
    assert!(
        b.wait_for("return document.body.innerText.includes('导入完成。') && document.querySelector('#job-progress').value === document.querySelector('#job-progress').max")
            .await,
        "the job's page never showed the result"
    );
    assert_eq!(
        b.eval("return document.querySelector('#job-counts').innerText.includes('已匹配')")
            .await,
        json!(true)
    );
    b.screenshot(&tmp.join("finance-bill-uploaded.png")).await;
    // The clerk leaves and comes back: the desk's page links to the job.
    b.goto(&app.url("/finance/bills")).await;
    assert!(
        b.wait_for("return document.querySelector('#recent-imports a[href^=\"/finance/imports/\"]') !== null")
            .await
    );
    assert_eq!(
        app.storage
            .payment_state_of(&aid(&id))
            .await
            .unwrap()
            .as_deref(),
        Some("verified")
    );

    // A spreadsheet is not a bill: the page names the formats, and the form is usable again.
    let wrong = dir.path().join("账单.xlsx");
    std::fs::write(&wrong, b"PK\x03\x04 not a bill").unwrap();
    b.type_into("form.upload input[type=file]", wrong.to_str().unwrap())
        .await;
    b.click("#upload-bill").await;
    assert!(
        b.wait_for("return document.body.innerText.includes('不支持“账单.xlsx”的文件格式，未作任何更改。此处可导入：.csv / .zip / .gz。')")
            .await,
        "the refusal was not shown"
    );
    assert!(
        b.wait_for("return document.readyState === 'complete' && document.querySelector('#upload-bill') !== null && !document.querySelector('#upload-bill').disabled")
            .await
    );
    b.screenshot(&tmp.join("finance-bill-refused.png")).await;
}

both!(a_bill_upload_shows_its_progress_and_its_end);
