//! File downloads: one `Content-Disposition` for every file the back office hands out, named in
//! Chinese (`待退款_2026-12-06.xlsx`) through RFC 5987's `filename*` with an ASCII fallback for
//! old clients (RFC 6266), and never cached.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The xlsx media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`: every byte of
/// the UTF-8 name outside RFC 5987's `attr-char` is percent-encoded (a space is `%20`, never
/// `+`); the fallback keeps ASCII letters, digits, `-`, `.` and `_` and writes `_` for the rest.
pub fn content_disposition(file_name: &str) -> HeaderValue {
    let value = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(file_name),
        percent_encode(file_name)
    );
    // Only ASCII letters, digits, `%` and the attr-char punctuation are in it.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The bytes as a download of `file_name` with media type `mime`, not cached.
pub fn download(file_name: &str, mime: &'static str, bytes: impl Into<Body>) -> Response {
    let mut r = bytes.into().into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CONTENT_DISPOSITION, content_disposition(file_name));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// RFC 5987 `attr-char`: ALPHA / DIGIT / `!#$&+-.^_`|~`.
fn attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if attr_char(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// ASCII letters, digits, `-`, `.`, `_`; a run of anything else becomes one `_`, none leads.
fn ascii_fallback(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "-._".contains(c) {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_start_matches('_');
    if out.is_empty() || out.starts_with('.') {
        format!("download{out}")
    } else {
        out.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str) -> String {
        content_disposition(name).to_str().unwrap().to_owned()
    }

    #[test]
    fn chinese_names_are_percent_encoded_utf8() {
        assert_eq!(
            header("待退款_2026-12-06.xlsx"),
            "attachment; filename=\"2026-12-06.xlsx\"; \
             filename*=UTF-8''%E5%BE%85%E9%80%80%E6%AC%BE_2026-12-06.xlsx"
        );
    }

    #[test]
    fn spaces_quotes_and_semicolons_cannot_break_the_header() {
        let h = header("a b\"c;d\\e%f'g,h.csv");
        assert_eq!(
            h,
            "attachment; filename=\"a_b_c_d_e_f_g_h.csv\"; \
             filename*=UTF-8''a%20b%22c%3Bd%5Ce%25f%27g%2Ch.csv"
        );
        // One quoted fallback, one extended value, no `+` for a space.
        assert_eq!(h.matches('"').count(), 2);
        assert_eq!(h.matches(';').count(), 2);
        assert!(!h.contains('+'));
    }

    #[test]
    fn the_encoded_name_decodes_back() {
        for name in [
            "对账日报_2026-12-01_2026-12-06.xlsx",
            "发票 2026 年 12 月.pdf",
            "x+y~z!.csv",
            "换行\r\n注入.xlsx",
        ] {
            let h = header(name);
            let enc = h.split("UTF-8''").nth(1).unwrap();
            let bytes: Vec<u8> = percent_decode(enc);
            assert_eq!(String::from_utf8(bytes).unwrap(), name);
            assert!(enc.bytes().all(|b| attr_char(b) || b == b'%'), "{enc}");
        }
    }

    #[test]
    fn a_name_with_no_ascii_still_has_a_fallback() {
        assert!(header("待退款.xlsx").starts_with("attachment; filename=\"download.xlsx\";"));
        assert!(header("发票").starts_with("attachment; filename=\"download\";"));
    }

    fn percent_decode(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }
}
