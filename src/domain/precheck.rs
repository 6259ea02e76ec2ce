//! Machine pre-checks of a scan, the pure part: image quality from grey-scale statistics (a blank
//! signature is `domain::signature`), a perceptual hash for reused photos, and the findings the
//! CLI prints (operations.md `precheck`). Hints for the reviewer, never decisions. No I/O here: the
//! caller decodes the file and runs the OCR (`crate::prechecks`).

use crate::domain::ocr_text::ValidUntil;
use image::{GrayImage, imageops};
use serde::Serialize;

/// What a scan is checked as (the CLI's `--kind`; the e-seal form gets the quality checks only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    IdFront,
    IdBack,
    ApplicationForm,
    EsealForm,
    Photo,
}

impl CheckKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "id_front" => Self::IdFront,
            "id_back" => Self::IdBack,
            "application_form" => Self::ApplicationForm,
            "eseal_form" => Self::EsealForm,
            "photo" | "liveness_photo" => Self::Photo,
            _ => return None,
        })
    }

    pub fn from_scan(kind: crate::domain::scan::ScanKind) -> Self {
        use crate::domain::scan::ScanKind as S;
        match kind {
            S::ApplicationForm => Self::ApplicationForm,
            S::EsealForm => Self::EsealForm,
            S::IdFront => Self::IdFront,
            S::IdBack => Self::IdBack,
            S::LivenessPhoto => Self::Photo,
        }
    }

    /// The smallest readable size, long side × short side in pixels: an ID card's 18 digits need
    /// about 600 px across; an A4 form about 100 dpi; a face about 300 px.
    fn min_size(self) -> (u32, u32) {
        match self {
            Self::IdFront | Self::IdBack => (600, 378),
            Self::ApplicationForm | Self::EsealForm => (1000, 700),
            Self::Photo => (400, 300),
        }
    }
}

/// A rectangle in fractions of the upright image (0..1), so it fits whatever size the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Region {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Region {
    /// This region of the upright image, in fractions of the file as stored, which is turned
    /// `rotation` degrees clockwise to stand upright.
    pub fn in_stored(self, rotation: u16) -> Region {
        let Region { x, y, w, h } = self;
        match rotation {
            90 => Region {
                x: y,
                y: 1.0 - x - w,
                w: h,
                h: w,
            },
            180 => Region {
                x: 1.0 - x - w,
                y: 1.0 - y - h,
                w,
                h,
            },
            270 => Region {
                x: 1.0 - y - h,
                y: x,
                w: h,
                h: w,
            },
            _ => self,
        }
    }

    fn pixels(self, img: &GrayImage) -> (u32, u32, u32, u32) {
        let (iw, ih) = (img.width() as f32, img.height() as f32);
        let x = (self.x * iw).round().clamp(0.0, iw - 1.0) as u32;
        let y = (self.y * ih).round().clamp(0.0, ih - 1.0) as u32;
        let w = ((self.w * iw).round() as u32).clamp(1, img.width() - x);
        let h = ((self.h * ih).round() as u32).clamp(1, img.height() - y);
        (x, y, w, h)
    }
}

/// The quality findings of one scan, with the measures they come from (kept for calibration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    pub blurred: bool,
    pub too_dark: bool,
    pub too_bright: bool,
    pub too_small: bool,
    /// Edge steepness: the strongest Laplacian responses over the contrast (sharp ≥ 0.8 on the corpus).
    pub sharpness: f32,
    /// The 0.5th and 99.5th percentiles of grey: ink and paper.
    pub dark_level: u8,
    pub light_level: u8,
    /// Share of pixels at or above `CLIPPED_AT`: highlights the camera or scanner clipped.
    pub clipped: f32,
    /// A card's printed labels (`label_contrast`), once the OCR looked for them: `None` when not
    /// looked for or none was read.
    pub label_contrast: Option<u8>,
}

impl Quality {
    /// Judges a card's exposure once its labels were looked for: washed out when the ink is pale
    /// (`BRIGHT_ABOVE`), or when the background is clipped and the labels are pale or were not
    /// legible at all, though the number may still be dark (a phone under strong light).
    pub fn with_labels(mut self, contrast: Option<u8>) -> Self {
        self.label_contrast = contrast;
        let pale = contrast.is_none_or(|c| c < LABEL_CONTRAST_BELOW);
        let greyed = self.dark_level > CLIPPED_INK_ABOVE;
        self.too_bright =
            self.dark_level > BRIGHT_ABOVE || (self.clipped > CLIPPED_ABOVE && (pale || greyed));
        self
    }
}

/// Below this sharpness the edges are smeared over several pixels (calibrated on the corpus).
pub const BLUR_BELOW: f32 = 0.4;
/// Paper (the 99.5th percentile) darker than this: an underexposed scan.
pub const DARK_BELOW: u8 = 100;
/// Ink (the 0.5th percentile) lighter than this: an overexposed, washed-out scan.
pub const BRIGHT_ABOVE: u8 = 180;
/// A grey at or above this is a clipped highlight.
pub const CLIPPED_AT: u8 = 250;
/// A card or photo with more clipped highlights than this has lost its background (calibrated
/// on the corpus' calibration half; a card on a white scanner lid stays below it with its labels).
pub const CLIPPED_ABOVE: f32 = 0.25;
/// With clipped highlights, ink (the 0.5th percentile) lighter than this is washed out too
/// (clean cards' darkest ink is below 80 on the corpus; glare lifts it over 110).
pub const CLIPPED_INK_ABOVE: u8 = 100;
/// Printed labels with less contrast than this (grey levels between a label's ink and its
/// paper) are washed out (calibrated on the corpus' calibration half).
pub const LABEL_CONTRAST_BELOW: u8 = 70;

/// The long side analysis works at: phone photos are shrunk so sharpness means the same thing
/// whatever the camera's resolution.
const WORK_SIDE: u32 = 1200;

/// Shrinks an image whose long side exceeds `WORK_SIDE` (area averaging keeps edges honest).
pub fn working_copy(img: &GrayImage) -> GrayImage {
    let long = img.width().max(img.height());
    if long <= WORK_SIDE {
        return img.clone();
    }
    let s = WORK_SIDE as f32 / long as f32;
    let (w, h) = (
        ((img.width() as f32 * s).round() as u32).max(1),
        ((img.height() as f32 * s).round() as u32).max(1),
    );
    imageops::thumbnail(img, w, h)
}

/// Grey-level percentile (0..=1000 per mille) from a histogram.
fn percentile(hist: &[u64; 256], total: u64, per_mille: u64) -> u8 {
    let target = (total * per_mille).div_ceil(1000).max(1);
    let mut seen = 0;
    for (v, n) in hist.iter().enumerate() {
        seen += n;
        if seen >= target {
            return v as u8;
        }
    }
    255
}

/// Quality of an upright or rotated scan of `kind` (the size check is orientation-free).
pub fn quality(img: &GrayImage, kind: CheckKind) -> Quality {
    let (min_long, min_short) = kind.min_size();
    let (long, short) = (img.width().max(img.height()), img.width().min(img.height()));
    let work = working_copy(img);
    let mut hist = [0u64; 256];
    for p in work.pixels() {
        hist[p.0[0] as usize] += 1;
    }
    let total = u64::from(work.width()) * u64::from(work.height());
    let dark_level = percentile(&hist, total, 5);
    let light_level = percentile(&hist, total, 995);
    let sharpness = sharpness(&work, f32::from(light_level) - f32::from(dark_level));
    let clipped = hist[usize::from(CLIPPED_AT)..].iter().sum::<u64>() as f32 / total.max(1) as f32;
    Quality {
        blurred: sharpness < BLUR_BELOW,
        too_dark: light_level < DARK_BELOW,
        // A photo that clipped its background is washed out; cards wait for their labels.
        too_bright: dark_level > BRIGHT_ABOVE
            || (kind == CheckKind::Photo && clipped > CLIPPED_ABOVE),
        too_small: long < min_long || short < min_short,
        sharpness,
        dark_level,
        light_level,
        clipped,
        label_contrast: None,
    }
}

/// The contrast of printed labels: in each box (pixels of `img`), the grey between the label's
/// ink (10th percentile) and its paper (90th); the median over the boxes. `None` without boxes.
pub fn label_contrast(img: &GrayImage, boxes: &[(u32, u32, u32, u32)]) -> Option<u8> {
    let mut contrasts: Vec<u8> = boxes
        .iter()
        .filter_map(|&(x, y, w, h)| {
            let (x1, y1) = ((x + w).min(img.width()), (y + h).min(img.height()));
            let mut v: Vec<u8> = (y.min(y1)..y1)
                .flat_map(|yy| (x.min(x1)..x1).map(move |xx| (xx, yy)))
                .map(|(xx, yy)| img.get_pixel(xx, yy).0[0])
                .collect();
            if v.len() < 16 {
                return None;
            }
            v.sort_unstable();
            Some(v[v.len() * 9 / 10] - v[v.len() / 10])
        })
        .collect();
    contrasts.sort_unstable();
    contrasts.get(contrasts.len() / 2).copied()
}

/// The 99.9th percentile of |Laplacian| over the contrast: a step edge gives about 1, an edge
/// smeared over σ pixels about 1/(4σ²). Independent of exposure and of how much text there is.
fn sharpness(img: &GrayImage, contrast: f32) -> f32 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 3 || h < 3 || contrast < 8.0 {
        return 0.0;
    }
    let px = img.as_raw();
    let mut hist = vec![0u64; 4 * 255 + 1];
    let mut n = 0u64;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = i32::from(px[y * w + x]);
            let lap = i32::from(px[y * w + x - 1])
                + i32::from(px[y * w + x + 1])
                + i32::from(px[(y - 1) * w + x])
                + i32::from(px[(y + 1) * w + x])
                - 4 * c;
            hist[lap.unsigned_abs() as usize] += 1;
            n += 1;
        }
    }
    let target = n - n / 1000;
    let mut seen = 0;
    let mut top = 0;
    for (v, k) in hist.iter().enumerate() {
        seen += k;
        if seen >= target {
            top = v;
            break;
        }
    }
    top as f32 / contrast
}

/// Turns an image by `degrees` clockwise (0, 90, 180 or 270).
pub fn rotate(img: &GrayImage, degrees: u16) -> GrayImage {
    match degrees {
        90 => imageops::rotate90(img),
        180 => imageops::rotate180(img),
        270 => imageops::rotate270(img),
        _ => img.clone(),
    }
}

/// Where the card lies in a photo of it (on a desk, a scanner lid, in a hand): the rows and
/// columns mostly unlike the border's grey. The whole image when nothing stands out.
pub fn card_frame(img: &GrayImage) -> Region {
    let work = imageops::thumbnail(img, (img.width() / 4).max(1), (img.height() / 4).max(1));
    let (w, h) = (work.width(), work.height());
    if w < 8 || h < 8 {
        return Region {
            x: 0.0,
            y: 0.0,
            w: 1.0,
            h: 1.0,
        };
    }
    let mut border: Vec<u8> = work
        .enumerate_pixels()
        .filter(|(x, y, _)| *x == 0 || *y == 0 || *x == w - 1 || *y == h - 1)
        .map(|(_, _, p)| p.0[0])
        .collect();
    border.sort_unstable();
    let bg = i16::from(border[border.len() / 2]);
    let unlike = |x: u32, y: u32| (i16::from(work.get_pixel(x, y).0[0]) - bg).abs() > 18;
    let rows: Vec<bool> = (0..h)
        .map(|y| (0..w).filter(|x| unlike(*x, y)).count() * 3 > w as usize)
        .collect();
    let cols: Vec<bool> = (0..w)
        .map(|x| (0..h).filter(|y| unlike(x, *y)).count() * 3 > h as usize)
        .collect();
    let span = |v: &[bool]| {
        let first = v.iter().position(|b| *b)?;
        let last = v.iter().rposition(|b| *b)?;
        Some((first, last + 1))
    };
    match (span(&cols), span(&rows)) {
        (Some((x0, x1)), Some((y0, y1)))
            if (x1 - x0) * 3 > w as usize && (y1 - y0) * 3 > h as usize =>
        {
            Region {
                x: x0 as f32 / w as f32,
                y: y0 as f32 / h as f32,
                w: (x1 - x0) as f32 / w as f32,
                h: (y1 - y0) as f32 / h as f32,
            }
        }
        _ => Region {
            x: 0.0,
            y: 0.0,
            w: 1.0,
            h: 1.0,
        },
    }
}

/// Where the portrait sits on an ID card's front: what is hashed to find a reused card photo.
pub const PORTRAIT: Region = Region {
    x: 0.62,
    y: 0.10,
    w: 0.33,
    h: 0.60,
};

/// A 256-bit difference hash (dHash on 17 × 16 grey cells, one bit per left-right brightness
/// step). It survives re-encoding, scaling and exposure changes. 256 bits rather than the usual
/// 64: liveness photos share one layout (a face in the middle), and 64 bits put different faces
/// of the corpus within a few bits of each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhotoHash(pub [u64; 4]);

impl PhotoHash {
    pub fn distance(self, other: PhotoHash) -> u32 {
        self.0
            .iter()
            .zip(other.0)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    pub fn to_hex(self) -> String {
        self.0.iter().map(|w| format!("{w:016x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<PhotoHash> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u64; 4];
        for (i, w) in out.iter_mut().enumerate() {
            *w = u64::from_str_radix(s.get(i * 16..i * 16 + 16)?, 16).ok()?;
        }
        Some(PhotoHash(out))
    }
}

pub fn dhash(img: &GrayImage) -> PhotoHash {
    let small = imageops::resize(img, 17, 16, imageops::FilterType::Triangle);
    let mut out = [0u64; 4];
    for y in 0..16u32 {
        for x in 0..16u32 {
            let bit = (y * 16 + x) as usize;
            if small.get_pixel(x, y).0[0] < small.get_pixel(x + 1, y).0[0] {
                out[bit / 64] |= 1 << (bit % 64);
            }
        }
    }
    PhotoHash(out)
}

/// The hash that finds a reused photo, where the kind has one: a card's portrait (within the
/// card as `card_frame` finds it) or the whole liveness photo. Forms and card backs share one
/// template, so only their SHA-256 is compared.
pub fn photo_hash(upright: &GrayImage, kind: CheckKind) -> Option<PhotoHash> {
    match kind {
        CheckKind::Photo => Some(dhash(upright)),
        CheckKind::IdFront => {
            let card = card_frame(upright);
            let portrait = Region {
                x: card.x + PORTRAIT.x * card.w,
                y: card.y + PORTRAIT.y * card.h,
                w: PORTRAIT.w * card.w,
                h: PORTRAIT.h * card.h,
            };
            let (x, y, w, h) = portrait.pixels(upright);
            Some(dhash(&imageops::crop_imm(upright, x, y, w, h).to_image()))
        }
        _ => None,
    }
}

/// Two hashes this close (differing bits of 256) are the same picture.
pub const SAME_PHOTO_WITHIN: u32 = 12;

pub fn same_photo(a: PhotoHash, b: PhotoHash) -> bool {
    a.distance(b) <= SAME_PHOTO_WITHIN
}

/// The findings of one scan as operations.md's `precheck` prints them; fields that do not apply
/// to the kind are null.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Findings {
    pub id_number: Option<String>,
    pub name: Option<String>,
    pub valid_until: Option<ValidUntil>,
    pub blurred: bool,
    pub too_dark: bool,
    pub too_bright: bool,
    pub too_small: bool,
    pub rotation: u16,
    pub signature_blank: Option<bool>,
}

/// What was read against what was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "read", rename_all = "snake_case")]
pub enum Comparison {
    Match,
    /// With what was read.
    Mismatch(String),
    Unreadable,
}

impl Comparison {
    pub fn code(&self) -> &'static str {
        match self {
            Comparison::Match => "match",
            Comparison::Mismatch(_) => "mismatch",
            Comparison::Unreadable => "unreadable",
        }
    }
}

/// Compares a reading with the typed value, ignoring spaces, case, traditional against
/// simplified characters, and the middle dot of minority names (any form of it, or none: the OCR
/// often loses so small a mark).
pub fn compare(read: Option<&str>, typed: &str) -> Comparison {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| {
                !c.is_whitespace() && !matches!(c, '·' | '•' | '・' | '.' | '‧' | '∙' | '．')
            })
            .map(|c| crate::domain::hanzi::simplified(c.to_ascii_uppercase()))
            .collect()
    };
    match read {
        None => Comparison::Unreadable,
        Some(r) if norm(r) == norm(typed) => Comparison::Match,
        Some(r) => Comparison::Mismatch(r.to_owned()),
    }
}

mod page;
pub use page::{ink_extent, lines_run_across};

#[cfg(test)]
mod tests;
