//! Machine pre-checks of a scan, the pure part: image quality from grey-scale statistics, a blank
//! signature from ink density, a perceptual hash for reused photos, and the findings the CLI
//! prints (operations.md `precheck`). Hints for the reviewer, never decisions. No I/O here: the
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

/// The signature box of the hall's application form (`demo::scans::form_pdf`: 205 × 90 pt at
/// (330, 90) on an A4 page of 595 × 842 pt), in fractions of the page.
pub const SIGNATURE_BOX: Region = Region {
    x: 330.0 / 595.0,
    y: (842.0 - 180.0) / 842.0,
    w: 205.0 / 595.0,
    h: 90.0 / 842.0,
};

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
}

/// Below this sharpness the edges are smeared over several pixels (calibrated on the corpus).
pub const BLUR_BELOW: f32 = 0.4;
/// Paper (the 99.5th percentile) darker than this: an underexposed scan.
pub const DARK_BELOW: u8 = 100;
/// Ink (the 0.5th percentile) lighter than this: an overexposed, washed-out scan.
pub const BRIGHT_ABOVE: u8 = 180;

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
    Quality {
        blurred: sharpness < BLUR_BELOW,
        too_dark: light_level < DARK_BELOW,
        too_bright: dark_level > BRIGHT_ABOVE,
        too_small: long < min_long || short < min_short,
        sharpness,
        dark_level,
        light_level,
    }
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

/// Share of ink (pixels darker than midway between ink and paper) inside the signature box,
/// leaving out a margin of 8 % so the box's own border does not count.
pub fn signature_ink(upright_form: &GrayImage) -> f32 {
    let inner = Region {
        x: SIGNATURE_BOX.x + SIGNATURE_BOX.w * 0.08,
        y: SIGNATURE_BOX.y + SIGNATURE_BOX.h * 0.08,
        w: SIGNATURE_BOX.w * 0.84,
        h: SIGNATURE_BOX.h * 0.84,
    };
    let (x, y, w, h) = inner.pixels(upright_form);
    let q = quality(upright_form, CheckKind::ApplicationForm);
    let mid = (u16::from(q.dark_level) + u16::from(q.light_level)) / 2;
    let view = imageops::crop_imm(upright_form, x, y, w, h);
    let inked = view
        .to_image()
        .pixels()
        .filter(|p| u16::from(p.0[0]) < mid)
        .count();
    inked as f32 / (w * h) as f32
}

/// A signature box with less ink than this is blank (a pen stroke across the box covers ~0.5 %).
pub const SIGNATURE_INK_BELOW: f32 = 0.002;

pub fn signature_blank(upright_form: &GrayImage) -> bool {
    signature_ink(upright_form) < SIGNATURE_INK_BELOW
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

/// The hash that finds a reused photo, where the kind has one: a card's portrait or the whole
/// liveness photo. Forms and card backs share one template, so only their SHA-256 is compared.
pub fn photo_hash(upright: &GrayImage, kind: CheckKind) -> Option<PhotoHash> {
    match kind {
        CheckKind::Photo => Some(dhash(upright)),
        CheckKind::IdFront => {
            let (x, y, w, h) = PORTRAIT.pixels(upright);
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

/// Compares a reading with the typed value, ignoring spaces, case and the form of the middle dot.
pub fn compare(read: Option<&str>, typed: &str) -> Comparison {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '•' | '・' | '.' => '·',
                c => c.to_ascii_uppercase(),
            })
            .collect()
    };
    match read {
        None => Comparison::Unreadable,
        Some(r) if norm(r) == norm(typed) => Comparison::Match,
        Some(r) => Comparison::Mismatch(r.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn page(w: u32, h: u32) -> GrayImage {
        GrayImage::from_pixel(w, h, Luma([245]))
    }

    fn text_like(img: &mut GrayImage) {
        // Rows of crisp dark bars, like lines of print.
        for line in 0..10 {
            for x in 40..img.width() - 40 {
                if (x / 7) % 3 != 0 {
                    for y in 0..14 {
                        img.put_pixel(x, 60 + line * 40 + y, Luma([30]));
                    }
                }
            }
        }
    }

    #[test]
    fn a_region_follows_the_turn_back_to_the_stored_file() {
        // A 4 × 2 image turned 90° clockwise stands 2 × 4; its pixel (0, 0) came from (0, 1).
        let stored = GrayImage::from_fn(4, 2, |x, y| Luma([(y * 4 + x) as u8]));
        for turn in [0u16, 90, 180, 270] {
            let upright = rotate(&stored, turn);
            let r = Region {
                x: 0.0,
                y: 0.0,
                w: 0.5,
                h: 0.25,
            };
            let (ux, uy, _, _) = r.pixels(&upright);
            let (sx, sy, sw, sh) = r.in_stored(turn).pixels(&stored);
            let v = upright.get_pixel(ux, uy).0[0];
            let inside =
                (sy..sy + sh).any(|y| (sx..sx + sw).any(|x| stored.get_pixel(x, y).0[0] == v));
            assert!(inside, "turn {turn}");
        }
    }

    #[test]
    fn readings_compare_with_typed_data() {
        assert_eq!(
            compare(Some("4403041990030712 3x"), "44030419900307123X"),
            Comparison::Match
        );
        assert_eq!(
            compare(Some("张三"), "张三丰"),
            Comparison::Mismatch("张三".into())
        );
        assert_eq!(
            compare(Some("买买提•艾力"), "买买提·艾力"),
            Comparison::Match
        );
        assert_eq!(compare(None, "张三"), Comparison::Unreadable);
    }

    #[test]
    fn crisp_print_is_sharp_and_a_blur_is_not() {
        let mut img = page(900, 600);
        text_like(&mut img);
        let q = quality(&img, CheckKind::IdFront);
        assert!(
            !q.blurred && !q.too_dark && !q.too_bright && !q.too_small,
            "{q:?}"
        );
        let blurred = imageops::blur(&img, 3.0);
        assert!(quality(&blurred, CheckKind::IdFront).blurred);
    }

    #[test]
    fn exposure_and_size() {
        let mut img = page(900, 600);
        text_like(&mut img);
        let dark = GrayImage::from_fn(900, 600, |x, y| Luma([img.get_pixel(x, y).0[0] / 4]));
        assert!(quality(&dark, CheckKind::IdFront).too_dark);
        let bright =
            GrayImage::from_fn(900, 600, |x, y| Luma([200 + img.get_pixel(x, y).0[0] / 5]));
        assert!(quality(&bright, CheckKind::IdFront).too_bright);
        assert!(quality(&page(400, 250), CheckKind::IdFront).too_small);
        assert!(!quality(&page(1200, 1700), CheckKind::ApplicationForm).too_small);
    }

    #[test]
    fn a_stroke_in_the_signature_box_is_a_signature() {
        let mut form = page(1240, 1754);
        assert!(signature_blank(&form));
        let (x, y, w, h) = SIGNATURE_BOX.pixels(&form);
        for i in 0..w * 3 / 4 {
            let yy = y + h / 2 + ((i as f32 / 9.0).sin() * h as f32 / 4.0) as u32;
            for d in 0..3 {
                form.put_pixel(x + w / 8 + i, yy + d, Luma([20]));
            }
        }
        assert!(!signature_blank(&form));
    }

    #[test]
    fn the_same_photo_hashes_alike_and_another_does_not() {
        let a = GrayImage::from_fn(240, 320, |x, y| Luma([((x * 7 + y * 3) % 256) as u8]));
        let b = GrayImage::from_fn(240, 320, |x, y| Luma([((x * x + y * 5) / 9 % 256) as u8]));
        let a_small = imageops::resize(&a, 120, 160, imageops::FilterType::Triangle);
        assert!(same_photo(dhash(&a), dhash(&a_small)));
        assert!(!same_photo(dhash(&a), dhash(&b)));
    }
}
