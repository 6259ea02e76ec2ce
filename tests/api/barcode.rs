//! Code 128 checked by a second implementation: the symbols our encoder draws, rendered to an
//! image and decoded by zbar (`zbarimg`, Debian's zbar-tools; `.ci/run` installs it). The
//! labels printed by Chromium are read back the same way in `browser.rs`.

use backoffice::exchange::barcode;
use std::path::Path;
use std::process::Command;

/// What zbarimg reads in an image, one `TYPE:data` per symbol found.
pub fn zbar(image: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--quiet", "-Sdisable", "-Scode128.enable"])
        .arg(image)
        .output()
        .expect("zbarimg must be installed (apt-get install zbar-tools); .ci/run does it");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `data`'s modules as a plain PBM image: `px` pixels a module, a quiet zone of ten modules
/// each side, 60 pixels tall.
fn pbm(data: &str, px: usize) -> Vec<u8> {
    let modules = barcode::modules(data).unwrap();
    let quiet = vec![false; 10];
    let row: Vec<bool> = quiet
        .iter()
        .chain(&modules)
        .chain(&quiet)
        .flat_map(|m| std::iter::repeat_n(*m, px))
        .collect();
    let mut out = format!("P1\n{} 60\n", row.len()).into_bytes();
    let line: String = row.iter().map(|b| if *b { "1 " } else { "0 " }).collect();
    for _ in 0..60 {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

#[test]
fn zbar_reads_what_we_encode() {
    let dir = tempfile::tempdir().unwrap();
    // Subset B alone, C alone (even and odd runs), switches both ways, the waybills and order
    // numbers the labels carry, punctuation and the ends of the printable range.
    let cases = [
        "SF1234567890123",
        "1234567890",
        "123456789012",
        "12345",
        "7",
        "42",
        "WT202611250001",
        "WT202611250001-2",
        "AB12CD",
        "A1234B",
        "A123456B",
        "A1234",
        "1234A",
        "EMS 9876543210 CN",
        "a~b !\"#$%&'()*+,-./",
        "0150512140479054C03",
    ];
    for (i, data) in cases.iter().enumerate() {
        let path = dir.path().join(format!("code{i}.pbm"));
        std::fs::write(&path, pbm(data, 3)).unwrap();
        assert_eq!(zbar(&path), [format!("CODE-128:{data}")], "{data:?}");
    }
}
