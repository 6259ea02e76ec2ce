//! The scene a scan is taken in: a card on a scanner lid, photographed on a desk, or held in a
//! hand (the card seen in perspective, the light uneven); a phone under strong light that clips
//! the background. Warps by a homography with bilinear sampling.

use super::Rng;
use image::{Rgb, RgbImage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// The card alone, cut to its edges (as the hall's upload crops it).
    None,
    /// On a scanner's white lid, slightly askew.
    Scanner,
    /// Photographed on a wooden desk, in perspective.
    Desk,
    /// Held in a hand against a room, more perspective, uneven light.
    Hand,
}

impl Background {
    pub const ALL: [Background; 4] = [
        Background::None,
        Background::Scanner,
        Background::Desk,
        Background::Hand,
    ];
}

/// Maps (x, y) of the output to the source by a 3 × 3 homography.
struct Homography([f32; 9]);

impl Homography {
    /// The map taking the unit square's corners to `q` (clockwise from top-left).
    fn square_to(q: [(f32, f32); 4]) -> Homography {
        let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = q;
        let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
        let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
        let den = dx1 * dy2 - dx2 * dy1;
        let g = (dx3 * dy2 - dx2 * dy3) / den;
        let h = (dx1 * dy3 - dx3 * dy1) / den;
        Homography([
            x1 - x0 + g * x1,
            x3 - x0 + h * x3,
            x0,
            y1 - y0 + g * y1,
            y3 - y0 + h * y3,
            y0,
            g,
            h,
            1.0,
        ])
    }

    fn inverse(&self) -> Homography {
        let m = &self.0;
        let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
            + m[2] * (m[3] * m[7] - m[4] * m[6]);
        let inv = [
            m[4] * m[8] - m[5] * m[7],
            m[2] * m[7] - m[1] * m[8],
            m[1] * m[5] - m[2] * m[4],
            m[5] * m[6] - m[3] * m[8],
            m[0] * m[8] - m[2] * m[6],
            m[2] * m[3] - m[0] * m[5],
            m[3] * m[7] - m[4] * m[6],
            m[1] * m[6] - m[0] * m[7],
            m[0] * m[4] - m[1] * m[3],
        ];
        Homography(inv.map(|v| v / det))
    }

    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let m = &self.0;
        let w = m[6] * x + m[7] * y + m[8];
        (
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        )
    }
}

fn bilinear(img: &RgbImage, x: f32, y: f32) -> Option<Rgb<u8>> {
    let (w, h) = (img.width() as f32, img.height() as f32);
    if x < 0.0 || y < 0.0 || x > w - 1.0 || y > h - 1.0 {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(img.width() - 1),
        (y0 + 1).min(img.height() - 1),
    );
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (a, b, c, d) = (
        img.get_pixel(x0, y0).0,
        img.get_pixel(x1, y0).0,
        img.get_pixel(x0, y1).0,
        img.get_pixel(x1, y1).0,
    );
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = f32::from(a[k]) * (1.0 - fx) + f32::from(b[k]) * fx;
        let bottom = f32::from(c[k]) * (1.0 - fx) + f32::from(d[k]) * fx;
        out[k] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    Some(Rgb(out))
}

/// The ground behind the card at (x, y).
fn ground(bg: Background, x: u32, y: u32, r: u64) -> Rgb<u8> {
    let n = ((x.wrapping_mul(73) ^ y.wrapping_mul(151) ^ r as u32) % 9) as u8;
    match bg {
        Background::None | Background::Scanner => Rgb([250 - n / 3, 250 - n / 3, 248 - n / 3]),
        Background::Desk => {
            // Wood grain: bands along x, warped.
            let grain = ((y as f32 / 9.0 + (x as f32 / 140.0).sin() * 3.0).sin() * 14.0) as i16;
            let v = |base: i16| (base + grain + i16::from(n)).clamp(0, 255) as u8;
            Rgb([v(150), v(105), v(70)])
        }
        Background::Hand => {
            let v = |base: i16| (base + i16::from(n)).clamp(0, 255) as u8;
            Rgb([v(90), v(95), v(105)])
        }
    }
}

/// The card placed in its scene: output size, the card's corners, the light.
pub fn place(card: &RgbImage, bg: Background, seed: u64) -> RgbImage {
    if bg == Background::None {
        return card.clone();
    }
    let mut r = Rng::new(seed ^ 0x5CE4E);
    let (cw, ch) = (card.width() as f32, card.height() as f32);
    // The frame is larger than the card; the card's corners are jittered for perspective.
    let (scale, jitter, out_w) = match bg {
        Background::Scanner => (1.0, 0.006, cw * 1.35),
        Background::Desk => (1.15, 0.035, cw * 1.6),
        _ => (1.25, 0.06, cw * 1.55),
    };
    let out_h = out_w * 0.75;
    let (w, h) = (cw * scale, ch * scale);
    let (ox, oy) = (
        (out_w - w) / 2.0 + r.range(-0.06, 0.06) * out_w,
        (out_h - h) / 2.0 + r.range(-0.06, 0.06) * out_h,
    );
    let mut j = || r.range(-jitter, jitter) * w;
    let corners = [
        (ox + j(), oy + j()),
        (ox + w + j(), oy + j()),
        (ox + w + j(), oy + h + j()),
        (ox + j(), oy + h + j()),
    ];
    let to_out = Homography::square_to(corners);
    let back = to_out.inverse();
    let (ow, oh) = (out_w as u32, out_h as u32);
    let noise = r.next_u64();
    // Uneven light: brighter towards one corner (a lamp, a window).
    let (lx, ly, lamp) = (
        r.range(0.0, 1.0),
        r.range(0.0, 1.0),
        match bg {
            Background::Hand => 0.10,
            Background::Desk => 0.06,
            _ => 0.0,
        },
    );
    RgbImage::from_fn(ow, oh, |x, y| {
        let (u, v) = back.apply(x as f32, y as f32);
        let p = if (0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v) {
            bilinear(card, u * (cw - 1.0), v * (ch - 1.0)).unwrap_or(Rgb([0, 0, 0]))
        } else {
            // A thumb over the card's lower left edge, when held.
            let thumb = bg == Background::Hand
                && ((x as f32 - ox).powi(2) / 900.0 + (y as f32 - oy - h * 0.8).powi(2) / 4900.0)
                    < 1.0;
            if thumb {
                Rgb([205, 160, 135])
            } else {
                ground(bg, x, y, noise)
            }
        };
        let d = ((x as f32 / out_w - lx).powi(2) + (y as f32 / out_h - ly).powi(2)).sqrt();
        let gain = 1.0 + lamp * (0.5 - d);
        Rgb(p.0.map(|c| (f32::from(c) * gain).clamp(0.0, 255.0) as u8))
    })
}

/// A phone under strong light: the background clips to white, printed labels go pale, dark
/// ink (the number) stays dark.
pub fn glare(img: &RgbImage, seed: u64) -> RgbImage {
    let mut r = Rng::new(seed ^ 0x61A7E);
    let (gain, lift) = (r.range(1.45, 1.7), r.range(55.0, 80.0));
    let mut out = img.clone();
    for p in out.pixels_mut() {
        for v in p.0.iter_mut() {
            *v = (f32::from(*v) * gain + lift).min(255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_homography_takes_the_square_to_the_corners() {
        let q = [(10.0, 20.0), (200.0, 15.0), (210.0, 140.0), (5.0, 150.0)];
        let m = Homography::square_to(q);
        for ((u, v), want) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            .iter()
            .zip(q)
        {
            let (x, y) = m.apply(*u, *v);
            assert!(
                (x - want.0).abs() < 0.01 && (y - want.1).abs() < 0.01,
                "{x},{y}"
            );
            let (bu, bv) = m.inverse().apply(x, y);
            assert!((bu - u).abs() < 1e-3 && (bv - v).abs() < 1e-3);
        }
    }
}
