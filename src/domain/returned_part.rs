//! The parts of an application a return reason can be about: one of the five scans, or a typed
//! field of the `application` JSON by its path. Written `scan:<part name>` and
//! `field:<JSON path>` (`scan:id_front`, `field:applicant.mobile`) in the catalogue, the
//! database and the hall's status answer. A resubmission must change every returned part.

use super::scan::ScanKind;
use serde_json::Value;

/// The fields of the intake JSON a reviewer may send back, by their path in the body
/// (`NewApplication::to_json`). An object path (`mailing_address`) covers all its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldPart {
    CertificateSerial,
    ApplicantName,
    ApplicantIdNumber,
    ApplicantMobile,
    ApplicantEmail,
    MailingAddress,
    Invoice,
}

impl FieldPart {
    pub const ALL: [FieldPart; 7] = [
        FieldPart::CertificateSerial,
        FieldPart::ApplicantName,
        FieldPart::ApplicantIdNumber,
        FieldPart::ApplicantMobile,
        FieldPart::ApplicantEmail,
        FieldPart::MailingAddress,
        FieldPart::Invoice,
    ];

    /// The JSON path, as field errors name it.
    pub fn path(self) -> &'static str {
        match self {
            FieldPart::CertificateSerial => "certificate_serial",
            FieldPart::ApplicantName => "applicant.name",
            FieldPart::ApplicantIdNumber => "applicant.id_number",
            FieldPart::ApplicantMobile => "applicant.mobile",
            FieldPart::ApplicantEmail => "applicant.email",
            FieldPart::MailingAddress => "mailing_address",
            FieldPart::Invoice => "invoice",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            FieldPart::CertificateSerial => "证书序列号",
            FieldPart::ApplicantName => "申请人姓名",
            FieldPart::ApplicantIdNumber => "证件号码",
            FieldPart::ApplicantMobile => "手机号",
            FieldPart::ApplicantEmail => "电子邮箱",
            FieldPart::MailingAddress => "邮寄地址",
            FieldPart::Invoice => "发票信息",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            FieldPart::CertificateSerial => "Certificate serial",
            FieldPart::ApplicantName => "Applicant's name",
            FieldPart::ApplicantIdNumber => "ID number",
            FieldPart::ApplicantMobile => "Mobile",
            FieldPart::ApplicantEmail => "E-mail",
            FieldPart::MailingAddress => "Mailing address",
            FieldPart::Invoice => "Invoice",
        }
    }

    /// The value at this path in a stored or normalised body (`Null` when absent).
    pub fn value_in(self, body: &Value) -> &Value {
        let pointer = format!("/{}", self.path().replace('.', "/"));
        body.pointer(&pointer).unwrap_or(&Value::Null)
    }
}

/// A part of an application a return reason is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Scan(ScanKind),
    Field(FieldPart),
}

impl Part {
    /// Every part: the scans in reading order, then the fields in the body's order.
    pub fn all() -> impl Iterator<Item = Part> {
        ScanKind::ALL
            .into_iter()
            .map(Part::Scan)
            .chain(FieldPart::ALL.into_iter().map(Part::Field))
    }

    /// `scan:<part name>` or `field:<JSON path>`.
    pub fn code(self) -> String {
        match self {
            Part::Scan(k) => format!("scan:{}", k.code()),
            Part::Field(f) => format!("field:{}", f.path()),
        }
    }

    pub fn parse(s: &str) -> Option<Part> {
        Self::all().find(|p| p.code() == s)
    }

    /// The multipart part name or JSON path alone, as the contract's error `field` names it.
    pub fn name(self) -> &'static str {
        match self {
            Part::Scan(k) => k.code(),
            Part::Field(f) => f.path(),
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Part::Scan(k) => k.label_zh(),
            Part::Field(f) => f.label_zh(),
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Part::Scan(k) => match k {
                ScanKind::ApplicationForm => "Application form",
                ScanKind::EsealForm => "E-seal form",
                ScanKind::IdFront => "ID card, photo side",
                ScanKind::IdBack => "ID card, emblem side",
                ScanKind::LivenessPhoto => "Liveness photo",
            },
            Part::Field(f) => f.label_en(),
        }
    }
}

/// One version of an application as the comparison needs it: its body as stored (normalised
/// JSON) and each scan's SHA-256.
pub struct Version<'a> {
    pub body: &'a Value,
    pub scan: &'a dyn Fn(ScanKind) -> Option<String>,
}

/// The returned parts a resubmission left as they were: a scan with the same hash (or not sent
/// again), a field with the same value. In the order given, each once.
pub fn unchanged(returned: &[Part], before: &Version, after: &Version) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    for &p in returned {
        let same = match p {
            Part::Scan(k) => (before.scan)(k) == (after.scan)(k),
            Part::Field(f) => f.value_in(before.body) == f.value_in(after.body),
        };
        if same && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::intake::NewApplication;
    use serde_json::json;

    fn example() -> Value {
        serde_json::from_str(include_str!("../../tests/api/fixtures/application.json")).unwrap()
    }

    #[test]
    fn codes_round_trip_and_nothing_else_parses() {
        let all: Vec<Part> = Part::all().collect();
        assert_eq!(all.len(), 12);
        for p in &all {
            assert_eq!(Part::parse(&p.code()), Some(*p));
        }
        assert_eq!(
            Part::parse("scan:id_front"),
            Some(Part::Scan(ScanKind::IdFront))
        );
        assert_eq!(
            Part::parse("field:applicant.mobile"),
            Some(Part::Field(FieldPart::ApplicantMobile))
        );
        for bad in [
            "",
            "id_front",
            "scan:",
            "field:applicant",
            "field:payment",
            "scan:x",
        ] {
            assert_eq!(Part::parse(bad), None, "{bad}");
        }
    }

    /// Every field part is a path of the body as the domain normalises it: the list follows
    /// the intake types, not free strings.
    #[test]
    fn every_field_path_is_in_the_normalised_body() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:06:00+08:00")
            .unwrap()
            .to_utc();
        let app = NewApplication::parse(&example(), Some(now)).unwrap();
        let body = app.to_json();
        for f in FieldPart::ALL {
            assert!(
                !f.value_in(&body).is_null(),
                "{} is not in the body",
                f.path()
            );
        }
    }

    #[test]
    fn unchanged_compares_hashes_and_values() {
        let before = example();
        let mut after = before.clone();
        after["applicant"]["mobile"] = json!("13900139000");
        let old = |k: ScanKind| (k == ScanKind::IdFront).then(|| "aaa".to_owned());
        let new = |k: ScanKind| (k == ScanKind::IdFront).then(|| "bbb".to_owned());
        let same = |k: ScanKind| (k == ScanKind::IdFront).then(|| "aaa".to_owned());
        let returned = [
            Part::Scan(ScanKind::IdFront),
            Part::Field(FieldPart::ApplicantMobile),
            Part::Field(FieldPart::MailingAddress),
            Part::Field(FieldPart::MailingAddress),
        ];
        let b = Version {
            body: &before,
            scan: &old,
        };
        let changed = Version {
            body: &after,
            scan: &new,
        };
        assert_eq!(
            unchanged(&returned, &b, &changed),
            [Part::Field(FieldPart::MailingAddress)]
        );
        let kept = Version {
            body: &before,
            scan: &same,
        };
        assert_eq!(
            unchanged(&returned, &b, &kept),
            [
                Part::Scan(ScanKind::IdFront),
                Part::Field(FieldPart::ApplicantMobile),
                Part::Field(FieldPart::MailingAddress)
            ]
        );
        // One field of an object part changed: the part changed.
        let mut moved = before.clone();
        moved["mailing_address"]["detail"] = json!("科技园路2号");
        let m = Version {
            body: &moved,
            scan: &same,
        };
        assert!(!unchanged(&returned, &b, &m).contains(&Part::Field(FieldPart::MailingAddress)));
    }
}
