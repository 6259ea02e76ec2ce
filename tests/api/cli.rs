//! The binary as operators script it: exit codes, one-line errors, tokens, registry import.

use crate::both;
use crate::helpers::*;
use std::process::{Command, Output};

fn run(db: &str, dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backoffice"));
    cmd.args(args)
        .env("DATABASE_URL", db)
        .env("BACKOFFICE_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn tokens_users_and_imports_from_the_command_line(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (db, dir) = (app.database_url.clone(), app.dir.path().to_path_buf());

    // A token printed alone on the last line works at once; revoked, it does not.
    let o = run(&db, &dir, &["create-api-token", "--name", "hall-2"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&o).lines().last().unwrap().to_owned();
    assert!(token.starts_with("bo_"));
    let status = |t: String| {
        let (http, url) = (
            app.http.clone(),
            app.url("/api/v1/applications?hall_reference=none"),
        );
        async move {
            http.get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(token.clone()).await, 404);
    let o = run(&db, &dir, &["revoke-api-token", "--name", "hall-2"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(status(token).await, 401);
    let o = run(&db, &dir, &["revoke-api-token", "--name", "hall-2"], None);
    assert!(!o.status.success());
    assert_eq!(stderr(&o).lines().count(), 1);

    // Users: the password from standard input, stored as an argon2 hash.
    let o = run(
        &db,
        &dir,
        &["create-user", "--username", "li.jing", "--role", "reviewer"],
        Some("a long secret phrase\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let staff = app
        .storage
        .staff_by_username("li.jing")
        .await
        .unwrap()
        .unwrap();
    assert!(backoffice::auth::verify_password(
        "a long secret phrase",
        &staff.password_hash
    ));
    let o = run(
        &db,
        &dir,
        &["create-user", "--username", "x", "--role", "pope"],
        Some("a long secret phrase\n"),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--role must be one of"));
    let o = run(
        &db,
        &dir,
        &["create-user", "--username", "li.jing", "--role", "reviewer"],
        Some("a long secret phrase\n"),
    );
    assert!(!o.status.success(), "a second li.jing was created");
    assert!(stderr(&o).contains("taken"), "{}", stderr(&o));
    // The first user is unchanged: still the one password.
    let again = app
        .storage
        .staff_by_username("li.jing")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.password_hash, staff.password_hash);

    // Registry import: a summary on the last line; a bad row names row and column, changes nothing.
    let good = dir.join("registry.xlsx");
    std::fs::write(
        &good,
        crate::certificates::registry_xlsx(
            &[[
                "0DD1",
                "陈十一",
                "居民身份证",
                "44030519850615432X",
                "自然人证书",
                "有效",
            ]],
            None,
        ),
    )
    .unwrap();
    let o = run(
        &db,
        &dir,
        &["import-certificates", good.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().last().unwrap(), r#"{"rows":1}"#);
    let count = app.storage.certificate_count().await.unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n0DD2,x,resident_id,44030519850615432X,natural_person,2024-01-01,2027-01-01,有效\n0DD3,y,resident_id,44030519850615432X,natural_person,2024-01-01,2027-01-01,lost\n").unwrap();
    let o = run(
        &db,
        &dir,
        &["import-certificates", bad.to_str().unwrap()],
        None,
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("row 3, column H (status)"), "{err}");
    assert_eq!(app.storage.certificate_count().await.unwrap(), count);
}

both!(tokens_users_and_imports_from_the_command_line);

async fn payments_and_invoices_from_the_command_line(b: Backend) {
    use backoffice::demo::bills::{self, Line};
    use backoffice::domain::status::Action;
    let app = TestApp::spawn(b).await;
    let (db, dir) = (app.database_url.clone(), app.dir.path().to_path_buf());
    let id = app.submit_example().await;
    let p = app.storage.payment_of(&aid(&id)).await.unwrap().unwrap();
    let at = chrono::DateTime::from_timestamp_millis(p.paid_at).unwrap();
    let bill = dir.join("wechat-20261125.csv");
    std::fs::write(
        &bill,
        bills::wechat(&[
            Line::pay(&p.out_trade_no, "4200000000000000000000000001", 20000, at),
            Line::pay(
                "SZCA00000000DEADBEEF",
                "4200000000000000000000000002",
                20000,
                at,
            ),
        ]),
    )
    .unwrap();
    let path = bill.to_str().unwrap();
    let o = run(
        &db,
        &dir,
        &["import-payments", "--channel", "alipay", path],
        None,
    );
    assert!(!o.status.success());
    assert_eq!(
        stderr(&o).trim(),
        "error: the file is a wechat bill; expected alipay"
    );
    let o = run(
        &db,
        &dir,
        &["import-payments", "--channel", "wechat", path],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().last().unwrap(),
        r#"{"channel":"wechat","lines":2,"new_lines":2,"matched":1,"amount_mismatch":0,"unmatched_payment":1,"missing_payment":0,"duplicate_payment":0,"refund":0}"#
    );
    let o = run(
        &db,
        &dir,
        &["import-payments", "--channel", "wechat", path],
        None,
    );
    assert!(
        stdout(&o)
            .lines()
            .last()
            .unwrap()
            .contains(r#""lines":2,"new_lines":0,"matched":0"#)
    );
    // A broken line: refused, named, nothing changed.
    let broken = String::from_utf8(std::fs::read(&bill).unwrap())
        .unwrap()
        .replacen("`200.00,`0.00,`", "`2OO.00,`0.00,`", 1);
    std::fs::write(&bill, broken).unwrap();
    let o = run(
        &db,
        &dir,
        &["import-payments", "--channel", "wechat", path],
        None,
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        err.trim(),
        "error: line 2, column 应结订单金额: '2OO.00' is not an amount"
    );

    // Nothing ready: no file, said on standard error, exit 0.
    let out = dir.join("batch.xlsx");
    let o = run(
        &db,
        &dir,
        &["export-invoices", "--out", out.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("no invoice request is ready"));
    assert!(!out.exists());
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(&id, Action::Accept, &[]).await;
    let o = run(
        &db,
        &dir,
        &["export-invoices", "--out", out.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).lines().last().unwrap().starts_with("IB")
            && stdout(&o).lines().last().unwrap().len() == "IB20261125-001".len(),
        "{}",
        stdout(&o)
    );
    assert!(std::fs::read(&out).unwrap().starts_with(b"PK"));

    // The platform's plain list (CSV, GBK) of what it issued.
    let list = dir.join("issued.csv");
    let csv = "数电发票号码,开票日期,购买方名称,价税合计,备注,下载链接\r\n26442000000000000001,2026-11-25 15:00:00,张三,200.00,申请编号：WT202611250001,https://dppt.example.gov.cn/x/26442000000000000001\r\n";
    std::fs::write(&list, encoding_rs::GBK.encode(csv).0).unwrap();
    let o = run(
        &db,
        &dir,
        &["import-invoices", list.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().last().unwrap(),
        r#"{"lines":1,"matched":1,"already_known":0,"unmatched":0,"ambiguous":0,"amount_mismatch":0,"red_letter":0,"files_attached":0,"failed":0}"#
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/applications/{id}")).await["invoice"]["number"],
        "26442000000000000001"
    );
}

both!(payments_and_invoices_from_the_command_line);

async fn shipments_and_tracking_from_the_command_line(b: Backend) {
    use backoffice::desks::fulfilment::{Production, record_production};
    let app = TestApp::spawn(b).await;
    let (db, dir) = (app.database_url.clone(), app.dir.path().to_path_buf());
    let out = dir.join("sf.xlsx");
    let export = || {
        run(
            &db,
            &dir,
            &[
                "export-shipments",
                "--courier",
                "sf",
                "--out",
                out.to_str().unwrap(),
            ],
            None,
        )
    };
    let o = export();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("no application is ready to ship"));
    assert!(!out.exists());
    let (id, hall) = crate::fulfilment::accepted(&app, 77).await;
    record_production(
        &app.storage,
        &[Production {
            application_id: aid(&id),
            certificate_serial: "0150512140479058A1".into(),
            medium_no: "UK77".into(),
        }],
        "staff:x",
        1,
    )
    .await
    .unwrap();
    // No sender configured: refused, naming what is missing; nothing batched.
    let o = export();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("sender"), "{}", stderr(&o));
    std::fs::write(
        dir.join("backoffice.toml"),
        "[courier.sender]\ncompany = \"CA\"\nname = \"制证组\"\nphone = \"0755-86000000\"\nprovince = \"广东省\"\ncity = \"深圳市\"\ndistrict = \"南山区\"\ndetail = \"科技园1号\"\npostcode = \"518057\"\n[courier.sf]\nmonthly_account = \"7550000001\"\n",
    )
    .unwrap();
    let o = export();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).lines().last().unwrap().starts_with("SF")
            && stdout(&o).lines().last().unwrap().len() == "SF20261125-001".len(),
        "{}",
        stdout(&o)
    );
    let csv = dir.join("tracking.csv");
    std::fs::write(
        &csv,
        format!("订单号,运单号\n{hall},SF1000000000001\nWT000000000000,SF1000000000002\n"),
    )
    .unwrap();
    let o = run(&db, &dir, &["import-tracking", csv.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().last().unwrap(),
        r#"{"lines":2,"shipped":1,"unchanged":0,"conflict":0,"duplicate_waybill":0,"unknown_order":1}"#
    );
    assert!(stderr(&o).contains("row 3: unknown_order"));
    std::fs::write(&csv, format!("订单号,运单号\n{hall},XX1\n")).unwrap();
    let o = run(&db, &dir, &["import-tracking", csv.to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("row 2, column 运单号"),
        "{}",
        stderr(&o)
    );
}

both!(shipments_and_tracking_from_the_command_line);
