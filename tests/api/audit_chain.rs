//! The tamper-evident audit trail: records written by real actions are sealed into a hash chain
//! with per-day anchors; `verify-audit` (the binary) says `ok N records`, and names the record
//! when one is edited, deleted or moved, or an anchor is edited, through SQL on both databases.

use crate::both;
use crate::helpers::*;
use backoffice::storage::{Storage, audit::AuditEntry, audit::Verdict};
use std::process::{Command, Output};

fn verify_audit(db: &str, dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .arg("verify-audit")
        .env("DATABASE_URL", db)
        .env("BACKOFFICE_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs one statement on the test's database, outside the application (as an intruder would).
pub async fn exec(db: &str, sql: &str) -> u64 {
    use sqlx::{Connection, Executor};
    if db.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
        c.execute(sql).await.unwrap().rows_affected()
    } else {
        let mut c = sqlx::PgConnection::connect(db).await.unwrap();
        c.execute(sql).await.unwrap().rows_affected()
    }
}

pub async fn scalar(db: &str, sql: &str) -> i64 {
    use sqlx::Connection;
    if db.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(db).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

fn out(o: &Output) -> (bool, String, String) {
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        String::from_utf8_lossy(&o.stderr).trim().to_owned(),
    )
}

/// `n` audit records as a hotline view writes them, one day apart every `per_day`.
async fn write_records(s: &Storage, n: i64, per_day: i64, from: i64) {
    for i in 0..n {
        let subject = format!("BF2026112{i}");
        s.audit_view(&AuditEntry {
            at: from + (i / per_day) * 86_400_000 + i,
            actor: "staff:hotline",
            action: "hotline_view",
            subject_type: "application",
            subject_id: &subject,
            after: Some("{\"masked\":true}"),
            request_id: Some("req-1"),
            ..Default::default()
        })
        .await
        .unwrap();
    }
}

async fn tampering_is_found_and_named(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (db, dir) = (app.database_url.clone(), app.dir.path().to_path_buf());
    // Real records first: an intake and a decision, then views over three Beijing days.
    let id = app.submit_example().await;
    app.staff_act(&id, backoffice::domain::status::Action::Claim, &[])
        .await;
    write_records(&app.storage, 9, 3, test_now().timestamp_millis()).await;
    let total = app.storage.audit_count().await.unwrap();
    assert!(total >= 11, "{total}");

    // verify-audit seals what is unsealed, then checks.
    assert_eq!(app.storage.audit_unsealed().await.unwrap(), total);
    let (ok, stdout, stderr) = out(&verify_audit(&db, &dir));
    assert!(ok, "{stderr}");
    assert_eq!(stdout, format!("ok {total} records"));
    assert_eq!(app.storage.audit_unsealed().await.unwrap(), 0);
    assert_eq!(
        scalar(&db, "select count(*) from audit_anchors").await,
        4,
        "one anchor per Beijing day: the fixtures' (written at instant 0) and three of views"
    );
    let latest = app.storage.latest_audit_anchor().await.unwrap().unwrap();
    assert_eq!(latest.last_pos, total);

    // A record written later is sealed after the others and the chain still holds.
    write_records(
        &app.storage,
        1,
        1,
        test_now().timestamp_millis() + 3 * 86_400_000,
    )
    .await;
    assert_eq!(app.storage.seal_audit(0, true).await.unwrap(), 1);
    let total = total + 1;
    assert_eq!(
        app.storage
            .verify_audit(4)
            .await
            .unwrap()
            .to_string_for_test(),
        format!("ok {total}")
    );

    let id_at = |pos: i64| {
        let db = db.clone();
        async move {
            scalar(
                &db,
                &format!("select audit_id from audit_log where chain_pos = {pos}"),
            )
            .await
        }
    };

    // 1. An edited record: its after_state changes.
    let victim = id_at(5).await;
    let before = exec(
        &db,
        &format!(
            "update audit_log set after_state = '{{\"masked\":false}}' where audit_id = {victim}"
        ),
    )
    .await;
    assert_eq!(before, 1);
    let (ok, _, stderr) = out(&verify_audit(&db, &dir));
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("audit record {victim} (position 5)"))
            && stderr.contains("edited"),
        "{stderr}"
    );
    exec(
        &db,
        &format!(
            "update audit_log set after_state = '{{\"masked\":true}}' where audit_id = {victim}"
        ),
    )
    .await;
    assert!(out(&verify_audit(&db, &dir)).0, "restored");

    // 2. A reordered record: positions 6 and 7 swap.
    let (six, seven) = (id_at(6).await, id_at(7).await);
    for (id, pos) in [(six, -1), (seven, 6), (six, 7)] {
        exec(
            &db,
            &format!("update audit_log set chain_pos = {pos} where audit_id = {id}"),
        )
        .await;
    }
    let (ok, _, stderr) = out(&verify_audit(&db, &dir));
    assert!(!ok);
    assert!(
        stderr.contains(&format!("audit record {seven} (position 6)")) && stderr.contains("moved"),
        "{stderr}"
    );
    for (id, pos) in [(six, -1), (seven, 7), (six, 6)] {
        exec(
            &db,
            &format!("update audit_log set chain_pos = {pos} where audit_id = {id}"),
        )
        .await;
    }
    assert!(out(&verify_audit(&db, &dir)).0, "restored");

    // 3. An edited anchor: the newest day's hash is replaced.
    let day = latest_day(&db).await;
    exec(
        &db,
        &format!(
            "update audit_anchors set last_hash = '{}' where day = '{day}'",
            "ab".repeat(32)
        ),
    )
    .await;
    let (ok, _, stderr) = out(&verify_audit(&db, &dir));
    assert!(!ok);
    assert!(
        stderr.contains(&format!("the anchor of {day}")) && stderr.contains("edited"),
        "{stderr}"
    );
    exec(
        &db,
        &format!(
            "update audit_anchors set last_hash = (select hash from audit_log where chain_pos = {total}) where day = '{day}'"
        ),
    )
    .await;
    assert!(out(&verify_audit(&db, &dir)).0, "restored");

    // 4. A deleted record, in the middle of a day.
    let (three, four, five) = (id_at(3).await, id_at(4).await, id_at(5).await);
    assert_eq!(
        exec(
            &db,
            &format!("delete from audit_log where audit_id = {four}")
        )
        .await,
        1
    );
    let (ok, _, stderr) = out(&verify_audit(&db, &dir));
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "position 4 is missing before audit record {five} (position 5), after audit record {three}"
        )) && stderr.contains("deleted"),
        "{stderr}"
    );

    // 5. The newest record deleted: its day's anchor no longer matches.
    let fresh = TestApp::spawn(b).await;
    write_records(&fresh.storage, 4, 2, test_now().timestamp_millis()).await;
    fresh.storage.seal_audit(0, true).await.unwrap();
    let n = fresh.storage.audit_count().await.unwrap();
    let before_last = scalar(
        &fresh.database_url,
        &format!("select audit_id from audit_log where chain_pos = {}", n - 1),
    )
    .await;
    exec(
        &fresh.database_url,
        &format!("delete from audit_log where chain_pos = {n}"),
    )
    .await;
    let (ok, _, stderr) = out(&verify_audit(&fresh.database_url, fresh.dir.path()));
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "records after audit record {before_last} were deleted"
        )),
        "{stderr}"
    );
}

async fn latest_day(db: &str) -> String {
    use sqlx::Connection;
    let q = "select day from audit_anchors order by day desc limit 1";
    if db.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
        sqlx::query_scalar(q).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(db).await.unwrap();
        sqlx::query_scalar(q).fetch_one(&mut c).await.unwrap()
    }
}

trait ForTest {
    fn to_string_for_test(&self) -> String;
}

impl ForTest for Verdict {
    fn to_string_for_test(&self) -> String {
        match self {
            Verdict::Intact(n) => format!("ok {n}"),
            Verdict::Broken(b) => b.to_string(),
        }
    }
}

/// Many writers at once while two instances seal: every record gets exactly one position, and
/// the chain verifies (on PostgreSQL, sequence order is not commit order).
async fn concurrent_writers_and_sealers_keep_one_chain(b: Backend) {
    let app = TestApp::spawn(b).await;
    let other = Storage::connect(&app.database_url).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut sealers = vec![];
    for s in [app.storage.clone(), other.clone()] {
        let stop = stop.clone();
        sealers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += s.seal_audit(0, false).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            }
            n
        }));
    }
    let mut writers = vec![];
    for w in 0..6 {
        let s = if w % 2 == 0 {
            app.storage.clone()
        } else {
            other.clone()
        };
        writers.push(tokio::spawn(async move {
            write_records(&s, 40, 15, test_now().timestamp_millis() + w).await
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sealed = 0;
    for s in sealers {
        sealed += s.await.unwrap();
    }
    sealed += app.storage.seal_audit(0, true).await.unwrap();
    let total = app.storage.audit_count().await.unwrap();
    assert_eq!(sealed as i64, total, "each record sealed exactly once");
    assert_eq!(
        app.storage
            .verify_audit(7)
            .await
            .unwrap()
            .to_string_for_test(),
        format!("ok {total}")
    );
    let distinct = scalar(
        &app.database_url,
        "select count(distinct chain_pos) from audit_log",
    )
    .await;
    assert_eq!(distinct, total);
}

/// Two instances' sealers made to meet: the first is held inside its transaction (lock taken,
/// nothing sealed yet) while the second starts. The job's sealer (no waiting) on the other
/// instance gives way at once on PostgreSQL and waits for SQLite's write lock; a waiting one
/// (`verify-audit`) runs after. Either way each record is sealed once, by the first.
async fn two_sealers_meet_and_one_seals(b: Backend) {
    use backoffice::storage::pauses::{SEAL_BEGIN, SEAL_LOCKED};
    let app = TestApp::spawn(b).await;
    let other = Storage::connect(&app.database_url).await.unwrap();
    for wait in [false, true] {
        write_records(&app.storage, 12, 5, test_now().timestamp_millis()).await;
        let waiting = app.storage.audit_unsealed().await.unwrap();
        assert!(waiting >= 12);
        let held = app.storage.test_pauses().hold(SEAL_LOCKED);
        let second_began = other.test_pauses().count(SEAL_BEGIN);
        let first = tokio::spawn({
            let s = app.storage.clone();
            async move { s.seal_audit(0, true).await.unwrap() }
        });
        held.reached().await;
        let second = tokio::spawn({
            let s = other.clone();
            async move { s.seal_audit(0, wait).await.unwrap() }
        });
        second_began.passed(1).await;
        let gives_way = b == Backend::Postgres && !wait;
        let mut second = Some(second);
        if gives_way {
            // The lock is taken: the second returns at once, having sealed nothing.
            assert_eq!(second.take().unwrap().await.unwrap(), 0);
        } else {
            if b == Backend::Postgres {
                // The waiting one queues for the lock: seen in pg_locks, not guessed by a sleep.
                let waiting_for_lock = "select count(*) from pg_locks where locktype = 'advisory' \
                    and not granted and database = (select oid from pg_database where datname = current_database())";
                while scalar(&app.database_url, waiting_for_lock).await < 1 {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
            let s = second.as_ref().unwrap();
            assert!(
                !s.is_finished(),
                "the second sealed around the first's lock"
            );
        }
        assert_eq!(app.storage.audit_unsealed().await.unwrap(), waiting);
        held.release();
        assert_eq!(first.await.unwrap() as i64, waiting, "wait={wait}");
        if let Some(s) = second {
            assert_eq!(s.await.unwrap(), 0, "wait={wait}");
        }
        app.storage.test_pauses().clear();
        other.test_pauses().clear();
    }
    let total = app.storage.audit_count().await.unwrap();
    assert_eq!(app.storage.audit_unsealed().await.unwrap(), 0);
    assert_eq!(
        app.storage
            .verify_audit(7)
            .await
            .unwrap()
            .to_string_for_test(),
        format!("ok {total}")
    );
    let distinct = scalar(
        &app.database_url,
        "select count(distinct chain_pos) from audit_log",
    )
    .await;
    assert_eq!(distinct, total);
}

/// The admin page shows the latest anchor; sending it queues one e-mail to the auditor with the
/// hash, audited; the same anchor is not queued twice.
async fn the_latest_anchor_is_shown_and_mailed_to_the_auditor(b: Backend) {
    let app =
        TestApp::spawn_with(b, |s| s.auditor_email = Some("auditor@example.org".into())).await;
    let admin = app.signed_in_staff("zhao.admin", "admin").await;
    write_records(&app.storage, 5, 5, test_now().timestamp_millis()).await;
    let page = admin.get_page("/admin/audit").await;
    assert!(page.contains("待封存"), "{page}");
    app.storage.seal_audit(0, true).await.unwrap();
    let anchor = app.storage.latest_audit_anchor().await.unwrap().unwrap();
    assert_eq!(anchor.day.to_string(), "2026-11-25");
    let page = admin.get_page("/admin/audit").await;
    assert!(page.contains(&anchor.last_hash), "{page}");
    assert!(page.contains("auditor@example.org"));

    let r = admin.post_form("/admin/audit/anchor-mail", &[]).await;
    assert_eq!(location(&r), "/admin/audit?msg=anchor_sent");
    let queued = app.storage.outbox_messages("pending", 10).await.unwrap();
    let mail: Vec<_> = queued.iter().filter(|m| m.kind == "audit_anchor").collect();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].recipient, "auditor@example.org");
    assert!(mail[0].body_text.contains(&anchor.last_hash));
    assert_eq!(app.audited("2026-11-25", "audit.anchor_sent").await, 1);

    // The sending itself is a new record, so the anchor moves on once sealed; the old one is
    // not queued again.
    let r = admin.post_form("/admin/audit/anchor-mail", &[]).await;
    assert_eq!(location(&r), "/admin/audit?msg=anchor_already_sent");
    app.storage.seal_audit(0, true).await.unwrap();
    let r = admin.post_form("/admin/audit/anchor-mail", &[]).await;
    assert_eq!(location(&r), "/admin/audit?msg=anchor_sent");
    assert_eq!(app.audited("2026-11-25", "audit.anchor_sent").await, 2);

    // Without an auditor address nothing is queued.
    let bare = TestApp::spawn(b).await;
    let admin = bare.signed_in_staff("zhao.admin", "admin").await;
    let r = admin.post_form("/admin/audit/anchor-mail", &[]).await;
    assert_eq!(location(&r), "/admin/audit?msg=no_auditor");
    assert_eq!(bare.storage.outbox_count("pending").await.unwrap(), 0);
}

/// `verify-audit` reads pages of positions on two connections at once and hashes each page
/// apart: a record edited, a hash rewritten or records missing right at a page's edge are named
/// as when the chain is walked one record at a time.
async fn breaks_at_page_boundaries_are_named(b: Backend) {
    let app = TestApp::spawn(b).await;
    let db = app.database_url.clone();
    write_records(&app.storage, 26, 9, test_now().timestamp_millis()).await;
    app.storage.seal_audit(0, true).await.unwrap();
    let total = app.storage.audit_count().await.unwrap();
    assert!(total >= 26, "{total}");
    let verdict = |page: i64| {
        let s = app.storage.clone();
        async move { s.verify_audit(page).await.unwrap().to_string_for_test() }
    };
    // Every page size, the chain's length a multiple of the page or not: intact.
    for page in [1, 2, 3, 4, 5, total - 1, total, total + 1, 50_000] {
        assert_eq!(
            verdict(page).await,
            format!("ok {total}"),
            "pages of {page}"
        );
    }
    let id_at = |pos: i64| {
        let db = db.clone();
        async move {
            scalar(
                &db,
                &format!("select audit_id from audit_log where chain_pos = {pos}"),
            )
            .await
        }
    };

    // Pages of 4: (0, 4] and (8, 12] by one reader, (4, 8] and (12, 16] by the other.
    for pos in [4, 5, 8, 9, 12, 13] {
        let id = id_at(pos).await;
        // The record edited: named, whichever side of a page's edge it is on.
        exec(
            &db,
            &format!("update audit_log set subject_id = 'x' || subject_id where audit_id = {id}"),
        )
        .await;
        let v = verdict(4).await;
        assert!(
            v.contains(&format!(
                "audit record {id} (position {pos}) does not match"
            )),
            "{pos}: {v}"
        );
        exec(
            &db,
            &format!(
                "update audit_log set subject_id = substr(subject_id, 2) where audit_id = {id}"
            ),
        )
        .await;
        // Its stored hash rewritten: the next page's first record was hashed on it, but the
        // record itself is named.
        let hash = scalar_text(
            &db,
            &format!("select hash from audit_log where audit_id = {id}"),
        )
        .await;
        exec(
            &db,
            &format!(
                "update audit_log set hash = '{}' where audit_id = {id}",
                "cd".repeat(32)
            ),
        )
        .await;
        let v = verdict(4).await;
        assert!(
            v.contains(&format!(
                "audit record {id} (position {pos}) does not match"
            )),
            "{pos}: {v}"
        );
        exec(
            &db,
            &format!("update audit_log set hash = '{hash}' where audit_id = {id}"),
        )
        .await;
        // Gone from its position (moved far beyond the chain's end): the gap is named.
        let (before, after) = (id_at(pos - 1).await, id_at(pos + 1).await);
        exec(
            &db,
            &format!(
                "update audit_log set chain_pos = {} where audit_id = {id}",
                1_000_000_000 + pos
            ),
        )
        .await;
        let v = verdict(4).await;
        assert!(
            v.contains(&format!("position {pos} is missing before audit record {after} (position {}), after audit record {before}", pos + 1)),
            "{pos}: {v}"
        );
        exec(
            &db,
            &format!("update audit_log set chain_pos = {pos} where audit_id = {id}"),
        )
        .await;
        assert_eq!(verdict(4).await, format!("ok {total}"), "restored {pos}");
    }

    // A whole page deleted: the record after it is out of place.
    let (eight, thirteen) = (id_at(8).await, id_at(13).await);
    exec(
        &db,
        "delete from audit_log where chain_pos > 8 and chain_pos <= 12",
    )
    .await;
    let v = verdict(4).await;
    assert!(
        v.contains(&format!("position 9 is missing before audit record {thirteen} (position 13), after audit record {eight}")),
        "{v}"
    );
}

async fn scalar_text(db: &str, sql: &str) -> String {
    use sqlx::Connection;
    if db.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(db).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

both!(
    breaks_at_page_boundaries_are_named,
    the_latest_anchor_is_shown_and_mailed_to_the_auditor,
    tampering_is_found_and_named,
    concurrent_writers_and_sealers_keep_one_chain,
    two_sealers_meet_and_one_seals
);
