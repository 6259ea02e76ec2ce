//! Tests of `domain::precheck`.

use super::*;
use image::Luma;

fn page(w: u32, h: u32) -> GrayImage {
    GrayImage::from_pixel(w, h, Luma([245]))
}

fn text_like(img: &mut GrayImage) {
    // Rows of crisp dark bars, like lines of print.
    for line in 0..10 {
        for x in 40..img.width() - 40 {
            if (x / 7) % 3 != 0 {
                for y in 0..14 {
                    img.put_pixel(x, 60 + line * 40 + y, Luma([30]));
                }
            }
        }
    }
}

#[test]
fn a_region_follows_the_turn_back_to_the_stored_file() {
    // A 4 × 2 image turned 90° clockwise stands 2 × 4; its pixel (0, 0) came from (0, 1).
    let stored = GrayImage::from_fn(4, 2, |x, y| Luma([(y * 4 + x) as u8]));
    for turn in [0u16, 90, 180, 270] {
        let upright = rotate(&stored, turn);
        let r = Region {
            x: 0.0,
            y: 0.0,
            w: 0.5,
            h: 0.25,
        };
        let (ux, uy, _, _) = r.pixels(&upright);
        let (sx, sy, sw, sh) = r.in_stored(turn).pixels(&stored);
        let v = upright.get_pixel(ux, uy).0[0];
        let inside = (sy..sy + sh).any(|y| (sx..sx + sw).any(|x| stored.get_pixel(x, y).0[0] == v));
        assert!(inside, "turn {turn}");
    }
}

#[test]
fn readings_compare_with_typed_data() {
    assert_eq!(
        compare(Some("4403041990030712 3x"), "44030419900307123X"),
        Comparison::Match
    );
    assert_eq!(
        compare(Some("张三"), "张三丰"),
        Comparison::Mismatch("张三".into())
    );
    assert_eq!(
        compare(Some("买买提•艾力"), "买买提·艾力"),
        Comparison::Match
    );
    assert_eq!(compare(None, "张三"), Comparison::Unreadable);
    // Typed in traditional characters, printed in simplified; the dot lost by the OCR.
    assert_eq!(compare(Some("张伟华"), "張偉華"), Comparison::Match);
    assert_eq!(
        compare(Some("买买提艾力"), "买买提·艾力"),
        Comparison::Match
    );
    assert_eq!(
        compare(Some("张伟"), "張偉華"),
        Comparison::Mismatch("张伟".into())
    );
}

#[test]
fn crisp_print_is_sharp_and_a_blur_is_not() {
    let mut img = page(900, 600);
    text_like(&mut img);
    let q = quality(&img, CheckKind::IdFront);
    assert!(
        !q.blurred && !q.too_dark && !q.too_bright && !q.too_small,
        "{q:?}"
    );
    let blurred = imageops::blur(&img, 3.0);
    assert!(quality(&blurred, CheckKind::IdFront).blurred);
}

#[test]
fn exposure_and_size() {
    let mut img = page(900, 600);
    text_like(&mut img);
    let dark = GrayImage::from_fn(900, 600, |x, y| Luma([img.get_pixel(x, y).0[0] / 4]));
    assert!(quality(&dark, CheckKind::IdFront).too_dark);
    let bright = GrayImage::from_fn(900, 600, |x, y| Luma([200 + img.get_pixel(x, y).0[0] / 5]));
    assert!(quality(&bright, CheckKind::IdFront).too_bright);
    assert!(quality(&page(400, 250), CheckKind::IdFront).too_small);
    // A card whose background clipped: washed out when its labels are pale or unread, not
    // when they keep their contrast.
    let mut clipped = GrayImage::from_pixel(900, 600, Luma([255]));
    text_like(&mut clipped);
    let q = quality(&clipped, CheckKind::IdFront);
    assert!(!q.too_bright && q.clipped > CLIPPED_ABOVE, "{q:?}");
    assert!(q.with_labels(None).too_bright);
    assert!(q.with_labels(Some(40)).too_bright);
    assert!(!q.with_labels(Some(150)).too_bright);
    assert!(
        !quality(&img, CheckKind::IdFront)
            .with_labels(None)
            .too_bright
    );
    assert!(!quality(&page(1200, 1700), CheckKind::ApplicationForm).too_small);
}

#[test]
fn the_same_photo_hashes_alike_and_another_does_not() {
    let a = GrayImage::from_fn(240, 320, |x, y| Luma([((x * 7 + y * 3) % 256) as u8]));
    let b = GrayImage::from_fn(240, 320, |x, y| Luma([((x * x + y * 5) / 9 % 256) as u8]));
    let a_small = imageops::resize(&a, 120, 160, imageops::FilterType::Triangle);
    assert!(same_photo(dhash(&a), dhash(&a_small)));
    assert!(!same_photo(dhash(&a), dhash(&b)));
}

#[test]
fn the_print_of_a_page_is_found_between_its_margins() {
    // Lines of print from row 60 to row 433 of 1000; a blank page has none.
    let mut img = page(800, 1000);
    text_like(&mut img);
    let (top, bottom) = ink_extent(&img).unwrap();
    assert!((0.05..=0.07).contains(&top), "{top}");
    assert!((0.42..=0.45).contains(&bottom), "{bottom}");
    assert_eq!(ink_extent(&page(800, 1000)), None);
    // A scanner's dark edge along the top is not print.
    for x in 0..800 {
        for y in 0..10 {
            img.put_pixel(x, y, Luma([10]));
        }
    }
    assert!((0.05..=0.07).contains(&ink_extent(&img).unwrap().0));
}
