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
    assert!(stderr(&o).contains("taken"), "{}", stderr(&o));

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
