//! The API's wire types. The handlers build their responses from these structs and the OpenAPI
//! document (`openapi.rs`) derives its schemas from the same structs, so the two cannot drift.
//! The request body's JSON is read by `domain::intake::NewApplication::parse` (field by field,
//! first error named); `ApplicationBody` describes that body, and a test deserialises the
//! contract's example into it.

use super::ErrorBody;
use crate::domain::status::Status;
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};

/// `201`/`200` of a submission or resubmission.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "BF20261125-7K3M9Q", "status": "submitted", "review_due_at": "2026-11-30T18:00:00+08:00"}))]
pub struct Submitted {
    /// The application id (`BF<date>-<6 Crockford base32>`).
    pub id: String,
    pub status: ApiStatus,
    /// Given for a resubmission: the version it created (the first submission is version 1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schema(minimum = 2)]
    pub version: Option<i64>,
    /// The review deadline, RFC 3339 in +08:00.
    #[schema(format = DateTime)]
    pub review_due_at: String,
}

/// The refusal of every operation without a valid bearer token.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Unauthorised {
    #[response(status = 401, description = "No valid bearer token")]
    NoToken(ErrorBody),
}

/// The refusals of a (re)submission's scans and body by size and type.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum UploadRefused {
    #[response(
        status = 413,
        description = "A scan over 2 MiB (`file_too_large`) or the body over the client's limit (`body_too_large`)"
    )]
    TooLarge(ErrorBody),
    #[response(
        status = 415,
        description = "A scan is not JPEG, PNG, BMP, GIF or PDF by its content (`unsupported_file_type`)"
    )]
    Unsupported(ErrorBody),
}

/// The statuses of `GET /api/v1/applications/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiStatus {
    Submitted,
    InReview,
    Returned,
    Accepted,
    InProduction,
    Shipped,
    Withdrawn,
    /// Added: a returned application never resubmitted within the set days, closed.
    Expired,
}

impl From<Status> for ApiStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Submitted => ApiStatus::Submitted,
            // The four-eyes hold is internal: to the hall it is still in review.
            Status::InReview | Status::AwaitingApproval => ApiStatus::InReview,
            Status::Returned => ApiStatus::Returned,
            Status::Accepted => ApiStatus::Accepted,
            Status::InProduction => ApiStatus::InProduction,
            Status::Shipped => ApiStatus::Shipped,
            Status::Withdrawn => ApiStatus::Withdrawn,
            Status::Expired => ApiStatus::Expired,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"code": "form_unsigned", "text": "申请表未签名"}))]
pub struct ReturnReason {
    pub code: String,
    /// The text the applicant sees (Chinese).
    pub text: String,
}

/// Additive to the contract: a part of the application to redo, and the reasons about it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"part": "scan:application_form", "reasons": [{"code": "form_unsigned", "text": "申请表未签名"}]}))]
pub struct ReturnedPart {
    /// `scan:<part name>` (one of the five scans) or `field:<JSON path>` of the `application`
    /// body. A resubmission must change it: a scan with other content, a field with another
    /// value (an object path such as `mailing_address` counts as changed when any field in it is).
    #[schema(
        pattern = "^(scan:(application_form|eseal_form|id_front|id_back|liveness_photo)|field:(certificate_serial|applicant\\.name|applicant\\.id_number|applicant\\.mobile|applicant\\.email|mailing_address|invoice))$",
        example = "scan:id_front"
    )]
    pub part: String,
    pub reasons: Vec<ReturnReason>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"courier": "SF", "tracking_number": "SF1234567890123", "shipped_at": "2026-12-01T16:20:00+08:00"}))]
pub struct Shipment {
    /// `SF` or `EMS`.
    pub courier: String,
    pub tracking_number: String,
    #[schema(format = DateTime)]
    pub shipped_at: String,
}

/// Additive to the contract: the invoice (数电票) once issued.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedInvoice {
    /// Always `issued`.
    #[schema(pattern = "^issued$")]
    pub status: String,
    pub number: String,
    #[schema(format = DateTime)]
    pub issued_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    #[schema(format = DateTime)]
    pub at: String,
    pub status: ApiStatus,
}

/// `200` of `GET /api/v1/applications/{id}` and `GET /api/v1/applications?hall_reference=…`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "BF20261125-7K3M9Q", "hall_reference": "WT202611250001", "status": "returned",
    "status_label": "需修改后重新提交", "version": 1, "review_due_at": "2026-11-30T18:00:00+08:00",
    "return_reasons": [{"code": "form_unsigned", "text": "申请表未签名"}],
    "returned_parts": [{"part": "scan:application_form", "reasons": [{"code": "form_unsigned", "text": "申请表未签名"}]}],
    "shipment": null, "invoice": null,
    "history": [{"at": "2026-11-25T10:05:00+08:00", "status": "submitted"}, {"at": "2026-11-26T09:12:00+08:00", "status": "returned"}]}))]
pub struct ApplicationStatus {
    pub id: String,
    pub hall_reference: String,
    pub status: ApiStatus,
    /// The status in words for the applicant (Chinese).
    pub status_label: String,
    /// How many versions were submitted (1, then one more per resubmission).
    #[schema(minimum = 1)]
    pub version: i64,
    #[schema(format = DateTime)]
    pub review_due_at: String,
    pub return_reasons: Vec<ReturnReason>,
    /// Additive: while `returned`, exactly the parts to redo, each with the reasons about it
    /// (reasons about no part appear only in `return_reasons`); otherwise empty.
    pub returned_parts: Vec<ReturnedPart>,
    pub shipment: Option<Shipment>,
    pub invoice: Option<IssuedInvoice>,
    pub history: Vec<HistoryEntry>,
}

/// `200` of `GET /api/v1/certificates/{serial}?id_number=…`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"serial": "0150512140479054C03", "type": "natural_person", "holder_name_masked": "张*",
    "valid_from": "2024-03-01", "valid_to": "2027-02-28", "status": "valid"}))]
pub struct CertificateView {
    pub serial: String,
    /// `natural_person` for the certificates this desk replaces.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub cert_type: String,
    pub holder_name_masked: String,
    #[schema(format = Date)]
    pub valid_from: String,
    #[schema(format = Date)]
    pub valid_to: String,
    pub status: CertificateStatus,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    Valid,
    Revoked,
    Expired,
}

// ---- the request body (the `application` part) ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdTypeCode {
    ResidentId,
    HkMacauPermit,
    TaiwanPermit,
    ForeignPassport,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApplicantBody {
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^\S(.*\S)?$",
        example = "张三"
    )]
    pub name: String,
    pub id_type: IdTypeCode,
    /// `resident_id`: 18 characters with the GB 11643 check character and a valid birth date;
    /// the others are checked for shape only.
    #[schema(pattern = "^[0-9A-Za-z]{5,20}$", example = "11010519491231002X")]
    pub id_number: String,
    #[schema(pattern = "^1[3-9][0-9]{9}$", example = "13800138000")]
    pub mobile: String,
    #[schema(
        pattern = r"^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$",
        max_length = 254,
        example = "zhangsan@example.com"
    )]
    pub email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MailingAddressBody {
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^\S(.*\S)?$",
        example = "张三"
    )]
    pub recipient: String,
    #[schema(pattern = "^1[3-9][0-9]{9}$", example = "13800138000")]
    pub mobile: String,
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^\S(.*\S)?$",
        example = "广东省"
    )]
    pub province: String,
    #[schema(
        min_length = 1,
        max_length = 30,
        pattern = r"^\S(.*\S)?$",
        example = "深圳市"
    )]
    pub city: String,
    #[schema(
        min_length = 1,
        max_length = 30,
        pattern = r"^\S(.*\S)?$",
        example = "南山区"
    )]
    pub district: String,
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^\S(.*\S)?$",
        example = "科技园路1号"
    )]
    pub detail: String,
    #[schema(pattern = "^[0-9]{6}$", example = "518000")]
    pub postcode: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^\S(.*\S)?$",
        example = "张三"
    )]
    pub title: String,
    /// An 18-character unified social credit code with a valid GB 32100 check character.
    #[schema(pattern = "^[0-9A-Za-z]{18}$")]
    pub tax_id: Option<String>,
    #[schema(
        pattern = r"^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$",
        max_length = 254,
        example = "zhangsan@example.com"
    )]
    pub email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Wechat,
    Alipay,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentBody {
    pub channel: Channel,
    #[schema(pattern = r"^[0-9A-Za-z_\-|*]{1,32}$", example = "SZCA202611250001")]
    pub out_trade_no: String,
    #[schema(
        pattern = "^[0-9A-Za-z]{1,64}$",
        example = "4200001234202611250000000001"
    )]
    pub transaction_id: String,
    /// Integer fen (1 yuan = 100 fen).
    #[schema(minimum = 1, maximum = 100_000_000, example = 20000)]
    pub amount_fen: i64,
    #[schema(format = DateTime, example = "2026-11-25T10:02:03+08:00")]
    pub paid_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LivenessBody {
    pub passed: bool,
    #[schema(minimum = 0.0, maximum = 1.0, example = 0.97)]
    pub score: f64,
    #[schema(format = DateTime, example = "2026-11-25T10:00:00+08:00")]
    pub checked_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RealNameBody {
    pub passed: bool,
    #[schema(format = DateTime, example = "2026-11-25T09:58:00+08:00")]
    pub checked_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentsBody {
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = r"^\S(.*\S)?$",
        example = "2023-05"
    )]
    pub service_agreement_version: String,
    /// Must be `true`.
    pub sensitive_pi_authorization: bool,
    #[schema(format = DateTime, example = "2026-11-25T09:55:00+08:00")]
    pub agreed_at: String,
}

/// The `application` part: JSON (intake-api.md, POST /api/v1/applications). Each field is
/// checked for form first; only then is `certificate_serial` checked against the registry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApplicationBody {
    #[schema(pattern = "^[!-~]{1,64}$", example = "WT202611250001")]
    pub hall_reference: String,
    #[schema(pattern = "^[0-9A-Za-z]{1,64}$", example = "0150512140479054C03")]
    pub certificate_serial: String,
    pub applicant: ApplicantBody,
    pub mailing_address: MailingAddressBody,
    /// `null`: no invoice wanted.
    pub invoice: Option<InvoiceBody>,
    pub payment: PaymentBody,
    pub liveness: LivenessBody,
    pub telecom_real_name: RealNameBody,
    pub consents: ConsentsBody,
    /// When the applicant completed the submission: at most 30 days ago, at most 5 minutes ahead.
    #[schema(format = DateTime, example = "2026-11-25T10:05:00+08:00")]
    pub submitted_at: String,
}

/// A scan: JPEG, PNG, BMP, GIF or PDF by its content (magic bytes), at most 2 MiB.
#[derive(ToSchema)]
#[schema(content_media_type = "application/octet-stream", format = Binary, max_length = 2_097_152)]
#[allow(dead_code)]
pub struct ScanFile(Vec<u8>);

/// `multipart/form-data` of a submission: the JSON and the five scans, all required.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SubmissionForm {
    pub application: ApplicationBody,
    pub application_form: ScanFile,
    pub eseal_form: ScanFile,
    pub id_front: ScanFile,
    pub id_back: ScanFile,
    pub liveness_photo: ScanFile,
}

/// `multipart/form-data` of a resubmission: every part optional (at least one), what is given
/// replaces the previous version's.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(min_properties = 1)]
pub struct ResubmissionForm {
    pub application: Option<ApplicationBody>,
    pub application_form: Option<ScanFile>,
    pub eseal_form: Option<ScanFile>,
    pub id_front: Option<ScanFile>,
    pub id_back: Option<ScanFile>,
    pub liveness_photo: Option<ScanFile>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_example_fits_the_documented_body() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/api/fixtures/application.json"))
                .unwrap();
        let body: ApplicationBody = serde_json::from_value(v.clone()).unwrap();
        // Every key of the example is a documented field (nothing dropped on the way).
        assert_eq!(serde_json::to_value(&body).unwrap(), v);
    }

    /// The documented pattern of a returned part admits exactly the domain's parts.
    #[test]
    fn the_documented_parts_are_the_domain_parts() {
        use crate::domain::returned_part::Part;
        let doc = super::super::openapi::document();
        let pattern = doc["components"]["schemas"]["ReturnedPart"]["properties"]["part"]["pattern"]
            .as_str()
            .unwrap();
        let inner = pattern.trim_start_matches("^(").trim_end_matches(")$");
        let mut documented: Vec<String> = Vec::new();
        for group in inner.split(")|") {
            let (prefix, names) = group.split_once(":(").unwrap();
            for n in names.trim_end_matches(')').split('|') {
                documented.push(format!("{prefix}:{}", n.replace("\\.", ".")));
            }
        }
        let domain: Vec<String> = Part::all().map(|p| p.code()).collect();
        assert_eq!(documented, domain);
    }

    /// The documented lengths of the body's free-text fields are the ones the domain checks
    /// (`domain::intake`): each attribute above restates a limit, so this holds them together.
    #[test]
    fn the_documented_text_lengths_are_the_checked_ones() {
        use crate::domain::intake::NewApplication;
        let example: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/api/fixtures/application.json"))
                .unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:06:00+08:00")
            .unwrap()
            .to_utc();
        let schemas = &super::super::openapi::document()["components"]["schemas"];
        let mut checked = 0;
        for (schema, part) in [
            ("ApplicantBody", "applicant"),
            ("MailingAddressBody", "mailing_address"),
            ("InvoiceBody", "invoice"),
            ("ConsentsBody", "consents"),
        ] {
            let props = schemas[schema]["properties"].as_object().expect(schema);
            for (field, p) in props.iter().filter(|(_, p)| p["minLength"] == 1) {
                let max = p["maxLength"].as_u64().expect("a documented maximum") as usize;
                let with = |n: usize| {
                    let mut v = example.clone();
                    v[part][field.as_str()] = "字".repeat(n).into();
                    NewApplication::parse(&v, Some(now)).map_err(|e| e.field)
                };
                assert!(with(max).is_ok(), "{part}.{field}: {max} characters");
                assert_eq!(with(max + 1), Err(format!("{part}.{field}")), "{max} + 1");
                checked += 1;
            }
        }
        assert_eq!(checked, 8, "every trimmed text field of the body");
    }
}
