//! Date ranges from URLs (issue 17, item 10): a report or supervision range is at most a year
//! within 2000–2099 whatever the URL asks (year 1 to 9999, chrono's last day), the page says so,
//! and no date arithmetic near chrono's limits can panic a handler.

use crate::both;
use crate::helpers::*;

async fn date_ranges_from_urls_are_at_most_a_year(b: Backend) {
    let app = TestApp::spawn(b).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let finance = app.signed_in_staff("cashier", "finance").await;
    for (name, _) in backoffice::exchange::reports::SUPERVISION {
        // Years 1 to 9999: the year that ends on the last day allowed.
        let r = boss
            .get(&format!("/reports/{name}?from=0001-01-01&to=9999-12-31"))
            .await;
        assert_eq!(r.status(), 200, "{name}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains(r#"value="2098-12-31""#) && page.contains(r#"value="2099-12-31""#),
            "{name}: {page}"
        );
        assert!(
            page.contains(r#"id="range-limit""#) && page.contains("最长一年"),
            "{name}"
        );
        let r = boss
            .get(&format!(
                "/reports/{name}/csv?from=0001-01-01&to=9999-12-31"
            ))
            .await;
        assert_eq!(r.status(), 200, "{name}");
        let lines = r.text().await.unwrap().lines().count();
        assert!(lines <= 366 + 4, "{name}: {lines} lines");
        // Chrono's last days: laying out the day after would overflow.
        let r = boss
            .get(&format!(
                "/reports/{name}?from=%2B262142-12-30&to=%2B262142-12-31"
            ))
            .await;
        assert_eq!(r.status(), 200, "{name}");
        let page = r.text().await.unwrap();
        assert!(page.contains(r#"value="2099-12-31""#), "{name}");
    }
    let page = finance
        .get_page("/finance/report?from=0001-01-01&to=9999-12-31")
        .await;
    assert!(page.contains(r#"value="2098-12-31""#) && page.contains(r#"value="2099-12-31""#));
    assert!(page.contains(r#"id="range-limit""#));
    let r = finance
        .get("/finance/report?from=garbage&to=%2B262142-12-31")
        .await;
    assert_eq!(r.status(), 200);
    for week in ["%2B262142-12-31", "-262143-01-01", "0001-01-01"] {
        let r = boss.get(&format!("/supervision/quality?week={week}")).await;
        assert_eq!(r.status(), 200, "{week}");
    }
    let h = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
}

both!(date_ranges_from_urls_are_at_most_a_year);
