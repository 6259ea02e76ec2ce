//! Certificate serial number as the CA's registry prints it (hexadecimal / alphanumeric).

/// 1–64 ASCII letters and digits, stored upper-case so look-ups ignore case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertificateSerial(String);

impl CertificateSerial {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s = input.trim();
        if s.is_empty() || s.len() > 64 || !s.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(
                "must be 1 to 64 letters and digits (the serial printed on the certificate)",
            );
        }
        Ok(Self(s.to_ascii_uppercase()))
    }
}

super::checked_text!(CertificateSerial);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials() {
        assert_eq!(
            CertificateSerial::parse("0150512140479054c03")
                .unwrap()
                .as_str(),
            "0150512140479054C03"
        );
        assert!(CertificateSerial::parse("").is_err());
        assert!(CertificateSerial::parse("01-50").is_err());
        assert!(CertificateSerial::parse(&"A".repeat(65)).is_err());
    }
}
