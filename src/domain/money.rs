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

    /// Parses decimal yuan text exactly (`200`, `200.5`, `-0.01`, `+1`, `1.`, `1.20000`).
    /// Digits beyond the second decimal must be zero; exponents (a spreadsheet's rewrite), a
    /// missing integer part (`.5`) and anything but ASCII digits (full-width `１`) are refused;
    /// so is an amount outside `i64` fen (`-92233720368547758.08` is the smallest).
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
        if frac.bytes().skip(2).any(|c| c != b'0') {
            return Err(format!("'{s}' has fractions of a fen"));
        }
        let cents = frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(2)
            .fold(0i128, |acc, c| acc * 10 + i128::from(c - b'0'));
        let too_large = || format!("'{s}' is too large");
        // Worked out in i128, so that i64::MIN (whose magnitude i64 cannot hold) is reached.
        let yuan: i128 = int.parse().map_err(|_| too_large())?;
        let fen = yuan
            .checked_mul(100)
            .and_then(|f| f.checked_add(cents))
            .ok_or_else(too_large)?;
        i64::try_from(if neg { -fen } else { fen })
            .map(Fen)
            .map_err(|_| too_large())
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

    /// The corners: zero, signs, odd shapes a spreadsheet or a person types, the ends of i64.
    #[test]
    fn corners() {
        let ok = |s: &str, fen: i64| assert_eq!(Fen::parse_yuan(s), Ok(Fen(fen)), "{s:?}");
        ok("0", 0);
        ok("-0", 0);
        ok("0.00", 0);
        ok("+1", 100);
        ok("1.", 100);
        ok("  12.3  ", 1230);
        ok("007.05", 705);
        ok("0.1", 10);
        ok("0.09", 9);
        ok("-200.50", -20050);
        ok("92233720368547758.07", i64::MAX);
        ok("-92233720368547758.08", i64::MIN);
        ok("000000000000000000000000001", 100);
        let refused = |s: &str, why: &str| {
            let e = Fen::parse_yuan(s).unwrap_err();
            assert!(e.contains(why), "{s:?}: {e}");
        };
        for s in [
            ".5", "-.5", "+", "-", ".", "1.5a", "a.5", "1,000", "１２", "1.２", "--1", "+-1",
            "-+1", "1e3", "0x10", "1 000", "¥1",
        ] {
            refused(s, "is not an amount in yuan");
        }
        refused("0.001", "fractions of a fen");
        refused("1.0001", "fractions of a fen");
        refused("92233720368547758.08", "too large");
        refused("-92233720368547758.09", "too large");
        refused("100000000000000000000", "too large");
        refused("99999999999999999999999999999999999999999", "too large");
    }

    #[test]
    fn shown_with_two_decimals() {
        for (fen, shown) in [
            (0, "0.00"),
            (1, "0.01"),
            (10, "0.10"),
            (99, "0.99"),
            (100, "1.00"),
            (-1, "-0.01"),
            (-100, "-1.00"),
            (123_456, "1234.56"),
            (i64::MAX, "92233720368547758.07"),
            (i64::MIN, "-92233720368547758.08"),
        ] {
            assert_eq!(Fen(fen).to_string(), shown);
        }
    }

    #[test]
    fn arithmetic_at_the_ends() {
        assert_eq!(Fen(1).checked_add(Fen(2)), Some(Fen(3)));
        assert_eq!(Fen(1).checked_sub(Fen(2)), Some(Fen(-1)));
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), None);
        assert_eq!(Fen(i64::MIN).checked_sub(Fen(1)), None);
        assert_eq!(Fen(i64::MIN).checked_add(Fen(i64::MAX)), Some(Fen(-1)));
        assert_eq!(Fen::new(7).get(), 7);
    }

    proptest! {
        #[test]
        fn display_round_trips(v in any::<i64>()) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(v).to_string()).unwrap(), Fen(v));
        }

        #[test]
        fn display_round_trips_near_zero(v in -100_000i64..100_000) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(v).to_string()).unwrap(), Fen(v));
        }

        /// Checked sums agree with wide arithmetic, None exactly when i64 cannot hold them.
        #[test]
        fn checked_arithmetic_is_exact(a in any::<i64>(), b in any::<i64>()) {
            let wide = |r: i128| i64::try_from(r).ok().map(Fen);
            prop_assert_eq!(Fen(a).checked_add(Fen(b)), wide(i128::from(a) + i128::from(b)));
            prop_assert_eq!(Fen(a).checked_sub(Fen(b)), wide(i128::from(a) - i128::from(b)));
        }

        /// Any text of digits with at most two decimals is its value in fen, read independently
        /// (as an integer of the digits with the point removed).
        #[test]
        fn decimal_text_is_its_value(int in "[0-9]{1,19}", frac in "[0-9]{0,2}", neg in any::<bool>()) {
            let text = format!("{}{int}{}{frac}", if neg { "-" } else { "" }, if frac.is_empty() { "" } else { "." });
            let padded = format!("{int}{frac:0<2}");
            let want = padded.parse::<i128>().unwrap() * if neg { -1 } else { 1 };
            let got = Fen::parse_yuan(&text);
            match i64::try_from(want) {
                Ok(v) => prop_assert_eq!(got, Ok(Fen(v))),
                Err(_) => prop_assert!(got.is_err()),
            }
        }
    }
}
