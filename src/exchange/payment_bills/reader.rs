//! A text file read one decoded line at a time (UTF-8 or GB18030, within the line budget).

use super::{BillError, err};
use crate::exchange::budget::{Limit, OverBudget};
use std::io::{BufRead, Read};

/// The lines of a text file, decoded one at a time: without their terminators (CRLF or LF), the
/// UTF-8 BOM dropped. The encoding is decided by the first line that is not blank: UTF-8 when it
/// is valid UTF-8, otherwise GB18030 (a superset of GBK) for the whole file; a later line that
/// is not valid UTF-8 in a UTF-8 file refuses it (the bill would not read as GB18030 either).
pub(super) struct LineReader<R> {
    r: R,
    buf: Vec<u8>,
    decoded: String,
    /// Lines read so far: the number of the last one.
    n: usize,
    gb18030: Option<bool>,
    /// The longest line read (`BACKOFFICE_FILE_MAX_LINE_BYTES`).
    max_line: u64,
}

impl<R: BufRead> LineReader<R> {
    pub(super) fn new(r: R, max_line: u64) -> Self {
        LineReader {
            r,
            buf: Vec::with_capacity(1024),
            decoded: String::new(),
            n: 0,
            gb18030: None,
            max_line,
        }
    }

    pub(super) fn next(&mut self) -> Result<Option<(usize, &str)>, BillError> {
        self.buf.clear();
        let got = (&mut self.r)
            .take(self.max_line.saturating_add(1))
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| err(self.n + 1, None, format!("the file cannot be read: {e}")))?;
        if got == 0 {
            return Ok(None);
        }
        if got as u64 > self.max_line {
            let over = OverBudget::new(Limit::LineBytes, self.max_line).at(self.n as u64, 0);
            return Err(err(self.n + 1, None, over.to_string()));
        }
        self.n += 1;
        let start = if self.n == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut end = self.buf.len();
        if self.buf[start..end].ends_with(b"\n") {
            end -= 1;
        }
        while end > start && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        let bytes = &self.buf[start..end];
        let gb = match self.gb18030 {
            Some(gb) => gb,
            None if bytes.iter().all(u8::is_ascii_whitespace) => false,
            None => *self.gb18030.insert(std::str::from_utf8(bytes).is_err()),
        };
        if gb {
            self.decoded = encoding_rs::GB18030
                .decode_without_bom_handling(bytes)
                .0
                .into_owned();
            Ok(Some((self.n, &self.decoded)))
        } else {
            match std::str::from_utf8(bytes) {
                Ok(l) => Ok(Some((self.n, l))),
                Err(_) => Err(err(
                    self.n,
                    None,
                    "is not UTF-8 like the lines before it: the file is damaged",
                )),
            }
        }
    }
}
