//! Scans in S3-compatible object storage (moto on loopback): the intake-to-review path, uploads
//! that break half-way, the sweep and its fence, corrupted objects, and `move-scans` both ways.

use crate::both;
use crate::helpers::*;
use crate::moto::*;
use backoffice::storage::scan_files::{
    ScanLocation, ScanStore, StoredObject, sha256_hex, sweep::sweep,
};
use bytes::Bytes;
use futures_util::TryStreamExt;
use serde_json::Value;
use std::process::Command;

async fn objects(store: &ScanStore) -> Vec<StoredObject> {
    store.backend().list().try_collect().await.unwrap()
}

fn hall_reference() -> String {
    example_json()["hall_reference"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn intake_to_review_with_scans_in_s3(b: Backend) {
    let moto = Moto::start().await;
    let s3 = moto.bucket("intake").await;
    let app = TestApp::spawn_with(b, |s| s.scan_store = s3_location(&s3)).await;
    let id = app.submit_example().await;
    // Five objects in the bucket, none on the local disk.
    let direct = moto.store(&s3);
    assert_eq!(objects(&direct).await.len(), 5);
    assert_eq!(app.stored_scan_files(), 0);
    let reviewer = app.signed_in_staff("li.na", "reviewer").await;
    let page = reviewer.get_page(&format!("/review/{id}")).await;
    assert!(page.contains(&format!("/review/{id}/scans/1/id_front")));
    let r = reviewer
        .get(&format!("/review/{id}/scans/1/id_front"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        jpeg(format!("front {}", hall_reference()).as_bytes())
    );
    // The same bytes sent again in another application are stored once.
    let mut j = example_json();
    j["hall_reference"] = Value::from("WT-S3-2");
    let r = app.submit("key-2", Submission::with_json(j).form()).await;
    assert_eq!(r.status(), 201);
    assert_eq!(objects(&direct).await.len(), 10);
}

async fn a_corrupted_object_is_refused_not_served(b: Backend) {
    let moto = Moto::start().await;
    let s3 = moto.bucket("corrupt").await;
    let app = TestApp::spawn_with(b, |s| s.scan_store = s3_location(&s3)).await;
    let id = app.submit_example().await;
    let front = jpeg(format!("front {}", hall_reference()).as_bytes());
    let sha = sha256_hex(&front);
    // Someone with access to the bucket changes the object behind its name.
    moto.store(&s3)
        .write_all(vec![(sha.clone(), Bytes::from_static(b"\xFF\xD8 edited"))])
        .await
        .unwrap();
    let reviewer = app.signed_in_staff("li.na", "reviewer").await;
    let r = reviewer
        .get(&format!("/review/{id}/scans/1/id_front"))
        .await;
    assert_eq!(r.status(), 500);
    assert!(!r.bytes().await.unwrap().starts_with(b"\xFF\xD8 edited"));
    assert!(app.state.scans.get(&sha).await.is_err());
}

/// The store fails after some objects went up: no application, and the sweep later takes what
/// was left.
async fn a_store_failing_mid_upload_leaves_no_application(b: Backend) {
    let moto = Moto::start().await;
    let s3 = moto.bucket("cut").await;
    let proxy = CuttingProxy::start(&moto.endpoint, 150_000).await;
    let via_proxy = settings(&proxy.endpoint, "cut", "scans");
    let app = TestApp::spawn_with(b, |s| s.scan_store = s3_location(&via_proxy)).await;
    // Five scans of ~60 KB: the cut falls inside the third.
    let big = |t: &str| jpeg(&t.repeat(60_000 / t.len()).into_bytes());
    let sub = Submission::example()
        .set("id_front", "f.jpg", "image/jpeg", big("front "))
        .set("id_back", "b.jpg", "image/jpeg", big("back "))
        .set("liveness_photo", "l.jpg", "image/jpeg", big("face "))
        .set("eseal_form", "e.jpg", "image/jpeg", big("eseal "));
    let r = app.submit("key-cut", sub.form()).await;
    assert_eq!(r.status(), 500);
    assert!(
        app.storage
            .application_id_by_hall_reference(&hall_reference())
            .await
            .unwrap()
            .is_none()
    );
    let direct = moto.store(&s3);
    let left = objects(&direct).await.len();
    assert!(left < 5, "{left} objects: the cut did not fall mid-way");
    // An hour later (the objects carry the real clock), past a grace period of zero, the sweep
    // removes the orphans.
    let later = chrono::Utc::now().timestamp_millis() + 3_600_000;
    let s = sweep(&app.storage, &direct, later, 0).await.unwrap();
    assert_eq!(s.deleted as usize, left);
    assert!(objects(&direct).await.is_empty());
}

/// The client hangs up in the middle of the body: nothing is written anywhere.
async fn a_client_dropping_mid_body_leaves_nothing(b: Backend) {
    use tokio::io::AsyncWriteExt;
    let moto = Moto::start().await;
    let s3 = moto.bucket("drop").await;
    let app = TestApp::spawn_with(b, |s| s.scan_store = s3_location(&s3)).await;
    let boundary = "wt-boundary-7c1f";
    let body = multipart_bytes(boundary);
    let addr = app.addr.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/applications HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Idempotency-Key: key-drop\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n",
        app.token,
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..body.len() * 2 / 3]).await.unwrap();
    s.flush().await.unwrap();
    // The server is reading the body (the upload holds its slot), then the client hangs up and
    // the server is done with it (the slot is free): states waited for, not sleeps.
    let token = app.storage.api_clients().await.unwrap()[0].token_id;
    crate::api_limits::wait_for_uploads(&app, token, 1).await;
    drop(s);
    crate::api_limits::wait_for_uploads(&app, token, 0).await;
    assert!(objects(&moto.store(&s3)).await.is_empty());
    assert!(
        app.storage
            .application_id_by_hall_reference(&hall_reference())
            .await
            .unwrap()
            .is_none()
    );
    // The server is none the worse: the same submission then goes through.
    assert_eq!(
        app.submit("key-drop", Submission::example().form())
            .await
            .status(),
        201
    );
    assert_eq!(objects(&moto.store(&s3)).await.len(), 5);
}

/// The submission's multipart body, built by hand so that it can be cut.
fn multipart_bytes(boundary: &str) -> Vec<u8> {
    let sub = Submission::example();
    let mut out = Vec::new();
    let mut part = |name: &str, file: Option<&str>, mime: &str, bytes: &[u8]| {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disp = match file {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        out.extend_from_slice(
            format!("Content-Disposition: {disp}\r\nContent-Type: {mime}\r\n\r\n").as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    };
    part(
        "application",
        None,
        "application/json",
        sub.json.as_deref().unwrap().as_bytes(),
    );
    for (name, file, mime, bytes) in &sub.files {
        part(name, Some(file), mime, bytes);
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// Only old objects no row references go; an upload that a sweep overtook writes its objects
/// back before its row commits.
async fn the_sweep_takes_only_old_orphans_and_never_a_staged_scan(b: Backend) {
    let moto = Moto::start().await;
    let s3 = moto.bucket("sweep").await;
    let app = TestApp::spawn_with(b, |s| s.scan_store = s3_location(&s3)).await;
    app.submit_example().await;
    let store = app.state.scans.clone();
    let orphan = Bytes::from_static(b"an orphan");
    store
        .write_all(vec![(sha256_hex(&orphan), orphan.clone())])
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let hour = 3_600_000;
    // Within the grace period nothing goes.
    let s = sweep(&app.storage, &store, now, 24 * hour).await.unwrap();
    assert_eq!((s.listed, s.old_enough, s.deleted), (6, 0, 0));
    // A day later the orphan goes and the application's five stay.
    let s = sweep(&app.storage, &store, now + 25 * hour, 24 * hour)
        .await
        .unwrap();
    assert_eq!((s.listed, s.old_enough, s.deleted), (6, 6, 1));
    assert_eq!(objects(&store).await.len(), 5);
    assert!(store.get(&sha256_hex(&orphan)).await.is_err());

    // Staged, then overtaken by a sweep (grace 0): confirming inside the transaction puts it back.
    let staged_bytes = Bytes::from_static(b"staged scan");
    let sha = sha256_hex(&staged_bytes);
    let staged = store
        .stage(&app.storage, vec![(sha.clone(), staged_bytes.clone())])
        .await
        .unwrap();
    let s = sweep(&app.storage, &store, now + 25 * hour, 0)
        .await
        .unwrap();
    assert_eq!(s.deleted, 1);
    assert!(!store.backend().exists(&sha).await.unwrap());
    let mut tx = app.storage.begin().await.unwrap();
    staged.confirm(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.get(&sha).await.unwrap(), staged_bytes);
}

fn cli(app: &TestApp, envs: &[(&str, String)], args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("BACKOFFICE_DATA_DIR", app.dir.path())
        .env("RUST_LOG", "warn")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap()
}

fn summary(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(out.lines().last().unwrap()).unwrap()
}

/// From the file system to S3, resumed after a loss, then back to another directory.
async fn move_scans_both_ways(b: Backend) {
    let moto = Moto::start().await;
    let s3 = moto.bucket("moved").await;
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    assert_eq!(app.stored_scan_files(), 5);
    let env = cli_env(&moto.endpoint);
    let to = "s3://moved/scans";
    let s = summary(&cli(&app, &env, &["move-scans", "--to", to]));
    assert_eq!(
        (s["objects"].as_u64(), s["copied"].as_u64()),
        (Some(5), Some(5))
    );
    // Again: nothing to do. After an object is lost in the target: that one only.
    let s = summary(&cli(&app, &env, &["move-scans", "--to", to]));
    assert_eq!(
        (s["copied"].as_u64(), s["already_there"].as_u64()),
        (Some(0), Some(5))
    );
    let direct = moto.store(&s3);
    let front = sha256_hex(&jpeg(format!("front {}", hall_reference()).as_bytes()));
    direct.backend().delete(&front).await.unwrap();
    let s = summary(&cli(&app, &env, &["move-scans", "--to", to]));
    assert_eq!(
        (s["copied"].as_u64(), s["already_there"].as_u64()),
        (Some(1), Some(4))
    );

    // An instance on the S3 store serves the scans.
    let on_s3 =
        TestApp::spawn_on_with(&app.database_url, |s| s.scan_store = s3_location(&s3)).await;
    let reviewer = on_s3.signed_in_staff("li.na", "reviewer").await;
    let r = reviewer
        .get(&format!("/review/{id}/scans/1/id_front"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        jpeg(format!("front {}", hall_reference()).as_bytes())
    );

    // Back from S3 to a new directory.
    let back = tempfile::tempdir().unwrap();
    let mut env2 = env.clone();
    env2.push(("BACKOFFICE_SCAN_STORE", to.to_owned()));
    let dir = back.path().to_str().unwrap();
    let s = summary(&cli(&app, &env2, &["move-scans", "--to", dir]));
    assert_eq!(s["copied"].as_u64(), Some(5));
    let local = ScanStore::open(&ScanLocation::Local(back.path().into())).unwrap();
    assert_eq!(objects(&local).await.len(), 5);
    for o in objects(&direct).await {
        assert_eq!(
            local.get(&o.sha256).await.unwrap(),
            direct.get(&o.sha256).await.unwrap(),
            "{} moved byte for byte",
            o.sha256
        );
    }

    // A referenced scan missing from the source is named and the command fails.
    direct.backend().delete(&front).await.unwrap();
    let other = tempfile::tempdir().unwrap();
    let o = cli(
        &app,
        &env2,
        &["move-scans", "--to", other.path().to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains(&front));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 referenced scans missing"));
}

both!(
    intake_to_review_with_scans_in_s3,
    a_corrupted_object_is_refused_not_served,
    a_store_failing_mid_upload_leaves_no_application,
    a_client_dropping_mid_body_leaves_nothing,
    the_sweep_takes_only_old_orphans_and_never_a_staged_scan,
    move_scans_both_ways,
);
