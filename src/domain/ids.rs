//! Identifiers staff read aloud and type: application ids.

use rand::Rng;

/// Crockford base32 without I, L, O, U: nothing a caller can mishear as another character.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `BF` (补发) + the Beijing date of receipt + 6 random characters, e.g. `BF20261125-7K3M9Q`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationId(String);

impl ApplicationId {
    pub fn generate(day: chrono::NaiveDate) -> Self {
        let mut rng = rand::rng();
        let tail: String = (0..6)
            .map(|_| ALPHABET[rng.random_range(0..32)] as char)
            .collect();
        Self(format!("BF{}-{tail}", day.format("%Y%m%d")))
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let ok = b.len() == 17
            && s.starts_with("BF")
            && b[2..10].iter().all(u8::is_ascii_digit)
            && b[10] == b'-'
            && b[11..].iter().all(|c| ALPHABET.contains(c));
        ok.then_some(Self(s))
    }
}

super::checked_text!(ApplicationId);

impl From<ApplicationId> for String {
    fn from(id: ApplicationId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        for _ in 0..100 {
            let id = ApplicationId::generate(d);
            assert_eq!(ApplicationId::parse(&id.as_str().to_lowercase()), Some(id));
        }
        assert!(ApplicationId::parse("BF20261125-7K3M9I").is_none());
        assert!(ApplicationId::parse("../etc/passwd").is_none());
    }
}
