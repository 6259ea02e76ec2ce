//! Money in integer fen (分): 1 yuan = 100 fen. No floating point anywhere.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(i64);

impl Fen {
    pub const fn new(fen: i64) -> Self {
        Self(fen)
    }
    pub const fn get(self) -> i64 {
        self.0
    }
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    /// Parses decimal yuan text exactly (`200`, `200.5`, `-0.01`, `1.20000`). Digits beyond the
    /// second decimal must be zero; exponents (a spreadsheet's rewrite) are refused.
    pub fn parse_yuan(input: &str) -> Result<Fen, String> {
        let s = input.trim();
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty()
            || !int.bytes().all(|c| c.is_ascii_digit())
            || !frac.bytes().all(|c| c.is_ascii_digit())
        {
            return Err(format!("'{s}' is not an amount in yuan"));
        }
        if frac.len() > 2 && frac[2..].bytes().any(|c| c != b'0') {
            return Err(format!("'{s}' has fractions of a fen"));
        }
        let mut cents = 0i64;
        for (i, c) in frac.bytes().take(2).enumerate() {
            cents += i64::from(c - b'0') * if i == 0 { 10 } else { 1 };
        }
        let yuan: i64 = int.parse().map_err(|_| format!("'{s}' is too large"))?;
        let fen = yuan
            .checked_mul(100)
            .and_then(|v| v.checked_add(cents))
            .ok_or_else(|| format!("'{s}' is too large"))?;
        Ok(Fen(if neg { -fen } else { fen }))
    }
}

/// Shown as yuan with two decimals: `200.00`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_show() {
        assert_eq!(Fen::parse_yuan("200").unwrap(), Fen(20000));
        assert_eq!(Fen::parse_yuan("200.5").unwrap(), Fen(20050));
        assert_eq!(Fen::parse_yuan("-0.01").unwrap(), Fen(-1));
        assert_eq!(Fen::parse_yuan("1.20000").unwrap(), Fen(120));
        assert!(Fen::parse_yuan("1.201").is_err());
        assert!(Fen::parse_yuan("4.00123E+27").is_err());
        assert!(Fen::parse_yuan("").is_err());
        assert_eq!(Fen(20000).to_string(), "200.00");
        assert_eq!(Fen(-5).to_string(), "-0.05");
    }

    proptest! {
        #[test]
        fn display_round_trips(v in -1_000_000_000_000i64..1_000_000_000_000) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(v).to_string()).unwrap(), Fen(v));
        }
    }
}
