//! `backup --out FILE`: a consistent copy of the SQLite database taken while another task
//! writes without pause; the copy opens, passes its integrity check, and holds exactly the
//! records committed up to one instant. PostgreSQL: refused, pointing at pg_dump.

use crate::both;
use crate::helpers::*;
use backoffice::storage::{Storage, audit::AuditEntry};
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

fn backup(db: &str, dir: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .args(["backup", "--out", out.to_str().unwrap()])
        .env("DATABASE_URL", db)
        .env("BACKOFFICE_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn audit_ids(s: &Storage) -> Vec<i64> {
    let mut ids: Vec<i64> = s
        .audit_recent(1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.audit_id)
        .collect();
    ids.sort();
    ids
}

async fn a_backup_taken_under_write_load_is_consistent(b: Backend) {
    let app = TestApp::spawn(b).await;
    let out = app.dir.path().join("copy.db");
    if b == Backend::Postgres {
        let o = backup(&app.database_url, app.dir.path(), &out);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("pg_dump"), "{err}");
        assert_eq!(err.trim().lines().count(), 1);
        assert!(!out.exists());
        return;
    }
    app.submit_example().await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (s, stop) = (app.storage.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let subject = format!("w{n}");
                s.audit_view(&AuditEntry {
                    at: n as i64,
                    actor: "staff:writer",
                    action: "load.write",
                    subject_type: "test",
                    subject_id: &subject,
                    after: Some(&"x".repeat(500)),
                    ..Default::default()
                })
                .await
                .unwrap();
                n += 1;
            }
            n
        })
    };
    // Let the writer get going, then copy while it writes.
    while app.storage.audit_count().await.unwrap() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // A backup while the writer commits: tried again (to a new file) in the rare case that the
    // writer, on a loaded machine, committed nothing while the backup process ran.
    let mut out = out;
    let mut overlapped = false;
    for attempt in 0..5 {
        out = app.dir.path().join(format!("copy{attempt}.db"));
        let before = app.storage.audit_count().await.unwrap();
        let (db, dir, o2) = (
            app.database_url.clone(),
            app.dir.path().to_path_buf(),
            out.clone(),
        );
        let o = tokio::task::spawn_blocking(move || backup(&db, &dir, &o2))
            .await
            .unwrap();
        let after = app.storage.audit_count().await.unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("integrity ok"));
        if after > before {
            overlapped = true;
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(overlapped, "the writer kept writing during a backup");
    assert!(written > 200);

    // The copy opens as a database of its own and passes its own integrity check.
    let copy = Storage::connect(&format!("sqlite://{}", out.display()))
        .await
        .unwrap();
    assert_eq!(copy.application_count().await.unwrap(), 1);
    let copied = audit_ids(&copy).await;
    assert!(copied.len() >= 200);
    // One instant: exactly the live records up to the copy's newest, none missing.
    let last = *copied.last().unwrap();
    let live: Vec<i64> = audit_ids(&app.storage)
        .await
        .into_iter()
        .filter(|i| *i <= last)
        .collect();
    assert_eq!(copied, live);
    assert_eq!(
        copy.backup_sqlite(&app.dir.path().join("copy-of-copy.db"))
            .await
            .unwrap()
            .as_deref(),
        Some("ok")
    );

    // The same name again is refused: a backup never overwrites.
    let o = backup(&app.database_url, app.dir.path(), &out);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists already"));
}

both!(a_backup_taken_under_write_load_is_consistent);
