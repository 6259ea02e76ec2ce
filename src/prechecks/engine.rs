//! libtesseract in-process (the `tesseract` crate over `tesseract-sys`): a few worker threads,
//! each with its engines initialised once (Chinese for cards and forms, English digits for
//! the number band) and reused for every image, instead of a `tesseract` process per
//! call that loads its language data again (about 0.2 s each). The image goes in as grey pixels;
//! the TSV comes back as the command's would, parsed by `ocr_text::parse_tsv`.
//!
//! Workers of a server's pre-check job run at the lowest CPU priority (`background`), so the
//! OCR takes only the cores that requests leave idle.

use super::ocr::Pass;
use crate::domain::ocr_text::{self, OcrLine};
use anyhow::{Context, anyhow, bail};
use image::GrayImage;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;
use tesseract::{PageSegMode, Tesseract};

const TESSDATA: &str = "/usr/share/tesseract-ocr/5/tessdata";

/// Whether new OCR work is background work (the server's job) or foreground (CLI, benchmark).
static BACKGROUND: AtomicBool = AtomicBool::new(false);

/// Whether the OCR is background work (the `tesseract` command then runs at nice 19 too).
pub fn in_background() -> bool {
    BACKGROUND.load(Ordering::Acquire)
}

/// Makes the workers run at the lowest CPU priority from their next image on.
pub fn background() {
    BACKGROUND.store(true, Ordering::Release);
}

/// An image to read, whom to tell when a worker starts on it (the time limit runs from then, not
/// from the wait in the queue), and where the reading goes.
type Job = (
    GrayImage,
    Pass,
    tokio::sync::oneshot::Sender<()>,
    tokio::sync::oneshot::Sender<anyhow::Result<String>>,
);

/// The workers' queue: as many workers as cores (each runs one image at a time, single-threaded),
/// and the receiving end, to start a worker in place of one that overstays its time limit.
struct Pool {
    tx: Mutex<mpsc::Sender<Job>>,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
}

/// Workers started in place of ones that overstayed, at most this many in a process's life: a
/// stuck worker still holds its thread, so replacements are bounded too.
const REPLACEMENTS: usize = 16;
static REPLACED: AtomicUsize = AtomicUsize::new(0);
/// A reading waits in the queue at most this many time limits for a worker to start on it.
const QUEUE_WAIT: u32 = 10;

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..workers {
            spawn_worker(&rx, format!("ocr-{i}"));
        }
        Pool {
            tx: Mutex::new(tx),
            rx,
        }
    })
}

fn spawn_worker(rx: &Arc<Mutex<mpsc::Receiver<Job>>>, name: String) {
    let rx = rx.clone();
    // A thread the system cannot start leaves the others to serve the queue.
    let _ = std::thread::Builder::new()
        .name(name)
        .spawn(move || worker(&rx));
}

/// Engines one worker keeps: `None` until first used, or after a failure (made again).
#[derive(Default)]
struct Engines {
    text: Option<Tesseract>,
    digits: Option<Tesseract>,
    niced: bool,
}

fn worker(rx: &Mutex<mpsc::Receiver<Job>>) {
    single_threaded_openmp();
    let mut engines = Engines::default();
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((img, pass, started, reply)) = job else {
            return;
        };
        // Its caller gave up (its time ran out while this waited): nobody wants the reading.
        if reply.is_closed() || started.send(()).is_err() {
            continue;
        }
        if BACKGROUND.load(Ordering::Acquire) && !engines.niced {
            lowest_priority();
            engines.niced = true;
        }
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            recognise(&mut engines, &img, pass)
        }))
        .unwrap_or_else(|_| Err(anyhow!("libtesseract panicked")));
        let _ = reply.send(out);
    }
}

/// Debian's libtesseract is built with OpenMP: each recognition's network runs in parallel
/// regions of four threads (`num_threads(4)` in its code, so a team size set from outside is
/// ignored) that spin on the other core — measured, twice the CPU per application and a slower
/// reading beside other work. The command gets `OMP_THREAD_LIMIT=1` in its environment; here
/// each worker allows its thread no active parallel level (`omp_set_max_active_levels(0)`), so
/// every region runs on the worker alone. Looked up at run time: a libtesseract built without
/// OpenMP leaves nothing to set.
fn single_threaded_openmp() {
    // SAFETY: dlsym with a NUL-terminated name; when present the symbol is libgomp's
    // `void omp_set_max_active_levels(int)`, which sets the calling thread's own limit.
    unsafe {
        let f = libc::dlsym(libc::RTLD_DEFAULT, c"omp_set_max_active_levels".as_ptr());
        if !f.is_null() {
            let set: extern "C" fn(libc::c_int) = std::mem::transmute(f);
            set(0);
        }
    }
}

/// Nice 19 for this thread only (Linux keeps a nice value per thread).
fn lowest_priority() {
    // SAFETY: setpriority on the calling thread (who = 0) with a valid priority.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

fn init(lang: &str) -> anyhow::Result<Tesseract> {
    let t = Tesseract::new(Some(TESSDATA), Some(lang)).with_context(|| {
        format!(
            "libtesseract could not load {lang} from {TESSDATA} (Debian: tesseract-ocr-chi-sim)"
        )
    })?;
    // Its notes go nowhere rather than to our standard error.
    Ok(t.set_variable("debug_file", "/dev/null")?)
}

fn recognise(e: &mut Engines, img: &GrayImage, pass: Pass) -> anyhow::Result<String> {
    let (slot, lang, psm) = match pass {
        Pass::Card => (&mut e.text, "chi_sim", PageSegMode::PsmSingleBlock),
        Pass::Page => (&mut e.text, "chi_sim", PageSegMode::PsmSparseText),
        Pass::Digits => (&mut e.digits, "eng", PageSegMode::PsmSingleLine),
    };
    let mut t = match slot.take() {
        Some(t) => t,
        None => {
            let t = init(lang)?;
            if matches!(pass, Pass::Digits) {
                t.set_variable("tessedit_char_whitelist", "0123456789X")?
            } else {
                t
            }
        }
    };
    t.set_page_seg_mode(psm);
    let (w, h) = (img.width() as i32, img.height() as i32);
    // No resolution given: tesseract estimates it from the text's size, as the command does for
    // a file without one (setting one, even 70 dpi, reads thin strokes worse: `三` as `守`).
    let mut t = t.set_frame(img.as_raw(), w, h, 1, w)?.recognize()?;
    let tsv = t.get_tsv_text(0)?;
    *slot = Some(t);
    Ok(tsv)
}

/// The lines read in one pass, with boxes in pixels of `img`, or `tools::TimedOut` when the
/// reading takes longer than the tools' time limit: the caller stops waiting (the scan is
/// treated as unreadable) and another worker takes the stuck one's place.
pub async fn read_lines(img: &GrayImage, pass: Pass) -> anyhow::Result<Vec<OcrLine>> {
    read_within(img, pass, crate::tools::time_limit()).await
}

async fn read_within(img: &GrayImage, pass: Pass, limit: Duration) -> anyhow::Result<Vec<OcrLine>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let pool = pool();
    pool.tx
        .lock()
        .map_err(|_| anyhow!("the OCR queue is poisoned"))?
        .send((img.clone(), pass, started_tx, tx))
        .map_err(|_| anyhow!("the OCR workers are gone"))?;
    let timed_out = || crate::tools::TimedOut {
        program: "libtesseract",
        secs: limit.as_secs(),
    };
    // The wait in the queue is bounded too (every worker stuck and no replacement left), by
    // what the readings ahead of it may take.
    match tokio::time::timeout(limit.saturating_mul(QUEUE_WAIT), started).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => bail!("an OCR worker stopped"),
        Err(_) => return Err(timed_out().into()),
    }
    let tsv = match tokio::time::timeout(limit, rx).await {
        Ok(reply) => reply.context("an OCR worker stopped")??,
        Err(_) => {
            let n = REPLACED.fetch_add(1, Ordering::AcqRel);
            if n < REPLACEMENTS {
                spawn_worker(&pool.rx, format!("ocr-r{n}"));
            }
            return Err(timed_out().into());
        }
    };
    // The library's TSV has no header row; the parser skips one.
    Ok(ocr_text::parse_tsv(&format!("header\n{tsv}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads named as the OCR workers (a thread started by a worker, as OpenMP's team threads
    /// are, inherits its name).
    fn ocr_threads() -> usize {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with("ocr-"))
            .count()
    }

    #[tokio::test]
    async fn the_library_reads_on_its_worker_threads_alone() {
        let p = crate::render::card::person(7);
        let card = crate::render::card::front(&p, 7, crate::render::card::Print::from_seed(7));
        let grey = image::DynamicImage::ImageRgb8(card).to_luma8();
        for _ in 0..4 {
            let lines = read_lines(&grey, Pass::Card).await.unwrap();
            assert!(!lines.is_empty(), "the card was read");
        }
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert!(
            ocr_threads() <= workers + REPLACED.load(Ordering::Acquire),
            "no OpenMP team beside the workers"
        );
    }

    #[tokio::test]
    async fn a_reading_past_its_time_limit_is_given_up_and_the_next_is_served() {
        let p = crate::render::card::person(8);
        let form = crate::render::form::form(
            &p,
            crate::render::form::Layout::Hall,
            crate::render::Face::Sans,
            true,
            8,
        );
        let grey = image::DynamicImage::ImageRgb8(form).to_luma8();
        let err = read_within(&grey, Pass::Page, Duration::from_millis(1))
            .await
            .unwrap_err();
        assert!(
            err.downcast_ref::<crate::tools::TimedOut>().is_some(),
            "named as a time-out: {err:#}"
        );
        assert!(
            REPLACED.load(Ordering::Acquire) >= 1,
            "a worker took its place"
        );
        let card = crate::render::card::front(&p, 8, crate::render::card::Print::from_seed(8));
        let grey = image::DynamicImage::ImageRgb8(card).to_luma8();
        let lines = read_within(&grey, Pass::Card, Duration::from_secs(120))
            .await
            .unwrap();
        assert!(!lines.is_empty(), "the next reading is served");
    }
}
