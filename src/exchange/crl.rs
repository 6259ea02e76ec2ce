//! The CA's certificate revocation list and the certificates it issues, read with x509-parser:
//! a CRL (DER or PEM `X509 CRL`) is read only when it was signed by the configured CA
//! certificate and is current (thisUpdate not in the future, nextUpdate not past); an issued
//! certificate (.cer, DER or PEM) is read for its serial, subject and validity. Every refusal is
//! a [`CrlError`] naming what was wrong; a file over `BACKOFFICE_CRL_MAX_BYTES` is refused
//! before it is parsed.

use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::OID_X509_SERIALNUMBER;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

/// Why a CRL or certificate file was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    #[error("the file is over {max} bytes (BACKOFFICE_CRL_MAX_BYTES)")]
    TooLarge { max: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("not a readable {what} (DER or PEM): {detail}")]
    Malformed { what: &'static str, detail: String },
    #[error("the PEM block is “{label}”, not “{want}”")]
    WrongPem { label: String, want: &'static str },
    #[error("no CA certificate is configured (BACKOFFICE_CA_CERT); a CRL cannot be checked")]
    NoCaCertificate,
    #[error("the CRL was issued by “{issuer}”, not by the configured CA “{ca}”")]
    WrongIssuer { issuer: String, ca: String },
    #[error("the CRL's signature does not verify against the configured CA certificate ({detail})")]
    BadSignature { detail: String },
    #[error("the CRL has no nextUpdate; it cannot be told current")]
    NoNextUpdate,
    #[error("the CRL is not yet valid (thisUpdate {this_update})")]
    NotYetValid { this_update: String },
    #[error("the CRL has expired (nextUpdate {next_update}); fetch the current one")]
    Expired { next_update: String },
    #[error("the certificate's signature does not verify against the configured CA certificate")]
    NotIssuedByCa,
}

/// The configured CA certificate, parsed on use (the DER is kept).
pub struct CaCert {
    der: Vec<u8>,
}

impl CaCert {
    /// A CA certificate file: PEM `CERTIFICATE` or DER.
    pub fn parse(bytes: &[u8]) -> Result<CaCert, CrlError> {
        let der = der_of(bytes, "CERTIFICATE", "certificate")?;
        parse_cert(&der)?;
        Ok(CaCert { der })
    }

    fn cert(&self) -> X509Certificate<'_> {
        // Parsed once already in `parse`.
        parse_cert(&self.der).expect("checked in CaCert::parse")
    }

    /// The CA's subject, for the page.
    pub fn subject(&self) -> String {
        self.cert().subject().to_string()
    }
}

/// One revoked certificate on a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlEntry {
    /// Upper-case hexadecimal without leading zeros (how `revocations.serial_key` is kept).
    pub serial_key: String,
    /// Epoch milliseconds.
    pub revoked_at: i64,
    /// RFC 5280's name of the reason code (`keyCompromise`), if the entry has one.
    pub reason: Option<&'static str>,
}

/// A CRL that was signed by the CA and is current.
#[derive(Debug, Clone)]
pub struct Crl {
    pub issuer: String,
    pub this_update: i64,
    pub next_update: i64,
    pub number: Option<String>,
    pub entries: Vec<CrlEntry>,
}

/// The serial as the registry and CRL are compared: upper-case hex, no leading zeros.
pub fn serial_key(s: &str) -> String {
    let t = s.trim().to_ascii_uppercase();
    let t = t.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

fn hex_key(raw: &[u8]) -> String {
    serial_key(&hex::encode_upper(raw))
}

/// RFC 5280, 5.3.1.
pub fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "other",
    }
}

/// The DER inside a PEM block labelled `label`, or the bytes themselves when they are not PEM.
fn der_of(bytes: &[u8], label: &'static str, what: &'static str) -> Result<Vec<u8>, CrlError> {
    if bytes.is_empty() {
        return Err(CrlError::Empty);
    }
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    if !bytes[start..].starts_with(b"-----BEGIN ") {
        return Ok(bytes.to_vec());
    }
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(&bytes[start..]).map_err(|e| CrlError::Malformed {
            what,
            detail: format!("PEM: {e}"),
        })?;
    if pem.label != label {
        return Err(CrlError::WrongPem {
            label: pem.label.chars().take(40).collect(),
            want: label,
        });
    }
    Ok(pem.contents)
}

fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>, CrlError> {
    match X509Certificate::from_der(der) {
        Ok(([], c)) => Ok(c),
        Ok(_) => Err(CrlError::Malformed {
            what: "certificate",
            detail: "bytes after the certificate".into(),
        }),
        Err(e) => Err(CrlError::Malformed {
            what: "certificate",
            detail: e.to_string(),
        }),
    }
}

fn check_size(bytes: &[u8], max: u64) -> Result<(), CrlError> {
    if bytes.len() as u64 > max {
        return Err(CrlError::TooLarge { max });
    }
    Ok(())
}

fn utc(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| secs.to_string())
}

/// Reads a CRL: within `max` bytes, signed by `ca`, current at `now_ms`.
pub fn read_crl(bytes: &[u8], ca: Option<&CaCert>, max: u64, now_ms: i64) -> Result<Crl, CrlError> {
    check_size(bytes, max)?;
    let ca = ca.ok_or(CrlError::NoCaCertificate)?;
    let der = der_of(bytes, "X509 CRL", "CRL")?;
    let crl = match CertificateRevocationList::from_der(&der) {
        Ok(([], c)) => c,
        Ok(_) => {
            return Err(CrlError::Malformed {
                what: "CRL",
                detail: "bytes after the CRL".into(),
            });
        }
        Err(e) => {
            return Err(CrlError::Malformed {
                what: "CRL",
                detail: e.to_string(),
            });
        }
    };
    let ca_cert = ca.cert();
    if crl.issuer().as_raw() != ca_cert.subject().as_raw() {
        return Err(CrlError::WrongIssuer {
            issuer: crl.issuer().to_string(),
            ca: ca_cert.subject().to_string(),
        });
    }
    crl.verify_signature(ca_cert.public_key())
        .map_err(|e| CrlError::BadSignature {
            detail: e.to_string(),
        })?;
    let this_update = crl.last_update().timestamp();
    let next_update = crl.next_update().ok_or(CrlError::NoNextUpdate)?.timestamp();
    let now = now_ms.div_euclid(1000);
    if this_update > now {
        return Err(CrlError::NotYetValid {
            this_update: utc(this_update),
        });
    }
    if next_update < now {
        return Err(CrlError::Expired {
            next_update: utc(next_update),
        });
    }
    let entries = crl
        .iter_revoked_certificates()
        .map(|r| CrlEntry {
            serial_key: hex_key(r.raw_serial()),
            revoked_at: r.revocation_date.timestamp().saturating_mul(1000),
            reason: r.reason_code().map(|(_, c)| reason_name(c.0)),
        })
        .collect();
    Ok(Crl {
        issuer: crl.issuer().to_string(),
        this_update: this_update.saturating_mul(1000),
        next_update: next_update.saturating_mul(1000),
        number: crl.crl_number().map(|n| n.to_str_radix(16).to_uppercase()),
        entries,
    })
}

/// What an issued certificate says of itself.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// Upper-case hexadecimal without leading zeros.
    pub serial_key: String,
    pub subject: String,
    pub common_names: Vec<String>,
    /// The subject's serialNumber attributes (where CAs put the holder's ID number).
    pub subject_serial_numbers: Vec<String>,
    /// Epoch milliseconds.
    pub not_before: i64,
    pub not_after: i64,
}

/// Reads an issued certificate (.cer, DER or PEM) within `max` bytes; when `ca` is given, its
/// signature must verify against the CA's key.
pub fn read_certificate(
    bytes: &[u8],
    ca: Option<&CaCert>,
    max: u64,
) -> Result<IssuedCert, CrlError> {
    check_size(bytes, max)?;
    let der = der_of(bytes, "CERTIFICATE", "certificate")?;
    let c = parse_cert(&der)?;
    if let Some(ca) = ca {
        let ca_cert = ca.cert();
        c.verify_signature(Some(ca_cert.public_key()))
            .map_err(|_| CrlError::NotIssuedByCa)?;
    }
    let texts = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue>| {
        it.filter_map(|a| a.as_str().ok().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    Ok(IssuedCert {
        serial_key: hex_key(c.raw_serial()),
        subject: c.subject().to_string(),
        common_names: texts(&mut c.subject().iter_common_name()),
        subject_serial_numbers: texts(&mut c.subject().iter_by_oid(&OID_X509_SERIALNUMBER)),
        not_before: c.validity().not_before.timestamp().saturating_mul(1000),
        not_after: c.validity().not_after.timestamp().saturating_mul(1000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn serial_keys_ignore_case_and_leading_zeros() {
        assert_eq!(serial_key("0150512140479054c03"), "150512140479054C03");
        assert_eq!(serial_key("000"), "0");
        assert_eq!(hex_key(&[0x00, 0x01, 0x50, 0xAB]), "150AB");
    }

    #[test]
    fn refusals_are_named() {
        assert!(matches!(
            read_crl(&[0u8; 11], None, 10, 0),
            Err(CrlError::TooLarge { max: 10 })
        ));
        assert!(matches!(
            read_crl(b"x", None, 10, 0),
            Err(CrlError::NoCaCertificate)
        ));
        assert!(matches!(
            CaCert::parse(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
            Err(CrlError::WrongPem { .. })
        ));
        assert!(matches!(
            CaCert::parse(b"\x30\x03\x02\x01"),
            Err(CrlError::Malformed { .. })
        ));
        assert!(matches!(
            read_certificate(b"-----BEGIN CERTIFICATE-----\n!!!\n", None, 100),
            Err(CrlError::Malformed { .. })
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_are_refused_not_panicked_on(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = CaCert::parse(&bytes);
            let _ = read_certificate(&bytes, None, 1 << 20);
            let mut pem = b"-----BEGIN X509 CRL-----\n".to_vec();
            pem.extend_from_slice(&bytes);
            let _ = der_of(&pem, "X509 CRL", "CRL");
        }
    }
}
