//! A calendar change reaches every deadline (issue 17, item 6): an application submitted at
//! once after `import-calendar` (the CLI, or another instance) gets the new calendar's deadline,
//! not the old one a server cached; submissions racing an import all end on the new calendar.

use crate::both;
use crate::helpers::*;
use serde_json::json;

/// Friday 2026-11-27 becomes a holiday: the example (submitted Wednesday 25th) is due on
/// Tuesday 1 December instead of Monday 30 November.
const HOLIDAY: &str = "日期,类型,名称\n2026-11-27,放假,测试假日\n";
const OLD_DUE: &str = "2026-11-30T18:00:00+08:00";
const NEW_DUE: &str = "2026-12-01T18:00:00+08:00";

fn submission(n: u32) -> Submission {
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT2026112570{n:02}"));
    j["payment"]["out_trade_no"] = json!(format!("SZCA{:016X}", 0xC000u64 + u64::from(n)));
    Submission::with_json(j)
}

async fn submit(app: &TestApp, n: u32) -> (String, String) {
    let r = app.submit(&format!("cal-{n}"), submission(n).form()).await;
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    (
        v["id"].as_str().unwrap().to_owned(),
        v["review_due_at"].as_str().unwrap().to_owned(),
    )
}

async fn stored_due(app: &TestApp, id: &str) -> String {
    app.get_json(&format!("/api/v1/applications/{id}")).await["review_due_at"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_submission_right_after_an_import_gets_the_new_deadline(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (before, due) = submit(&app, 1).await;
    assert_eq!(due, OLD_DUE);
    // The server has the old calendar cached; the CLI imports the new one into the database.
    backoffice::exchange::calendar::import(&app.storage, HOLIDAY.as_bytes(), "cli", 0)
        .await
        .unwrap();
    let (after, due) = submit(&app, 2).await;
    assert_eq!(due, NEW_DUE, "the answer gives the new calendar's deadline");
    assert_eq!(stored_due(&app, &after).await, NEW_DUE);
    assert_eq!(
        stored_due(&app, &before).await,
        NEW_DUE,
        "moved by the import"
    );
    // A second instance on the same database, started before the import, agrees.
    let other = TestApp::spawn_on(&app.database_url).await;
    let (third, due) = submit(&other, 3).await;
    assert_eq!(due, NEW_DUE);
    assert_eq!(stored_due(&app, &third).await, NEW_DUE);
}

/// Submissions on two instances while an import commits: whichever side of it each lands on,
/// every stored deadline ends on the new calendar.
async fn submissions_racing_an_import_all_follow_it(b: Backend) {
    let app = TestApp::spawn(b).await;
    let other = TestApp::spawn_on(&app.database_url).await;
    // Both instances have read (and cached) the old calendar.
    assert_eq!(submit(&app, 1).await.1, OLD_DUE);
    assert_eq!(submit(&other, 2).await.1, OLD_DUE);
    let import = async {
        backoffice::exchange::calendar::import(&app.storage, HOLIDAY.as_bytes(), "cli", 0)
            .await
            .unwrap()
    };
    let subs = futures_util::future::join_all((3..15).map(|n| {
        let target = if n % 2 == 0 { &app } else { &other };
        submit(target, n)
    }));
    let (_, ids) = tokio::join!(import, subs);
    for (id, _) in ids {
        assert_eq!(stored_due(&app, &id).await, NEW_DUE, "{id}");
    }
}

both!(
    a_submission_right_after_an_import_gets_the_new_deadline,
    submissions_racing_an_import_all_follow_it,
);
