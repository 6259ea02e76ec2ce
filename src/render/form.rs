//! Application forms, A4 at 150 dpi (1240 × 1754), in three layouts: the hall's own printed
//! table (the seed's step 五: `数字证书申请表`, ending in `申请日期: … 申请人签名:`), a form with
//! a signature box under its label, and one with a `（签字/盖章）` line. Signed in the person's
//! hand (their name in a brush-like face, larger than print, with a flourish) or left blank.

use super::card::Person;
use super::{Face, Rng, fill, stroke, text, text_width};
use image::{Rgb, RgbImage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The hall's table, as its 打印申请表 step prints it.
    Hall,
    /// Rows of fields, then `申请人签名：` over a box.
    Box,
    /// Rows of fields, then `申请人（签字/盖章）：` and a line to sign on.
    Line,
}

impl Layout {
    pub const ALL: [Layout; 3] = [Layout::Hall, Layout::Box, Layout::Line];
}

pub const PAGE: (u32, u32) = (1240, 1754);
const INK: [u8; 3] = [25, 25, 30];
const RULE: [u8; 3] = [60, 60, 60];

/// A form for `p`, in `layout`, printed in `face`; signed or not.
pub fn form(p: &Person, layout: Layout, face: Face, signed: bool, seed: u64) -> RgbImage {
    let mut img = RgbImage::from_pixel(PAGE.0, PAGE.1, Rgb([250, 250, 247]));
    let spot = match layout {
        Layout::Hall => hall(&mut img, p, face),
        Layout::Box => boxed(&mut img, p, face),
        Layout::Line => lined(&mut img, p, face),
    };
    if signed {
        sign(&mut img, &p.name, spot, &mut Rng::new(seed ^ 0x5161));
    }
    img
}

/// Horizontal and vertical rules.
fn hline(img: &mut RgbImage, x0: u32, x1: u32, y: u32) {
    fill(img, x0, y, x1 - x0, 2, RULE);
}
fn vline(img: &mut RgbImage, x: u32, y0: u32, y1: u32) {
    fill(img, x, y0, 2, y1 - y0, RULE);
}

/// The hall's table; returns where the signature goes (x, y of its baseline area).
fn hall(img: &mut RgbImage, p: &Person, f: Face) -> (f32, f32) {
    let s = 24.0;
    text(
        img,
        f,
        330.0,
        90.0,
        26.0,
        "深圳市电子商务安全证书管理有限公司",
        INK,
        2.0,
    );
    text(img, f, 470.0, 140.0, 40.0, "数字证书申请表", INK, 6.0);
    let (x0, x1, xm) = (80u32, 1160u32, 620u32);
    let mut y = 230u32;
    let row = |img: &mut RgbImage, y: &mut u32, h: u32, cells: &[(u32, &str)], split: bool| {
        hline(img, x0, x1, *y);
        for (x, t) in cells {
            text(
                img,
                f,
                *x as f32 + 12.0,
                *y as f32 + (h as f32 - s) / 2.0 - 4.0,
                s,
                t,
                INK,
                0.0,
            );
        }
        vline(img, x0, *y, *y + h);
        vline(img, x1, *y, *y + h);
        if split {
            vline(img, xm, *y, *y + h);
        }
        *y += h;
    };
    row(img, &mut y, 56, &[(x0, "证书信息（带*为必填项）")], false);
    row(
        img,
        &mut y,
        56,
        &[
            (x0, "* 业务类型    遗失补办申请"),
            (xm, "* 证书金额   0.00元"),
        ],
        true,
    );
    row(
        img,
        &mut y,
        56,
        &[
            (x0, "* 证书类型    自然人证书"),
            (xm, "* 介质费用   0.00元"),
        ],
        true,
    );
    row(img, &mut y, 56, &[(x0, "申请人信息（带*为必填项）")], false);
    let name = format!("* 姓名    {}", p.name);
    row(
        img,
        &mut y,
        56,
        &[
            (x0, name.as_str()),
            (xm, "* 联系电话（移动电话）  13800138000"),
        ],
        true,
    );
    let id = format!("* 身份证号码  {}", p.id_number);
    row(
        img,
        &mut y,
        56,
        &[(x0, id.as_str()), (xm, "* 常用联系邮箱  user@example.com")],
        true,
    );
    row(img, &mut y, 56, &[(x0, "申请声明")], false);
    let declaration = [
        "本人承诺所填写的内容和提交的证明材料真实，并已认真阅读且同意接受《深圳市电子商务",
        "安全证书管理有限公司电子认证服务协议》的各项内容之规定，如有违反，愿意承担由此",
        "引起的一切后果及承担相关法律责任。",
    ];
    hline(img, x0, x1, y);
    for (i, l) in declaration.iter().enumerate() {
        text(
            img,
            f,
            x0 as f32 + 12.0,
            y as f32 + 14.0 + 40.0 * i as f32,
            s,
            l,
            INK,
            0.0,
        );
    }
    vline(img, x0, y, y + 140);
    vline(img, x1, y, y + 140);
    y += 140;
    // The last row: the date, and the label the applicant signs beside.
    let h = 110;
    hline(img, x0, x1, y);
    let ty = y as f32 + (h as f32 - s) / 2.0 - 4.0;
    text(
        img,
        f,
        x0 as f32 + 12.0,
        ty,
        s,
        "申请日期：2026年 11 月 12 日",
        INK,
        0.0,
    );
    let after = text(img, f, xm as f32 + 12.0, ty, s, "申请人签名：", INK, 0.0);
    vline(img, x0, y, y + h);
    vline(img, x1, y, y + h);
    vline(img, xm, y, y + h);
    hline(img, x0, x1, y + h);
    (after + 20.0, ty - 22.0)
}

/// Labelled rows with rules under them, shared by the box and line layouts.
fn fields(img: &mut RgbImage, p: &Person, f: Face, title: &str) {
    let w = text_width(f, 44.0, title);
    text(
        img,
        f,
        (PAGE.0 as f32 - w) / 2.0,
        110.0,
        44.0,
        title,
        INK,
        0.0,
    );
    let rows = [
        format!("申请人姓名：{}", p.name),
        format!("公民身份号码：{}", p.id_number),
        "证书序列号：0150512140479054C03".to_string(),
        "联系电话：13800138000".to_string(),
        "遗失情况说明：本人不慎遗失数字证书介质，申请补办。".to_string(),
    ];
    for (i, r) in rows.iter().enumerate() {
        let y = 300.0 + 90.0 * i as f32;
        text(img, f, 125.0, y, 30.0, r, INK, 0.0);
        hline(img, 125, 1115, y as u32 + 48);
    }
}

fn boxed(img: &mut RgbImage, p: &Person, f: Face) -> (f32, f32) {
    fields(img, p, f, "数字证书介质遗失补办申请表");
    let (bx, by, bw, bh) = (560u32, 1300u32, 480u32, 200u32);
    text(
        img,
        f,
        bx as f32,
        by as f32 - 50.0,
        30.0,
        "申请人签名：",
        INK,
        0.0,
    );
    hline(img, bx, bx + bw, by);
    hline(img, bx, bx + bw, by + bh);
    vline(img, bx, by, by + bh);
    vline(img, bx + bw, by, by + bh + 2);
    (bx as f32 + 40.0, by as f32 + 50.0)
}

fn lined(img: &mut RgbImage, p: &Person, f: Face) -> (f32, f32) {
    fields(img, p, f, "数字证书业务申请表");
    let y = 1350.0;
    let after = text(img, f, 125.0, y, 30.0, "申请人（签字/盖章）：", INK, 0.0);
    hline(img, after as u32 + 10, after as u32 + 420, y as u32 + 40);
    text(img, f, 880.0, y, 30.0, "日期：2026年11月12日", INK, 0.0);
    (after + 30.0, y - 30.0)
}

/// A signature: the name in a brush-like face, larger than print, each character a little off
/// the line, and a flourish under it.
fn sign(img: &mut RgbImage, name: &str, (x, y): (f32, f32), r: &mut Rng) {
    let px = r.range(46.0, 60.0);
    let ink = [r.below(40) as u8, r.below(40) as u8, 60 + r.below(80) as u8];
    let mut caret = x;
    for c in name.chars().filter(|c| *c != '·') {
        let dy = r.range(-6.0, 6.0);
        caret = text(
            img,
            Face::Kai,
            caret,
            y + dy,
            px,
            &c.to_string(),
            ink,
            r.range(-8.0, 2.0),
        );
    }
    let (amp, freq) = (r.range(4.0, 10.0), r.range(0.02, 0.06));
    let base = y + px * 1.05;
    let pts: Vec<(f32, f32)> = (0..40)
        .map(|i| {
            let t = x - 10.0 + (caret - x + 30.0) * i as f32 / 39.0;
            (t, base + amp * (t * freq).sin())
        })
        .collect();
    stroke(img, &pts, r.range(2.0, 3.5), ink);
}
