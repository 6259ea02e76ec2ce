//! Revocation of the lost certificate, through the real server: an accepted application queues
//! its lost certificate's serial; a CRL made by the `openssl` command (a real CA: `openssl ca
//! -gencrl` over its index) marks it revoked; a CRL signed by another key, one issued by another
//! CA, an expired one, one not yet valid, malformed, truncated, bit-flipped and oversized files
//! are refused with a named error and change nothing. The courier batch waits for the
//! revocation unless a supervisor lets the application through (audited; of two at once one
//! wins). The issued certificate's file (made by `openssl ca`) is checked against its
//! application and put in the registry. The CLI's `import-crl` does the same as the page.

use crate::both;
use crate::fulfilment::with_sender;
use crate::helpers::*;
use backoffice::domain::serial::CertificateSerial;
use backoffice::domain::status::Action;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The lost certificates of the two applications (the registry fixture's C03 and C04), as
/// hexadecimal without leading zeros (an `openssl ca` index wants an even number of digits).
const LOST_A: &str = "150512140479054C03";
const LOST_B: &str = "150512140479054C04";
/// The new certificate's serial as production records it.
const NEW_SERIAL: &str = "0150512140479055D001";

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command (Debian's openssl) must be installed");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

const CA_CNF: &str = "[ ca ]\ndefault_ca = ca_default\n[ ca_default ]\ndir = .\n\
database = ./index.txt\nnew_certs_dir = ./newcerts\ncertificate = ./ca.pem\n\
private_key = ./ca.key\nserial = ./serial\ncrlnumber = ./crlnumber\ndefault_md = sha256\n\
default_crl_days = 7\npolicy = pol\nunique_subject = no\nutf8 = yes\nstring_mask = utf8only\n\
copy_extensions = none\n[ pol ]\ncommonName = supplied\nserialNumber = optional\n";

/// A CA made by `openssl`: its own directory with a P-256 key, a self-signed certificate of
/// `subject`, and the files `openssl ca` keeps.
struct Ca {
    dir: PathBuf,
}

impl Ca {
    fn new(root: &Path, name: &str, subject: &str) -> Ca {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("newcerts")).unwrap();
        std::fs::write(dir.join("ca.cnf"), CA_CNF).unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("crlnumber"), "1000\n").unwrap();
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3650",
                "-subj",
                subject,
            ],
        );
        Ca { dir }
    }

    fn cert_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.pem")).unwrap()
    }

    /// A CRL listing `revoked` (serial, reason), valid from `last` to `next` (YYMMDDHHMMSSZ).
    fn crl(&self, revoked: &[(&str, &str)], last: &str, next: &str, der: bool) -> Vec<u8> {
        let index: String = revoked
            .iter()
            .map(|(serial, reason)| {
                format!("R\t281101000000Z\t261120083000Z,{reason}\t{serial}\tunknown\t/CN=lost\n")
            })
            .collect();
        std::fs::write(self.dir.join("index.txt"), index).unwrap();
        openssl(
            &self.dir,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-gencrl",
                "-crl_lastupdate",
                last,
                "-crl_nextupdate",
                next,
                "-out",
                "crl.pem",
            ],
        );
        if der {
            openssl(
                &self.dir,
                &[
                    "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der",
                ],
            );
            std::fs::read(self.dir.join("crl.der")).unwrap()
        } else {
            std::fs::read(self.dir.join("crl.pem")).unwrap()
        }
    }

    /// A certificate for `subject` with `serial` (even hex digits), valid `start`..`end`
    /// (YYMMDDHHMMSSZ), PEM or DER.
    fn issue(&self, serial: &str, subject: &str, start: &str, end: &str, der: bool) -> Vec<u8> {
        std::fs::write(self.dir.join("index.txt"), "").unwrap();
        std::fs::write(self.dir.join("serial"), format!("{serial}\n")).unwrap();
        openssl(
            &self.dir,
            &[
                "req",
                "-new",
                "-utf8",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                subject,
            ],
        );
        openssl(
            &self.dir,
            &[
                "ca",
                "-batch",
                "-utf8",
                "-config",
                "ca.cnf",
                "-in",
                "leaf.csr",
                "-out",
                "leaf.pem",
                "-notext",
                "-startdate",
                start,
                "-enddate",
                end,
            ],
        );
        if der {
            openssl(
                &self.dir,
                &[
                    "x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.cer",
                ],
            );
            std::fs::read(self.dir.join("leaf.cer")).unwrap()
        } else {
            std::fs::read(self.dir.join("leaf.pem")).unwrap()
        }
    }
}

const SUBJECT: &str = "/CN=Test SZCA Root/O=SZCA";
const GOOD_LAST: &str = "261124000000Z";
const GOOD_NEXT: &str = "271231000000Z";

/// The server with `ca` configured (the gate on).
async fn spawn_with_ca(b: Backend, ca: &Ca) -> TestApp {
    let pem = ca.cert_pem();
    TestApp::spawn_with(b, move |s| {
        with_sender(s);
        s.revocation.ca_cert = Some(Arc::new(pem));
    })
    .await
}

/// An accepted application whose lost certificate is the registry's C03 (张三) or C04 (李四).
async fn accepted_with(app: &TestApp, n: u32, lost: &str) -> String {
    let mut j = example_json();
    j["hall_reference"] = json!(format!("WT2026112570{n:02}"));
    j["payment"]["out_trade_no"] = json!(format!("SZCA{:016X}", 0xE000u64 + u64::from(n)));
    if lost == LOST_B {
        j["certificate_serial"] = json!("0150512140479054C04");
        j["applicant"]["name"] = json!("李四");
        j["applicant"]["id_number"] = json!("44030519900101123X");
    }
    let r = app
        .submit(&format!("rev-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.verify_payment(&id).await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(&id, Action::Accept, &[]).await;
    id
}

async fn produce(clerk: &StaffBrowser, id: &str, serial: &str) {
    clerk.get_page("/fulfilment").await;
    let s = format!("serial.{id}");
    let m = format!("medium.{id}");
    let r = clerk
        .post_form(
            "/fulfilment/production",
            &[("ids", id), (&s, serial), (&m, "UK-2026-00001")],
        )
        .await;
    assert_eq!(location(&r), "/fulfilment?msg=produced");
}

async fn state_of(app: &TestApp, id: &str) -> String {
    app.storage
        .revocation_of(&aid(id))
        .await
        .unwrap()
        .expect("queued at acceptance")
        .state
}

async fn crl_imports(app: &TestApp) -> usize {
    app.storage.crl_imports_recent(100).await.unwrap().len()
}

async fn a_crl_revokes_and_the_batch_waits_for_it(b: Backend) {
    let pki = tempfile::tempdir().unwrap();
    let ca = Ca::new(pki.path(), "ca", SUBJECT);
    let app = spawn_with_ca(b, &ca).await;
    let a = accepted_with(&app, 1, LOST_A).await;
    let bb = accepted_with(&app, 2, LOST_B).await;
    assert_eq!(state_of(&app, &a).await, "queued");
    assert_eq!(app.audited(&a, "revocation.revoked").await, 0);

    // The CA operator's page and workbook list both serials with keyCompromise.
    let clerk = app.signed_in_staff("zhou.min", "fulfillment").await;
    let page = clerk.get_page("/revocations").await;
    assert!(page.contains("0150512140479054C03") && page.contains("0150512140479054C04"));
    assert!(page.contains("keyCompromise") && page.contains("ca-subject"));
    let r = clerk.get("/revocations/serials.xlsx").await;
    assert_eq!(r.status(), 200);
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cd.contains("filename*=UTF-8''"), "{cd}");
    assert!(cd.contains("20261125.xlsx"), "{cd}");
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    use calamine::Reader;
    let sheet = wb.worksheet_range("待吊销证书").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][0], "证书序列号");
    assert!(
        rows.iter()
            .any(|r| r[0] == "0150512140479054C03" && r[1] == "keyCompromise")
    );

    // Produced, neither may go into a courier batch yet: selected, or "all ready".
    produce(&clerk, &a, NEW_SERIAL).await;
    produce(&clerk, &bb, "0150512140479055D002").await;
    clerk.get_page("/fulfilment").await;
    let r = clerk
        .post_form(
            "/fulfilment/batches",
            &[("courier", "sf"), ("scope", "selected"), ("ids", &a)],
        )
        .await;
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("遗失证书尚未吊销") && text.contains("0150512140479054C03"),
        "{text}"
    );
    let r = clerk
        .post_form(
            "/fulfilment/batches",
            &[("courier", "sf"), ("scope", "all")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(app.storage.revocation_of(&aid(&a)).await.unwrap().is_some());

    // The CA's CRL (DER) lists C03: A is revoked with the CRL's date and reason, B still waits.
    let crl = ca.crl(
        &[(LOST_A, "keyCompromise"), ("0A0B0C", "superseded")],
        GOOD_LAST,
        GOOD_NEXT,
        true,
    );
    let (status, page) = upload_file(&clerk, "/revocations/crl", "szca.crl", crl).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"crl-revoked\">1<"), "{page}");
    assert!(page.contains("id=\"crl-still-queued\">1<"), "{page}");
    let row = app.storage.revocation_of(&aid(&a)).await.unwrap().unwrap();
    assert_eq!(row.state, "revoked");
    assert_eq!(row.crl_reason.as_deref(), Some("keyCompromise"));
    let revoked_at = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:30:00Z").unwrap();
    assert_eq!(row.revoked_at, Some(revoked_at.timestamp_millis()));
    assert_eq!(state_of(&app, &bb).await, "queued");
    let lost = CertificateSerial::parse("0150512140479054C03").unwrap();
    let reg = app.storage.certificate(&lost).await.unwrap().unwrap();
    assert_eq!(reg.status.code(), "revoked");
    assert_eq!(app.audited(&a, "revocation.revoked").await, 1);
    assert_eq!(crl_imports(&app).await, 1);

    // The same CRL again changes nothing more.
    let crl = ca.crl(&[(LOST_A, "keyCompromise")], GOOD_LAST, GOOD_NEXT, false);
    let (status, page) = upload_file(&clerk, "/revocations/crl", "szca.pem", crl).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"crl-revoked\">0<"), "{page}");
    assert_eq!(app.audited(&a, "revocation.revoked").await, 1);

    // "All ready" now batches A and leaves B out; B alone is still refused.
    clerk.get_page("/fulfilment").await;
    let r = clerk
        .post_form(
            "/fulfilment/batches",
            &[("courier", "sf"), ("scope", "all")],
        )
        .await;
    assert!(
        location(&r).ends_with("?msg=batch_created"),
        "{}",
        location(&r)
    );
    let r = clerk
        .post_form(
            "/fulfilment/batches",
            &[("courier", "sf"), ("scope", "selected"), ("ids", &bb)],
        )
        .await;
    assert_eq!(r.status(), 422);

    // A clerk may not let B through; a supervisor may, with a reason, audited.
    let version = app
        .storage
        .revocation_of(&aid(&bb))
        .await
        .unwrap()
        .unwrap()
        .row_version;
    let path = format!("/revocations/{bb}/override");
    let v = version.to_string();
    let r = clerk
        .post_form(&path, &[("reason", "急用"), ("row_version", &v)])
        .await;
    assert_eq!(r.status(), 403);
    let boss = app.signed_in_staff("wang.lei", "supervisor").await;
    boss.get_page("/revocations").await;
    let r = boss
        .post_form(&path, &[("reason", ""), ("row_version", &v)])
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.audited(&bb, "revocation.overridden").await, 0);
    let r = boss
        .post_form(
            &path,
            &[
                ("reason", "申请人急需，CA 已电话确认吊销"),
                ("row_version", &v),
            ],
        )
        .await;
    assert_eq!(location(&r), "/revocations?msg=gate_overridden");
    assert_eq!(app.audited(&bb, "revocation.overridden").await, 1);
    // The same form sent twice: the second finds it changed.
    let r = boss
        .post_form(&path, &[("reason", "again"), ("row_version", &v)])
        .await;
    assert_eq!(location(&r), "/revocations?msg=conflict");
    assert_eq!(app.audited(&bb, "revocation.overridden").await, 1);
    clerk.get_page("/fulfilment").await;
    let r = clerk
        .post_form(
            "/fulfilment/batches",
            &[("courier", "sf"), ("scope", "selected"), ("ids", &bb)],
        )
        .await;
    assert!(
        location(&r).ends_with("?msg=batch_created"),
        "{}",
        location(&r)
    );
}

async fn refused_crls_change_nothing(b: Backend) {
    let pki = tempfile::tempdir().unwrap();
    let ca = Ca::new(pki.path(), "ca", SUBJECT);
    // Same name, another key: only the signature tells them apart.
    let twin = Ca::new(pki.path(), "twin", SUBJECT);
    let other = Ca::new(pki.path(), "other", "/CN=Another CA/O=Elsewhere");
    let app = spawn_with_ca(b, &ca).await;
    let a = accepted_with(&app, 1, LOST_A).await;
    let clerk = app.signed_in_staff("zhou.min", "fulfillment").await;
    clerk.get_page("/revocations").await;
    let listing = [(LOST_A, "keyCompromise")];
    let good = ca.crl(&listing, GOOD_LAST, GOOD_NEXT, true);
    let mut truncated = good.clone();
    truncated.truncate(good.len() / 2);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "twin.crl",
            twin.crl(&listing, GOOD_LAST, GOOD_NEXT, true),
            "signature does not verify",
        ),
        (
            "other.crl",
            other.crl(&listing, GOOD_LAST, GOOD_NEXT, true),
            "not by the configured CA",
        ),
        (
            "expired.crl",
            ca.crl(&listing, "261001000000Z", "261101000000Z", true),
            "has expired",
        ),
        (
            "future.crl",
            ca.crl(&listing, "261201000000Z", "261231000000Z", false),
            "not yet valid",
        ),
        ("truncated.crl", truncated, "not a readable CRL"),
        (
            "noise.crl",
            b"\x30\x82\xff\xff garbage".to_vec(),
            "not a readable CRL",
        ),
        (
            "bad.pem",
            b"-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n".to_vec(),
            "not a readable CRL",
        ),
        ("cert.pem", ca.cert_pem(), "not “X509 CRL”"),
    ];
    for (name, bytes, why) in cases {
        let (status, page) = upload_file(&clerk, "/revocations/crl", name, bytes).await;
        assert_eq!(status, 422, "{name}: {page}");
        assert!(
            page.contains("未做任何更改") && page.contains(why),
            "{name}: {page}"
        );
    }
    // A file of another kind is refused by its name before it is read.
    let (status, page) = upload_file(&clerk, "/revocations/crl", "crl.xlsx", good.clone()).await;
    assert_eq!(status, 422, "{page}");
    assert_eq!(state_of(&app, &a).await, "queued");
    assert_eq!(crl_imports(&app).await, 0);
    assert_eq!(app.audited(&a, "revocation.revoked").await, 0);

    // Hostile input, without a fuzzer: every truncation and a flipped bit in every byte of a
    // good CRL is refused with a named error, never a panic, and nothing changes.
    let settings = app.state.settings.revocation.clone();
    let at = app.clock.now().timestamp_millis();
    let mut refused = 0;
    for cut in (0..good.len()).step_by(3) {
        let r = backoffice::desks::revocation::import_crl(
            &app.storage,
            &settings,
            &good[..cut],
            "t",
            "test",
            at,
        )
        .await;
        assert!(r.is_err(), "a CRL cut at {cut} was read");
        refused += 1;
    }
    // The signed part (tbsCertList) ends where its SEQUENCE's length says.
    let tbs_end = {
        let l = good[4];
        let (n, len) = if l & 0x80 == 0 {
            (0, l as usize)
        } else {
            let n = (l & 0x7f) as usize;
            (
                n,
                good[5..5 + n].iter().fold(0, |a, b| a * 256 + *b as usize),
            )
        };
        5 + n + len
    };
    let ca_cert = backoffice::exchange::crl::CaCert::parse(&ca.cert_pem()).unwrap();
    let max = settings.max_bytes;
    for i in 0..good.len() {
        let mut flipped = good.clone();
        flipped[i] ^= 0x10;
        match backoffice::exchange::crl::read_crl(&flipped, Some(&ca_cert), max, at) {
            Err(e) => assert!(!e.to_string().is_empty()),
            // The parser is lenient with the unsigned outer algorithm's tag: what it reads is
            // still, entry for entry, the CA's own list.
            Ok(c) => {
                assert!(i >= tbs_end, "byte {i} (signed) flipped was read: {c:?}");
                assert_eq!(c.entries.len(), 1);
                assert_eq!(c.entries[0].serial_key, LOST_A);
            }
        }
        refused += 1;
    }
    assert!(refused > good.len());
    assert_eq!(state_of(&app, &a).await, "queued");
    assert_eq!(crl_imports(&app).await, 0);

    // Over BACKOFFICE_CRL_MAX_BYTES: refused before parsing, naming the setting.
    let mut small = settings.clone();
    small.max_bytes = 64;
    let e = backoffice::desks::revocation::import_crl(&app.storage, &small, &good, "t", "test", at)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("BACKOFFICE_CRL_MAX_BYTES"), "{e}");

    // Without a CA certificate no CRL is read (and the gate is off).
    let mut none = settings.clone();
    none.ca_cert = None;
    let e = backoffice::desks::revocation::import_crl(&app.storage, &none, &good, "t", "test", at)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("BACKOFFICE_CA_CERT"), "{e}");

    // The good one, at last.
    let s =
        backoffice::desks::revocation::import_crl(&app.storage, &settings, &good, "t", "test", at)
            .await
            .unwrap();
    assert_eq!(s.revoked, 1);
    assert_eq!(state_of(&app, &a).await, "revoked");
}

async fn two_at_once_one_wins(b: Backend) {
    let pki = tempfile::tempdir().unwrap();
    let ca = Ca::new(pki.path(), "ca", SUBJECT);
    let app = spawn_with_ca(b, &ca).await;
    let a = accepted_with(&app, 1, LOST_A).await;
    let bb = accepted_with(&app, 2, LOST_B).await;
    let settings = app.state.settings.revocation.clone();
    let at = app.clock.now().timestamp_millis();
    // Two imports of a CRL at once: the serial is marked once.
    let crl = ca.crl(&[(LOST_A, "keyCompromise")], GOOD_LAST, GOOD_NEXT, true);
    let (r1, r2) = tokio::join!(
        backoffice::desks::revocation::import_crl(&app.storage, &settings, &crl, "t", "one", at),
        backoffice::desks::revocation::import_crl(&app.storage, &settings, &crl, "t", "two", at),
    );
    assert_eq!(r1.unwrap().revoked + r2.unwrap().revoked, 1);
    assert_eq!(app.audited(&a, "revocation.revoked").await, 1);
    // Two supervisors let B through at once: one wins, the other is told.
    let v = app
        .storage
        .revocation_of(&aid(&bb))
        .await
        .unwrap()
        .unwrap()
        .row_version;
    let id = aid(&bb);
    let (o1, o2) = tokio::join!(
        backoffice::desks::revocation::override_gate(
            &app.storage,
            &id,
            v,
            "理由一",
            "staff:one",
            at
        ),
        backoffice::desks::revocation::override_gate(
            &app.storage,
            &id,
            v,
            "理由二",
            "staff:two",
            at
        ),
    );
    assert_eq!(o1.is_ok() as u8 + o2.is_ok() as u8, 1);
    let lost = if o1.is_err() { o1 } else { o2 };
    assert!(
        lost.unwrap_err()
            .to_string()
            .contains("该申请已被他人处理或已变更")
    );
    assert_eq!(app.audited(&bb, "revocation.overridden").await, 1);
}

async fn the_issued_certificate_is_checked_and_registered(b: Backend) {
    let pki = tempfile::tempdir().unwrap();
    let ca = Ca::new(pki.path(), "ca", SUBJECT);
    let other = Ca::new(pki.path(), "other", "/CN=Another CA/O=Elsewhere");
    let app = spawn_with_ca(b, &ca).await;
    let a = accepted_with(&app, 1, LOST_A).await;
    let clerk = app.signed_in_staff("zhou.min", "fulfillment").await;
    let subject = "/CN=张三/serialNumber=11010519491231002X";
    let (start, end) = ("261120000000Z", "291120000000Z");
    let good = ca.issue(NEW_SERIAL, subject, start, end, true);

    // Not before production is recorded.
    let upload = |bytes: Vec<u8>, name: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("application_id", a.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        let url = clerk.url(&format!("/fulfilment/issued?_csrf={}", clerk.csrf()));
        let http = clerk.http.clone();
        async move {
            let r = http.post(url).multipart(form).send().await.unwrap();
            let to = location(&r);
            (r.status().as_u16(), to, r.text().await.unwrap())
        }
    };
    clerk.get_page("/fulfilment").await;
    let (status, _, page) = upload(good.clone(), "new.cer").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Record the production first"), "{page}");
    produce(&clerk, &a, NEW_SERIAL).await;
    let page = clerk.get_page("/fulfilment").await;
    assert!(page.contains("issued-form"));

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "wrong-serial.cer",
            ca.issue("0150512140479055D0FF", subject, start, end, true),
            "is not the recorded",
        ),
        (
            "wrong-name.cer",
            ca.issue(NEW_SERIAL, "/CN=李四", start, end, true),
            "does not name the applicant",
        ),
        (
            "wrong-id.cer",
            ca.issue(
                NEW_SERIAL,
                "/CN=张三/serialNumber=44030519900101123X",
                start,
                end,
                true,
            ),
            "not the applicant's ID number",
        ),
        (
            "expired.cer",
            ca.issue(NEW_SERIAL, subject, "231120000000Z", "251120000000Z", true),
            "not valid now",
        ),
        (
            "other-ca.cer",
            other.issue(NEW_SERIAL, subject, start, end, true),
            "does not verify against the configured CA",
        ),
        (
            "broken.cer",
            good[..good.len() - 9].to_vec(),
            "not a readable certificate",
        ),
        (
            "crl.pem",
            ca.crl(&[], GOOD_LAST, GOOD_NEXT, false),
            "not “CERTIFICATE”",
        ),
    ];
    for (name, bytes, why) in cases {
        let (status, _, page) = upload(bytes, name).await;
        assert_eq!(status, 422, "{name}: {page}");
        assert!(page.contains(why), "{name}: {page}");
    }
    let new = CertificateSerial::parse(NEW_SERIAL).unwrap();
    assert!(app.storage.certificate(&new).await.unwrap().is_none());
    assert_eq!(app.audited(&a, "certificate.issued_recorded").await, 0);

    // The right one (PEM works as DER does): the registry holds it.
    let pem = ca.issue(NEW_SERIAL, subject, start, end, false);
    let (status, to, page) = upload(pem, "new.pem").await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/fulfilment?msg=issued_recorded"),
        "{page}"
    );
    let c = app.storage.certificate(&new).await.unwrap().unwrap();
    assert_eq!(c.holder_name, "张三");
    assert_eq!(c.holder.number(), "11010519491231002X");
    assert_eq!(c.valid_to.to_string(), "2029-11-20");
    assert_eq!(c.status.code(), "valid");
    assert_eq!(app.audited(&a, "certificate.issued_recorded").await, 1);
    let (status, to, _) = upload(good, "new.cer").await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/fulfilment?msg=issued_recorded")
    );
}

fn run_cli(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("BACKOFFICE_DATA_DIR", app.dir.path())
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

async fn import_crl_from_the_command_line(b: Backend) {
    let pki = tempfile::tempdir().unwrap();
    let ca = Ca::new(pki.path(), "ca", SUBJECT);
    let app = spawn_with_ca(b, &ca).await;
    let a = accepted_with(&app, 1, LOST_A).await;
    let ca_path = ca.dir.join("ca.pem");
    let ca_env = ca_path.to_str().unwrap();
    // The CLI reads the clock: a CRL current now and on the tests' pinned day.
    let crl = ca.crl(&[(LOST_A, "keyCompromise")], GOOD_LAST, GOOD_NEXT, false);
    let file = pki.path().join("szca.crl");
    std::fs::write(&file, &crl).unwrap();
    let f = file.to_str().unwrap();

    let o = run_cli(&app, &["import-crl", f], &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("BACKOFFICE_CA_CERT"));
    // Leading blank lines are allowed before a PEM block: the same CRL over 1 KiB.
    let padded = pki.path().join("padded.crl");
    let mut big = vec![b'\n'; 2000];
    big.extend_from_slice(&crl);
    std::fs::write(&padded, &big).unwrap();
    let o = run_cli(
        &app,
        &["import-crl", padded.to_str().unwrap()],
        &[
            ("BACKOFFICE_CA_CERT", ca_env),
            ("BACKOFFICE_CRL_MAX_BYTES", "1024"),
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("BACKOFFICE_CRL_MAX_BYTES"));
    assert_eq!(state_of(&app, &a).await, "queued");

    let o = run_cli(&app, &["import-crl", f], &[("BACKOFFICE_CA_CERT", ca_env)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(v["revoked"], 1);
    assert_eq!(state_of(&app, &a).await, "revoked");
}

/// A distribution point on loopback: each connection gets `body` (with its length unless
/// `chunked`), or a body that never ends when `endless`.
async fn distribution_point(body: Vec<u8>, declared: bool, endless: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let head = if declared {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nConnection: close\r\n\r\n".into()
                };
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&body).await;
                if endless {
                    while s.write_all(&[0u8; 1024]).await.is_ok() {}
                }
            });
        }
    });
    format!("http://{addr}/szca.crl")
}

async fn the_crl_is_fetched_within_its_bounds(b: Backend) {
    use backoffice::jobs::crl::fetch_and_import;
    let pki = tempfile::tempdir().unwrap();
    let ca = Ca::new(pki.path(), "ca", SUBJECT);
    let app = spawn_with_ca(b, &ca).await;
    let a = accepted_with(&app, 1, LOST_A).await;
    let crl = ca.crl(&[(LOST_A, "keyCompromise")], GOOD_LAST, GOOD_NEXT, true);
    let at = app.clock.now().timestamp_millis();
    let mut s = app.state.settings.revocation.clone();

    // Declared over the limit, or growing past it without a length: refused, nothing changed.
    s.max_bytes = 2048;
    s.crl_url = Some(distribution_point(vec![0u8; 4096], true, false).await);
    let e = fetch_and_import(&app.storage, &s, at).await.unwrap_err();
    assert!(e.to_string().contains("BACKOFFICE_CRL_MAX_BYTES"), "{e}");
    s.crl_url = Some(distribution_point(Vec::new(), false, true).await);
    let e = fetch_and_import(&app.storage, &s, at).await.unwrap_err();
    assert!(e.to_string().contains("BACKOFFICE_CRL_MAX_BYTES"), "{e}");
    // A server that answers nothing: given up after BACKOFFICE_CRL_FETCH_TIMEOUT.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    s.crl_url = Some(format!("http://{}/szca.crl", silent.local_addr().unwrap()));
    s.fetch_timeout_secs = 1;
    let started = std::time::Instant::now();
    assert!(fetch_and_import(&app.storage, &s, at).await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    drop(silent);
    // Nothing at the address.
    s.crl_url = Some("http://127.0.0.1:9/szca.crl".into());
    assert!(fetch_and_import(&app.storage, &s, at).await.is_err());
    assert_eq!(state_of(&app, &a).await, "queued");
    assert_eq!(crl_imports(&app).await, 0);

    // The CA's CRL: imported once; the same file fetched again is not read again.
    s.max_bytes = 1 << 20;
    s.crl_url = Some(distribution_point(crl, true, false).await);
    let summary = fetch_and_import(&app.storage, &s, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.revoked, 1);
    assert_eq!(state_of(&app, &a).await, "revoked");
    assert!(
        fetch_and_import(&app.storage, &s, at)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(crl_imports(&app).await, 1);
}

both!(
    the_crl_is_fetched_within_its_bounds,
    a_crl_revokes_and_the_batch_waits_for_it,
    refused_crls_change_nothing,
    two_at_once_one_wins,
    the_issued_certificate_is_checked_and_registered,
    import_crl_from_the_command_line,
);
