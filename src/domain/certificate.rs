//! A certificate as the CA's registry knows it.

use super::{personal_id::PersonalId, serial::CertificateSerial};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    Valid,
    Revoked,
    Expired,
}

impl CertStatus {
    pub fn code(self) -> &'static str {
        match self {
            CertStatus::Valid => "valid",
            CertStatus::Revoked => "revoked",
            CertStatus::Expired => "expired",
        }
    }
    /// The code or the registry export's Chinese label.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "valid" | "有效" => Some(Self::Valid),
            "revoked" | "已吊销" => Some(Self::Revoked),
            "expired" | "已过期" => Some(Self::Expired),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    pub serial: CertificateSerial,
    pub holder_name: String,
    pub holder: PersonalId,
    /// `natural_person` for the certificates this desk replaces; others may appear in the registry.
    pub cert_type: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub status: CertStatus,
}

/// `自然人证书` and the code both mean `natural_person`; other types keep their text.
pub fn normalise_cert_type(s: &str) -> String {
    match s.trim() {
        "自然人证书" | "natural_person" => "natural_person".into(),
        other => other.to_owned(),
    }
}

/// The holder's name as shown to someone who must not learn it: the first character, then `*`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name(""), "");
    }
}
