//! The `tesseract` command (Debian's `tesseract-ocr`, `tesseract-ocr-chi-sim`): the image goes in
//! on standard input as PNG, TSV comes back (words with their boxes). One thread per call
//! (`OMP_THREAD_LIMIT=1`): the jobs already run beside the server on few cores.

use crate::domain::ocr_text::{self, OcrLine};
use crate::domain::precheck::Region;
use anyhow::bail;
use image::{GrayImage, ImageFormat, imageops};
use std::io::Cursor;

#[derive(Debug, Clone, Copy)]
pub enum Pass {
    /// The whole card, Chinese and English, as a block of lines.
    Card,
    /// One line of digits and X (the ID number band).
    Digits,
}

/// Cards are read at 1000 px across at least (text about 30 px high); returns the image and the
/// scale from the original.
pub fn legible(img: &GrayImage) -> (GrayImage, f32) {
    const WIDTH: u32 = 1000;
    if img.width() >= WIDTH {
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
    let args: &[&str] = match pass {
        Pass::Card => &["-l", "chi_sim+eng", "--psm", "6", "tsv"],
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

/// The clockwise turn that makes a page of print upright, by tesseract's orientation detection
/// (`--psm 0`); 0 when it finds too little text to tell.
pub async fn page_rotation(img: &GrayImage) -> anyhow::Result<u16> {
    let out = match tesseract(img, &["--psm", "0"]).await? {
        Ok(out) => out,
        // "Too few characters": nothing to tell the orientation by.
        Err(_) => return Ok(0),
    };
    Ok(out
        .lines()
        .find_map(|l| l.strip_prefix("Rotate:"))
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|d| [0, 90, 180, 270].contains(d))
        .unwrap_or(0))
}
