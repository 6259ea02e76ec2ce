//! Machine pre-checks of one scan, the part with I/O: decoding the file (images with the `image`
//! crate, the EXIF orientation applied as a browser shows it; PDFs rasterised by poppler's
//! `pdftoppm`), reading cards and forms with libtesseract (`engine`, or the `tesseract` command),
//! and the pure checks of `domain::precheck`, `domain::ocr_text` and `domain::signature`. The
//! CLI's `precheck` and the pre-check job call `check_scan`.

mod engine;
mod ocr;

pub use engine::{background, in_background};

use crate::domain::ocr_text::{self, OcrLine, ValidUntil};
use crate::domain::precheck::{self, CheckKind, Findings, PhotoHash, Quality, Region};
use crate::domain::scan::{MediaType, sniff};
use crate::domain::signature;
use anyhow::{Context, bail};
use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader};
use std::io::Cursor;

/// Everything one scan's pre-check found: the CLI's findings, plus what the review page and the
/// reuse check need (the regions read, the perceptual hash, the measures behind each flag).
#[derive(Debug, Clone)]
pub struct ScanCheck {
    pub findings: Findings,
    pub quality: Quality,
    pub id_number_region: Option<Region>,
    pub name_region: Option<Region>,
    pub validity_region: Option<Region>,
    pub photo_hash: Option<PhotoHash>,
    pub signature_ink: Option<f32>,
    /// Where the signature's ink was measured (beside the label read).
    pub signature_region: Option<Region>,
}

/// Decodes a scan to grey levels as a browser would show it (EXIF orientation applied).
pub async fn decode(bytes: &[u8]) -> anyhow::Result<GrayImage> {
    match sniff(bytes).map_err(|e| anyhow::anyhow!("{e}"))? {
        MediaType::Pdf => rasterise_pdf(bytes).await,
        _ => {
            let bytes = bytes.to_vec();
            tokio::task::spawn_blocking(move || decode_image(&bytes)).await?
        }
    }
}

fn decode_image(bytes: &[u8]) -> anyhow::Result<GrayImage> {
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()?
        .into_decoder()
        .context("the file is not an image this check reads")?;
    let orientation = decoder.orientation()?;
    let mut img = DynamicImage::from_decoder(decoder).context("the image does not decode")?;
    img.apply_orientation(orientation);
    Ok(img.into_luma8())
}

/// The first page of a PDF at 150 dpi (an A4 form comes out 1240 × 1754).
async fn rasterise_pdf(bytes: &[u8]) -> anyhow::Result<GrayImage> {
    let out = crate::tools::run(
        crate::tools::Program::Pdftoppm,
        &[
            "-png",
            "-gray",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            "-",
        ],
        &[],
        bytes.to_vec(),
    )
    .await?;
    if !out.status.success() {
        bail!(
            "pdftoppm could not read the PDF: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    tokio::task::spawn_blocking(move || decode_image(&out.stdout)).await?
}

/// Where `found` was read on `line`, in fractions of the image (read at `scale` times its size).
fn fraction(line: &OcrLine, found: &str, img: &GrayImage, scale: f32) -> Region {
    let b = line.box_of(found);
    let (w, h) = (img.width() as f32 * scale, img.height() as f32 * scale);
    Region {
        x: b.left as f32 / w,
        y: b.top as f32 / h,
        w: b.width as f32 / w,
        h: b.height as f32 / h,
    }
}

/// What reading a card in one orientation gave.
#[derive(Default)]
struct CardReading {
    id_number: Option<(String, Region)>,
    name: Option<(String, Region)>,
    validity: Option<(ValidUntil, Region)>,
    /// The printed labels read (姓名, 性别, …, 有效期限), in pixels of the upright card.
    labels: Vec<(u32, u32, u32, u32)>,
}

impl CardReading {
    fn upright(&self, kind: CheckKind) -> bool {
        match kind {
            CheckKind::IdFront => self.id_number.is_some() || self.name.is_some(),
            _ => self.validity.is_some(),
        }
    }
}

/// A card's printed labels.
const LABELS: [&str; 8] = [
    "姓名",
    "性别",
    "民族",
    "出生",
    "住址",
    "公民身份号码",
    "签发机关",
    "有效期限",
];

/// The words of the printed labels read (on lines where a whole label was found), in pixels of
/// the image read at `scale`.
fn label_boxes(lines: &[OcrLine], scale: f32) -> Vec<(u32, u32, u32, u32)> {
    let px = |v: u32| (v as f32 / scale) as u32;
    let mut out = Vec::new();
    for l in lines {
        for label in LABELS {
            if ocr_text::label_end(&l.text, label, 2).is_none() {
                continue;
            }
            out.extend(
                l.words
                    .iter()
                    .filter(|(w, _)| !w.is_empty() && w.chars().all(|c| label.contains(c)))
                    .map(|(_, b)| (px(b.left), px(b.top), px(b.width), px(b.height))),
            );
        }
    }
    out
}

/// Where the number is printed: right of its label 公民身份号码 when the OCR read the label,
/// else the lowest fifth of the card.
fn number_band(lines: &[OcrLine], img: &GrayImage) -> Region {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let label = lines
        .iter()
        .filter(|l| ocr_text::label_end(&l.text, "号码", 1).is_some())
        .flat_map(|l| &l.words)
        .filter(|(w, _)| w.contains('号') || w.contains('码'))
        .map(|(_, b)| *b)
        .next();
    match label {
        Some(b) => {
            let lh = b.height as f32;
            let y = (b.top as f32 - lh).max(0.0);
            Region {
                x: (b.left + b.width) as f32 / w,
                y: y / h,
                w: (1.0 - (b.left + b.width) as f32 / w).max(0.05),
                h: ((lh * 3.0) / h).min(1.0 - y / h),
            }
        }
        None => Region {
            x: 0.30,
            y: 0.76,
            w: 0.68,
            h: 0.20,
        },
    }
}

/// Reads an upright card: the whole card in Chinese and English; on the front, when the number
/// does not pass its check, the number band again with digits only.
async fn read_card(upright: &GrayImage, kind: CheckKind) -> anyhow::Result<CardReading> {
    let (img, scale) = ocr::legible(upright);
    let lines = ocr::read_lines(&img, ocr::Pass::Card).await?;
    let mut r = CardReading {
        labels: label_boxes(&lines, scale),
        ..Default::default()
    };
    if kind == CheckKind::IdFront {
        r.id_number = ocr_text::find_id_number(&lines).map(|(id, l)| {
            let region = fraction(l, id.as_str(), upright, scale);
            (id.as_str().to_owned(), region)
        });
        r.name = ocr_text::find_name(&lines).map(|(n, l)| {
            let region = fraction(l, &n, upright, scale);
            (n, region)
        });
        if r.id_number.is_none() && (r.name.is_some() || !r.labels.is_empty()) {
            let band = number_band(&lines, &img);
            let crop = ocr::crop(&img, band);
            let digits = ocr::read_lines(&crop, ocr::Pass::Digits).await?;
            r.id_number = ocr_text::find_id_number(&digits).map(|(id, l)| {
                let inner = fraction(l, id.as_str(), &crop, 1.0);
                let region = Region {
                    x: band.x + inner.x * band.w,
                    y: band.y + inner.y * band.h,
                    w: inner.w * band.w,
                    h: inner.h * band.h,
                };
                (id.as_str().to_owned(), region)
            });
        }
    } else {
        r.validity = ocr_text::find_validity(&lines).map(|(v, l)| {
            let digits: String = l.text.chars().filter(char::is_ascii_digit).collect();
            (v, fraction(l, &digits, upright, scale))
        });
    }
    Ok(r)
}

/// A form page read for its words: the size it is read at (a phone photo shrunk to 1800 px on
/// its long side, a small scan enlarged to 1000 px across), the lines, and that scale.
async fn read_page(upright: &GrayImage) -> anyhow::Result<(Vec<OcrLine>, f32)> {
    const LONG: u32 = 1800;
    let long = upright.width().max(upright.height());
    let (img, scale) = if long > LONG {
        let s = LONG as f32 / long as f32;
        let (w, h) = (
            (upright.width() as f32 * s).round() as u32,
            (upright.height() as f32 * s).round() as u32,
        );
        (image::imageops::thumbnail(upright, w.max(1), h.max(1)), s)
    } else {
        ocr::legible(upright)
    };
    Ok((ocr::read_lines(&img, ocr::Pass::Page).await?, scale))
}

/// How well a page reads: ideographs in words read with confidence (print upside down reads
/// as a few unsure marks).
fn legibility(lines: &[OcrLine]) -> usize {
    lines
        .iter()
        .flat_map(|l| l.words.iter().zip(&l.confs))
        .filter(|(_, c)| **c >= 60.0)
        .map(|((w, _), _)| {
            w.chars()
                .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                .count()
        })
        .sum()
}

/// A band of an upright page read for its words, rows `y0..y1` (fractions): the lines, with
/// their boxes in pixels of the whole page read at the scale returned.
async fn read_band(
    upright: &GrayImage,
    (y0, y1): (f32, f32),
) -> anyhow::Result<(Vec<OcrLine>, f32)> {
    let h = upright.height();
    if h == 0 {
        return read_page(upright).await;
    }
    let top = ((y0.clamp(0.0, 1.0) * h as f32) as u32).min(h - 1);
    let bottom = ((y1.clamp(0.0, 1.0) * h as f32).ceil() as u32).clamp(top + 1, h);
    if top == 0 && bottom == h {
        return read_page(upright).await;
    }
    let crop = image::imageops::crop_imm(upright, 0, top, upright.width(), bottom - top).to_image();
    let (mut lines, scale) = read_page(&crop).await?;
    let shift = (top as f32 * scale).round() as u32;
    for l in &mut lines {
        for (_, b) in &mut l.words {
            b.top += shift;
        }
    }
    Ok((lines, scale))
}

/// The band of a page read first: for the signature, the lower half of its print (a form
/// ends with the applicant's signature; the whole page is read when the label is not there);
/// for the turn alone (the e-seal form), the top third of its print.
fn first_band(upright: &GrayImage, kind: CheckKind) -> (f32, f32) {
    let (top, bottom) = precheck::ink_extent(upright).unwrap_or((0.0, 1.0));
    let span = bottom - top;
    let pad = 0.01;
    if kind == CheckKind::ApplicationForm {
        (top + span * 0.5 - pad, bottom + pad)
    } else {
        (top - pad, top + span * 0.3 + pad)
    }
}

/// A form's turn and its words: the axis of its lines from a cheap cue, then a band of the
/// page (`first_band`) read at the likelier of the two turns left — for the application form,
/// enough when it holds a signature label; for the e-seal form (the turn alone), when it reads
/// well. Otherwise the whole page, at the likelier turn and, when that reads poorly, the other;
/// when neither reads legibly, the likelier turn.
async fn read_form(img: &GrayImage, kind: CheckKind) -> anyhow::Result<(u16, Vec<OcrLine>, f32)> {
    let tries: [u16; 2] = if precheck::lines_run_across(img) {
        [0, 180]
    } else {
        [90, 270]
    };
    {
        let upright = precheck::rotate(img, tries[0]);
        let (lines, scale) = read_band(&upright, first_band(&upright, kind)).await?;
        let done = if kind == CheckKind::ApplicationForm {
            !signature::label_boxes(&lines).is_empty()
        } else {
            legibility(&lines) >= 12
        };
        if done {
            return Ok((tries[0], lines, scale));
        }
    }
    let mut likelier: Option<(u16, Vec<OcrLine>, f32)> = None;
    for degrees in tries {
        let (lines, scale) = read_page(&precheck::rotate(img, degrees)).await?;
        let labelled = !signature::label_boxes(&lines).is_empty();
        if labelled || legibility(&lines) >= 12 {
            return Ok((degrees, lines, scale));
        }
        likelier.get_or_insert((degrees, lines, scale));
    }
    // Neither turn reads legibly: the cue's likelier turn stands. A turn chosen between two poor
    // readings was a guess, and flagged clean forms as turned (the demo's e-seal forms).
    Ok(likelier.expect("two tries"))
}

/// Runs every pre-check that applies to `kind` on one scan.
pub async fn check_scan(kind: CheckKind, bytes: &[u8]) -> anyhow::Result<ScanCheck> {
    check_decoded(kind, decode(bytes).await?).await
}

/// The checks on a decoded scan; an error here is the tools' (tesseract, pdftoppm), not the file's.
pub async fn check_decoded(kind: CheckKind, img: GrayImage) -> anyhow::Result<ScanCheck> {
    let q = {
        let img = img.clone();
        tokio::task::spawn_blocking(move || precheck::quality(&img, kind)).await?
    };
    let mut out = ScanCheck {
        findings: Findings {
            id_number: None,
            name: None,
            valid_until: None,
            blurred: q.blurred,
            too_dark: q.too_dark,
            too_bright: q.too_bright,
            too_small: q.too_small,
            rotation: 0,
            signature_blank: None,
        },
        quality: q,
        id_number_region: None,
        name_region: None,
        validity_region: None,
        photo_hash: None,
        signature_ink: None,
        signature_region: None,
    };
    match kind {
        CheckKind::IdFront | CheckKind::IdBack => {
            // A card is landscape: a portrait scan is turned a quarter; try the likelier first.
            let tries: [u16; 2] = if img.height() > img.width() {
                [90, 270]
            } else {
                [0, 180]
            };
            let mut reading = CardReading::default();
            let mut upright = None;
            for degrees in tries {
                let turned = precheck::rotate(&img, degrees);
                let r = read_card(&turned, kind).await?;
                if r.upright(kind) {
                    out.findings.rotation = degrees;
                    reading = r;
                    upright = Some(turned);
                    break;
                }
            }
            let upright = upright.unwrap_or_else(|| {
                out.findings.rotation = tries[0];
                precheck::rotate(&img, tries[0])
            });
            out.photo_hash = precheck::photo_hash(&upright, kind);
            out.quality = q.with_labels(precheck::label_contrast(&upright, &reading.labels));
            out.findings.too_bright = out.quality.too_bright;
            (out.findings.id_number, out.id_number_region) = reading.id_number.unzip();
            (out.findings.name, out.name_region) = reading.name.unzip();
            (out.findings.valid_until, out.validity_region) = reading.validity.unzip();
        }
        CheckKind::ApplicationForm | CheckKind::EsealForm => {
            let (rotation, lines, scale) = read_form(&img, kind).await?;
            out.findings.rotation = rotation;
            if kind == CheckKind::ApplicationForm {
                let upright = precheck::rotate(&img, rotation);
                let ink_below = ((u16::from(q.dark_level) + u16::from(q.light_level)) / 2) as u8;
                let measured = tokio::task::spawn_blocking(move || {
                    signature::measure(&upright, &lines, scale, ink_below)
                })
                .await?;
                if let Some(m) = measured {
                    out.signature_ink = Some(m.ink);
                    out.signature_region = Some(m.region);
                    out.findings.signature_blank = Some(m.blank());
                }
            }
        }
        CheckKind::Photo => out.photo_hash = precheck::photo_hash(&img, kind),
    }
    Ok(out)
}
