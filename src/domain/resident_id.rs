//! Resident identity card number (居民身份证号码), GB 11643-1999: 17 digits and a check character.

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

    pub fn birth_date(&self) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked in parse")
    }
}

impl AsRef<str> for ResidentId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

super::checked_text!(ResidentId);

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

    /// The samples printed in GB 11643-1999 itself, and numbers whose check character was
    /// worked out by hand. `440524188001010014` (born 1880) is refused for its birth year: only
    /// 1900–2100 are taken, but its check character is the standard's.
    #[test]
    fn published_samples() {
        assert_eq!(check_char(b"11010519491231002"), b'X');
        assert_eq!(check_char(b"44052418800101001"), b'4');
        assert_eq!(
            ResidentId::parse("440524188001010014"),
            Err(ResidentIdError::BirthDate)
        );
        let id = ResidentId::parse(" 11010519491231002x ").unwrap();
        assert_eq!(id.to_string(), "11010519491231002X");
        assert_eq!(id.as_ref(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            chrono::NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        // Σ weights × digits for 44030519900101123 is 200; 200 mod 11 = 2 → X (GB 11643 table).
        assert_eq!(check_char(b"44030519900101123"), b'X');
    }

    /// Birth dates on the last days of months, and 29 February in leap and common years.
    #[test]
    fn month_ends_and_leap_days() {
        let with_check =
            |first17: &str| format!("{first17}{}", mod11_2(first17.as_bytes()) as char);
        for (date, ok) in [
            ("19960229", true),
            ("20000229", true),
            ("19000229", false), // 1900 is not a leap year
            ("20230229", false),
            ("20240229", true),
            ("19990131", true),
            ("19990431", false),
            ("19990430", true),
            ("19991231", true),
            ("19991232", false),
            ("19990229", false),
            ("19990228", true),
            ("19990330", true),
            ("19990631", false),
            ("19990000", false),
            ("19991300", false),
            ("18991231", false),
            ("21001231", true),
            ("21010101", false),
        ] {
            let id = with_check(&format!("440305{date}123"));
            let parsed = ResidentId::parse(&id);
            if ok {
                let want = chrono::NaiveDate::parse_from_str(date, "%Y%m%d").unwrap();
                assert_eq!(parsed.map(|p| p.birth_date()), Ok(want), "{id}");
            } else {
                assert_eq!(parsed, Err(ResidentIdError::BirthDate), "{id}");
            }
        }
    }

    /// The check character by ISO 7064 MOD 11-2 worked recursively (p = (p + d) · 2 mod 11),
    /// not by the weight table of the code under test.
    fn mod11_2(first17: &[u8]) -> u8 {
        let p = first17
            .iter()
            .fold(0u32, |p, d| ((p + u32::from(d - b'0')) * 2) % 11);
        match (12 - p) % 11 {
            10 => b'X',
            c => b'0' + c as u8,
        }
    }

    /// A valid ID built from its parts: any real birth date 1900–2100 (every 29th, 30th, 31st
    /// and 29 February included), the check character computed independently.
    pub(crate) fn valid_id() -> impl Strategy<Value = String> {
        let first = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        let days = (chrono::NaiveDate::from_ymd_opt(2100, 12, 31).unwrap() - first).num_days();
        (1u8..=8, 0u32..100_000, 0..=days, 0u32..1000).prop_map(move |(p, region, d, seq)| {
            let birth = first + chrono::Duration::days(d);
            let first17 = format!("{p}{region:05}{}{seq:03}", birth.format("%Y%m%d"));
            let c = mod11_2(first17.as_bytes()) as char;
            format!("{first17}{c}")
        })
    }

    proptest! {
        #[test]
        fn every_valid_id_parses(id in valid_id()) {
            let parsed = ResidentId::parse(&id).unwrap();
            prop_assert_eq!(parsed.as_str(), id.as_str());
            prop_assert_eq!(parsed.birth_date().format("%Y%m%d").to_string(), &id[6..14]);
        }

        /// Birth dates at the ends of months, in the years around leap years.
        #[test]
        fn month_end_dates_parse_exactly_when_real(y in 1900i32..=2100, m in 1u32..=12, d in 28u32..=31) {
            let first17 = format!("440305{y:04}{m:02}{d:02}123");
            let id = format!("{first17}{}", mod11_2(first17.as_bytes()) as char);
            let real = chrono::NaiveDate::from_ymd_opt(y, m, d);
            match ResidentId::parse(&id) {
                Ok(p) => prop_assert_eq!(Some(p.birth_date()), real),
                Err(e) => {
                    prop_assert_eq!(e, ResidentIdError::BirthDate);
                    prop_assert!(real.is_none());
                }
            }
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
