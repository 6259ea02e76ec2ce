//! Reading what the OCR saw on an ID card: tesseract's TSV into lines with their boxes, then the
//! 18-character number (GB 11643, `ResidentId`), the name after 姓名, and the validity period
//! after 有效期限 (`YYYY.MM.DD-YYYY.MM.DD` or `…-长期`). Pure: the OCR itself runs elsewhere.

use crate::domain::resident_id::ResidentId;
use chrono::NaiveDate;
use serde::{Serialize, Serializer};

/// A box in pixels of the image read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelBox {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

impl PixelBox {
    fn union(self, o: PixelBox) -> PixelBox {
        let (right, bottom) = (
            (self.left + self.width).max(o.left + o.width),
            (self.top + self.height).max(o.top + o.height),
        );
        let (left, top) = (self.left.min(o.left), self.top.min(o.top));
        PixelBox {
            left,
            top,
            width: right - left,
            height: bottom - top,
        }
    }
}

/// One line of recognised text, spaces removed, with its words and their boxes.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrLine {
    pub text: String,
    pub words: Vec<(String, PixelBox)>,
}

impl OcrLine {
    /// The box around the words that share characters with `found` (what a finding was read
    /// from), or around the whole line.
    pub fn box_of(&self, found: &str) -> PixelBox {
        let hits = self
            .words
            .iter()
            .filter(|(w, _)| {
                let shared = w.chars().filter(|c| found.contains(*c)).count();
                shared * 2 >= w.chars().count().max(1) && !w.contains("姓名") && !w.contains("号码")
            })
            .map(|(_, b)| *b);
        let all = self.words.iter().map(|(_, b)| *b);
        hits.reduce(PixelBox::union)
            .or_else(|| all.reduce(PixelBox::union))
            .unwrap_or(PixelBox {
                left: 0,
                top: 0,
                width: 0,
                height: 0,
            })
    }
}

/// Tesseract's `tsv` output (level 5 rows are words) grouped into lines.
pub fn parse_tsv(tsv: &str) -> Vec<OcrLine> {
    let mut lines: Vec<((u32, u32, u32), OcrLine)> = Vec::new();
    for row in tsv.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        if f.len() < 12 || f[0] != "5" {
            continue;
        }
        let num = |i: usize| f[i].trim().parse::<u32>().unwrap_or(0);
        let text: String = f[11].chars().filter(|c| !c.is_whitespace()).collect();
        if text.is_empty() {
            continue;
        }
        let key = (num(2), num(3), num(4));
        let b = PixelBox {
            left: num(6),
            top: num(7),
            width: num(8),
            height: num(9),
        };
        match lines.last_mut() {
            Some((k, line)) if *k == key => {
                line.text.push_str(&text);
                line.words.push((text, b));
            }
            _ => lines.push((
                key,
                OcrLine {
                    text: text.clone(),
                    words: vec![(text, b)],
                },
            )),
        }
    }
    lines.into_iter().map(|(_, l)| l).collect()
}

/// Characters OCR mistakes for digits in a number field, mapped to the digit meant.
fn as_id_char(c: char) -> Option<char> {
    Some(match c {
        '0'..='9' | 'X' => c,
        'x' | '×' | 'Ⅹ' => 'X',
        'O' | 'o' | 'D' | 'Q' => '0',
        'I' | 'l' | '|' | 'i' | '!' => '1',
        'Z' | 'z' => '2',
        'S' | 's' => '5',
        'B' => '8',
        'G' | 'b' => '6',
        _ => return None,
    })
}

/// The first run of 18 number-like characters in a line that is a valid GB 11643 number.
pub fn id_number_in(text: &str) -> Option<ResidentId> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let run: Vec<char> = chars[i..].iter().map_while(|c| as_id_char(*c)).collect();
        if run.len() >= 18 {
            for w in run.windows(18) {
                let s: String = w.iter().collect();
                if let Ok(id) = ResidentId::parse(&s) {
                    return Some(id);
                }
            }
        }
        i += run.len().max(1);
    }
    None
}

/// The ID number and the line it was read from; a line labelled 号码 is tried first.
pub fn find_id_number(lines: &[OcrLine]) -> Option<(ResidentId, &OcrLine)> {
    let labelled = lines.iter().filter(|l| l.text.contains("号码"));
    let others = lines.iter().filter(|l| !l.text.contains("号码"));
    labelled
        .chain(others)
        .find_map(|l| id_number_in(&l.text).map(|id| (id, l)))
}

fn is_name_char(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || c == '·' || c == '•'
}

/// The name after 姓名: the ideographs that follow it (· for minority names), two or more.
pub fn find_name(lines: &[OcrLine]) -> Option<(String, &OcrLine)> {
    lines.iter().find_map(|l| {
        let at = l.text.find("姓名")?;
        let name: String = l.text[at + "姓名".len()..]
            .chars()
            .skip_while(|c| !is_name_char(*c))
            .take_while(|c| is_name_char(*c))
            .map(|c| if c == '•' { '·' } else { c })
            .collect();
        (name.chars().count() >= 2).then_some((name, l))
    })
}

/// The end of an ID card's validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidUntil {
    Date(NaiveDate),
    /// 长期: valid without end (people over 46).
    LongTerm,
}

impl ValidUntil {
    pub fn expired_on(self, today: NaiveDate) -> bool {
        matches!(self, ValidUntil::Date(d) if d < today)
    }
}

impl Serialize for ValidUntil {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ValidUntil::Date(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
            ValidUntil::LongTerm => s.serialize_str("long_term"),
        }
    }
}

impl std::fmt::Display for ValidUntil {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValidUntil::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            ValidUntil::LongTerm => f.write_str("long_term"),
        }
    }
}

fn date8(d: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(d, "%Y%m%d").ok()
}

/// The end of the validity period after 有效期限 (or on a line of two dates): the digits are
/// taken whatever the separators OCR made of the dots and the dash; the start must precede the end.
pub fn find_validity(lines: &[OcrLine]) -> Option<(ValidUntil, &OcrLine)> {
    let labelled = lines.iter().filter(|l| l.text.contains("有效"));
    let others = lines.iter().filter(|l| !l.text.contains("有效"));
    labelled.chain(others).find_map(|l| {
        let text = match l.text.find("期限") {
            Some(at) => &l.text[at + "期限".len()..],
            None => l.text.as_str(),
        };
        let digits: String = text
            .chars()
            .filter_map(|c| as_id_char(c).filter(char::is_ascii_digit))
            .collect();
        if text.contains("长期") && digits.len() >= 8 {
            date8(&digits[..8])?;
            return Some((ValidUntil::LongTerm, l));
        }
        if digits.len() != 16 {
            return None;
        }
        let (from, until) = (date8(&digits[..8])?, date8(&digits[8..])?);
        (from < until).then_some((ValidUntil::Date(until), l))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: &str) -> OcrLine {
        OcrLine {
            text: t.into(),
            words: Vec::new(),
        }
    }

    #[test]
    fn the_number_is_read_through_common_confusions() {
        assert_eq!(
            id_number_in("公民身份号码44030419900307123X")
                .unwrap()
                .as_str(),
            "44030419900307123X"
        );
        assert_eq!(
            id_number_in("号码 44O3O41990O3O7I23x").unwrap().as_str(),
            "44030419900307123X"
        );
        // One digit wrong fails the check character: nothing is read rather than a wrong number.
        assert!(id_number_in("44030419900307124X").is_none());
    }

    #[test]
    fn the_name_follows_its_label() {
        let lines = [line("姓名张三丰"), line("性别男民族汉")];
        assert_eq!(find_name(&lines).unwrap().0, "张三丰");
        assert_eq!(
            find_name(&[line("姓名:买买提·艾力")]).unwrap().0,
            "买买提·艾力"
        );
        assert!(find_name(&[line("姓名")]).is_none());
    }

    #[test]
    fn validity_periods() {
        let v = |t: &str| find_validity(&[line(t)]).map(|(v, _)| v);
        assert_eq!(
            v("有效期限2016.03.01-2036.03.01"),
            Some(ValidUntil::Date(
                NaiveDate::from_ymd_opt(2036, 3, 1).unwrap()
            ))
        );
        assert_eq!(v("有效期限2016.03.01一长期"), Some(ValidUntil::LongTerm));
        assert_eq!(v("有效期限2036.03.01-2016.03.01"), None);
        let until = v("有效期限2006.03.01-2016.03.01").unwrap();
        assert!(until.expired_on(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()));
        assert!(!ValidUntil::LongTerm.expired_on(NaiveDate::from_ymd_opt(2099, 1, 1).unwrap()));
    }

    #[test]
    fn tsv_words_group_into_lines() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t90\t姓名\n\
                   5\t1\t1\t1\t1\t2\t50\t18\t60\t14\t88\t张 三\n\
                   5\t1\t1\t1\t2\t1\t10\t60\t200\t12\t91\t44030419900307123X\n";
        let lines = parse_tsv(tsv);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "姓名张三");
        let name = find_name(&lines).unwrap();
        let b = name.1.box_of(&name.0);
        assert_eq!((b.left, b.top, b.width, b.height), (50, 18, 60, 14));
        let (id, l) = find_id_number(&lines).unwrap();
        assert_eq!(l.box_of(id.as_str()).top, 60);
    }
}
