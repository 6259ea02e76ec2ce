//! Where the print lies on a page, from cheap grey-level profiles: which way its lines run and
//! which rows hold it. They spare the OCR orientations and parts of the page.

use super::{CheckKind, quality};
use image::{GrayImage, imageops};

/// Whether a page's lines of print run across the image (upright or upside down) rather than
/// down it (turned a quarter): on a shrunken, thresholded copy, ink summed along rows varies
/// more (lines and the gaps between them) than summed along columns. A cheap cue that spares
/// the OCR two of the four orientations.
pub fn lines_run_across(img: &GrayImage) -> bool {
    let work = imageops::thumbnail(img, (img.width() / 3).max(1), (img.height() / 3).max(1));
    let q = quality(&work, CheckKind::ApplicationForm);
    let mid = (u16::from(q.dark_level) + u16::from(q.light_level)) / 2;
    let (w, h) = (work.width() as usize, work.height() as usize);
    let mut rows = vec![0f32; h];
    let mut cols = vec![0f32; w];
    for (x, y, p) in work.enumerate_pixels() {
        if u16::from(p.0[0]) < mid {
            rows[y as usize] += 1.0;
            cols[x as usize] += 1.0;
        }
    }
    // How much each profile changes from one step to the next, over its mean.
    let rough = |v: &[f32]| {
        let mean = v.iter().sum::<f32>() / v.len().max(1) as f32;
        let steps: f32 = v.windows(2).map(|p| (p[1] - p[0]).abs()).sum();
        steps / (v.len().max(2) - 1) as f32 / mean.max(1e-3)
    };
    rough(&rows) >= rough(&cols)
}

/// The rows of a page that hold its print, top and bottom in fractions of its height: rows of a
/// shrunken, thresholded copy with more than a few dark pixels (specks left out). `None` for a
/// page with no print. Lets the OCR read a band of the page rather than all of it.
pub fn ink_extent(img: &GrayImage) -> Option<(f32, f32)> {
    let work = imageops::thumbnail(img, (img.width() / 4).max(1), (img.height() / 4).max(1));
    let q = quality(&work, CheckKind::ApplicationForm);
    if q.light_level.saturating_sub(q.dark_level) < 40 {
        return None;
    }
    let mid = (u16::from(q.dark_level) + u16::from(q.light_level)) / 2;
    let (w, h) = (work.width(), work.height());
    // A twentieth of the width each side and a fiftieth of the height top and bottom are left
    // out: a scanner's dark edge is not print.
    let (x0, x1) = (w / 20, w - w / 20);
    let inked = |y: u32| {
        (x0..x1)
            .filter(|x| u16::from(work.get_pixel(*x, y).0[0]) < mid)
            .count()
            >= 3
    };
    let (y0, y1) = (h / 50, h - h / 50);
    let first = (y0..y1).find(|y| inked(*y))?;
    let last = (y0..y1).rev().find(|y| inked(*y))?;
    Some((first as f32 / h as f32, (last + 1) as f32 / h as f32))
}
