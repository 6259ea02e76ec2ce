//! Supervision: every dashboard figure against a fixture computed by hand (a week with the
//! National Day holiday, a resubmission, a decision after its deadline), the report definitions
//! as pages, xlsx (read back with calamine) and csv, and quality sampling.

use crate::both;
use crate::helpers::*;
use backoffice::desks::supervision::dashboard;
use backoffice::domain::{sampling, status::Action};
use backoffice::jobs::sla;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Submits the example as hall reference `n` at `when` (the clock is moved there).
async fn submit_at(app: &TestApp, n: u32, when: &str) -> String {
    let t = at(when);
    app.clock.set(t);
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT20260900{n:04}"));
    j["payment"]["out_trade_no"] = json!(format!("SUP{n:08}"));
    j["payment"]["paid_at"] = json!((t - chrono::Duration::minutes(3)).to_rfc3339());
    j["submitted_at"] = json!((t - chrono::Duration::minutes(1)).to_rfc3339());
    let r = app
        .submit(&format!("sup-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn act_at(app: &TestApp, id: &str, when: &str, action: Action, reasons: &[(&str, &str)]) {
    app.clock.set(at(when));
    app.staff_act(id, action, reasons).await;
}

/// The fixture, with the deadlines worked out by hand from the 2026 calendar:
/// - A: Tue 09-29 → Sep 30, (Oct 1–7 off) Oct 8, Oct 9: due Fri 10-09 18:00; accepted Mon 10-12 (late).
/// - F: Wed 09-30 → Oct 8, 9, Sat 10-10 (调休 working day): due 10-10 18:00; returned Fri 10-09 (on time).
/// - B: Fri 11-20, returned Mon 11-23 (id_front_unclear), resubmitted Tue 11-24 09:00: round 2, waiting.
/// - D: Thu 11-19 → due Tue 11-24 18:00: overdue now (swept: a breach).
/// - E: Fri 11-20 08:00 → due Wed 11-25 18:00: due today.
/// - C: the example at test_now (Wed 11-25 10:05).
pub(crate) struct Fixture {
    a: String,
    b: String,
    d: String,
    pub(crate) e: String,
    f: String,
}

pub(crate) async fn fixture(app: &TestApp) -> Fixture {
    let a = submit_at(app, 1, "2026-09-29T10:00:00+08:00").await;
    app.verify_payment(&a).await;
    let f = submit_at(app, 2, "2026-09-30T09:00:00+08:00").await;
    act_at(app, &f, "2026-10-09T11:00:00+08:00", Action::Claim, &[]).await;
    act_at(
        app,
        &f,
        "2026-10-09T11:05:00+08:00",
        Action::Return,
        &[("other", "其他")],
    )
    .await;
    act_at(app, &a, "2026-10-12T10:00:00+08:00", Action::Claim, &[]).await;
    act_at(app, &a, "2026-10-12T10:05:00+08:00", Action::Accept, &[]).await;
    let d = submit_at(app, 3, "2026-11-19T09:00:00+08:00").await;
    let b = submit_at(app, 4, "2026-11-20T09:00:00+08:00").await;
    let e = submit_at(app, 5, "2026-11-20T08:00:00+08:00").await;
    act_at(app, &b, "2026-11-23T10:00:00+08:00", Action::Claim, &[]).await;
    act_at(
        app,
        &b,
        "2026-11-23T10:05:00+08:00",
        Action::Return,
        &[("id_front_unclear", "身份证人像面照片不清晰")],
    )
    .await;
    app.clock.set(at("2026-11-24T09:00:00+08:00"));
    let sub = Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"again"));
    assert_eq!(app.resubmit(&b, "sup-r", sub.form()).await.status(), 200);
    app.clock.set(test_now() - chrono::Duration::minutes(1));
    app.submit_example().await;
    app.clock.set(test_now());
    let now = test_now().timestamp_millis();
    assert_eq!(
        sla::sweep(&app.storage, "http://x", now).await.unwrap(),
        1,
        "D is overdue"
    );
    Fixture { a, b, d, e, f }
}

async fn dashboard_figures_match_the_fixture(b: Backend) {
    let app = TestApp::spawn(b).await;
    let fx = fixture(&app).await;
    let cal = app.storage.load_calendar().await.unwrap();
    let now = test_now().timestamp_millis();
    let d = dashboard(&app.storage, &cal, now).await.unwrap();

    assert_eq!(d.waiting.n, 4);
    assert_eq!((d.due_today.n, d.overdue.n), (1, 1));
    let ages: Vec<i64> = d.ages.iter().map(|l| l.n).collect();
    // C today: 0; B received 11-24: 1; E (11-20): Mon, Tue, Wed = 3; D (11-19): 4.
    assert_eq!(ages, [1, 1, 0, 1, 1, 0]);

    // Thirteen weeks, the current one (Monday 11-23) last; the National Day week holds A and F.
    assert_eq!(d.weeks.len(), 13);
    assert_eq!(
        d.weeks[12].0,
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    );
    let week = |m: &str| {
        let m: NaiveDate = m.parse().unwrap();
        d.weeks
            .iter()
            .find(|w| w.0 == m)
            .map(|w| (w.1, w.2))
            .unwrap()
    };
    assert_eq!(week("2026-10-05"), (2, 1), "A late, F on time");
    assert_eq!(week("2026-11-23"), (1, 1), "D breached");
    assert_eq!(week("2026-11-16"), (0, 0));
    let total: i64 = d.weeks.iter().map(|w| w.1).sum();
    assert_eq!(total, 3);

    // Decisions per reviewer per day: B's return on 11-23 in the last fourteen days.
    assert_eq!(d.days.len(), 14);
    assert_eq!(d.reviewers.len(), 1);
    assert_eq!(d.reviewers[0].0, "reviewer");
    let per_day: Vec<i64> = d.reviewers[0].1.iter().map(|l| l.n).collect();
    let mut want = vec![0; 14];
    want[11] = 1; // 11-23
    assert_eq!(per_day, want);

    // Reasons: this month id_front_unclear, October other.
    assert_eq!(d.months.last().unwrap(), "2026-11");
    assert_eq!(d.reasons[0].0, "id_front_unclear");
    assert_eq!(d.reasons[0].1.last().unwrap().n, 1);
    let other = d.reasons.iter().find(|r| r.0 == "other").unwrap();
    assert_eq!(
        other.1.iter().map(|l| l.n).collect::<Vec<_>>(),
        [0, 0, 0, 0, 1, 0]
    );

    // Rounds: B needed two, the five others one.
    let rounds: Vec<i64> = d.rounds.iter().map(|l| l.n).collect();
    assert_eq!(rounds, [5, 1, 0, 0, 0]);

    // Accepted, not shipped: A since 10-12, 44 days: the last bucket.
    let unshipped: Vec<i64> = d.unshipped.iter().map(|l| l.n).collect();
    assert_eq!(unshipped, [0, 0, 0, 0, 1]);

    // The page: SVG charts, and every figure a link to the applications behind it.
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let page = boss.get_page("/supervision").await;
    assert!(page.contains("<svg"), "{page}");
    assert!(!page.contains("<canvas"), "no chart library");
    let href = |l: &str| l.replace('&', "&amp;");
    assert!(
        page.contains(&href(&d.overdue.href)),
        "{} {page}",
        d.overdue.href
    );
    let list = boss.get_page(&d.overdue.href).await;
    assert!(list.contains(&fx.d) && !list.contains(&fx.e), "{list}");
    let list = boss.get_page(&d.due_today.href).await;
    assert!(list.contains(&fx.e) && !list.contains(&fx.d));
    let list = boss.get_page(&d.rounds[1].href).await;
    assert!(list.contains(&fx.b) && !list.contains(&fx.a));
    let oct5 = d
        .weeks
        .iter()
        .find(|w| w.0.to_string() == "2026-10-05")
        .unwrap();
    let list = boss.get_page(&oct5.3).await;
    assert!(list.contains(&fx.a) && !list.contains(&fx.f), "{list}");
    let list = boss.get_page(&d.unshipped[4].href).await;
    assert!(list.contains(&fx.a));
    let list = boss.get_page(&d.reasons[0].1[5].href).await;
    assert!(list.contains(&fx.b) && !list.contains(&fx.f));
    let list = boss.get_page(&d.reviewers[0].1[11].href).await;
    assert!(list.contains(&fx.b));
    let list = boss.get_page(&d.ages[4].href).await;
    assert!(list.contains(&fx.d) && !list.contains(&fx.e));
}

fn sheet(bytes: &[u8]) -> calamine::Range<calamine::Data> {
    use calamine::Reader;
    let mut x: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = x.sheet_names()[0].clone();
    x.worksheet_range(&name).unwrap()
}

async fn every_report_renders_and_downloads(b: Backend) {
    let app = TestApp::spawn(b).await;
    let fx = fixture(&app).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let q = "from=2026-09-01&to=2026-11-25";
    for (name, _) in backoffice::exchange::reports::SUPERVISION {
        let page = boss.get_page(&format!("/reports/{name}?{q}")).await;
        assert!(page.contains("<table"), "{name}");
        for format in ["xlsx", "csv"] {
            let r = boss.get(&format!("/reports/{name}/{format}?{q}")).await;
            assert_eq!(r.status(), 200, "{name}.{format}");
            let title = backoffice::desks::supervision::definition(name, None)
                .unwrap()
                .title
                .unwrap();
            assert_eq!(
                crate::downloads::attachment_name(&r),
                format!("{title}_2026-09-01_2026-11-25.{format}")
            );
            let bytes = r.bytes().await.unwrap();
            if format == "csv" {
                assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{name}: BOM");
            } else {
                let s = sheet(&bytes);
                assert!(
                    matches!(s.get((0, 0)), Some(calamine::Data::String(t)) if t.contains("2026-09-01")),
                    "{name}: title row"
                );
            }
        }
    }

    // The monthly operations report for October: a row per day, real dates, integers, totals.
    let r = boss
        .get("/reports/monthly-operations/xlsx?from=2026-10-01&to=2026-10-31")
        .await;
    let bytes = r.bytes().await.unwrap();
    // Each report file downloaded is audited (the ones above too): who, which file, its hash.
    let exported: Vec<_> = app
        .storage
        .audit_recent(1_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "report.exported")
        .collect();
    assert_eq!(
        exported.len(),
        13,
        "12 downloads above and this one: {exported:?}"
    );
    assert_eq!(exported[0].actor, "staff:boss");
    assert_eq!(
        exported[0].subject_id,
        backoffice::storage::scan_files::sha256_hex(&bytes)
    );
    assert!(
        exported[0]
            .after_state
            .as_deref()
            .unwrap_or("")
            .ends_with("_2026-10-01_2026-10-31.xlsx"),
        "{:?}",
        exported[0].after_state
    );
    let s = sheet(&bytes);
    use calamine::Data;
    assert_eq!(s.get((1, 0)), Some(&Data::String("日期".into())));
    assert_eq!(s.get((1, 2)), Some(&Data::String("成功受理".into())));
    assert!(matches!(s.get((2, 0)), Some(Data::DateTime(_))));
    assert_eq!(s.height(), 2 + 31 + 1, "title, header, 31 days, totals");
    let totals: Vec<_> = (0..6).map(|c| s.get((33, c)).cloned()).collect();
    assert_eq!(
        totals,
        [
            Some(Data::String("合计".into())),
            Some(Data::Float(0.0)),
            Some(Data::Float(1.0)),
            Some(Data::Float(1.0)),
            Some(Data::Float(1.0)),
            Some(Data::Float(0.0)),
        ]
    );
    // The chart sheets after the data: the daily figures, the reasons.
    let names = |bytes: Vec<u8>| {
        use calamine::Reader;
        let x: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        x.sheets_metadata()
            .iter()
            .map(|m| (m.name.clone(), m.typ))
            .collect::<Vec<_>>()
    };
    let r = boss
        .get("/reports/monthly-operations/xlsx?from=2026-10-01&to=2026-10-31")
        .await;
    assert_eq!(
        names(r.bytes().await.unwrap().to_vec()),
        [
            ("运营月报".to_owned(), calamine::SheetType::WorkSheet),
            ("趋势图".to_owned(), calamine::SheetType::ChartSheet)
        ]
    );
    let r = boss.get(&format!("/reports/return-reasons/xlsx?{q}")).await;
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(names(bytes.clone())[1].0, "原因图");
    let reasons = sheet(&bytes);
    assert_eq!(
        reasons.get((2, 0)),
        Some(&Data::String("id_front_unclear".into()))
    );
    assert_eq!(reasons.get((2, 2)), Some(&Data::Float(1.0)));
    let r = boss.get(&format!("/reports/sla-breaches/xlsx?{q}")).await;
    assert_eq!(
        names(r.bytes().await.unwrap().to_vec()).len(),
        1,
        "no chart"
    );
    // Oct 9: F returned, A's deadline missed; Oct 12: A accepted.
    assert_eq!(s.get((2 + 8, 3)), Some(&Data::Float(1.0)));
    assert_eq!(s.get((2 + 8, 4)), Some(&Data::Float(1.0)));
    assert_eq!(s.get((2 + 11, 2)), Some(&Data::Float(1.0)));

    // The breach register: A (decided late) and D (swept), with the totals row.
    let r = boss.get(&format!("/reports/sla-breaches/csv?{q}")).await;
    let text = String::from_utf8(r.bytes().await.unwrap()[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "受理编号,提交轮次,申请人,收件时间,审核期限,审结时间,审核人,当前状态,件数"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1].starts_with(&fx.a) && lines[1].contains("2026-10-09 18:00:00"),
        "{text}"
    );
    assert!(lines[2].starts_with(&fx.d), "{text}");
    assert!(
        lines[3].starts_with("合计,") && lines[3].ends_with(",2"),
        "{text}"
    );

    // A register longer than one file holds is refused, not cut short: the two breaches pass a
    // limit of two and fail a limit of one, in both formats.
    let (from, to) = (
        NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
    );
    let l = backoffice::desks::supervision::definition("sla-breaches", None).unwrap();
    let st = &app.storage;
    use backoffice::desks::supervision::{ReportingError, csv, xlsx};
    assert!(xlsx(st, &l, from, to, 2).await.is_ok());
    assert!(csv(st, &l, from, to, 2).await.is_ok());
    let over = xlsx(st, &l, from, to, 1).await.unwrap_err();
    assert!(matches!(over, ReportingError::TooManyRows(1)), "{over}");
    let over = csv(st, &l, from, to, 1).await.unwrap_err();
    assert!(over.to_string().contains("more than 1 rows"), "{over}");

    // Return reasons and the reviewers' workload.
    let page = boss.get_page(&format!("/reports/return-reasons?{q}")).await;
    assert!(
        page.contains("id_front_unclear") && page.contains("50.0%"),
        "{page}"
    );
    let r = boss
        .get(&format!("/reports/reviewer-workload/xlsx?{q}"))
        .await;
    let s = sheet(&r.bytes().await.unwrap());
    assert_eq!(s.get((2, 0)), Some(&Data::String("reviewer".into())));
    let row: Vec<_> = (1..5).map(|c| s.get((2, c)).cloned().unwrap()).collect();
    assert_eq!(
        row,
        [
            Data::Float(1.0),
            Data::Float(2.0),
            Data::Float(3.0),
            Data::Float(1.0)
        ]
    );
    // An unknown report or format is a 404.
    assert_eq!(boss.get("/reports/no-such").await.status(), 404);
    assert_eq!(boss.get("/reports/sla-breaches/pdf").await.status(), 404);
}

async fn quality_sampling_is_reproducible_and_rated(b: Backend) {
    let app = TestApp::spawn(b).await;
    let fx = fixture(&app).await;
    let boss = app.signed_in_staff("boss", "supervisor").await;
    let draw = |week: &'static str| {
        let boss = &boss;
        async move {
            let r = boss
                .post_form(
                    "/supervision/quality",
                    &[("week", week), ("n", "3"), ("seed", "7")],
                )
                .await;
            assert_eq!(r.status(), 303);
        }
    };
    draw("2026-10-07").await; // any day of the week: the Monday is 10-05
    let s = app.storage.samples_of_week("2026-10-05").await.unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].application_id, aid(&fx.f));
    // The same seed over the same decisions draws the same sample; drawing again adds nothing.
    let pool = app
        .storage
        .decisions_between(
            backoffice::desks::supervision::day_start("2026-11-23".parse().unwrap()),
            backoffice::desks::supervision::day_start("2026-11-30".parse().unwrap()),
        )
        .await
        .unwrap();
    draw("2026-11-23").await;
    draw("2026-11-23").await;
    let s2 = app.storage.samples_of_week("2026-11-23").await.unwrap();
    let picked: Vec<String> = sampling::pick(&pool, 3, 7)
        .into_iter()
        .map(|c| c.application_id)
        .collect();
    assert_eq!(
        s2.iter()
            .map(|s| s.application_id.to_string())
            .collect::<Vec<_>>(),
        picked
    );
    assert_eq!(s2.len(), 1);

    let r = boss
        .post_form(
            &format!("/supervision/quality/{}", s[0].sample_id),
            &[
                ("verdict", "disagree"),
                ("note", "应受理"),
                ("week", "2026-10-05"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = boss
        .post_form(
            &format!("/supervision/quality/{}", s2[0].sample_id),
            &[("verdict", "agree"), ("week", "2026-11-23")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let by_reviewer = app.storage.disagreement_by_reviewer().await.unwrap();
    assert_eq!(by_reviewer.len(), 1);
    assert_eq!((by_reviewer[0].judged, by_reviewer[0].disagreed), (2, 1));
    let by_reason = app.storage.disagreement_by_reason().await.unwrap();
    let by: Vec<(String, i64, i64)> = by_reason
        .into_iter()
        .map(|d| (d.key, d.judged, d.disagreed))
        .collect();
    assert_eq!(
        by,
        [("id_front_unclear".into(), 1, 0), ("other".into(), 1, 1)]
    );
    let page = boss.get_page("/supervision/quality?week=2026-10-05").await;
    assert!(page.contains(&fx.f) && page.contains("50.0%"), "{page}");
}

async fn a_report_goes_out_monthly_once_through_the_outbox(b: Backend) {
    let app = TestApp::spawn(b).await;
    fixture(&app).await;
    // The data directory's copy of the definition adds the addresses.
    let dir = app.state.settings.data_dir.clone();
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    let shipped = include_str!("../../reports/monthly-operations.toml");
    std::fs::write(
        dir.join("reports/monthly-operations.toml"),
        shipped.replace(
            "monthly_to = []",
            r#"monthly_to = ["boss@ca.example.cn", "audit@ca.example.cn"]"#,
        ),
    )
    .unwrap();
    let send = |when: &str| {
        let t = at(when).timestamp_millis();
        let (storage, dir) = (&app.storage, dir.clone());
        async move {
            backoffice::jobs::reports::send_monthly(storage, Some(&dir), "http://bo.test", t)
                .await
                .unwrap()
        }
    };
    assert_eq!(send("2026-12-01T08:00:00+08:00").await, 2);
    assert_eq!(send("2026-12-01T08:01:00+08:00").await, 0, "once per month");
    assert_eq!(send("2026-12-15T08:00:00+08:00").await, 0);
    let msgs = app.storage.outbox_messages("pending", 20).await.unwrap();
    let m: Vec<_> = msgs.iter().filter(|m| m.kind == "monthly_report").collect();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].subject, "月度运营报表（2026-11-01 至 2026-11-30）");
    assert!(
        m[0].body_text.contains(
            "http://bo.test/reports/monthly-operations/xlsx?from=2026-11-01&to=2026-11-30"
        )
    );
    // November: D, B, E and C submitted; B returned.
    assert!(
        m[0].body_text.contains("2026-11-23\t0\t0\t1\t0\t0"),
        "{}",
        m[0].body_text
    );
    assert_eq!(send("2027-01-01T08:00:00+08:00").await, 2, "next month");
}

both!(
    a_report_goes_out_monthly_once_through_the_outbox,
    dashboard_figures_match_the_fixture,
    every_report_renders_and_downloads,
    quality_sampling_is_reproducible_and_rated,
);
