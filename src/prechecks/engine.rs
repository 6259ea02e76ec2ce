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
use anyhow::{Context, anyhow};
use image::GrayImage;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
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

type Job = (
    GrayImage,
    Pass,
    tokio::sync::oneshot::Sender<anyhow::Result<String>>,
);

/// The workers' queue; as many workers as cores (each runs one image at a time, single-threaded).
fn queue() -> &'static Mutex<mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..workers {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("ocr-{i}"))
                .spawn(move || worker(&rx))
                .expect("an OCR worker thread");
        }
        Mutex::new(tx)
    })
}

/// Engines one worker keeps: `None` until first used, or after a failure (made again).
#[derive(Default)]
struct Engines {
    text: Option<Tesseract>,
    digits: Option<Tesseract>,
    niced: bool,
}

fn worker(rx: &Mutex<mpsc::Receiver<Job>>) {
    let mut engines = Engines::default();
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((img, pass, reply)) = job else { return };
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

/// The lines read in one pass, with boxes in pixels of `img`.
pub async fn read_lines(img: &GrayImage, pass: Pass) -> anyhow::Result<Vec<OcrLine>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    queue()
        .lock()
        .map_err(|_| anyhow!("the OCR queue is poisoned"))?
        .send((img.clone(), pass, tx))
        .map_err(|_| anyhow!("the OCR workers are gone"))?;
    let tsv = rx.await.context("an OCR worker stopped")??;
    // The library's TSV has no header row; the parser skips one.
    Ok(ocr_text::parse_tsv(&format!("header\n{tsv}")))
}
