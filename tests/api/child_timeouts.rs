//! Outside programs with a time limit (issue 17, item 9): `pdftoppm` and `tesseract` replaced
//! by a stand-in script that hangs (and starts a child of its own); the pre-check pass stops
//! them after the configured limit, kills the script's whole process group, records the scans
//! as unreadable with the reason, and leaves the worker free for the next pass.

use crate::both;
use crate::corpus::{self, Damage, Person};
use crate::helpers::*;
use backoffice::jobs::run_prechecks;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// A program that never answers: it starts a `sleep` of its own, notes its pid, and waits.
fn hanging_program(dir: &Path) -> std::path::PathBuf {
    let script = dir.join("hang.sh");
    let pids = dir.join("pids");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 300 &\necho $! >> '{}'\nwait\n",
            pids.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn started(dir: &Path) -> Vec<u32> {
    std::fs::read_to_string(dir.join("pids"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Gone, or a zombie nobody reaps (killed either way).
fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

async fn a_hanging_ocr_or_pdf_program_is_stopped_and_the_scan_marked_unreadable(b: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let hang = hanging_program(tmp.path());
    let h = hang.clone();
    let app = TestApp::spawn_with(b, move |s| {
        s.tools.pdftoppm = h.clone();
        s.tools.tesseract = h;
        s.tools.time_limit = Duration::from_secs(1);
        // The command, not libtesseract in-process: only a child process can be stopped.
        s.tools.ocr_command = true;
    })
    .await;
    let card = Person {
        name: "张三".into(),
        id_number: "11010519491231002X".into(),
        ..corpus::person(1)
    };
    let jpg = |img: &image::RgbImage| corpus::encode(img, Damage::None);
    // The form as a PDF (pdftoppm), the card sides as real images (tesseract reads them).
    let sub = Submission::example()
        .set(
            "id_front",
            "front.jpg",
            "image/jpeg",
            jpg(&corpus::id_front(&card, 3)),
        )
        .set(
            "id_back",
            "back.jpg",
            "image/jpeg",
            jpg(&corpus::id_back(&card)),
        )
        .set(
            "application_form",
            "form.pdf",
            "application/pdf",
            pdf("a form"),
        );
    let r = app.submit("hang-1", sub.form()).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let state = app.state.clone();
    let t0 = Instant::now();
    let pass = tokio::spawn(async move { run_prechecks(&state).await });
    while started(tmp.path()).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the stand-in never ran"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A tick while the pass runs skips it.
    assert!(!run_prechecks(&app.state).await, "one pass at a time");
    assert!(pass.await.unwrap(), "the first pass ran");

    let rows = app.storage.findings_of(&aid(&id), 1).await.unwrap();
    let reason = |kind: &str| {
        rows.iter()
            .find(|r| r.kind == kind && r.check_name == "unreadable_file")
            .and_then(|r| r.detail.clone())
            .unwrap_or_else(|| panic!("no unreadable_file for {kind} in {rows:#?}"))
    };
    assert!(
        reason("application_form").contains("pdftoppm did not finish within 1 s"),
        "{rows:#?}"
    );
    for side in ["id_front", "id_back"] {
        assert!(
            reason(side).contains("tesseract did not finish within 1 s"),
            "{rows:#?}"
        );
    }
    assert_eq!(
        app.storage
            .precheck_status(&aid(&id), 1)
            .await
            .unwrap()
            .as_deref(),
        Some("done")
    );
    // Every program started, with the sleep it started, is gone.
    let pids = started(tmp.path());
    assert!(pids.len() >= 3, "{pids:?}");
    let t1 = Instant::now();
    while !pids.iter().all(|p| dead(*p)) {
        assert!(
            t1.elapsed() < Duration::from_secs(5),
            "a stand-in's child outlived its time-out: {pids:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The worker is free again.
    assert!(run_prechecks(&app.state).await);
}

both!(a_hanging_ocr_or_pdf_program_is_stopped_and_the_scan_marked_unreadable);

/// Runs `script` (sh) as the pdftoppm of the tools, with a 20-second limit.
async fn run_script(dir: &Path, script: &str) -> anyhow::Result<std::process::Output> {
    use backoffice::tools::{self, Program, Tools};
    let path = dir.join("tool.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let t = Tools {
        pdftoppm: path,
        time_limit: Duration::from_secs(20),
        ..Tools::default()
    };
    tools::with(t, tools::run(Program::Pdftoppm, &[], &[], Vec::new())).await
}

/// A crafted file can make a program print or map without end: its standard output is cut at
/// a bound (the run fails, naming it), its standard error is kept to its first 64 KiB, and its
/// address space is limited, so the server's memory never holds what the child chose to print.
#[tokio::test]
async fn an_outside_program_is_bounded_in_output_and_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let e = run_script(tmp.path(), "head -c 200000000 /dev/zero")
        .await
        .unwrap_err();
    assert!(format!("{e:#}").contains("more than 64 MiB"), "{e:#}");
    assert!(started.elapsed() < Duration::from_secs(15));

    let out = run_script(
        tmp.path(),
        "head -c 20000000 /dev/zero | tr '\\0' x >&2\necho page\nexit 3",
    )
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout, b"page\n");
    assert_eq!(out.stderr.len(), backoffice::tools::STDERR_KEPT);

    // Three GiB of address space is refused inside the child (it would succeed unbounded: the
    // pages are never touched).
    let out = run_script(
        tmp.path(),
        "exec python3 -c 'b = bytearray(3 << 30); print(len(b))'",
    )
    .await
    .unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("MemoryError"),
        "{out:?}"
    );
}
