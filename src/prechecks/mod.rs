//! Machine pre-checks of one scan, the part with I/O: decoding the file (images with the `image`
//! crate, the EXIF orientation applied as a browser shows it; PDFs rasterised by poppler's
//! `pdftoppm`), reading ID cards with the `tesseract` command, and the pure checks of
//! `domain::precheck`. The CLI's `precheck` and the pre-check job call `check_scan`.

mod ocr;

use crate::domain::ocr_text::{self, OcrLine, ValidUntil};
use crate::domain::precheck::{self, CheckKind, Findings, PhotoHash, Quality, Region};
use crate::domain::scan::{MediaType, sniff};
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
}

impl CardReading {
    fn upright(&self, kind: CheckKind) -> bool {
        match kind {
            CheckKind::IdFront => self.id_number.is_some() || self.name.is_some(),
            _ => self.validity.is_some(),
        }
    }
}

/// Reads an upright card: the whole card in Chinese and English; on the front, when the number
/// does not pass its check, the number band again with digits only.
async fn read_card(upright: &GrayImage, kind: CheckKind) -> anyhow::Result<CardReading> {
    let (img, scale) = ocr::legible(upright);
    let lines = ocr::read_lines(&img, ocr::Pass::Card).await?;
    let mut r = CardReading::default();
    if kind == CheckKind::IdFront {
        r.id_number = ocr_text::find_id_number(&lines).map(|(id, l)| {
            let region = fraction(l, id.as_str(), upright, scale);
            (id.as_str().to_owned(), region)
        });
        r.name = ocr_text::find_name(&lines).map(|(n, l)| {
            let region = fraction(l, &n, upright, scale);
            (n, region)
        });
        if r.id_number.is_none() && r.name.is_some() {
            // The number sits in the lowest fifth of the card, right of its label.
            let band = Region {
                x: 0.30,
                y: 0.76,
                w: 0.68,
                h: 0.20,
            };
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
            for degrees in tries {
                let upright = precheck::rotate(&img, degrees);
                let r = read_card(&upright, kind).await?;
                if r.upright(kind) {
                    out.findings.rotation = degrees;
                    out.photo_hash = precheck::photo_hash(&upright, kind);
                    reading = r;
                    break;
                }
            }
            if !reading.upright(kind) {
                out.findings.rotation = tries[0];
                out.photo_hash = precheck::photo_hash(&precheck::rotate(&img, tries[0]), kind);
            }
            (out.findings.id_number, out.id_number_region) = reading.id_number.unzip();
            (out.findings.name, out.name_region) = reading.name.unzip();
            (out.findings.valid_until, out.validity_region) = reading.validity.unzip();
        }
        CheckKind::ApplicationForm | CheckKind::EsealForm => {
            out.findings.rotation = ocr::page_rotation(&img).await?;
            if kind == CheckKind::ApplicationForm {
                let upright = precheck::rotate(&img, out.findings.rotation);
                let ink = precheck::signature_ink(&upright);
                out.signature_ink = Some(ink);
                out.findings.signature_blank = Some(ink < precheck::SIGNATURE_INK_BELOW);
            }
        }
        CheckKind::Photo => out.photo_hash = precheck::photo_hash(&img, kind),
    }
    Ok(out)
}
