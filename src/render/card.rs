//! Resident ID cards and liveness photos. A card is 856 × 540 px (about 250 dpi), laid out as the
//! real one: labels spaced out (`姓 名`, `性 别`, `民 族`, `出 生`, `住 址`) in pale blue, the data
//! in another typeface and in black, the portrait right, the number at the bottom.

use super::{Face, Rng, ellipse_in, fill, text};
use crate::domain::resident_id::check_char;
use chrono::{Datelike, NaiveDate};
use image::{Rgb, RgbImage};

/// A person the renderer knows the truth about.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub id_number: String,
    /// The validity period as printed: start, and end or 长期.
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub male: bool,
    pub address: (String, String),
}

const SURNAMES: &[&str] = &[
    "张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "欧阳", "徐", "孙", "马", "朱",
    "胡", "郭", "何", "林", "罗",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀", "霞", "平", "刚", "英", "华", "建", "国", "文", "红", "玉", "兰", "海", "峰",
];
/// Minority names, written with the middle dot.
const MINORITY: &[&str] = &[
    "买买提·艾力",
    "阿依古丽·吐尔逊",
    "热依拉·买买提",
    "古丽·艾山",
];
const REGIONS: &[&str] = &["440304", "440305", "440303", "440306", "110105", "310115"];
const STREETS: &[(&str, &str)] = &[
    ("广东省深圳市福田区", "福中路八十八号"),
    ("广东省深圳市南山区", "科技园路十二号"),
    ("广东省深圳市宝安区", "宝安大道三百号"),
    ("北京市朝阳区", "建国路九十一号"),
];

/// A valid GB 11643 number from a region, a birth date and a sequence.
pub fn id_number(region: &str, birth: NaiveDate, seq: u32) -> String {
    let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
    format!("{first17}{}", check_char(first17.as_bytes()) as char)
}

fn years_after(d: NaiveDate, years: i32) -> NaiveDate {
    d.with_year(d.year() + years).unwrap_or(d)
}

/// A person from a seed: about one in twelve has a minority name with the middle dot.
pub fn person(seed: u64) -> Person {
    let mut r = Rng::new(seed);
    let name = if r.below(12) == 0 {
        r.pick(MINORITY).to_string()
    } else {
        let mut n = r.pick(SURNAMES).to_string();
        for _ in 0..1 + r.below(2) {
            n.push_str(r.pick(GIVEN));
        }
        n
    };
    let birth =
        NaiveDate::from_ymd_opt(1950, 1, 1).expect("date") + chrono::Days::new(r.below(365 * 55));
    let id = id_number(r.pick(REGIONS), birth, r.below(1000) as u32);
    let valid_from =
        NaiveDate::from_ymd_opt(2007, 1, 1).expect("date") + chrono::Days::new(r.below(365 * 18));
    let valid_until = match r.below(5) {
        0 => None,
        _ => Some(years_after(
            valid_from,
            if r.below(2) == 0 { 10 } else { 20 },
        )),
    };
    let (a, b) = r.pick(STREETS);
    Person {
        name,
        male: id.as_bytes()[16] % 2 == 1,
        id_number: id,
        valid_from,
        valid_until,
        address: (a.to_owned(), b.to_owned()),
    }
}

pub const CARD: (u32, u32) = (856, 540);
const LABEL: [u8; 3] = [70, 120, 180];
const INK: [u8; 3] = [20, 20, 25];

/// How a card is printed: the labels' typeface and the data's (they differ on real cards).
#[derive(Debug, Clone, Copy)]
pub struct Print {
    pub labels: Face,
    pub data: Face,
}

impl Print {
    pub fn from_seed(seed: u64) -> Print {
        let mut r = Rng::new(seed ^ 0x7F1E);
        let labels = r.pick(&[Face::Sans, Face::Serif]);
        let data = r.pick(&[Face::Serif, Face::Ming, Face::Sans]);
        let data = if data == labels { Face::Ming } else { data };
        Print { labels, data }
    }
}

/// The guilloche-like background of a card: soft bands of colour.
fn card_ground(x: u32, y: u32, tint: u8) -> Rgb<u8> {
    let wave = ((x as f32 / 37.0).sin() * (y as f32 / 23.0).cos() * 6.0) as i16;
    let v = |base: i16| (base + wave).clamp(0, 255) as u8;
    Rgb([
        v(228 - (y / 45) as i16 + i16::from(tint % 7)),
        v(236 - (x / 90) as i16),
        v(242),
    ])
}

/// The front of a card: spaced labels, the name in the data's typeface, the portrait of `face_seed`.
pub fn front(p: &Person, face_seed: u64, print: Print) -> RgbImage {
    let tint = (face_seed % 50) as u8;
    let mut img = RgbImage::from_fn(CARD.0, CARD.1, |x, y| card_ground(x, y, tint));
    face(
        &mut img,
        (540, 60, 270, 330),
        &mut Rng::new(face_seed ^ 0xFACE),
    );
    let (lf, df) = (print.labels, print.data);
    let label = |img: &mut RgbImage, x: f32, y: f32, s: &str| {
        text(img, lf, x, y, 24.0, s, LABEL, 24.0);
    };
    label(&mut img, 50.0, 56.0, "姓名");
    text(&mut img, df, 160.0, 50.0, 34.0, &p.name, INK, 2.0);
    label(&mut img, 50.0, 126.0, "性别");
    text(
        &mut img,
        df,
        160.0,
        122.0,
        28.0,
        if p.male { "男" } else { "女" },
        INK,
        0.0,
    );
    label(&mut img, 260.0, 126.0, "民族");
    text(&mut img, df, 370.0, 122.0, 28.0, "汉", INK, 0.0);
    let b = &p.id_number[6..14];
    let birth = format!(
        "{}  年  {}  月  {}  日",
        &b[..4],
        b[4..6].trim_start_matches('0'),
        b[6..].trim_start_matches('0')
    );
    label(&mut img, 50.0, 196.0, "出生");
    text(&mut img, df, 160.0, 192.0, 28.0, &birth, INK, 0.0);
    label(&mut img, 50.0, 266.0, "住址");
    text(&mut img, df, 160.0, 262.0, 28.0, &p.address.0, INK, 1.0);
    text(&mut img, df, 160.0, 306.0, 28.0, &p.address.1, INK, 1.0);
    text(&mut img, lf, 50.0, 446.0, 24.0, "公民身份号码", LABEL, 2.0);
    text(
        &mut img,
        Face::Sans,
        270.0,
        436.0,
        36.0,
        &p.id_number,
        INK,
        3.0,
    );
    img
}

/// The back of a card: the emblem, the issuing authority and the validity period.
pub fn back(p: &Person, print: Print) -> RgbImage {
    let mut img = RgbImage::from_fn(CARD.0, CARD.1, |x, y| card_ground(y, x, 3));
    let full = (0, 0, CARD.0, CARD.1);
    ellipse_in(&mut img, full, (140.0, 140.0), (85.0, 85.0), [200, 40, 40]);
    ellipse_in(&mut img, full, (140.0, 140.0), (45.0, 45.0), [230, 190, 60]);
    text(
        &mut img,
        print.labels,
        290.0,
        80.0,
        44.0,
        "中华人民共和国",
        INK,
        6.0,
    );
    text(
        &mut img,
        print.labels,
        290.0,
        150.0,
        60.0,
        "居民身份证",
        INK,
        14.0,
    );
    text(
        &mut img,
        print.labels,
        90.0,
        374.0,
        24.0,
        "签发机关",
        LABEL,
        4.0,
    );
    text(
        &mut img,
        print.data,
        240.0,
        368.0,
        28.0,
        "深圳市公安局福田分局",
        INK,
        0.0,
    );
    let until = match p.valid_until {
        Some(d) => d.format("%Y.%m.%d").to_string(),
        None => "长期".into(),
    };
    let period = format!("{}-{until}", p.valid_from.format("%Y.%m.%d"));
    text(
        &mut img,
        print.labels,
        90.0,
        444.0,
        24.0,
        "有效期限",
        LABEL,
        4.0,
    );
    text(&mut img, Face::Sans, 240.0, 438.0, 28.0, &period, INK, 1.0);
    img
}

/// A liveness photo (480 × 640).
pub fn liveness_photo(seed: u64) -> RgbImage {
    let mut img = RgbImage::new(480, 640);
    face(&mut img, (0, 0, 480, 640), &mut Rng::new(seed ^ 0x11FE));
    img
}

/// A face in a box: its shape, place and tones come from the seed, so two seeds hash apart.
pub fn face(img: &mut RgbImage, (x, y, w, h): (u32, u32, u32, u32), rng: &mut Rng) {
    let bg = [200 + rng.below(40) as u8, 200 + rng.below(40) as u8, 210];
    fill(img, x, y, w, h, bg);
    let clip = (x, y, w, h);
    let (fx, fy, fw, fh) = (x as f32, y as f32, w as f32, h as f32);
    let cx = fx + fw * (0.35 + rng.below(30) as f32 / 100.0);
    let cy = fy + fh * (0.35 + rng.below(15) as f32 / 100.0);
    let (rx, ry) = (fw * (0.18 + rng.below(10) as f32 / 100.0), fh * 0.22);
    let skin = [170 + rng.below(60) as u8, 130 + rng.below(50) as u8, 110];
    // Shoulders, hair, face, eyes, mouth.
    let shirt = [40, 40 + rng.below(80) as u8, 90];
    ellipse_in(img, clip, (cx, fy + fh), (fw * 0.45, fh * 0.3), shirt);
    ellipse_in(
        img,
        clip,
        (cx, cy - ry * 0.4),
        (rx * 1.15, ry * 0.9),
        [30, 25, 20],
    );
    ellipse_in(img, clip, (cx, cy), (rx, ry), skin);
    let eye_dy = ry * (0.1 + rng.below(20) as f32 / 100.0);
    for side in [-1.0, 1.0] {
        let eye = (cx + side * rx * 0.4, cy - eye_dy);
        ellipse_in(img, clip, eye, (rx * 0.12, ry * 0.07), [20, 20, 20]);
    }
    ellipse_in(
        img,
        clip,
        (cx, cy + ry * 0.5),
        (rx * 0.35, ry * 0.06),
        [150, 60, 60],
    );
    // Patches of background, hair and light of the seed's own sizes, tones and places: what
    // makes two people's photos differ in the coarse grid a photo hash compares.
    for _ in 0..10 {
        let (bx, by) = (
            x + rng.below(u64::from(w)) as u32,
            y + rng.below(u64::from(h)) as u32,
        );
        let (pw, ph) = (
            w / 12 + rng.below(u64::from(w / 5)) as u32,
            h / 16 + rng.below(u64::from(h / 6)) as u32,
        );
        let tone = rng.below(256) as u8;
        // Inside the box: on a card the text around the portrait stays clear.
        let (pw, ph) = (pw.min(x + w - bx), ph.min(y + h - by));
        fill(img, bx, by, pw, ph, [tone, tone / 2 + 40, 255 - tone]);
    }
}
