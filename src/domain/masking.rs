//! What a hotline agent may see of personal data (least privilege): enough to recognise the
//! caller's application, never enough to impersonate them.

use super::contact::{Mobile, is_landline};
use super::personal_id::IdType;

/// Two-character surnames kept whole, so 欧阳娜娜 reads 欧阳*娜 rather than 欧***.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "申屠", "太史", "澹台", "公冶", "宗政",
    "濮阳", "单于", "呼延",
];

/// 张三 → 张*, 张小三 → 张*三, 欧阳娜娜 → 欧阳*娜, 阿卜杜·热合曼 → 阿*****曼; one character → *.
pub fn name(n: &str) -> String {
    let chars: Vec<char> = n.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        len => {
            let keep = if len >= 4 && COMPOUND_SURNAMES.iter().any(|s| n.trim().starts_with(s)) {
                2
            } else {
                1
            };
            let head: String = chars[..keep].iter().collect();
            format!("{head}{}{}", "*".repeat(len - keep - 1), chars[len - 1])
        }
    }
}

/// Resident IDs keep the region's first four and the last four characters
/// (4403**********123X); other documents keep their first and last three.
pub fn id_number(t: IdType, n: &str) -> String {
    let chars: Vec<char> = n.chars().collect();
    let (head, tail) = match t {
        IdType::ResidentId => (4, 4),
        _ => (1, 3),
    };
    // A short number would show most of itself: hide it all.
    if chars.len() < head + tail + 3 {
        return "*".repeat(chars.len());
    }
    let h: String = chars[..head].iter().collect();
    let tl: String = chars[chars.len() - tail..].iter().collect();
    format!("{h}{}{tl}", "*".repeat(chars.len() - head - tail))
}

/// 13800138000 → 138****8000.
pub fn mobile(m: &str) -> String {
    if m.len() == 11 && m.is_ascii() {
        format!("{}****{}", &m[..3], &m[7..])
    } else {
        "*".repeat(m.chars().count())
    }
}

/// A recipient's telephone on a parcel label (§6): a mobile as [`mobile`] (`138****8000`), a
/// landline keeps its area code and last 4 (`0755-****5678`), anything else is hidden whole.
pub fn phone(m: &str) -> String {
    let m = m.trim();
    if Mobile::parse(m).is_ok() {
        return mobile(m);
    }
    if is_landline(m) {
        let mut parts = m.split('-');
        let area = parts.next().unwrap_or("");
        let number = parts.next().unwrap_or("");
        return format!("{area}-****{}", &number[number.len() - 4..]);
    }
    "*".repeat(m.chars().count())
}

/// The address down to the district only.
pub fn address(province: &str, city: &str, district: &str) -> String {
    format!("{province}{city}{district}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name("张三"), "张*");
        assert_eq!(name("张小三"), "张*三");
        assert_eq!(name("欧阳娜娜"), "欧阳*娜");
        assert_eq!(name("欧阳娜"), "欧*娜");
        assert_eq!(name("司马相如"), "司马*如");
        assert_eq!(name("李"), "*");
        assert_eq!(name("阿卜杜·热合曼"), "阿*****曼");
        assert_eq!(name(""), "");
        for n in ["张三", "张小三", "欧阳娜娜", "阿卜杜·热合曼"] {
            assert!(name(n).contains('*'));
            assert_ne!(name(n), n);
        }
    }

    #[test]
    fn documents_and_phones() {
        assert_eq!(
            id_number(IdType::ResidentId, "44030519900101123X"),
            "4403**********123X"
        );
        assert_eq!(id_number(IdType::HkMacauPermit, "H12345678"), "H*****678");
        assert_eq!(id_number(IdType::TaiwanPermit, "12345678"), "1****678");
        assert_eq!(id_number(IdType::ForeignPassport, "E1234567"), "E****567");
        assert_eq!(id_number(IdType::ForeignPassport, "AB123"), "*****");
        assert_eq!(mobile("13800138000"), "138****8000");
        assert_eq!(phone("13800138000"), "138****8000");
        assert_eq!(phone(" 13800138000 "), "138****8000");
        assert_eq!(phone("0755-12345678"), "0755-****5678");
        assert_eq!(phone("010-1234567-89"), "010-****4567");
        assert_eq!(phone("abc"), "***");
        assert_eq!(address("广东省", "深圳市", "南山区"), "广东省深圳市南山区");
    }

    /// At the bounds: the shortest number shown in part, and one character less.
    #[test]
    fn masking_bounds() {
        // Other documents keep 1 + 3 and need at least 3 hidden: 7 characters.
        assert_eq!(id_number(IdType::ForeignPassport, "E123456"), "E***456");
        assert_eq!(id_number(IdType::ForeignPassport, "E12345"), "******");
        // Resident IDs keep 4 + 4: 11 characters are the fewest shown in part.
        assert_eq!(id_number(IdType::ResidentId, "44030512345"), "4403***2345");
        assert_eq!(id_number(IdType::ResidentId, "4403051234"), "**********");
        assert_eq!(id_number(IdType::ResidentId, ""), "");
        // Only an 11-digit ASCII mobile is shown in part.
        assert_eq!(mobile("1380013800"), "**********");
        assert_eq!(mobile("138001380001"), "************");
        assert_eq!(mobile("１３８００１３８０００"), "***********");
        assert_eq!(mobile(""), "");
    }
}
