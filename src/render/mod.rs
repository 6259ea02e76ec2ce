//! Renders realistic scans with known content: ID cards (front and back, spaced labels, the name
//! in another typeface than the labels), application forms in several layouts (the hall's own
//! table, a signature box, a signature line), liveness photos, and the scene a scan is taken in
//! (a scanner lid, a desk, a hand, with perspective and light). The demo's scans and the
//! pre-check test corpus are both drawn here, so the demo shows what the tests measure.
//! Typefaces are Debian's: `fonts-noto-cjk` (Sans, Serif) and `fonts-arphic-uming`/`-ukai`.

pub mod card;
pub mod form;
pub mod scene;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};
use std::sync::OnceLock;

/// A CJK typeface from Debian's font packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Face {
    /// Noto Sans CJK SC (`fonts-noto-cjk`).
    Sans,
    /// Noto Serif CJK SC (`fonts-noto-cjk`).
    Serif,
    /// AR PL UMing CN (`fonts-arphic-uming`).
    Ming,
    /// AR PL UKai CN (`fonts-arphic-ukai`): handwriting-like, for signatures.
    Kai,
}

impl Face {
    pub const PRINT: [Face; 3] = [Face::Sans, Face::Serif, Face::Ming];

    fn file(self) -> (&'static str, u32) {
        match self {
            Face::Sans => ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
            Face::Serif => ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
            Face::Ming => ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
            Face::Kai => ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
        }
    }

    /// The face, loaded once; `None` when its package is not installed.
    pub fn font(self) -> Option<&'static FontRef<'static>> {
        static FONTS: [OnceLock<Option<FontRef<'static>>>; 4] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        FONTS[self as usize]
            .get_or_init(|| {
                let (path, index) = self.file();
                let bytes = std::fs::read(path).ok()?;
                FontRef::try_from_slice_and_index(Box::leak(bytes.into_boxed_slice()), index).ok()
            })
            .as_ref()
    }

    /// This face, or the first installed print face.
    pub fn or_installed(self) -> Option<&'static FontRef<'static>> {
        self.font()
            .or_else(|| Face::PRINT.iter().find_map(|f| f.font()))
    }
}

/// Whether the typefaces the renderer needs are installed (Noto Sans CJK at least).
pub fn available() -> bool {
    Face::Sans.font().is_some()
}

/// A small deterministic generator (SplitMix64), so a seed names a case.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// A float in lo..hi.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * (self.below(10_000) as f32 / 10_000.0)
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Draws `text` with its top-left corner at (x, y), `px` pixels high, `spacing` extra pixels
/// between characters (a card's labels are printed spaced out); returns the x after the text.
#[allow(clippy::too_many_arguments)]
pub fn text(
    img: &mut RgbImage,
    face: Face,
    x: f32,
    y: f32,
    px: f32,
    s: &str,
    ink: [u8; 3],
    spacing: f32,
) -> f32 {
    let Some(f) = face.or_installed() else {
        return x;
    };
    let scaled = f.as_scaled(PxScale::from(px));
    let baseline = y + scaled.ascent();
    let mut caret = x;
    for c in s.chars() {
        let mut g = scaled.scaled_glyph(c);
        g.position = point(caret, baseline);
        caret += scaled.h_advance(g.id) + spacing;
        if let Some(o) = f.outline_glyph(g) {
            let b = o.px_bounds();
            o.draw(|gx, gy, cov| {
                let (px, py) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if px < 0 || py < 0 || px >= img.width() as i64 || py >= img.height() as i64 {
                    return;
                }
                blend(img.get_pixel_mut(px as u32, py as u32), ink, cov);
            });
        }
    }
    caret
}

/// The width `s` takes at `px` in `face`.
pub fn text_width(face: Face, px: f32, s: &str) -> f32 {
    let Some(f) = face.or_installed() else {
        return 0.0;
    };
    let scaled = f.as_scaled(PxScale::from(px));
    s.chars()
        .map(|c| scaled.h_advance(scaled.glyph_id(c)))
        .sum()
}

fn blend(p: &mut Rgb<u8>, ink: [u8; 3], cov: f32) {
    let cov = cov.clamp(0.0, 1.0);
    for (v, k) in p.0.iter_mut().zip(ink) {
        *v = (f32::from(*v) * (1.0 - cov) + f32::from(k) * cov).round() as u8;
    }
}

pub fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, Rgb(rgb));
        }
    }
}

/// An ellipse clipped to a box (x, y, w, h).
pub fn ellipse_in(
    img: &mut RgbImage,
    clip: (u32, u32, u32, u32),
    (cx, cy): (f32, f32),
    (rx, ry): (f32, f32),
    rgb: [u8; 3],
) {
    let (x0, y0) = (clip.0 as f32, clip.1 as f32);
    let (x1, y1) = ((clip.0 + clip.2) as f32, (clip.1 + clip.3) as f32);
    for y in (cy - ry).max(y0) as u32..((cy + ry).min(y1) as u32).min(img.height()) {
        for x in (cx - rx).max(x0) as u32..((cx + rx).min(x1) as u32).min(img.width()) {
            let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
            if dx * dx + dy * dy <= 1.0 {
                img.put_pixel(x, y, Rgb(rgb));
            }
        }
    }
}

/// A pen stroke through points, `width` pixels wide (anti-aliased enough for a scan).
pub fn stroke(img: &mut RgbImage, pts: &[(f32, f32)], width: f32, ink: [u8; 3]) {
    let r = width / 2.0;
    for p in pts.windows(2) {
        let ((x0, y0), (x1, y1)) = (p[0], p[1]);
        let steps = ((x1 - x0).abs().max((y1 - y0).abs()) * 2.0).max(1.0) as u32;
        for i in 0..=steps {
            let t = i as f32 / steps as f32;
            let (cx, cy) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            for yy in (cy - r - 1.0).max(0.0) as u32..((cy + r + 1.0) as u32).min(img.height()) {
                for xx in (cx - r - 1.0).max(0.0) as u32..((cx + r + 1.0) as u32).min(img.width()) {
                    let d = ((xx as f32 - cx).powi(2) + (yy as f32 - cy).powi(2)).sqrt();
                    let cov = (r + 0.5 - d).clamp(0.0, 1.0);
                    if cov > 0.0 {
                        let p = img.get_pixel_mut(xx, yy);
                        // Ink only darkens.
                        let mut q = *p;
                        blend(&mut q, ink, cov);
                        for k in 0..3 {
                            p.0[k] = p.0[k].min(q.0[k]);
                        }
                    }
                }
            }
        }
    }
}

/// The file the hall would send: JPEG at `quality`.
pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cursor = std::io::Cursor::new(&mut out);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut cursor, quality)
        .encode_image(img)
        .expect("JPEG encodes to memory");
    out
}
