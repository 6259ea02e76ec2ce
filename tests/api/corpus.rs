//! A generated corpus for the pre-checks, drawn by the same renderer as the demo
//! (`backoffice::render`): ID cards with spaced labels and the data in another typeface than the
//! labels (Noto Sans CJK, Noto Serif CJK, AR PL UMing), forms in three layouts (the hall's own
//! table, a signature box, a signature line) signed or not, liveness photos, the scene a scan is
//! taken in (scanner lid, desk, hand with perspective), and the damage a phone or scanner does
//! (turned, blurred, dark, washed out, glare, JPEG at several qualities, too small). Nothing is
//! committed as a file; every case is made from a seed. Shared with `benches/prechecks.rs`.
#![allow(dead_code)]

pub use backoffice::render::Rng;
pub use backoffice::render::card::Person;
use backoffice::render::card::{self, Print};
use backoffice::render::form::{self, Layout};
use backoffice::render::scene::{self, Background};
use backoffice::render::{self, Face};
use image::{GrayImage, ImageFormat, Luma, RgbImage, imageops};
use std::io::Cursor;

pub fn person(seed: u64) -> Person {
    card::person(seed)
}

/// The front of a card, cut to its edges, printed as seed `seed` chooses.
pub fn id_front(p: &Person, seed: u64) -> RgbImage {
    card::front(p, seed, Print::from_seed(seed))
}

pub fn id_back(p: &Person) -> RgbImage {
    card::back(p, Print::from_seed(u64::from(p.id_number.as_bytes()[16])))
}

pub fn liveness_photo(seed: u64) -> RgbImage {
    card::liveness_photo(seed)
}

/// A scanned application form in the box layout, signed or not.
pub fn form(p: &Person, signed: bool, seed: u64) -> RgbImage {
    form::form(p, Layout::Box, Face::Sans, signed, seed)
}

/// A form in any layout and face.
pub fn form_in(p: &Person, layout: Layout, face: Face, signed: bool, seed: u64) -> RgbImage {
    form::form(p, layout, face, signed, seed)
}

/// A card in its scene (a scanner lid, a desk, a hand).
pub fn in_scene(card: &RgbImage, bg: Background, seed: u64) -> RgbImage {
    scene::place(card, bg, seed)
}

/// The damage planted in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    None,
    /// Turned clockwise by this many degrees (the fix is the rest of the circle).
    Turned(u16),
    Blurred,
    Dark,
    /// Washed out evenly: everything pale, the ink too.
    Bright,
    /// A phone under strong light: the background clipped, labels pale, the number dark.
    Glare,
    Small,
    Jpeg(u8),
}

impl Damage {
    /// Whether the scan is over-exposed (either way).
    pub fn bright(self) -> bool {
        matches!(self, Damage::Bright | Damage::Glare)
    }
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
        Damage::Glare => scene::glare(img, u64::from(img.width())),
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

/// The file the hall would send: JPEG (quality 85, or the damage's own).
pub fn encode(img: &RgbImage, d: Damage) -> Vec<u8> {
    let quality = match d {
        Damage::Jpeg(q) => q,
        _ => 85,
    };
    render::jpeg(img, quality)
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

/// The hall's form, signed or not, as a scanned PDF (the page one JPEG image).
pub fn form_pdf(signed: bool) -> Vec<u8> {
    let p = Person {
        name: "张三".into(),
        id_number: "44030419900307123X".into(),
        ..person(42)
    };
    let img = form::form(&p, Layout::Hall, Face::Sans, signed, 7);
    backoffice::demo::scans::image_pdf(&render::jpeg(&img, 85), img.width(), img.height())
}

/// One case of the corpus, made from its seed: what is drawn, how, and what is planted.
#[derive(Debug, Clone)]
pub struct Case {
    pub seed: u64,
    pub person: Person,
    pub background: Background,
    pub damage: Damage,
    pub print: Print,
    pub layout: Layout,
    pub face: Face,
    pub signed: bool,
}

/// Even seeds calibrate the thresholds; odd seeds are held back to measure them.
pub fn calibration(seed: u64) -> bool {
    seed.is_multiple_of(2)
}

pub fn case(seed: u64) -> Case {
    let mut r = Rng::new(seed ^ 0xC0A5);
    let damage = match r.below(24) {
        0 => Damage::Turned(90),
        1 => Damage::Turned(180),
        2 => Damage::Turned(270),
        3 => Damage::Blurred,
        4 => Damage::Dark,
        5 => Damage::Bright,
        6 | 7 => Damage::Glare,
        8 => Damage::Small,
        9 => Damage::Jpeg(40),
        10 => Damage::Jpeg(60),
        _ => Damage::None,
    };
    Case {
        seed,
        person: person(seed + 10_000),
        background: r.pick(&Background::ALL),
        damage,
        print: Print::from_seed(seed),
        layout: r.pick(&Layout::ALL),
        face: r.pick(&Face::PRINT),
        signed: r.below(2) == 0,
    }
}

impl Case {
    /// The JPEG quality the scan is sent at (its damage's, or one of the usual ones).
    fn quality(&self) -> u8 {
        match self.damage {
            Damage::Jpeg(q) => q,
            _ => [75, 85, 92][(self.seed % 3) as usize],
        }
    }

    /// The card front as sent.
    pub fn front(&self) -> Vec<u8> {
        let card = card::front(&self.person, self.seed, self.print);
        self.finish(in_scene(&card, self.background, self.seed))
    }

    /// The card back as sent.
    pub fn back(&self) -> Vec<u8> {
        let card = card::back(&self.person, self.print);
        self.finish(in_scene(&card, self.background, self.seed))
    }

    /// The application form as sent (no scene: a page fills its scan).
    pub fn form(&self) -> Vec<u8> {
        let page = form::form(&self.person, self.layout, self.face, self.signed, self.seed);
        self.finish(page)
    }

    fn finish(&self, img: RgbImage) -> Vec<u8> {
        render::jpeg(&damage(&img, self.damage), self.quality())
    }
}
