//! The applicant's identity document: its type and a number of the right form for that type.

use super::resident_id::ResidentId;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdType {
    ResidentId,
    HkMacauPermit,
    TaiwanPermit,
    ForeignPassport,
}

impl IdType {
    pub const ALL: [IdType; 4] = [
        IdType::ResidentId,
        IdType::HkMacauPermit,
        IdType::TaiwanPermit,
        IdType::ForeignPassport,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IdType::ResidentId => "resident_id",
            IdType::HkMacauPermit => "hk_macau_permit",
            IdType::TaiwanPermit => "taiwan_permit",
            IdType::ForeignPassport => "foreign_passport",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            IdType::ResidentId => "居民身份证",
            IdType::HkMacauPermit => "港澳居民来往内地通行证",
            IdType::TaiwanPermit => "台湾居民来往大陆通行证",
            IdType::ForeignPassport => "外国护照",
        }
    }

    /// Accepts the code or the Chinese label (as registry exports write it).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.code().eq_ignore_ascii_case(s) || t.label_zh() == s)
    }
}

/// A document number valid for its type: GB 11643 for resident IDs, shape only for the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonalId {
    id_type: IdType,
    number: String,
}

impl PersonalId {
    pub fn parse(id_type: IdType, input: &str) -> Result<Self, String> {
        let s = input.trim().to_ascii_uppercase();
        let ok = |n: usize, f: fn(u8) -> bool| s.len() == n && s.bytes().all(f);
        let digit = |c: u8| c.is_ascii_digit();
        let number = match id_type {
            IdType::ResidentId => ResidentId::parse(&s)
                .map_err(|e| e.to_string())?
                .as_str()
                .to_owned(),
            // H/M + 8 digits (current cards) or + 10 digits (older booklets).
            IdType::HkMacauPermit => {
                let b = s.as_bytes();
                if !b.is_empty()
                    && (b[0] == b'H' || b[0] == b'M')
                    && (b.len() == 9 || b.len() == 11)
                    && b[1..].iter().all(u8::is_ascii_digit)
                {
                    s
                } else {
                    return Err("must be H or M followed by 8 or 10 digits".into());
                }
            }
            // 8 digits (current cards), or 10 characters on older booklets.
            IdType::TaiwanPermit => {
                if ok(8, digit) || (s.len() == 10 && s.bytes().all(|c| c.is_ascii_alphanumeric())) {
                    s
                } else {
                    return Err("must be 8 digits (or 10 letters and digits)".into());
                }
            }
            IdType::ForeignPassport => {
                if (5..=20).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_alphanumeric()) {
                    s
                } else {
                    return Err("must be 5 to 20 letters and digits".into());
                }
            }
        };
        Ok(Self { id_type, number })
    }

    pub fn id_type(&self) -> IdType {
        self.id_type
    }
    pub fn number(&self) -> &str {
        &self.number
    }
}

impl fmt::Display for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(PersonalId::parse(IdType::ResidentId, "11010519491231002X").is_ok());
        assert!(PersonalId::parse(IdType::ResidentId, "110105194912310021").is_err());
        assert!(PersonalId::parse(IdType::HkMacauPermit, "H12345678").is_ok());
        assert!(PersonalId::parse(IdType::HkMacauPermit, "m1234567890").is_ok());
        assert!(PersonalId::parse(IdType::HkMacauPermit, "X12345678").is_err());
        assert!(PersonalId::parse(IdType::TaiwanPermit, "12345678").is_ok());
        assert!(PersonalId::parse(IdType::TaiwanPermit, "1234567").is_err());
        assert!(PersonalId::parse(IdType::ForeignPassport, "E1234567").is_ok());
        assert!(PersonalId::parse(IdType::ForeignPassport, "E12-4567").is_err());
        assert_eq!(IdType::parse("居民身份证"), Some(IdType::ResidentId));
        assert_eq!(
            IdType::parse("foreign_passport"),
            Some(IdType::ForeignPassport)
        );
    }
}
