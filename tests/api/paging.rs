//! Every list pages by keyset with the count of its whole filter and previous / next links that
//! keep the filter: the finance exceptions (and their 已处理 tab), the refunds owed with their
//! total, the production queue, the courier batches, a figure's list on the supervision
//! dashboard, a report's preview and the SLA page's lists, each with more rows than one page
//! (the review queue's paging is in `review_desk`); and in Chromium,
//! 下一页 / 上一页 clicked on the refunds page.

use crate::both;
use crate::browser::Browser;
use crate::helpers::*;
use backoffice::domain::{intake::PaymentChannel, money::Fen};
use backoffice::storage::finance::{CaseState, NewCase, close_case, open_case};
use backoffice::storage::paging::PageReq;

/// The pagers of a page: each one's "第 x–y 条，共 N 条" and its previous and next links.
fn pagers(page: &str) -> Vec<(String, Option<String>, Option<String>)> {
    let between = |s: &str, a: &str, b: &str| -> Option<String> {
        let i = s.find(a)? + a.len();
        Some(s[i..i + s[i..].find(b)?].replace("&amp;", "&"))
    };
    page.split("<nav class=\"pager\"")
        .skip(1)
        .map(|s| {
            let nav = &s[..s.find("</nav>").unwrap()];
            (
                between(nav, "<span class=\"count\">", "</span>").unwrap(),
                between(nav, "rel=\"prev\" href=\"", "\""),
                between(nav, "rel=\"next\" href=\"", "\""),
            )
        })
        .collect()
}

/// The one pager of a page.
fn pager(page: &str) -> (String, Option<String>, Option<String>) {
    let mut all = pagers(page);
    assert_eq!(all.len(), 1, "one pager");
    all.remove(0)
}

/// The cases a page links to, in its order.
fn case_ids(page: &str) -> Vec<i64> {
    page.split("href=\"/finance/exceptions/")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// `closed` cases closed, then `open` newer duplicate payments still open (amounts 100 fen and
/// up): (the closed ones' ids newest first, the sum of the open ones' amounts).
async fn seed_cases(app: &TestApp, closed: usize, open: usize) -> (Vec<i64>, i64) {
    let now = app.clock.now().timestamp_millis();
    let mut tx = app.storage.begin().await.unwrap();
    let mut sum = 0;
    for i in 0..closed + open {
        let amount = 100 + i as i64;
        if i >= closed {
            sum += amount;
        }
        let kind = if i < closed {
            "unmatched_payment"
        } else {
            "duplicate_payment"
        };
        let order = format!("SZCAPAGE{i:012}");
        let case = NewCase {
            kind,
            channel: PaymentChannel::Wechat,
            out_trade_no: &order,
            application_id: None,
            line_id: None,
            amount_fen: backoffice::domain::money::Fen::new(amount),
            at: now + i as i64,
        };
        assert!(open_case(&mut tx, &case).await.unwrap());
    }
    tx.commit().await.unwrap();
    let first = app
        .storage
        .finance_cases_page(
            CaseState::Open,
            &["unmatched_payment"],
            &PageReq::first(500),
        )
        .await
        .unwrap();
    let ids: Vec<i64> = first.rows.iter().map(|c| c.case_id).collect();
    let mut tx = app.storage.begin().await.unwrap();
    for id in &ids {
        let closed = close_case(&mut tx, *id, None, "payment_arrived", None, None, "t", now);
        assert!(closed.await.unwrap());
    }
    tx.commit().await.unwrap();
    (ids, sum)
}

async fn finance_lists_page_over_the_whole_filter(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (closed, owed) = seed_cases(&app, 3, 501).await;
    let fin = app.signed_in_staff("qian.li", "finance").await;

    // 已处理: the closed cases, found under 501 newer open ones.
    let page = fin.get_page("/finance/exceptions?state=closed").await;
    assert_eq!(pager(&page).0, "第 1–3 条，共 3 条");
    assert_eq!(case_ids(&page), closed);

    // The open ones: 50 a page, newest first; next and previous.
    let first = fin.get_page("/finance/exceptions").await;
    let (text, prev, next) = pager(&first);
    assert_eq!((text.as_str(), prev), ("第 1–50 条，共 501 条", None));
    let ids1 = case_ids(&first);
    assert_eq!(ids1.len(), 50);
    assert!(ids1.windows(2).all(|w| w[0] > w[1]), "{ids1:?}");
    let second = fin.get_page(&next.unwrap()).await;
    let (text, prev, _) = pager(&second);
    assert_eq!(text, "第 51–100 条，共 501 条");
    let ids2 = case_ids(&second);
    assert_eq!(ids2.len(), 50);
    assert!(ids2[0] < ids1[49], "{ids2:?}");
    let back = fin.get_page(&prev.unwrap()).await;
    assert_eq!(pager(&back).0, "第 1–50 条，共 501 条");
    assert_eq!(case_ids(&back), ids1);

    // A page beyond the end (a stale link whose rows have gone) says so and leads back to the
    // last page, instead of a pager with no way out.
    let beyond = fin.get_page("/finance/exceptions?after=0").await;
    let (text, prev, next) = pager(&beyond);
    assert_eq!((text.as_str(), next), ("本页无记录，共 501 条", None));
    let last = fin.get_page(&prev.expect("a way back")).await;
    assert_eq!(pager(&last).0, "第 452–501 条，共 501 条");

    // A filter stays in the links.
    let kind = fin
        .get_page("/finance/exceptions?kind=duplicate_payment")
        .await;
    let next = pager(&kind).2.unwrap();
    assert!(next.contains("kind=duplicate_payment"), "{next}");
    assert_eq!(
        pager(&fin.get_page(&next).await).0,
        "第 51–100 条，共 501 条"
    );
    let unmatched = fin
        .get_page("/finance/exceptions?kind=unmatched_payment")
        .await;
    assert_eq!(pager(&unmatched).0, "共 0 条");

    // Refunds owed: the count and the sum are of all 501, whatever the page shows.
    let total = format!(
        "<strong id=\"owed-total\">{}</strong>",
        backoffice::views::components::yuan(Fen::new(owed))
    );
    let mut page = fin.get_page("/finance/refunds?n=200").await;
    let mut seen = Vec::new();
    for want in ["第 1–200 条", "第 201–400 条", "第 401–501 条"] {
        assert!(page.contains("<strong id=\"owed-count\">501</strong>"));
        assert!(page.contains(&total), "{total}");
        let (text, _, next) = pager(&page);
        assert_eq!(text, format!("{want}，共 501 条"));
        seen.extend(case_ids(&page));
        match next {
            Some(n) => {
                assert!(n.contains("n=200"), "{n}");
                page = fin.get_page(&n).await;
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 501);
    seen.dedup();
    assert_eq!(seen.len(), 501);
    let (_, prev, next) = pager(&page);
    assert!(prev.is_some() && next.is_none());

    // The export carries all 501, more than a page of 500.
    let r = fin.get("/finance/refunds.xlsx").await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(x.worksheet_range("待退款").unwrap().height(), 1 + 501);
}

async fn desk_and_supervision_lists_page(b: Backend) {
    let app = TestApp::spawn(b).await;
    let now = app.clock.now().timestamp_millis();
    app.storage
        .seed_synthetic_produced(1, 60, now)
        .await
        .unwrap();
    app.storage
        .seed_synthetic(1000, 60, now, true)
        .await
        .unwrap();
    let clerk = app.signed_in_staff("clerk", "fulfillment").await;

    // The production queue: to produce, ready to ship (60), each with its pager (the part in a
    // batch shows only when something is).
    let page = clerk.get_page("/fulfilment").await;
    let p = pagers(&page);
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].0, "共 0 条");
    assert_eq!(p[1].0, "第 1–50 条，共 60 条");
    let next = p[1].2.clone().unwrap();
    assert!(next.contains("s_after="), "{next}");
    let p = pagers(&clerk.get_page(&next).await);
    assert_eq!(p[1].0, "第 51–60 条，共 60 条");
    assert!(p[1].1.is_some() && p[1].2.is_none());

    // All 60 in one batch: a courier batch, and the shipment register's 60 parcels.
    let mut courier = backoffice::exchange::couriers::CourierConfig::default();
    courier.sender.company = "深圳市数字证书认证中心".into();
    courier.sender.name = "制证组".into();
    courier.sender.phone = "0755-86000000".into();
    courier.sender.province = "广东省".into();
    courier.sender.city = "深圳市".into();
    courier.sender.district = "南山区".into();
    courier.sender.detail = "科技园南区深圳湾科技生态园10栋".into();
    courier.sender.postcode = "518057".into();
    courier.sf.monthly_account = "7550000001".into();
    let sf = backoffice::exchange::couriers::Courier::Sf;
    let batch =
        backoffice::desks::fulfilment::create_batch(&app.storage, &courier, sf, None, "test", now);
    assert_eq!(batch.await.unwrap().unwrap().shipments, 60);
    let page = clerk.get_page("/fulfilment/batches?n=1").await;
    assert_eq!(pager(&page).0, "第 1–1 条，共 1 条");
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let page = boss.get_page("/reports/shipment-register").await;
    let (text, _, next) = pager(&page);
    assert_eq!(text, "第 1–50 条，共 60 条");
    // The total row counts the whole period, not the page.
    assert!(
        page.contains("<strong>60</strong>"),
        "the total of 60 parcels"
    );
    let next = next.unwrap();
    assert!(next.contains("after="), "{next}");
    let page = boss.get_page(&next).await;
    assert_eq!(pager(&page).0, "第 51–60 条，共 60 条");
    assert!(page.contains("<strong>60</strong>"));

    // A figure's list: 60 waiting, 25 a page.
    let mut path = "/supervision/applications?f=waiting&from=0&to=9999999999999&n=25".to_owned();
    let mut seen = Vec::new();
    for want in ["第 1–25 条", "第 26–50 条", "第 51–60 条"] {
        let page = boss.get_page(&path).await;
        let (text, _, next) = pager(&page);
        assert_eq!(text, format!("{want}，共 60 条"));
        seen.extend(
            page.split("href=\"/review/")
                .skip(1)
                .map(|s| s[..s.find('"').unwrap()].to_owned()),
        );
        if let Some(n) = next {
            assert!(n.contains("f=waiting") && n.contains("n=25"), "{n}");
            path = n;
        }
    }
    assert_eq!(seen.len(), 60);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 60);

    // The SLA page: 59 due within minutes, one overdue since yesterday, each list paged alone.
    let page = boss.get_page("/sla").await;
    let p = pagers(&page);
    assert_eq!(p.len(), 3);
    assert_eq!(p[0].0, "第 1–50 条，共 59 条");
    assert_eq!(p[1].0, "第 1–1 条，共 1 条");
    assert_eq!(p[2].0, "共 0 条");
    let p = pagers(&boss.get_page(&p[0].2.clone().unwrap()).await);
    assert_eq!(p[0].0, "第 51–59 条，共 59 条");
    assert_eq!(p[1].0, "第 1–1 条，共 1 条");
}

/// The invoices page: 60 pending requests, a page of them, the count and the ready figure of
/// all 60.
async fn invoice_requests_page(b: Backend) {
    let app = TestApp::spawn(b).await;
    let now = app.clock.now().timestamp_millis();
    app.storage
        .seed_synthetic_applications(1, 60, now)
        .await
        .unwrap();
    backoffice::on_pool!(app.storage.write_pool(), |p| sqlx::query(
        "insert into invoice_requests (application_id, hall_reference, title, email, amount_fen, \
            created_at, updated_at) \
        select application_id, hall_reference, applicant_name, 'a@example.com', amount_fen, \
            received_at, received_at \
        from applications"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    let all = app.storage.invoice_requests("pending", 500).await.unwrap();
    assert_eq!(all.len(), 60);
    let ready = all
        .iter()
        .filter(|r| {
            r.payment_state == "verified"
                && ["accepted", "in_production", "shipped"].contains(&r.status.code())
        })
        .count();
    let fin = app.signed_in_staff("qian.li", "finance").await;
    let page = fin.get_page("/finance/invoices").await;
    assert!(page.contains(&format!("({ready})")), "ready {ready}");
    let p = pagers(&page);
    assert_eq!(p[0].0, "第 1–50 条，共 60 条");
    assert_eq!(p[1].0, "共 0 条");
    let next = p[0].2.clone().unwrap();
    let page = fin.get_page(&next).await;
    assert_eq!(pagers(&page)[0].0, "第 51–60 条，共 60 条");
    assert!(page.contains(&format!("({ready})")));
}

/// The outbox: 70 pending messages, counted whole and paged.
async fn outbox_page_pages(b: Backend) {
    use backoffice::storage::outbox::{NewMessage, enqueue};
    let app = TestApp::spawn(b).await;
    let now = app.clock.now().timestamp_millis();
    let mut tx = app.storage.begin().await.unwrap();
    for i in 0..70 {
        let key = format!("paging-{i}");
        let m = NewMessage {
            dedup_key: &key,
            channel: backoffice::storage::outbox::EMAIL,
            kind: "test",
            recipient: "a@example.com",
            subject: "s",
            body_text: "t",
            body_html: "<p>t</p>",
            application_id: None,
        };
        assert!(enqueue(&mut tx, &m, now + 3_600_000).await.unwrap());
    }
    tx.commit().await.unwrap();
    let admin = app.signed_in_staff("ops.admin", "admin").await;
    let page = admin.get_page("/admin/outbox").await;
    assert!(page.contains("待发送 <strong>70</strong>"));
    let p = pagers(&page);
    assert_eq!(
        (p[0].0.as_str(), p[1].0.as_str()),
        ("共 0 条", "第 1–50 条，共 70 条")
    );
    let page = admin.get_page(&p[1].2.clone().unwrap()).await;
    assert_eq!(pagers(&page)[1].0, "第 51–70 条，共 70 条");
}

/// The hotline's look-ups as supervisors see them: 55 searches, counted and paged.
async fn hotline_lookups_page(b: Backend) {
    use backoffice::storage::audit::{AuditEntry, record};
    let app = TestApp::spawn(b).await;
    let now = app.clock.now().timestamp_millis();
    let mut tx = app.storage.begin().await.unwrap();
    for i in 0..55 {
        let q = format!("WT2026112500{i:02}");
        let e = AuditEntry {
            at: now + i,
            actor: "staff:agent",
            action: "hotline.searched",
            subject_type: "query",
            subject_id: &q,
            before: None,
            after: Some(""),
            request_id: None,
        };
        record(&mut tx, &e).await.unwrap();
    }
    tx.commit().await.unwrap();
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let page = boss.get_page("/hotline-lookups").await;
    assert_eq!(pager(&page).0, "第 1–50 条，共 55 条");
    assert!(page.contains("WT202611250054") && !page.contains("WT202611250004"));
    let page = boss.get_page(&pager(&page).2.unwrap()).await;
    assert_eq!(pager(&page).0, "第 51–55 条，共 55 条");
    assert!(page.contains("WT202611250004") && !page.contains("WT202611250005"));
}

/// 下一页 and 上一页 clicked in Chromium on the refunds page.
async fn next_and_previous_in_the_browser(b: Backend) {
    let app = TestApp::spawn(b).await;
    seed_cases(&app, 0, 120).await;
    app.create_staff("chen.fang", "finance", "a long secret phrase")
        .await;
    let br = Browser::start().await;
    br.goto(&app.url("/login")).await;
    br.type_into("input[name=username]", "chen.fang").await;
    br.type_into("input[name=password]", "a long secret phrase")
        .await;
    br.click("button[type=submit].primary").await;
    assert!(
        br.wait_for("return location.pathname === '/finance/exceptions'")
            .await
    );
    br.goto(&app.url("/finance/refunds")).await;
    let count = |t: &str| {
        format!("return document.querySelector('nav.pager .count').textContent === '{t}'")
    };
    assert!(br.wait_for(&count("第 1–50 条，共 120 条")).await);
    br.click("nav.pager a[rel=next]").await;
    assert!(br.wait_for(&count("第 51–100 条，共 120 条")).await);
    br.click("nav.pager a[rel=next]").await;
    assert!(br.wait_for(&count("第 101–120 条，共 120 条")).await);
    assert!(
        br.wait_for("return document.querySelectorAll('#refunds tbody tr').length === 20")
            .await
    );
    br.click("nav.pager a[rel=prev]").await;
    assert!(br.wait_for(&count("第 51–100 条，共 120 条")).await);
    br.click("nav.pager a[rel=prev]").await;
    assert!(br.wait_for(&count("第 1–50 条，共 120 条")).await);
    assert!(
        br.wait_for("return document.querySelector('nav.pager a[rel=prev]') === null")
            .await
    );
}

/// A page, its count and its totals come from one snapshot: a case opened between the page's
/// rows and its figures is in neither (before, the count said 3 beside 2 rows).
async fn a_page_and_its_count_agree_while_others_write(b: Backend) {
    use backoffice::storage::pauses::PAGE_READ;
    let app = TestApp::spawn(b).await;
    let (_, sum) = seed_cases(&app, 0, 2).await;
    let held = app.storage.test_pauses().hold(PAGE_READ);
    let storage = app.storage.clone();
    let reading = tokio::spawn(async move {
        let kinds = ["duplicate_payment"];
        storage
            .finance_cases_page(CaseState::Open, &kinds, &PageReq::first(50))
            .await
            .unwrap()
    });
    held.reached().await;
    let mut tx = app.storage.begin().await.unwrap();
    let case = NewCase {
        kind: "duplicate_payment",
        channel: PaymentChannel::Wechat,
        out_trade_no: "SZCAPAGELATE",
        application_id: None,
        line_id: None,
        amount_fen: Fen::new(1_000),
        at: app.clock.now().timestamp_millis(),
    };
    assert!(open_case(&mut tx, &case).await.unwrap());
    tx.commit().await.unwrap();
    held.release();
    let page = reading.await.unwrap();
    assert_eq!(page.rows.len(), 2);
    assert_eq!((page.total, page.sums.clone()), (2, vec![sum]));
    app.storage.test_pauses().clear();
}

both!(
    finance_lists_page_over_the_whole_filter,
    a_page_and_its_count_agree_while_others_write,
    desk_and_supervision_lists_page,
    invoice_requests_page,
    outbox_page_pages,
    hotline_lookups_page,
    next_and_previous_in_the_browser,
);
