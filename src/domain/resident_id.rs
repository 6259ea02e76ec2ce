//! Resident identity card number (居民身份证号码), GB 11643-1999: 17 digits and a check character.

use std::fmt;

/// Weights of the 17 leading digits, GB 11643 §7 (2^(17-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for `sum mod 11`.
const CHECK: &[u8; 11] = b"10X98765432";

/// A resident ID number whose region, birth date and check character are valid.
/// A trailing lower-case `x` is accepted and stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("must be 18 characters: 17 digits and a digit or X")]
    Shape,
    #[error("the birth date (characters 7–14) is not a valid date")]
    BirthDate,
    #[error("the region code (characters 1–6) is not valid")]
    Region,
    #[error("the check character is wrong (GB 11643)")]
    CheckDigit,
}

/// The GB 11643 check character for 17 leading digits.
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

impl ResidentId {
    pub fn parse(input: &str) -> Result<Self, ResidentIdError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18
            || !b[..17].iter().all(u8::is_ascii_digit)
            || !(b[17].is_ascii_digit() || b[17] == b'X')
        {
            return Err(ResidentIdError::Shape);
        }
        // Province codes run 11–82 (8x: Hong Kong, Macao, Taiwan residence permits).
        if !(b'1'..=b'8').contains(&b[0]) {
            return Err(ResidentIdError::Region);
        }
        let year: i32 = s[6..10].parse().map_err(|_| ResidentIdError::BirthDate)?;
        let month: u32 = s[10..12].parse().map_err(|_| ResidentIdError::BirthDate)?;
        let day: u32 = s[12..14].parse().map_err(|_| ResidentIdError::BirthDate)?;
        if !(1900..=2100).contains(&year)
            || chrono::NaiveDate::from_ymd_opt(year, month, day).is_none()
        {
            return Err(ResidentIdError::BirthDate);
        }
        if check_char(&b[..17]) != b[17] {
            return Err(ResidentIdError::CheckDigit);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked in parse")
    }
}

impl AsRef<str> for ResidentId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_numbers() {
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert_eq!(
            ResidentId::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
        assert_eq!(
            ResidentId::parse("110105194912310021"),
            Err(ResidentIdError::CheckDigit)
        );
        assert_eq!(
            ResidentId::parse("110105194902300028"),
            Err(ResidentIdError::BirthDate)
        );
        assert_eq!(
            ResidentId::parse("1101051949123100"),
            Err(ResidentIdError::Shape)
        );
        assert_eq!(
            ResidentId::parse("01010519491231002X"),
            Err(ResidentIdError::Region)
        );
    }

    /// A valid ID built from its parts, with the check character computed.
    pub(crate) fn valid_id() -> impl Strategy<Value = String> {
        (
            1u8..=8,
            0u32..100_000,
            1900i32..2030,
            1u32..=12,
            1u32..=28,
            0u32..1000,
        )
            .prop_map(|(p, region, y, m, d, seq)| {
                let first17 = format!("{p}{region:05}{y:04}{m:02}{d:02}{seq:03}");
                let c = check_char(first17.as_bytes()) as char;
                format!("{first17}{c}")
            })
    }

    proptest! {
        #[test]
        fn every_valid_id_parses(id in valid_id()) {
            prop_assert_eq!(ResidentId::parse(&id).unwrap().as_str().to_owned(), id);
        }

        #[test]
        fn every_single_character_change_is_rejected(id in valid_id(), pos in 0usize..18, repl in prop::sample::select(b"0123456789X".to_vec())) {
            let mut b = id.clone().into_bytes();
            prop_assume!(b[pos] != repl);
            b[pos] = repl;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(ResidentId::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}
