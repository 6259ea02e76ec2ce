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

/// How many applications, from the first, get drawn scans (the planted ones among them); the
/// rest keep small placeholders, so `demo` stays quick (drawing costs about a second of CPU per
/// application in a release build).
pub const DRAWN: usize = 24;

/// What the scans of one demo application show.
pub struct Subject<'a> {
    pub index: u64,
    pub name: &'a str,
    pub id_number: &'a str,
    pub district: &'a str,
    pub street: &'a str,
    pub today: NaiveDate,
    pub planted: Planted,
    /// The seed of the liveness photo (another application's for a reused photo).
    pub photo_seed: u64,
}

/// The five scans, as JPEG files (cards in a scene now and then, as phones and scanners send them).
pub fn scans(s: &Subject) -> Vec<(ScanKind, Vec<u8>)> {
    let seed = s.index.wrapping_mul(7919) + 17;
    let mut r = render::Rng::new(seed);
    let mut id_number = s.id_number.to_owned();
    if s.planted == Planted::OtherNumber {
        // The same region and birth date, another sequence: a valid number, not the typed one.
        let seq: u32 = id_number[14..17].parse().unwrap_or(0);
        let birth = NaiveDate::parse_from_str(&id_number[6..14], "%Y%m%d").unwrap_or(s.today);
        id_number = card::id_number(&id_number[..6], birth, (seq + 371) % 1000);
    }
    let years = r.below(9) as i32 + 1;
    let valid_from = shift(s.today, -years, r.below(300) as i64);
    let valid_until = match s.planted {
        Planted::Expired => Some(shift(s.today, -1, r.below(200) as i64)),
        _ if r.below(5) == 0 => None,
        _ => Some(shift(valid_from, if years > 8 { 20 } else { 10 }, 0)),
    };
    let valid_from = match s.planted {
        Planted::Expired => shift(s.today, -11, 0),
        _ => valid_from,
    };
    let p = Person {
        name: s.name.to_owned(),
        male: id_number.as_bytes()[16] % 2 == 1,
        id_number,
        valid_from,
        valid_until,
        address: (format!("广东省深圳市{}", s.district), s.street.to_owned()),
    };
    let print = Print::from_seed(seed);
    let scene = match r.below(6) {
        0 => Background::Scanner,
        1 => Background::Desk,
        _ => Background::None,
    };
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
    let q = [80, 85, 90][(s.index % 3) as usize];
    vec![
        (ScanKind::ApplicationForm, render::jpeg(&application, q)),
        (ScanKind::EsealForm, render::jpeg(&eseal, q)),
        (ScanKind::IdFront, render::jpeg(&front, q)),
        (ScanKind::IdBack, render::jpeg(&back, q)),
        (
            ScanKind::LivenessPhoto,
            render::jpeg(&card::liveness_photo(s.photo_seed), q),
        ),
    ]
}

/// A card front showing this application's name and number again (a resubmission's clearer
/// photo).
pub fn front_again(name: &str, id_number: &str, index: u64) -> Vec<u8> {
    let seed = index.wrapping_mul(7919) + 17;
    let p = Person {
        name: name.to_owned(),
        male: id_number.as_bytes().get(16).is_some_and(|b| b % 2 == 1),
        id_number: id_number.to_owned(),
        valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
        valid_until: None,
        address: ("广东省深圳市南山区".into(), "科技园路十二号".into()),
    };
    render::jpeg(&card::front(&p, seed, Print::from_seed(seed)), 90)
}

fn shift(d: NaiveDate, years: i32, days: i64) -> NaiveDate {
    use chrono::Datelike;
    let y = d.with_year(d.year() + years).unwrap_or(d);
    y - chrono::Duration::days(days)
}

/// Renders every subject's scans, on as many threads as there are cores (the demo's first
/// command should not wait long for its pictures).
pub fn scans_all(subjects: &[Subject]) -> Vec<Vec<(ScanKind, Vec<u8>)>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = subjects.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = subjects
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(scans).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("rendering a demo scan"))
            .collect()
    })
}
