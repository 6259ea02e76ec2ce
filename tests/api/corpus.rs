//! A generated corpus for the pre-checks: ID cards rendered in Noto Sans CJK SC (Debian's
//! `fonts-noto-cjk`) with known numbers and names, liveness photos, application forms with and
//! without a signature, and the damage a phone or scanner does (turned, blurred, dark, washed
//! out, JPEG-compressed, too small). Nothing is committed as a file; every case is made from a seed.
//! Shared with `benches/prechecks.rs`.
#![allow(dead_code)]

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use backoffice::domain::precheck::SIGNATURE_BOX;
use backoffice::domain::resident_id::check_char;
use image::{GrayImage, ImageFormat, Luma, Rgb, RgbImage, imageops};
use std::io::Cursor;
use std::sync::OnceLock;

const FONT_FILE: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
/// The collection's Simplified Chinese face.
const FONT_INDEX: u32 = 2;

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        let bytes = std::fs::read(FONT_FILE).unwrap_or_else(|e| {
            panic!("{FONT_FILE}: {e} (Debian: apt-get install fonts-noto-cjk)")
        });
        FontRef::try_from_slice_and_index(Box::leak(bytes.into_boxed_slice()), FONT_INDEX)
            .expect("Noto Sans CJK SC")
    })
}

/// A small deterministic generator (SplitMix64), so a seed names a case.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Draws `text` with its top-left corner at (x, y), `px` pixels high.
pub fn draw_text(img: &mut RgbImage, x: f32, y: f32, px: f32, text: &str, ink: [u8; 3]) {
    let f = font();
    let scaled = f.as_scaled(PxScale::from(px));
    let baseline = y + scaled.ascent();
    let mut caret = x;
    for c in text.chars() {
        let mut g = scaled.scaled_glyph(c);
        g.position = point(caret, baseline);
        caret += scaled.h_advance(g.id);
        if let Some(o) = f.outline_glyph(g) {
            let b = o.px_bounds();
            o.draw(|gx, gy, cov| {
                let (px, py) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if px < 0 || py < 0 || px >= img.width() as i64 || py >= img.height() as i64 {
                    return;
                }
                let p = img.get_pixel_mut(px as u32, py as u32);
                for (v, k) in p.0.iter_mut().zip(ink) {
                    *v = (f32::from(*v) * (1.0 - cov) + f32::from(k) * cov).round() as u8;
                }
            });
        }
    }
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, Rgb(rgb));
        }
    }
}

fn ellipse(img: &mut RgbImage, cx: f32, cy: f32, rx: f32, ry: f32, rgb: [u8; 3]) {
    let (w, h) = (img.width(), img.height());
    ellipse_in(img, (0, 0, w, h), cx, cy, rx, ry, rgb);
}

/// An ellipse clipped to a box (x, y, w, h).
fn ellipse_in(
    img: &mut RgbImage,
    clip: (u32, u32, u32, u32),
    cx: f32,
    cy: f32,
    rx: f32,
    ry: f32,
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

/// A face in a box: its shape, place and tones come from the seed, so two seeds hash apart.
fn face(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, rng: &mut Rng) {
    let bg = [200 + rng.below(40) as u8, 200 + rng.below(40) as u8, 210];
    fill(img, x, y, w, h, bg);
    let (fx, fy) = (x as f32, y as f32);
    let (fw, fh) = (w as f32, h as f32);
    let cx = fx + fw * (0.35 + rng.below(30) as f32 / 100.0);
    let cy = fy + fh * (0.35 + rng.below(15) as f32 / 100.0);
    let (rx, ry) = (fw * (0.18 + rng.below(10) as f32 / 100.0), fh * 0.22);
    let skin = [170 + rng.below(60) as u8, 130 + rng.below(50) as u8, 110];
    // Shoulders, hair, face, eyes, mouth.
    ellipse_in(
        img,
        (x, y, w, h),
        cx,
        fy + fh,
        fw * 0.45,
        fh * 0.3,
        [40, 40 + rng.below(80) as u8, 90],
    );
    ellipse_in(
        img,
        (x, y, w, h),
        cx,
        cy - ry * 0.4,
        rx * 1.15,
        ry * 0.9,
        [30, 25, 20],
    );
    ellipse_in(img, (x, y, w, h), cx, cy, rx, ry, skin);
    let eye_dy = ry * (0.1 + rng.below(20) as f32 / 100.0);
    for side in [-1.0, 1.0] {
        ellipse_in(
            img,
            (x, y, w, h),
            cx + side * rx * 0.4,
            cy - eye_dy,
            rx * 0.12,
            ry * 0.07,
            [20, 20, 20],
        );
    }
    ellipse_in(
        img,
        (x, y, w, h),
        cx,
        cy + ry * 0.5,
        rx * 0.35,
        ry * 0.06,
        [150, 60, 60],
    );
    for _ in 0..3 {
        let (bx, by) = (
            x + rng.below(u64::from(w)) as u32,
            y + rng.below(u64::from(h)) as u32,
        );
        fill(img, bx, by, w / 6, h / 10, [rng.below(255) as u8, 90, 120]);
    }
}

/// A person the corpus knows the truth about.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub id_number: String,
    /// The validity period as printed: start, and end or 长期.
    pub valid_from: chrono::NaiveDate,
    pub valid_until: Option<chrono::NaiveDate>,
}

const SURNAMES: &[&str] = &[
    "张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "欧阳",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀", "霞", "平", "刚", "英", "华", "建", "国", "文", "红", "玉", "兰", "海", "峰",
];
const REGIONS: &[&str] = &["440304", "440305", "440303", "440306", "110105", "310115"];

/// A valid GB 11643 number from a region, a birth date and a sequence.
pub fn id_number(region: &str, birth: chrono::NaiveDate, seq: u32) -> String {
    let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
    format!("{first17}{}", check_char(first17.as_bytes()) as char)
}

pub fn person(seed: u64) -> Person {
    let mut r = Rng::new(seed);
    let mut name = r.pick(SURNAMES).to_string();
    for _ in 0..1 + r.below(2) {
        name.push_str(r.pick(GIVEN));
    }
    let birth =
        chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new(r.below(365 * 55));
    let id = id_number(r.pick(REGIONS), birth, r.below(1000) as u32);
    let valid_from =
        chrono::NaiveDate::from_ymd_opt(2005, 1, 1).unwrap() + chrono::Days::new(r.below(365 * 20));
    let valid_until = match r.below(5) {
        0 => None,
        _ => Some(valid_from.with_year_added(if r.below(2) == 0 { 10 } else { 20 })),
    };
    Person {
        name,
        id_number: id,
        valid_from,
        valid_until,
    }
}

trait AddYears {
    fn with_year_added(self, years: i32) -> Self;
}
impl AddYears for chrono::NaiveDate {
    fn with_year_added(self, years: i32) -> Self {
        use chrono::Datelike;
        self.with_year(self.year() + years).unwrap_or(self)
    }
}

const CARD: (u32, u32) = (856, 540);
const LABEL: [u8; 3] = [60, 100, 160];
const INK: [u8; 3] = [20, 20, 25];

/// The front of an ID card (856 × 540, about 250 dpi), laid out as the real one.
pub fn id_front(p: &Person, seed: u64) -> RgbImage {
    let mut img = RgbImage::from_fn(CARD.0, CARD.1, |x, y| {
        Rgb([232 - (y / 40) as u8, 238 - (x / 80) as u8, 244])
    });
    let mut rng = Rng::new(seed ^ 0xFACE);
    face(&mut img, 530, 54, 283, 324, &mut rng);
    draw_text(&mut img, 50.0, 48.0, 26.0, "姓 名", LABEL);
    draw_text(&mut img, 150.0, 44.0, 34.0, &p.name, INK);
    draw_text(&mut img, 50.0, 115.0, 26.0, "性 别", LABEL);
    draw_text(&mut img, 150.0, 113.0, 28.0, "男", INK);
    draw_text(&mut img, 250.0, 115.0, 26.0, "民 族", LABEL);
    draw_text(&mut img, 340.0, 113.0, 28.0, "汉", INK);
    let b = &p.id_number[6..14];
    let birth = format!(
        "{} 年 {} 月 {} 日",
        &b[..4],
        b[4..6].trim_start_matches('0'),
        b[6..].trim_start_matches('0')
    );
    draw_text(&mut img, 50.0, 180.0, 26.0, "出 生", LABEL);
    draw_text(&mut img, 150.0, 178.0, 28.0, &birth, INK);
    draw_text(&mut img, 50.0, 245.0, 26.0, "住 址", LABEL);
    draw_text(&mut img, 150.0, 243.0, 28.0, "广东省深圳市福田区", INK);
    draw_text(&mut img, 150.0, 288.0, 28.0, "福中路八十八号", INK);
    draw_text(&mut img, 50.0, 440.0, 26.0, "公民身份号码", LABEL);
    draw_text(&mut img, 270.0, 434.0, 36.0, &p.id_number, INK);
    img
}

/// The back of an ID card: the issuing authority and the validity period.
pub fn id_back(p: &Person) -> RgbImage {
    let mut img = RgbImage::from_fn(CARD.0, CARD.1, |x, y| {
        Rgb([236 - (x / 60) as u8, 240 - (y / 60) as u8, 244])
    });
    ellipse(&mut img, 140.0, 140.0, 85.0, 85.0, [200, 40, 40]);
    ellipse(&mut img, 140.0, 140.0, 45.0, 45.0, [230, 190, 60]);
    draw_text(&mut img, 290.0, 80.0, 44.0, "中华人民共和国", INK);
    draw_text(&mut img, 290.0, 150.0, 60.0, "居民身份证", INK);
    draw_text(&mut img, 90.0, 370.0, 26.0, "签发机关", LABEL);
    draw_text(&mut img, 230.0, 367.0, 28.0, "深圳市公安局福田分局", INK);
    let until = match p.valid_until {
        Some(d) => d.format("%Y.%m.%d").to_string(),
        None => "长期".into(),
    };
    let period = format!("{}-{until}", p.valid_from.format("%Y.%m.%d"));
    draw_text(&mut img, 90.0, 440.0, 26.0, "有效期限", LABEL);
    draw_text(&mut img, 230.0, 437.0, 28.0, &period, INK);
    img
}

/// A liveness photo (480 × 640).
pub fn liveness_photo(seed: u64) -> RgbImage {
    let mut img = RgbImage::new(480, 640);
    face(&mut img, 0, 0, 480, 640, &mut Rng::new(seed ^ 0x11FE));
    img
}

/// A scanned application form (A4 at 150 dpi), signed or not.
pub fn form(p: &Person, signed: bool, seed: u64) -> RgbImage {
    let (w, h) = (1240u32, 1754u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([248, 248, 246]));
    draw_text(
        &mut img,
        260.0,
        110.0,
        52.0,
        "数字证书介质遗失补办申请表",
        INK,
    );
    let rows = [
        format!("申请人姓名：{}", p.name),
        format!("公民身份号码：{}", p.id_number),
        "证书序列号：5A3F00C1D2E3".to_string(),
        "联系电话：13800138000".to_string(),
        "遗失情况说明：本人不慎遗失数字证书介质，申请补办。".to_string(),
    ];
    for (i, row) in rows.iter().enumerate() {
        let y = 300.0 + 90.0 * i as f32;
        draw_text(&mut img, 125.0, y, 32.0, row, INK);
        fill(&mut img, 125, y as u32 + 50, 990, 2, [90, 90, 90]);
    }
    let (bx, by) = (
        (SIGNATURE_BOX.x * w as f32) as u32,
        (SIGNATURE_BOX.y * h as f32) as u32,
    );
    let (bw, bh) = (
        (SIGNATURE_BOX.w * w as f32) as u32,
        (SIGNATURE_BOX.h * h as f32) as u32,
    );
    draw_text(
        &mut img,
        bx as f32,
        by as f32 - 50.0,
        30.0,
        "申请人签名：",
        INK,
    );
    for (x, y, ww, hh) in [
        (bx, by, bw, 3),
        (bx, by + bh - 3, bw, 3),
        (bx, by, 3, bh),
        (bx + bw - 3, by, 3, bh),
    ] {
        fill(&mut img, x, y, ww, hh, [60, 60, 60]);
    }
    if signed {
        let mut r = Rng::new(seed ^ 0x5161);
        let (amp, freq) = (
            bh as f32 * (0.15 + r.below(15) as f32 / 100.0),
            0.03 + r.below(4) as f32 / 100.0,
        );
        for i in 0..(bw * 7 / 10) {
            let x = bx + bw / 7 + i;
            let y = by as f32 + bh as f32 / 2.0 + amp * (i as f32 * freq).sin();
            fill(&mut img, x, y as u32, 3, 4, [15, 15, 40]);
        }
    }
    img
}

/// The damage planted in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    None,
    /// Turned clockwise by this many degrees (the fix is the rest of the circle).
    Turned(u16),
    Blurred,
    Dark,
    Bright,
    Small,
    Jpeg(u8),
}

pub fn damage(img: &RgbImage, d: Damage) -> RgbImage {
    let map = |f: &dyn Fn(u8) -> u8| {
        let mut out = img.clone();
        out.pixels_mut()
            .for_each(|p| p.0.iter_mut().for_each(|v| *v = f(*v)));
        out
    };
    match d {
        Damage::None | Damage::Jpeg(_) => img.clone(),
        Damage::Turned(90) => imageops::rotate90(img),
        Damage::Turned(180) => imageops::rotate180(img),
        Damage::Turned(270) => imageops::rotate270(img),
        Damage::Turned(_) => img.clone(),
        Damage::Blurred => imageops::blur(img, 3.0),
        Damage::Dark => map(&|v| (f32::from(v) * 0.3) as u8),
        Damage::Bright => map(&|v| (f32::from(v) * 0.25 + 190.0) as u8),
        Damage::Small => {
            let s = 380.0 / img.width().max(img.height()) as f32;
            imageops::resize(
                img,
                (img.width() as f32 * s) as u32,
                (img.height() as f32 * s) as u32,
                imageops::FilterType::Triangle,
            )
        }
    }
}

/// The file the hall would send: JPEG (quality 85, or the damage's own) or PNG.
pub fn encode(img: &RgbImage, d: Damage) -> Vec<u8> {
    let mut out = Vec::new();
    let quality = match d {
        Damage::Jpeg(q) => q,
        _ => 85,
    };
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut Cursor::new(&mut out), quality)
        .encode_image(img)
        .unwrap();
    out
}

pub fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

pub fn grey(img: &RgbImage) -> GrayImage {
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        Luma([
            ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8,
        ])
    })
}

/// The demo's PDF form (signed), or the same file with the pen stroke blanked out byte for byte,
/// so the PDF's offsets stay valid.
pub fn form_pdf(signed: bool) -> Vec<u8> {
    let pdf = backoffice::demo::scans::form_pdf(
        "Application form",
        &["Name: Zhang San", "ID: 44030419900307123X"],
    );
    if signed {
        return pdf;
    }
    let stroke = b"1 w 345 120 m";
    let at = pdf
        .windows(stroke.len())
        .position(|w| w == stroke)
        .expect("the demo form's stroke");
    let end = at + pdf[at..].iter().position(|b| *b == b'\n').unwrap();
    let mut out = pdf;
    out[at..end].fill(b' ');
    out
}
