//! Cells of every csv export, made safe for spreadsheet programs (issue 17, item 8). Excel and
//! WPS run a cell that begins with `=`, `+`, `-` or `@` as a formula (TAB and CR can lead into
//! one too), so applicant text such as `=HYPERLINK(…)` in a name would run on finance's desk.
//! As OWASP advises, such a cell gets a leading `'`: the program shows the text as text. A plain
//! number of ours (`-12.50`, a negative amount) is left alone so sums keep working.

use std::borrow::Cow;

/// The cell as written to csv.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if !plain_number(cell) => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// The same for a cell already owned (no copy when nothing changes).
pub fn neutralised(cell: String) -> String {
    match neutralise(&cell) {
        Cow::Borrowed(_) => cell,
        Cow::Owned(s) => s,
    }
}

/// `-`, digits, and at most one `.` followed by digits: how our writers print numbers.
fn plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formula_starts_are_quoted_and_other_text_is_not() {
        for bad in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1+1",
            "-1+1",
            "-",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-2-3",
            "--1",
            "-1.",
            "-.5",
            "-1e3",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"), "{bad:?}");
        }
        for fine in [
            "张三",
            "",
            "a=b",
            " =1",
            "12",
            "-12.50",
            "-3",
            "0.5",
            "2026-11-25",
            "'=1",
        ] {
            assert_eq!(neutralise(fine), fine, "{fine:?}");
        }
    }
}
