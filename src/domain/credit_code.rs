//! Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters, the last a check character.

/// The 31 characters of the code's alphabet (no I, O, Z, S, V), in value order.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A credit code with a valid GB 32100 check character, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("must be 18 characters of 0-9 and A-Y without I, O, S, V, Z")]
    Shape,
    #[error("the check character is wrong (GB 32100)")]
    CheckChar,
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The GB 32100 check character for the 17 leading characters (which must be in the alphabet).
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| value(c).unwrap_or(0) * w)
        .sum();
    ALPHABET[((31 - sum % 31) % 31) as usize]
}

impl CreditCode {
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 || !b.iter().all(|&c| value(c).is_some()) {
            return Err(CreditCodeError::Shape);
        }
        if check_char(&b[..17]) != b[17] {
            return Err(CreditCodeError::CheckChar);
        }
        Ok(Self(s))
    }
}

super::checked_text!(CreditCode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_codes() {
        // The example of GB 32100-2015, and published codes of real organisations (Tencent,
        // Huawei, Alibaba (China)): their check characters as printed, not computed here.
        for code in [
            "91350100M000100Y43",
            "91440300708461136T",
            "914403001922038216",
            "91330100799655058B",
        ] {
            let parsed = CreditCode::parse(code).unwrap();
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
            assert_eq!(check_char(&code.as_bytes()[..17]), code.as_bytes()[17]);
        }
        assert_eq!(
            CreditCode::parse(" 91440300708461136t ").unwrap().as_str(),
            "91440300708461136T"
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::CheckChar)
        );
        assert_eq!(
            CreditCode::parse("91350100M00010OY43"),
            Err(CreditCodeError::Shape)
        );
        assert_eq!(CreditCode::parse("9135"), Err(CreditCodeError::Shape));
    }

    /// The check character by the standard's formula, C18 = 31 − (Σ Cᵢ·3^(i−1) mod 31), with
    /// the weights raised here rather than read from the code's table.
    fn gb32100(first17: &[u8]) -> u8 {
        let chars = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        let (sum, _) = first17.iter().fold((0u64, 1u64), |(sum, w), c| {
            let v = chars.find(*c as char).expect("in the alphabet") as u64;
            (sum + v * w, w * 3 % 31)
        });
        chars.as_bytes()[((31 - sum % 31) % 31) as usize]
    }

    fn valid_code() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 17).prop_map(|v| {
            let c = gb32100(&v);
            let mut s = String::from_utf8(v).unwrap();
            s.push(c as char);
            s
        })
    }

    proptest! {
        #[test]
        fn every_valid_code_parses(code in valid_code()) {
            prop_assert_eq!(CreditCode::parse(&code).unwrap().as_str().to_owned(), code);
        }

        #[test]
        fn every_single_character_change_is_rejected(code in valid_code(), pos in 0usize..18, repl in prop::sample::select(ALPHABET.to_vec())) {
            let mut b = code.clone().into_bytes();
            prop_assume!(b[pos] != repl);
            b[pos] = repl;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}
