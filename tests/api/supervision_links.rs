//! Every figure of the dashboard is a link, and the list behind it is as long as the figure:
//! the supervision lists (waiting by age, due, breached per week, decisions per reviewer and
//! day, reasons per month, rounds, not shipped) and the finance desk's exceptions by kind.

use crate::both;
use crate::helpers::*;
use crate::supervision::fixture;
use backoffice::demo::bills::{Line, wechat};
use backoffice::desks::supervision::dashboard;

/// The rows of a list page: links to applications, or to finance cases.
fn rows_of(page: &str, href: &str) -> i64 {
    let pattern = if href.starts_with("/finance/") {
        "href=\"/finance/exceptions/"
    } else {
        "href=\"/review/"
    };
    page.matches(pattern).count() as i64
}

async fn every_figure_links_to_a_list_as_long_as_the_figure(b: Backend) {
    let app = TestApp::spawn(b).await;
    let fx = fixture(&app).await;
    // Two open exceptions: a payment nobody applied for, and E paid with the wrong amount.
    let p = app.storage.payment_of(&aid(&fx.e)).await.unwrap().unwrap();
    let at = chrono::DateTime::from_timestamp_millis(p.paid_at).unwrap();
    let bill = wechat(&[
        Line::pay("SZCA-NOBODY-0001", "4200000000000000001", 20000, at),
        Line::pay(
            &p.out_trade_no,
            "4200000000000000002",
            p.amount_fen.get() + 1,
            at,
        ),
    ]);
    backoffice::desks::finance::import_bills(&app.storage, &bill, "links.csv", None, "test", 0)
        .await
        .unwrap();

    let cal = app.storage.load_calendar().await.unwrap();
    let now = test_now().timestamp_millis();
    let d = dashboard(&app.storage, &cal, now).await.unwrap();
    let open: i64 = d.exceptions.iter().map(|l| l.n).sum();
    let mut figures: Vec<(String, i64, String)> = vec![
        ("waiting".into(), d.waiting.n, d.waiting.href.clone()),
        ("due today".into(), d.due_today.n, d.due_today.href.clone()),
        ("overdue".into(), d.overdue.n, d.overdue.href.clone()),
        (
            "resubmitted".into(),
            d.resubmitted.n,
            d.resubmitted.href.clone(),
        ),
        (
            "not shipped".into(),
            d.unshipped_total.n,
            d.unshipped_total.href.clone(),
        ),
        ("open exceptions".into(), open, "/finance/exceptions".into()),
    ];
    let mut add = |what: &str, links: &[backoffice::views::supervision::Linked]| {
        for l in links {
            figures.push((format!("{what} {}", l.label), l.n, l.href.clone()));
        }
    };
    add("age", &d.ages);
    add("rounds", &d.rounds);
    add("unshipped", &d.unshipped);
    add("exceptions", &d.exceptions);
    add("decided by", &d.reviewer_totals);
    for (who, days) in &d.reviewers {
        add(&format!("decided by {who}"), days);
    }
    for (code, months) in &d.reasons {
        add(&format!("reason {code}"), months);
    }
    for (monday, windows, breached, href, windows_href) in &d.weeks {
        figures.push((
            format!("breached in week {monday}"),
            *breached,
            href.clone(),
        ));
        figures.push((
            format!("windows in week {monday}"),
            *windows,
            windows_href.clone(),
        ));
    }
    assert!(d.exceptions.len() >= 2, "{:?}", d.exceptions);
    assert!(figures.iter().filter(|f| f.1 > 0).count() >= 12);

    let boss = app.signed_in_staff("boss", "supervisor").await;
    let page = boss.get_page("/supervision").await;
    for (what, n, href) in &figures {
        // Zero cells of the reviewer grid are a dot, not a link; every other figure is a link.
        assert!(
            page.contains(&format!("href=\"{}\"", href.replace('&', "&amp;")))
                || (*n == 0 && what.starts_with("decided by")),
            "{what}: {href} is not on the page"
        );
        let list = boss.get_page(href).await;
        assert_eq!(rows_of(&list, href), *n, "{what}: {href}");
    }
}

both!(every_figure_links_to_a_list_as_long_as_the_figure);
