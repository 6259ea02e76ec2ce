//! Reading what the OCR saw on an ID card: tesseract's TSV into lines with their boxes, then the
//! 18-character number (GB 11643, `ResidentId`), the name beside its label 姓名 (printed spaced
//! out, `姓 名`, and in another typeface than the name: the OCR splits or merges them), and the
//! validity period after 有效期限 (`YYYY.MM.DD-YYYY.MM.DD` or `…-长期`). Pure: the OCR itself
//! runs elsewhere.

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

/// One line of recognised text, spaces removed, with its words, their boxes and the OCR's
/// confidence in each (0–100, one per word).
#[derive(Debug, Clone, PartialEq)]
pub struct OcrLine {
    pub text: String,
    pub words: Vec<(String, PixelBox)>,
    pub confs: Vec<f32>,
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
        let conf = f[10].trim().parse::<f32>().unwrap_or(0.0);
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
                line.confs.push(conf);
            }
            _ => lines.push((
                key,
                OcrLine {
                    text: text.clone(),
                    words: vec![(text, b)],
                    confs: vec![conf],
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
    ('\u{4e00}'..='\u{9fff}').contains(&c) || is_dot(c)
}

/// The middle dot of minority names (`买买提·艾力`) and what OCR makes of it.
fn is_dot(c: char) -> bool {
    matches!(c, '·' | '•' | '・' | '‧' | '∙' | '⋅' | '．')
}

/// Where a label ends in `text` (a byte offset): its characters in order, each within `gap`
/// characters of the previous one, since a spaced-out label (`姓 名`) is read with a stray mark
/// between its characters or split across words. The first character must start the label.
pub fn label_end(text: &str, label: &str, gap: usize) -> Option<usize> {
    let want: Vec<char> = label.chars().collect();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    'start: for (i, &(_, c)) in chars.iter().enumerate() {
        if c != want[0] {
            continue;
        }
        let mut at = i;
        for w in &want[1..] {
            let next = chars[at + 1..]
                .iter()
                .take(gap + 1)
                .position(|&(_, c)| c == *w);
            match next {
                Some(k) => at += 1 + k,
                None => continue 'start,
            }
        }
        return Some(chars.get(at + 1).map_or(text.len(), |&(b, _)| b));
    }
    None
}

/// The name read from what follows its label: ideographs and the middle dot, two or more,
/// stray marks the OCR put between them (`|`, `_`, quotes) left out.
fn name_in(rest: &str) -> Option<String> {
    let name: String = rest
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '|' | '_' | '\'' | '"' | ':' | '：' | ',' | '，' | '、' | '`'
            )
        })
        .skip_while(|c| !is_name_char(*c) || is_dot(*c))
        .take_while(|c| is_name_char(*c))
        .map(|c| if is_dot(c) { '·' } else { c })
        .collect();
    let name = name.trim_end_matches('·').to_owned();
    (name.chars().filter(|c| *c != '·').count() >= 2).then_some(name)
}

/// The vertical middle of a box.
fn middle(b: PixelBox) -> u32 {
    b.top + b.height / 2
}

/// The words of a line from byte offset `from` of its text on, as (text, box): the word the
/// offset falls in gives only its rest.
fn words_from(l: &OcrLine, from: usize) -> Vec<(String, PixelBox)> {
    let mut at = 0;
    let mut out = Vec::new();
    for (w, b) in &l.words {
        let end = at + w.len();
        if end > from {
            let cut = from.saturating_sub(at);
            if w.is_char_boundary(cut) {
                out.push((w[cut..].to_owned(), *b));
            }
        }
        at = end;
    }
    out
}

/// A name from the words after its label: ideographs of words that follow one another without
/// a wide gap (the portrait's edge further right is not the name), first word from `min_left`.
fn name_of_words(words: &[(String, PixelBox)], min_left: u32) -> Option<String> {
    let mut text = String::new();
    let mut last: Option<PixelBox> = None;
    for (w, b) in words {
        if b.left + b.width / 2 < min_left || !w.chars().any(is_name_char) {
            if last.is_some() && w.chars().any(|c| c.is_alphanumeric()) {
                break;
            }
            continue;
        }
        if let Some(p) = last {
            let gap = b.left.saturating_sub(p.left + p.width);
            if gap > 2 * p.height.max(b.height) {
                break;
            }
        }
        text.push_str(w);
        last = Some(*b);
    }
    name_in(&text)
}

/// Where the 姓名 label ends in a line: its characters whatever the spacing, or its 名 alone
/// when the OCR misread the 姓 (`符名`, `和名`) at the very start of the line.
fn name_label_end(text: &str) -> Option<usize> {
    label_end(text, "姓名", 2).or_else(|| {
        let (i, _) = text.char_indices().take(2).find(|(_, c)| *c == '名')?;
        Some(i + '名'.len_utf8())
    })
}

/// The name beside 姓名: the label found by its characters whatever the spacing, the name read
/// after it on the same line, or — when the OCR put the name (another typeface, another size) on
/// a line of its own — from the words right of the label at its height; when the label was not
/// read at all, from the card's first row (the line above 性别 / 民族), right of where the
/// labels stand.
pub fn find_name(lines: &[OcrLine]) -> Option<(String, &OcrLine)> {
    for l in lines {
        let Some(end) = name_label_end(&l.text) else {
            continue;
        };
        let found = if l.words.is_empty() {
            name_in(&l.text[end..])
        } else {
            name_of_words(&words_from(l, end), 0)
        };
        if let Some(name) = found {
            return Some((name, l));
        }
        // The label's box: its words.
        let Some(label) = l
            .words
            .iter()
            .filter(|(w, _)| w.contains('姓') || w.contains('名'))
            .map(|(_, b)| *b)
            .reduce(PixelBox::union)
        else {
            continue;
        };
        let (mid, right) = (middle(label), label.left + label.width);
        let beside = lines.iter().filter(|o| !std::ptr::eq(*o, l)).find_map(|o| {
            let words: Vec<(String, PixelBox)> = o
                .words
                .iter()
                .filter(|(_, b)| b.left >= right && b.top <= mid && mid <= b.top + b.height)
                .cloned()
                .collect();
            name_of_words(&words, right).map(|n| (n, o))
        });
        if beside.is_some() {
            return beside;
        }
    }
    let second = lines.iter().position(|l| {
        label_end(&l.text, "性别", 2).is_some() || label_end(&l.text, "民族", 2).is_some()
    })?;
    let above = lines.get(second.checked_sub(1)?)?;
    if above.words.is_empty() {
        let tail: String = above
            .text
            .chars()
            .rev()
            .skip_while(|c| !is_name_char(*c))
            .take_while(|c| is_name_char(*c) || c.is_ascii_punctuation())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return name_in(&tail).map(|n| (n, above));
    }
    // The values of the 性别 row start right of the labels' column: so does the name.
    let values = lines[second]
        .words
        .iter()
        .find(|(w, _)| !w.chars().all(|c| "性别".contains(c)))
        .map_or(0, |(_, b)| b.left.saturating_sub(b.height));
    name_of_words(&above.words, values).map(|n| (n, above))
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
mod tests;
