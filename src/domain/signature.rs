//! A blank signature on a form, found from the form itself: the signature label the OCR read
//! (`签名`, `签字`, `签章`, `盖章`, wherever the form prints it), the places a signature goes
//! beside it (to its right on its line, as the hall's table row `申请人签名:` and a `签字：____`
//! line have it; below it, as a box under the label has it), and the ink there once printed
//! lines (long straight runs) and printed text (words the OCR read with confidence) are left
//! out. Pure: the OCR runs elsewhere.

use crate::domain::ocr_text::{OcrLine, PixelBox, label_end};
use crate::domain::precheck::Region;
use image::GrayImage;

/// The labels a signature sits beside.
pub const LABELS: [&str; 4] = ["签名", "签字", "签章", "盖章"];

/// Below this share of ink (after printed lines and text are left out) a signature place is
/// blank (calibrated on the corpus' calibration half: a signature covers 0.5–3 %).
pub const INK_BELOW: f32 = 0.002;

/// Words read with at least this confidence are print, left out of the ink; a signature the OCR
/// tried to read comes back with less.
const PRINT_CONF: f32 = 60.0;

/// What was measured: the ink in the place with most of it, and that place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub ink: f32,
    pub region: Region,
}

impl Measured {
    pub fn blank(&self) -> bool {
        self.ink < INK_BELOW
    }
}

/// The boxes of signature labels read on the page, in pixels of the image read.
pub fn label_boxes(lines: &[OcrLine]) -> Vec<PixelBox> {
    let mut out = Vec::new();
    for l in lines {
        if !LABELS
            .iter()
            .any(|lab| label_end(&l.text, lab, 1).is_some())
        {
            continue;
        }
        // The words of the label: those holding 签, 盖 or 章 (a word may hold the whole label).
        let b = l
            .words
            .iter()
            .filter(|(w, _)| w.contains('签') || w.contains('盖') || w.contains('章'))
            .map(|(_, b)| *b)
            .reduce(union);
        out.extend(b);
    }
    out
}

fn union(a: PixelBox, b: PixelBox) -> PixelBox {
    let (r, btm) = (
        (a.left + a.width).max(b.left + b.width),
        (a.top + a.height).max(b.top + b.height),
    );
    let (l, t) = (a.left.min(b.left), a.top.min(b.top));
    PixelBox {
        left: l,
        top: t,
        width: r - l,
        height: btm - t,
    }
}

/// A rectangle in pixels, x0..x1 × y0..y1.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

/// The signature's ink beside the labels read (`scale`: the OCR read the page at that many times
/// its size); `None` when no signature label was read.
pub fn measure(form: &GrayImage, lines: &[OcrLine], scale: f32, ink_below: u8) -> Option<Measured> {
    let px = |v: u32| (v as f32 / scale).round() as u32;
    let labels: Vec<Rect> = label_boxes(lines)
        .into_iter()
        .map(|b| Rect {
            x0: px(b.left),
            y0: px(b.top),
            x1: px(b.left + b.width),
            y1: px(b.top + b.height),
        })
        .collect();
    if labels.is_empty() {
        return None;
    }
    // Print is the page's common size; a signature is written larger, and the OCR may read a
    // clearly written one with confidence: words over 1.4 times the common height stay ink.
    let mut heights: Vec<u32> = lines
        .iter()
        .flat_map(|l| &l.words)
        .map(|(_, b)| b.height)
        .collect();
    heights.sort_unstable();
    // The label itself is print: when only a band of the page was read, a large signature's
    // words may be half of those read, so the common size is at most the label's.
    let label_h = label_boxes(lines)
        .iter()
        .map(|b| b.height)
        .min()
        .unwrap_or(0);
    let common = heights
        .get(heights.len() / 2)
        .copied()
        .unwrap_or(0)
        .min(label_h);
    let print: Vec<Rect> = lines
        .iter()
        .flat_map(|l| l.words.iter().zip(&l.confs))
        .filter(|((_, b), c)| **c >= PRINT_CONF && b.height * 10 <= common * 14)
        .map(|((_, b), _)| Rect {
            x0: px(b.left).saturating_sub(2),
            y0: px(b.top).saturating_sub(2),
            x1: px(b.left + b.width) + 2,
            y1: px(b.top + b.height) + 2,
        })
        .collect();
    let ink = InkMap::new(form, ink_below, &print, labels[0].y1 - labels[0].y0);
    let (w, h) = (form.width(), form.height());
    let mut best: Option<Measured> = None;
    for l in &labels {
        let lh = (l.y1 - l.y0).max(10);
        let beside = ink.bounded(
            Rect {
                x0: (l.x1 + lh / 4).min(w),
                y0: l.y0.saturating_sub(lh * 6 / 5),
                x1: (l.x1 + lh * 14).min(w),
                y1: (l.y1 + lh * 6 / 5).min(h),
            },
            lh * 2,
        );
        let below = ink.bounded(
            Rect {
                x0: l.x0.saturating_sub(lh),
                y0: (l.y1 + lh / 4).min(h),
                x1: (l.x0 + lh * 14).min(w),
                y1: (l.y1 + lh * 6).min(h),
            },
            lh * 2,
        );
        for r in [beside, below] {
            let m = Measured {
                ink: ink.share(r),
                region: Region {
                    x: r.x0 as f32 / w as f32,
                    y: r.y0 as f32 / h as f32,
                    w: r.x1.saturating_sub(r.x0) as f32 / w as f32,
                    h: r.y1.saturating_sub(r.y0) as f32 / h as f32,
                },
            };
            if best.is_none_or(|b| m.ink > b.ink) {
                best = Some(m);
            }
        }
    }
    best
}

/// Ink on the page with printed lines and printed words taken out.
struct InkMap {
    w: u32,
    h: u32,
    ink: Vec<bool>,
    /// Long horizontal / vertical runs: printed rules, box borders.
    rule: Vec<bool>,
}

impl InkMap {
    fn new(img: &GrayImage, below: u8, print: &[Rect], text_h: u32) -> Self {
        let (w, h) = (img.width(), img.height());
        let mut ink: Vec<bool> = img.as_raw().iter().map(|v| *v < below).collect();
        for r in print {
            for y in r.y0..r.y1.min(h) {
                for x in r.x0..r.x1.min(w) {
                    ink[(y * w + x) as usize] = false;
                }
            }
        }
        // A run longer than three text heights (and 40 px) is a rule, not a pen stroke.
        let long = (text_h * 3).max(40) as usize;
        let mut rule = vec![false; ink.len()];
        let (wu, hu) = (w as usize, h as usize);
        for y in 0..hu {
            let mut x = 0;
            while x < wu {
                let start = x;
                while x < wu && ink[y * wu + x] {
                    x += 1;
                }
                if x - start >= long {
                    mark(&mut rule, wu, hu, (start, x), (y, y + 1));
                }
                x += 1;
            }
        }
        for x in 0..wu {
            let mut y = 0;
            while y < hu {
                let start = y;
                while y < hu && ink[y * wu + x] {
                    y += 1;
                }
                if y - start >= long {
                    mark(&mut rule, wu, hu, (x, x + 1), (start, y));
                }
                y += 1;
            }
        }
        Self { w, h, ink, rule }
    }

    /// Shrinks a place to the rules around it: the nearest long horizontal rule above and below
    /// the middle, the nearest vertical rule past `lead` pixels from the left edge (a table cell,
    /// a box; the cell or box edge next to the label is crossed).
    fn bounded(&self, r: Rect, lead: u32) -> Rect {
        let (x0, x1) = (r.x0.min(self.w), r.x1.min(self.w));
        let (y0, y1) = (r.y0.min(self.h), r.y1.min(self.h));
        if x0 >= x1 || y0 >= y1 {
            return Rect {
                x0,
                y0,
                x1: x0,
                y1: y0,
            };
        }
        let wu = self.w as usize;
        let row_ruled = |y: u32| {
            let n = (x0..x1)
                .filter(|x| self.rule[y as usize * wu + *x as usize])
                .count();
            n * 2 > (x1 - x0) as usize
        };
        let col_ruled = |x: u32| {
            let n = (y0..y1)
                .filter(|y| self.rule[*y as usize * wu + x as usize])
                .count();
            n * 2 > (y1 - y0) as usize
        };
        let mid = (y0 + y1) / 2;
        // A rule within the first quarter below the top is the place's own edge (a box's top
        // border under its label): look past it.
        let skip = y0 + (y1 - y0) / 4;
        let top = (y0..mid)
            .rev()
            .find(|y| row_ruled(*y))
            .map_or(y0, |y| y + 1);
        let bottom = (skip.max(mid)..y1).find(|y| row_ruled(*y)).unwrap_or(y1);
        let right = ((x0 + lead).min(x1)..x1)
            .find(|x| col_ruled(*x))
            .unwrap_or(x1);
        Rect {
            x0,
            y0: top,
            x1: right,
            y1: bottom.max(top),
        }
    }

    fn share(&self, r: Rect) -> f32 {
        let area = (r.x1.saturating_sub(r.x0) * r.y1.saturating_sub(r.y0)) as f32;
        if area < 1.0 {
            return 0.0;
        }
        let wu = self.w as usize;
        let mut n = 0u32;
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                let i = y as usize * wu + x as usize;
                n += u32::from(self.ink[i] && !self.rule[i]);
            }
        }
        n as f32 / area
    }
}

/// Marks a run and a pixel around it (the anti-aliased edge of a printed line).
fn mark(m: &mut [bool], w: usize, h: usize, xs: (usize, usize), ys: (usize, usize)) {
    for y in ys.0.saturating_sub(1)..(ys.1 + 1).min(h) {
        for x in xs.0.saturating_sub(1)..(xs.1 + 1).min(w) {
            m[y * w + x] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn word(text: &str, left: u32, top: u32, width: u32, conf: f32) -> OcrLine {
        OcrLine {
            text: text.into(),
            words: vec![(
                text.into(),
                PixelBox {
                    left,
                    top,
                    width,
                    height: 30,
                },
            )],
            confs: vec![conf],
        }
    }

    fn page() -> GrayImage {
        GrayImage::from_pixel(1200, 900, Luma([250]))
    }

    fn stroke(img: &mut GrayImage, x: u32, y: u32, len: u32) {
        for i in 0..len {
            let yy = y + ((i as f32 / 7.0).sin() * 20.0 + 20.0) as u32;
            for d in 0..3 {
                img.put_pixel(x + i, yy + d, Luma([20]));
            }
        }
    }

    #[test]
    fn a_row_label_with_a_signature_beside_it_and_one_without() {
        // The hall's table row: a rule above and below, the label, the signature to its right.
        let mut form = page();
        for x in 50..1150 {
            for y in [400, 401, 480, 481] {
                form.put_pixel(x, y, Luma([30]));
            }
        }
        let lines = [word("申请人签名:", 600, 425, 180, 92.0)];
        let blank = measure(&form, &lines, 1.0, 128).unwrap();
        assert!(blank.blank(), "{blank:?}");
        stroke(&mut form, 800, 420, 200);
        let signed = measure(&form, &lines, 1.0, 128).unwrap();
        assert!(!signed.blank(), "{signed:?}");
        // The place found is right of the label, within the row.
        assert!(signed.region.x > 0.6 && signed.region.y > 400.0 / 900.0);
    }

    #[test]
    fn a_box_under_the_label_and_printed_text_left_out() {
        let mut form = page();
        // The box: borders are rules, not ink.
        for x in 300..700 {
            for y in [500, 501, 680, 681] {
                form.put_pixel(x, y, Luma([40]));
            }
        }
        for y in 500..682 {
            for x in [300, 301, 698, 699] {
                form.put_pixel(x, y, Luma([40]));
            }
        }
        // Printed text inside the place, read with confidence: not a signature.
        for x in 420..560 {
            for y in 620..640 {
                if x % 5 < 2 {
                    form.put_pixel(x, y, Luma([20]));
                }
            }
        }
        let lines = [
            word("签字", 300, 455, 70, 95.0),
            word("日期年月日", 420, 615, 140, 90.0),
        ];
        assert!(measure(&form, &lines, 1.0, 128).unwrap().blank());
        stroke(&mut form, 350, 540, 250);
        assert!(!measure(&form, &lines, 1.0, 128).unwrap().blank());
        // No label read: nothing measured.
        assert!(measure(&form, &[word("日期", 10, 10, 60, 90.0)], 1.0, 128).is_none());
    }
}
