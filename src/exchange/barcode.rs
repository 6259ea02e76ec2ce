//! Code 128 (ISO/IEC 15417) for the labels (`courier-batch.md` §6): subset B for text such as
//! an `SF` prefix, subset C for runs of digit pairs, switched automatically to keep the symbol
//! short; the mod-103 check character; and an SVG drawn in millimetres with crisp bars.

use std::fmt::Write;

/// Bar and space widths of the symbol values 0–106, bar first. 106 (stop) has 7 elements.
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];

pub const CODE_C: u8 = 99;
pub const CODE_B: u8 = 100;
pub const START_B: u8 = 104;
pub const START_C: u8 = 105;
pub const STOP: u8 = 106;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("nothing to encode")]
    Empty,
    #[error("Code 128 (subset B/C) cannot encode {0:?}: printable ASCII only")]
    Unencodable(char),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    B,
    C,
}

/// The symbol values: start, data, check character, stop.
///
/// Subset C holds two digits per symbol but costs a switch, so it is used where it makes the
/// symbol shorter: for the whole text when it is an even run of digits, for a leading or
/// trailing run of 4 or more digits, and for a run of 6 or more in the middle. An odd run keeps
/// its extra digit in subset B, on the side where B is in use anyway.
pub fn symbols(data: &str) -> Result<Vec<u8>, BarcodeError> {
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    if let Some(c) = data.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(BarcodeError::Unencodable(c));
    }
    let b = data.as_bytes();
    let n = b.len();
    let run = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let lead = run(0);
    let mut set = if lead >= 4 || (lead == n && n.is_multiple_of(2)) {
        Set::C
    } else {
        Set::B
    };
    let mut out = vec![if set == Set::C { START_C } else { START_B }];
    let mut i = 0;
    while i < n {
        match set {
            Set::C if run(i) >= 2 => {
                out.push((b[i] - b'0') * 10 + (b[i + 1] - b'0'));
                i += 2;
            }
            Set::C => {
                out.push(CODE_B);
                set = Set::B;
            }
            Set::B => {
                let r = run(i);
                let worth = if i + r == n { r >= 4 } else { r >= 6 };
                if worth {
                    if !r.is_multiple_of(2) {
                        out.push(b[i] - b' ');
                        i += 1;
                    }
                    out.push(CODE_C);
                    set = Set::C;
                } else {
                    out.push(b[i] - b' ');
                    i += 1;
                }
            }
        }
    }
    out.push(checksum(&out));
    out.push(STOP);
    Ok(out)
}

/// The start value plus each following value times its position, modulo 103.
pub fn checksum(values: &[u8]) -> u8 {
    let sum: u32 = values
        .iter()
        .enumerate()
        .map(|(i, v)| u32::from(*v) * (i as u32).max(1))
        .sum();
    (sum % 103) as u8
}

/// The modules left to right, `true` for a bar, without quiet zones: 11 per symbol, 13 for stop.
pub fn modules(data: &str) -> Result<Vec<bool>, BarcodeError> {
    let symbols = symbols(data)?;
    let mut out = Vec::with_capacity(symbols.len() * 11 + 2);
    for s in symbols {
        for (k, w) in PATTERNS[usize::from(s)].bytes().enumerate() {
            out.extend(std::iter::repeat_n(k % 2 == 0, usize::from(w - b'0')));
        }
    }
    Ok(out)
}

/// `0.375` → `0.375`, `3.0` → `3`: short, exact enough for 0.001 mm.
fn mm(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// An `<svg>` of `data` sized in millimetres: bars `module_mm` per module and `height_mm` tall,
/// with `quiet_mm` left blank (white) on each side. One rectangle per bar, `crispEdges`, so a
/// printer at 203 or 300 dpi gets sharp edges (a module of a multiple of 0.125 mm is whole dots
/// at 203 dpi). The SVG carries no style attribute, so a strict CSP allows it inline.
pub fn svg(
    data: &str,
    module_mm: f64,
    height_mm: f64,
    quiet_mm: f64,
) -> Result<String, BarcodeError> {
    let m = modules(data)?;
    let width = quiet_mm * 2.0 + m.len() as f64 * module_mm;
    let (w, h) = (mm(width), mm(height_mm));
    let label: String = data
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="barcode" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" shape-rendering="crispEdges" role="img" aria-label="{label}"><rect width="{w}" height="{h}" fill="#fff"/><g fill="#000">"##
    );
    let mut i = 0;
    while i < m.len() {
        if !m[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < m.len() && m[i] {
            i += 1;
        }
        let x = quiet_mm + start as f64 * module_mm;
        let bw = (i - start) as f64 * module_mm;
        write!(
            out,
            r#"<rect x="{}" width="{}" height="{h}"/>"#,
            mm(x),
            mm(bw)
        )
        .expect("writing to a String");
    }
    out.push_str("</g></svg>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_code_128() {
        let mut seen = std::collections::HashSet::new();
        for (v, p) in PATTERNS.iter().enumerate() {
            let w: Vec<u32> = p.bytes().map(|b| u32::from(b - b'0')).collect();
            let total: u32 = w.iter().sum();
            assert_eq!(total, if v == 106 { 13 } else { 11 }, "value {v}");
            // Bars add up to an even number of modules, spaces to an odd one.
            let bars: u32 = w.iter().step_by(2).sum();
            assert_eq!(bars % 2, 0, "value {v}");
            assert!(seen.insert(*p), "value {v} twice");
        }
    }

    #[test]
    fn an_sf_waybill_switches_from_b_to_c() {
        // S=51, F=38, '1'=17 in B (the odd digit stays in B), CODE C, then pairs.
        // Check: 104 + 1·51 + 2·38 + 3·17 + 4·99 + 5·23 + 6·45 + 7·67 + 8·89 + 9·1 + 10·23
        //      = 2483 = 24·103 + 11.
        assert_eq!(
            symbols("SF1234567890123").unwrap(),
            [104, 51, 38, 17, 99, 23, 45, 67, 89, 1, 23, 11, 106]
        );
    }

    #[test]
    fn digits_alone_are_subset_c() {
        // 105 + 1·12 + 2·34 + 3·56 + 4·78 + 5·90 = 1115 = 10·103 + 85.
        assert_eq!(
            symbols("1234567890").unwrap(),
            [105, 12, 34, 56, 78, 90, 85, 106]
        );
        // A legacy 12-digit SF waybill: 105 + 12 + 2·34 + 3·56 + 4·78 + 5·90 + 6·12 = 1187 = 11·103 + 54.
        assert_eq!(
            symbols("123456789012").unwrap(),
            [105, 12, 34, 56, 78, 90, 12, 54, 106]
        );
        // An odd run of 5: C for the pairs, B for the last digit.
        let s = symbols("12345").unwrap();
        assert_eq!(&s[..5], [105, 12, 34, CODE_B, 21]);
    }

    #[test]
    fn order_numbers_and_short_runs() {
        // W T in B, then 12 digits at the end in C.
        let s = symbols("WT202611250001").unwrap();
        assert_eq!(&s[..4], [START_B, 55, 52, CODE_C]);
        assert_eq!(&s[4..10], [20, 26, 11, 25, 0, 1]);
        // A re-shipment: back to B for "-2".
        let s = symbols("WT202611250001-2").unwrap();
        assert_eq!(&s[10..13], [CODE_B, 13, 18]);
        // 104 + 55 + 2·52 + 3·99 + 4·20 + 5·26 + 6·11 + 7·25 + 8·0 + 9·1 + 10·100 + 11·13 + 12·18
        // = 2379 = 23·103 + 10.
        assert_eq!(s[13], 10);
        // Runs too short to pay for a switch stay in B.
        let s = symbols("AB12CD").unwrap();
        // 104 + 33 + 2·34 + 3·17 + 4·18 + 5·35 + 6·36 = 719 = 6·103 + 101.
        assert_eq!(s, [START_B, 33, 34, 17, 18, 35, 36, 101, STOP]);
        let s = symbols("A1234B").unwrap();
        assert!(!s.contains(&CODE_C));
        assert!(symbols("A123456B").unwrap().contains(&CODE_C));
        assert!(symbols("A1234").unwrap().contains(&CODE_C));
        assert_eq!(symbols("").unwrap_err(), BarcodeError::Empty);
        assert_eq!(
            symbols("运单").unwrap_err(),
            BarcodeError::Unencodable('运')
        );
        assert!(symbols("a\tb").is_err());
    }

    #[test]
    fn modules_start_and_end_with_bars() {
        let m = modules("SF1234567890123").unwrap();
        assert_eq!(m.len(), 12 * 11 + 13);
        assert!(m[0] && m[m.len() - 1] && m[m.len() - 2]);
        // Start B = 211214: bar 2, space 1, bar 1, space 2, bar 1, space 4.
        let start: String = m[..11].iter().map(|b| if *b { '1' } else { '0' }).collect();
        assert_eq!(start, "11010010000");
    }

    #[test]
    fn the_svg_keeps_its_quiet_zones() {
        let s = svg("SF1234567890123", 0.5, 15.0, 3.0).unwrap();
        // 145 modules × 0.5 mm + 2 × 3 mm.
        assert!(s.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" class="barcode" width="78.5mm" height="15mm" viewBox="0 0 78.5 15""#), "{s}");
        assert!(s.contains(r#"shape-rendering="crispEdges""#));
        let xs: Vec<(f64, f64)> = s
            .split(r#"<rect x=""#)
            .skip(1)
            .map(|r| {
                let x: f64 = r.split('"').next().unwrap().parse().unwrap();
                let w: f64 = r
                    .split("width=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                (x, w)
            })
            .collect();
        let (first, _) = xs[0];
        let (lx, lw) = xs[xs.len() - 1];
        assert_eq!(first, 3.0);
        assert!((lx + lw - 75.5).abs() < 1e-9, "{lx} + {lw}");
        let bars: f64 = xs.iter().map(|(_, w)| w).sum();
        let modules = modules("SF1234567890123").unwrap();
        assert_eq!(bars, modules.iter().filter(|b| **b).count() as f64 * 0.5);
        assert!(!s.contains("style"));
        assert!(
            svg("a<b", 0.25, 8.0, 3.0)
                .unwrap()
                .contains(r#"aria-label="a&lt;b""#)
        );
    }
}
