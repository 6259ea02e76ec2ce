//! The demo's scans, drawn by the same renderer as the pre-check tests (`crate::render`): each
//! application's card shows its typed name and number (front) and a validity period still
//! running (back), its form is the hall's table with that name and number, signed, its e-seal
//! form names the holder, its liveness photo is its own. A few carry one planted defect each, so
//! a newcomer sees every kind of finding once.

use crate::domain::scan::ScanKind;
use crate::render::card::{self, Person, Print};
use crate::render::form::{self, Layout};
use crate::render::scene::{self, Background};
use crate::render::{self, Face};
use chrono::NaiveDate;
use image::imageops;

/// The one defect an application's scans carry, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planted {
    None,
    /// The card shows another (valid) number than the one typed.
    OtherNumber,
    /// The form is not signed.
    BlankSignature,
    /// The card front is out of focus.
    Blurred,
    /// The card front was photographed turned a quarter.
    Turned,
    /// The card expired before today.
    Expired,
    /// The liveness photo is another application's (`photo_of` names whose).
    ReusedPhoto,
}

/// The defects planted, one application each, in this order from the first application on.
pub const PLANTED: [Planted; 6] = [
    Planted::OtherNumber,
    Planted::BlankSignature,
    Planted::Blurred,
    Planted::Turned,
    Planted::Expired,
    Planted::ReusedPhoto,
];

/// How many applications get drawn scans: all that wait in the queue, or at most
/// `BACKOFFICE_DEMO_DRAWN` (drawing costs about a second of CPU per application in a release
/// build, several in a debug build; the tests draw a few).
pub fn drawing_limit() -> usize {
    std::env::var("BACKOFFICE_DEMO_DRAWN")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(usize::MAX)
}

/// The seed of the demo's applicants (`BACKOFFICE_DEMO_SEED`, default 1): with the same seed every
/// demo shows the same people, numbers and scans, whatever the day.
pub fn seed() -> u64 {
    std::env::var("BACKOFFICE_DEMO_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
}

/// What the scans of one demo application show.
#[derive(Debug, Clone)]
pub struct Subject {
    pub index: u64,
    pub name: String,
    pub id_number: String,
    pub district: &'static str,
    pub street: String,
    pub today: NaiveDate,
    pub planted: Planted,
    /// The seed of the liveness photo (another application's for a reused photo).
    pub photo_seed: u64,
}

/// The person the scans show: the typed name and number (another valid number when that is the
/// planted defect), a validity period still running (or over, when planted).
fn person(s: &Subject) -> Person {
    let mut r = render::Rng::new(seed_of(s.index) ^ 0xDA7A);
    let mut id_number = s.id_number.clone();
    if s.planted == Planted::OtherNumber {
        // The same region and birth date, another sequence: a valid number, not the typed one.
        let seq: u32 = id_number[14..17].parse().unwrap_or(0);
        let birth = NaiveDate::parse_from_str(&id_number[6..14], "%Y%m%d").unwrap_or(s.today);
        id_number = card::id_number(&id_number[..6], birth, (seq + 371) % 1000);
    }
    let years = r.below(9) as i32 + 1;
    let valid_from = shift(s.today, -years, r.below(300) as i64);
    let (valid_from, valid_until) = match s.planted {
        Planted::Expired => (
            shift(s.today, -11, 0),
            Some(shift(s.today, -1, r.below(200) as i64)),
        ),
        _ if r.below(5) == 0 => (valid_from, None),
        _ => (
            valid_from,
            Some(shift(valid_from, if years > 8 { 20 } else { 10 }, 0)),
        ),
    };
    Person {
        name: s.name.clone(),
        male: id_number.as_bytes()[16] % 2 == 1,
        id_number,
        valid_from,
        valid_until,
        address: (format!("广东省深圳市{}", s.district), s.street.clone()),
    }
}

/// The renderer's seed of application `index` (its card's portrait, print and scene).
fn seed_of(index: u64) -> u64 {
    index.wrapping_mul(7919) + 17
}

/// The five scans, as JPEG files.
pub fn scans(s: &Subject) -> Vec<(ScanKind, Vec<u8>)> {
    let seed = seed_of(s.index);
    let mut r = render::Rng::new(seed);
    let p = person(s);
    let print = Print::from_seed(seed);
    // Cut to the card's edges, as the hall's upload crops it (the tests' corpus has the scenes).
    let scene = Background::None;
    let mut front = scene::place(&card::front(&p, seed, print), scene, seed);
    match s.planted {
        Planted::Blurred => front = imageops::blur(&front, 3.0),
        Planted::Turned => front = imageops::rotate90(&front),
        _ => {}
    }
    let back = scene::place(&card::back(&p, print), scene, seed + 1);
    let signed = s.planted != Planted::BlankSignature;
    let application = form::form(&p, Layout::Hall, Face::Sans, signed, seed);
    let eseal = form::form(&p, Layout::Box, r.pick(&Face::PRINT), true, seed + 2);
    let q = [88, 90, 92][(s.index % 3) as usize];
    vec![
        (ScanKind::ApplicationForm, render::jpeg(&application, q)),
        (ScanKind::EsealForm, render::jpeg(&eseal, q)),
        (ScanKind::IdFront, render::jpeg(&front, q)),
        (ScanKind::IdBack, render::jpeg(&back, q)),
        (
            ScanKind::LivenessPhoto,
            // A reused photo was saved again (other bytes, the same picture): only its likeness
            // finds it, on whichever of the two is checked second.
            render::jpeg(
                &card::liveness_photo(s.photo_seed),
                if s.planted == Planted::ReusedPhoto {
                    75
                } else {
                    q
                },
            ),
        ),
    ]
}

/// The card front of a resubmission: the same card (name, number, portrait), photographed again
/// on a scanner's lid.
pub fn front_again(s: &Subject) -> Vec<u8> {
    let seed = seed_of(s.index);
    let p = person(s);
    let front = card::front(&p, seed, Print::from_seed(seed));
    render::jpeg(&scene::place(&front, Background::Scanner, seed + 5), 90)
}

fn shift(d: NaiveDate, years: i32, days: i64) -> NaiveDate {
    use chrono::Datelike;
    let y = d.with_year(d.year() + years).unwrap_or(d);
    y - chrono::Duration::days(days)
}

/// One application's scans.
pub type Files = Vec<(ScanKind, Vec<u8>)>;

/// Renders the subjects' scans on as many threads as there are cores, while the caller stores
/// what is ready: `next` hands them back in the subjects' order (the demo's first command should
/// not wait long for its pictures, nor hold them all in memory).
pub struct Drawing {
    lanes: Vec<tokio::sync::mpsc::Receiver<Files>>,
    taken: usize,
}

impl Drawing {
    pub fn start(subjects: Vec<Subject>) -> Drawing {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let subjects = std::sync::Arc::new(subjects);
        let lanes = (0..threads)
            .map(|lane| {
                let (tx, rx) = tokio::sync::mpsc::channel(4);
                let subjects = subjects.clone();
                std::thread::spawn(move || {
                    for s in subjects.iter().skip(lane).step_by(threads) {
                        // The receiver is gone when the demo stopped on an error.
                        if tx.blocking_send(scans(s)).is_err() {
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        Drawing { lanes, taken: 0 }
    }

    /// The next subject's scans; None after the last.
    pub async fn next(&mut self) -> Option<Files> {
        let n = self.lanes.len();
        let files = self.lanes[self.taken % n].recv().await?;
        self.taken += 1;
        Some(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::precheck::{SAME_PHOTO_WITHIN, dhash};

    /// Every demo application's liveness photo and card portrait hash apart from every other
    /// one by a wide margin (the reused-photo check would flag a pair within
    /// `SAME_PHOTO_WITHIN` bits), so only the planted reuse is found.
    #[test]
    fn the_demo_photos_are_all_distinct() {
        let n = 300u64;
        let mut hashes = Vec::new();
        for i in 0..n {
            let photo = image::DynamicImage::ImageRgb8(card::liveness_photo(i)).into_luma8();
            hashes.push((i, dhash(&photo)));
            let mut portrait = image::RgbImage::new(270, 330);
            card::face(
                &mut portrait,
                (0, 0, 270, 330),
                &mut render::Rng::new(seed_of(i) ^ 0xFACE),
            );
            let portrait = image::DynamicImage::ImageRgb8(portrait).into_luma8();
            hashes.push((i, dhash(&portrait)));
        }
        let mut closest = u32::MAX;
        for (k, (a, ha)) in hashes.iter().enumerate() {
            for (b, hb) in &hashes[k + 1..] {
                if a != b {
                    closest = closest.min(ha.distance(*hb));
                }
            }
        }
        assert!(
            closest > 2 * SAME_PHOTO_WITHIN,
            "two demo photos {closest} bits apart"
        );
    }
}
