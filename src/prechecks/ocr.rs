//! Reading text: libtesseract in-process (`engine`, the default: engines loaded once per worker)
//! or the `tesseract` command (`BACKOFFICE_OCR=command`; Debian's `tesseract-ocr`,
//! `tesseract-ocr-chi-sim`; a child process that `tools` stops past its time limit): the image
//! goes in on standard input as PNG, TSV comes back (words with their boxes). One thread per call (`OMP_THREAD_LIMIT=1`): the jobs already run beside
//! the server on few cores.

use crate::domain::ocr_text::{self, OcrLine};
use crate::domain::precheck::Region;
use anyhow::bail;
use image::{GrayImage, ImageFormat, imageops};
use std::io::Cursor;

#[derive(Debug, Clone, Copy)]
pub enum Pass {
    /// The whole card as a block of lines, in Chinese only (with English too, the OCR takes the
    /// spaced-out labels' lone characters for Latin letters: `姓 名` comes back `es`).
    Card,
    /// One line of digits and X (the ID number band).
    Digits,
    /// A page's words wherever they are (sparse text): a form's labels.
    Page,
}

/// Whether the command is used (`BACKOFFICE_OCR=command`, or the settings' `tools.ocr_command` in
/// the pre-check job's scope) rather than the library (the default).
pub fn use_command() -> bool {
    crate::tools::ocr_command()
}

/// Cards narrower than 800 px are read at 1000 px across (text about 30 px high); wider ones as
/// they are (enlarging a card that is already legible makes the OCR misread thin strokes: `张`
/// came back `5`). Returns the image and the scale from the original.
pub fn legible(img: &GrayImage) -> (GrayImage, f32) {
    const BELOW: u32 = 800;
    const WIDTH: u32 = 1000;
    if img.width() >= BELOW {
        return (img.clone(), 1.0);
    }
    let scale = WIDTH as f32 / img.width() as f32;
    let h = (img.height() as f32 * scale).round() as u32;
    (
        imageops::resize(img, WIDTH, h, imageops::FilterType::CatmullRom),
        scale,
    )
}

pub fn crop(img: &GrayImage, r: Region) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let x = (r.x * w) as u32;
    let y = (r.y * h) as u32;
    let cw = ((r.w * w) as u32).min(img.width() - x).max(1);
    let ch = ((r.h * h) as u32).min(img.height() - y).max(1);
    imageops::crop_imm(img, x, y, cw, ch).to_image()
}

fn png(img: &GrayImage) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)?;
    Ok(out)
}

/// Runs tesseract; a missing command is an error, a failed reading is `Ok(Err(stderr))`.
async fn tesseract(img: &GrayImage, args: &[&str]) -> anyhow::Result<Result<String, String>> {
    let input = png(img)?;
    let args: Vec<&str> = ["stdin", "stdout"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let out = crate::tools::run(
        crate::tools::Program::Tesseract,
        &args,
        &[("OMP_THREAD_LIMIT", "1")],
        input,
    )
    .await?;
    if !out.status.success() {
        return Ok(Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(Ok(String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The lines read in one pass, with boxes in pixels of `img`.
pub async fn read_lines(img: &GrayImage, pass: Pass) -> anyhow::Result<Vec<OcrLine>> {
    if !use_command() {
        return super::engine::read_lines(img, pass).await;
    }
    let args: &[&str] = match pass {
        Pass::Card => &["-l", "chi_sim", "--psm", "6", "tsv"],
        Pass::Page => &["-l", "chi_sim", "--psm", "11", "tsv"],
        Pass::Digits => &[
            "-l",
            "eng",
            "--psm",
            "7",
            "-c",
            "tessedit_char_whitelist=0123456789X",
            "tsv",
        ],
    };
    match tesseract(img, args).await? {
        Ok(tsv) => Ok(ocr_text::parse_tsv(&tsv)),
        Err(e) => bail!("tesseract failed: {e}"),
    }
}
