//! The demo's people: names, Shenzhen addresses and resident ID numbers with a valid check
//! character.

use crate::domain::resident_id;
use rand::{Rng, rngs::StdRng};

pub(super) const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "欧阳", "司马", "郭", "何", "林",
];
pub(super) const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "晓东", "子涵",
];
pub(super) const DISTRICTS: &[&str] = &[
    "南山区",
    "福田区",
    "罗湖区",
    "宝安区",
    "龙岗区",
    "龙华区",
    "盐田区",
    "光明区",
    "坪山区",
];
pub(super) const STREETS: &[&str] = &[
    "科技园路",
    "深南大道",
    "滨海大道",
    "福华三路",
    "宝安大道",
    "龙岗大道",
    "人民南路",
    "梅林路",
];

pub(super) fn resident_id(rng: &mut StdRng) -> String {
    let region = [
        "440305", "440304", "440303", "440306", "440307", "110105", "310104", "430102",
    ][rng.random_range(0..8)];
    let first17 = format!(
        "{region}{}{:02}{:02}{:03}",
        rng.random_range(1955..2004),
        rng.random_range(1..=12),
        rng.random_range(1..=28),
        rng.random_range(0..1000)
    );
    let c = resident_id::check_char(first17.as_bytes()) as char;
    format!("{first17}{c}")
}
