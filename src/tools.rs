//! Outside programs the pre-checks run (poppler's `pdftoppm`, `tesseract`), each bounded in
//! time (issue 17, item 9). A child that has not finished within the limit is killed with its
//! whole process group (a wrapper script's own children too), and the caller gets `TimedOut`:
//! the pre-check then records the scan as unreadable with that reason. Which program runs and the
//! limit come from the settings (`BACKOFFICE_PDFTOPPM`, `BACKOFFICE_TESSERACT`,
//! `BACKOFFICE_TOOL_TIME_LIMIT`); the job runs its pass inside `with(settings.tools, …)`, and
//! code outside such a scope (the CLI) gets the defaults.

use anyhow::Context;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// The default bound on one run of an outside program.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(60);

/// What a program may print on standard output (a page image) before it is stopped: the
/// decoders' own budgets come after, this keeps a crafted PDF from filling memory first.
pub const STDOUT_LIMIT: usize = 64 * 1024 * 1024;
/// Of standard error only the first bytes are kept (the rest is read and dropped, so the
/// program never blocks on a full pipe): a reason to show, not a log.
pub const STDERR_KEPT: usize = 64 * 1024;
/// The address space a program may map: tesseract with its language data and pdftoppm with an
/// A4 page need a few hundred MB; a crafted file asking for more fails inside the child.
pub const ADDRESS_SPACE_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tools {
    pub pdftoppm: PathBuf,
    pub tesseract: PathBuf,
    pub time_limit: Duration,
    /// Read text with the `tesseract` command, a child bounded by `time_limit` and killed past it
    /// (`BACKOFFICE_OCR=command`), rather than libtesseract in-process (the default: 0.64 of the
    /// command's CPU per application; a reading past `time_limit` is given up and its worker
    /// replaced, but the stuck thread cannot be stopped, and a fault in the library would take
    /// the process with it — the command isolates both).
    pub ocr_command: bool,
}

/// When `BACKOFFICE_OCR=command` in the process's environment.
fn ocr_command_in_env() -> bool {
    std::env::var("BACKOFFICE_OCR").is_ok_and(|v| v == "command")
}

impl Default for Tools {
    fn default() -> Self {
        Tools {
            pdftoppm: "pdftoppm".into(),
            tesseract: "tesseract".into(),
            time_limit: DEFAULT_TIME_LIMIT,
            ocr_command: ocr_command_in_env(),
        }
    }
}

tokio::task_local! {
    static TOOLS: Arc<Tools>;
}

/// Runs `f` with these programs and this limit.
pub async fn with<F: Future>(tools: Tools, f: F) -> F::Output {
    TOOLS.scope(Arc::new(tools), f).await
}

fn current() -> Arc<Tools> {
    TOOLS
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::new(Tools::default()))
}

/// The time limit of an outside program or a reading in this scope.
pub fn time_limit() -> Duration {
    current().time_limit
}

/// Whether text is read with the command in this scope (see `Tools::ocr_command`).
pub fn ocr_command() -> bool {
    current().ocr_command
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    Pdftoppm,
    Tesseract,
}

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Program::Pdftoppm => "pdftoppm",
            Program::Tesseract => "tesseract",
        }
    }

    fn missing(self) -> &'static str {
        match self {
            Program::Pdftoppm => "pdftoppm (poppler-utils) is not installed",
            Program::Tesseract => {
                "tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-chi-sim)"
            }
        }
    }
}

/// A program ran past the limit and was killed.
#[derive(Debug, thiserror::Error)]
#[error(
    "{program} did not finish within {secs} s and was stopped; the scan is treated as unreadable"
)]
pub struct TimedOut {
    pub program: &'static str,
    pub secs: u64,
}

/// Runs the program with `input` on standard input and returns its output, or `TimedOut`.
pub async fn run(
    program: Program,
    args: &[&str],
    env: &[(&str, &str)],
    input: Vec<u8>,
) -> anyhow::Result<Output> {
    let tools = current();
    let path = match program {
        Program::Pdftoppm => &tools.pdftoppm,
        Program::Tesseract => &tools.tesseract,
    };
    let mut command = tokio::process::Command::new(path);
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so the time-out reaches whatever it started.
        .process_group(0)
        .kill_on_drop(true);
    // The server's OCR is background work, as the in-process engines are: the lowest CPU
    // priority, so requests take the cores first.
    let lowest_priority = program == Program::Tesseract && crate::prechecks::in_background();
    // SAFETY: between fork and exec the closure makes only async-signal-safe system calls
    // (setrlimit, setpriority on the child itself) and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE_LIMIT as libc::rlim_t,
                rlim_max: ADDRESS_SPACE_LIMIT as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if lowest_priority {
                libc::setpriority(libc::PRIO_PROCESS, 0, 19);
            }
            Ok(())
        });
    }
    let mut child = command.spawn().context(program.missing())?;
    let group = child.id();
    let mut stdin = child.stdin.take().expect("piped");
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&input).await;
    });
    let stdout = read_bounded(child.stdout.take().expect("piped"), STDOUT_LIMIT, false);
    let stderr = read_bounded(child.stderr.take().expect("piped"), STDERR_KEPT, true);
    let mut wait = Box::pin(async {
        let (stdout, stderr, status) = tokio::join!(stdout, stderr, child.wait());
        let stdout = stdout?.ok_or_else(|| {
            anyhow::anyhow!(
                "{} printed more than {} MiB and was stopped",
                program.name(),
                STDOUT_LIMIT >> 20
            )
        })?;
        anyhow::Ok(Output {
            status: status?,
            stdout,
            stderr: stderr?.unwrap_or_default(),
        })
    });
    tokio::select! {
        out = &mut wait => {
            // An output over its limit closed the pipe: the program has ended by now.
            let out = out?;
            writer.await?;
            Ok(out)
        }
        _ = tokio::time::sleep(tools.time_limit) => {
            writer.abort();
            // The whole group, while its leader is not yet reaped (its id cannot be reused);
            // dropping the wait then kills and reaps the leader (kill_on_drop).
            kill_group(group);
            drop(wait);
            Err(TimedOut {
                program: program.name(),
                secs: tools.time_limit.as_secs(),
            }
            .into())
        }
    }
}

/// Kills the process group a child leads.
fn kill_group(group: Option<u32>) {
    if let Some(pid) = group.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: killpg only sends a signal, to the group this child leads.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
}

/// Reads a pipe to its end, keeping at most `limit` bytes. Past the limit it answers `None`,
/// or, with `keep_reading`, keeps the first `limit` bytes and drops the rest as it comes.
async fn read_bounded(
    mut r: impl AsyncRead + Unpin,
    limit: usize,
    keep_reading: bool,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(Some(kept));
        }
        let room = limit - kept.len();
        if n > room && !keep_reading {
            return Ok(None);
        }
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
}

/// Whether an error (at any depth of its chain) is a time-out of an outside program.
pub fn timed_out(e: &anyhow::Error) -> Option<&TimedOut> {
    e.chain().find_map(|c| c.downcast_ref::<TimedOut>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's OCR is background work: the command it spawns runs at nice 19 (it ran at
    /// the server's own priority before, competing with requests).
    #[tokio::test]
    async fn the_servers_tesseract_runs_at_the_lowest_priority() {
        crate::prechecks::background();
        let tools = Tools {
            tesseract: "/bin/sh".into(),
            ..Tools::default()
        };
        let out = with(
            tools,
            run(Program::Tesseract, &["-c", "nice"], &[], Vec::new()),
        )
        .await
        .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "19");
    }
}
