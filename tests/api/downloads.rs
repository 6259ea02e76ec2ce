//! What a clerk's browser sees of a download: the file name from `Content-Disposition` (RFC 5987
//! `filename*`, percent-encoded UTF-8, an ASCII fallback) and, in an xlsx, the number format of a
//! cell (money as `#,##0.00`, still a number).

use std::io::Read;

/// The name the browser saves the download under, after checking the header's shape:
/// `attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>`, no `+` for a space.
pub fn attachment_name(r: &reqwest::Response) -> String {
    let h = r
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .expect("a Content-Disposition header")
        .to_str()
        .expect("an ASCII header")
        .to_owned();
    let rest = h.strip_prefix("attachment; filename=\"").expect(&h);
    let (fallback, encoded) = rest.split_once("\"; filename*=UTF-8''").expect(&h);
    assert!(
        fallback
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)),
        "{h}"
    );
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"%!#$&+-.^_`|~".contains(&b)),
        "{h}"
    );
    let mut bytes = Vec::new();
    let mut i = 0;
    while i < encoded.len() {
        if encoded.as_bytes()[i] == b'%' {
            bytes.push(u8::from_str_radix(&encoded[i + 1..i + 3], 16).expect(&h));
            i += 3;
        } else {
            bytes.push(encoded.as_bytes()[i]);
            i += 1;
        }
    }
    String::from_utf8(bytes).expect("UTF-8")
}

fn part(xlsx: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// The number format of a cell of the first sheet (`row`, `col` from 0 as in the sheet, not as
/// in a calamine range), as the workbook's styles give it; `None` for a cell without a style.
pub fn number_format(xlsx: &[u8], row: u32, col: u32) -> Option<String> {
    let sheet = part(xlsx, "xl/worksheets/sheet1.xml");
    let mut letters = String::new();
    let mut c = col + 1;
    while c > 0 {
        letters.insert(0, (b'A' + ((c - 1) % 26) as u8) as char);
        c = (c - 1) / 26;
    }
    let at = sheet.find(&format!("<c r=\"{letters}{}\"", row + 1))?;
    let tag = &sheet[at..at + sheet[at..].find('>')?];
    let style: usize = attr(tag, "s")?.parse().ok()?;
    let styles = part(xlsx, "xl/styles.xml");
    let xfs = &styles[styles.find("<cellXfs")?..];
    let xf = xfs.split("<xf ").nth(style + 1)?;
    let id: u32 = attr(&format!(" {xf}"), "numFmtId")?.parse().ok()?;
    match id {
        0 => Some("General".into()),
        2 => Some("0.00".into()),
        3 => Some("#,##0".into()),
        4 => Some("#,##0.00".into()),
        _ => {
            let f = &styles[styles.find(&format!("<numFmt numFmtId=\"{id}\""))?..];
            attr(&f[..f.find("/>")?], "formatCode").map(|s| s.replace("&quot;", "\""))
        }
    }
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(tag[at..at + tag[at..].find('"')?].to_owned())
}
