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
use tokio::io::AsyncWriteExt;

/// The default bound on one run of an outside program.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tools {
    pub pdftoppm: PathBuf,
    pub tesseract: PathBuf,
    pub time_limit: Duration,
    /// Read text with the `tesseract` command, a child bounded by `time_limit` and killed past
    /// it (the default), rather than libtesseract in-process (`BACKOFFICE_OCR=library`: a little
    /// faster, but a scan that stalls the library cannot be stopped).
    pub ocr_command: bool,
}

/// Unless `BACKOFFICE_OCR=library` in the process's environment.
fn ocr_command_in_env() -> bool {
    std::env::var("BACKOFFICE_OCR").map_or(true, |v| v != "library")
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
    if program == Program::Tesseract && crate::prechecks::in_background() {
        // The server's OCR is background work, as the in-process engines are: the lowest CPU
        // priority, so requests take the cores first.
        // SAFETY: between fork and exec the closure makes one async-signal-safe system call
        // (setpriority on the child itself).
        unsafe {
            command.pre_exec(|| {
                libc::setpriority(libc::PRIO_PROCESS, 0, 19);
                Ok(())
            });
        }
    }
    let mut child = command.spawn().context(program.missing())?;
    let group = child.id();
    let mut stdin = child.stdin.take().expect("piped");
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&input).await;
    });
    let mut wait = Box::pin(child.wait_with_output());
    tokio::select! {
        out = &mut wait => {
            let out = out?;
            writer.await?;
            Ok(out)
        }
        _ = tokio::time::sleep(tools.time_limit) => {
            writer.abort();
            // The whole group, while its leader is not yet reaped (its id cannot be reused);
            // dropping the wait then kills and reaps the leader (kill_on_drop).
            if let Some(pid) = group.and_then(|p| i32::try_from(p).ok()) {
                // SAFETY: killpg only sends a signal, to the group this child leads.
                unsafe {
                    libc::killpg(pid, libc::SIGKILL);
                }
            }
            drop(wait);
            Err(TimedOut {
                program: program.name(),
                secs: tools.time_limit.as_secs(),
            }
            .into())
        }
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
