//! The hall's application body (intake-api.md, POST /api/v1/applications) parsed into domain
//! types. Fields are checked in document order and the first wrong one is named by its JSON path.

use super::{
    calendar::beijing,
    contact::{Email, Mobile},
    credit_code::CreditCode,
    money::Fen,
    personal_id::{IdType, PersonalId},
    serial::CertificateSerial,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PaymentChannel {
    Wechat,
    Alipay,
}

impl PaymentChannel {
    pub fn code(self) -> &'static str {
        match self {
            PaymentChannel::Wechat => "wechat",
            PaymentChannel::Alipay => "alipay",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wechat" => Some(Self::Wechat),
            "alipay" => Some(Self::Alipay),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            PaymentChannel::Wechat => "微信支付",
            PaymentChannel::Alipay => "支付宝",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Applicant {
    pub name: String,
    pub id: PersonalId,
    pub mobile: Mobile,
    pub email: Email,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MailingAddress {
    pub recipient: String,
    pub mobile: Mobile,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
    pub postcode: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceRequest {
    pub title: String,
    pub tax_id: Option<CreditCode>,
    pub email: Email,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub channel: PaymentChannel,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount: Fen,
    pub paid_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub passed: bool,
    pub score: Option<f64>,
    pub checked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Consents {
    pub service_agreement_version: String,
    pub agreed_at: DateTime<Utc>,
}

/// A well-formed application as the hall sent it (not yet checked against the registry).
#[derive(Debug, Clone, PartialEq)]
pub struct NewApplication {
    pub hall_reference: String,
    pub certificate_serial: CertificateSerial,
    pub applicant: Applicant,
    pub mailing_address: MailingAddress,
    pub invoice: Option<InvoiceRequest>,
    pub payment: Payment,
    pub liveness: Check,
    pub telecom_real_name: Check,
    pub consents: Consents,
    pub submitted_at: DateTime<Utc>,
}

/// How far `submitted_at` may lie from the time of receipt.
pub const MAX_PAST: Duration = Duration::days(30);
pub const MAX_FUTURE: Duration = Duration::minutes(5);

/// A JSON object being read, with its path for error messages.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn root(v: &'a Value) -> Result<Self, FieldError> {
        match v {
            Value::Object(map) => Ok(Obj {
                map,
                path: String::new(),
            }),
            _ => Err(FieldError::new("application", "must be a JSON object")),
        }
    }
    fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }
    fn err(&self, key: &str, msg: impl Into<String>) -> FieldError {
        FieldError::new(self.path(key), msg)
    }
    fn get(&self, key: &str) -> Result<&'a Value, FieldError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Err(self.err(key, "is required")),
            Some(v) => Ok(v),
        }
    }
    fn obj(&self, key: &str) -> Result<Obj<'a>, FieldError> {
        match self.get(key)? {
            Value::Object(map) => Ok(Obj {
                map,
                path: self.path(key),
            }),
            _ => Err(self.err(key, "must be an object")),
        }
    }
    fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, FieldError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.obj(key).map(Some),
        }
    }
    /// A string as sent: the contract's values have no surrounding whitespace (a mobile of
    /// " 13800138000" is not 11 digits), so one with it is refused rather than trimmed.
    fn str(&self, key: &str) -> Result<&'a str, FieldError> {
        match self.get(key)? {
            Value::String(s) if s.trim() != s => {
                Err(self.err(key, "must not begin or end with whitespace"))
            }
            Value::String(s) => Ok(s),
            _ => Err(self.err(key, "must be a string")),
        }
    }
    fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str(key).map(Some),
        }
    }
    /// Non-empty text of at most `max` characters, without control characters; trimmed.
    fn text(&self, key: &str, max: usize) -> Result<String, FieldError> {
        let s = self.str(key)?.trim();
        if s.is_empty() {
            return Err(self.err(key, "must not be empty"));
        }
        if s.chars().count() > max {
            return Err(self.err(key, format!("must be at most {max} characters")));
        }
        if s.chars().any(char::is_control) {
            return Err(self.err(key, "must not contain control characters"));
        }
        Ok(s.to_owned())
    }
    fn bool(&self, key: &str) -> Result<bool, FieldError> {
        match self.get(key)? {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.err(key, "must be true or false")),
        }
    }
    fn time(&self, key: &str) -> Result<DateTime<Utc>, FieldError> {
        DateTime::parse_from_rfc3339(self.str(key)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                self.err(
                    key,
                    "must be an RFC 3339 time with an offset, e.g. 2026-11-25T10:05:00+08:00",
                )
            })
    }
    fn parse<T, E: std::fmt::Display>(
        &self,
        key: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, FieldError> {
        f(self.str(key)?).map_err(|e| self.err(key, e.to_string()))
    }
}

fn name_like(o: &Obj, key: &str) -> Result<String, FieldError> {
    o.text(key, 50)
}

/// A hall reference: 1–64 printable ASCII characters without spaces.
pub fn is_reference(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_graphic())
}

/// An Idempotency-Key: 1–64 printable ASCII characters (space included).
pub fn is_idempotency_key(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|c| (0x20..=0x7E).contains(&c))
}

impl NewApplication {
    /// Parses and checks the body. `received` is the time of receipt, against which
    /// `submitted_at` is checked; `None` skips that check (reading back a stored body).
    pub fn parse(v: &Value, received: Option<DateTime<Utc>>) -> Result<Self, FieldError> {
        let root = Obj::root(v)?;
        let hall_reference = root.str("hall_reference")?.trim().to_owned();
        if !is_reference(&hall_reference) {
            return Err(root.err(
                "hall_reference",
                "must be 1 to 64 printable ASCII characters without spaces",
            ));
        }
        let certificate_serial = root.parse("certificate_serial", CertificateSerial::parse)?;

        let a = root.obj("applicant")?;
        let name = name_like(&a, "name")?;
        let id_type = a.parse("id_type", |s| {
            IdType::parse(s).filter(|t| t.code() == s).ok_or(
                "must be one of resident_id, hk_macau_permit, taiwan_permit, foreign_passport",
            )
        })?;
        let id = a.parse("id_number", |s| PersonalId::parse(id_type, s))?;
        let mobile = a.parse("mobile", Mobile::parse)?;
        let email = a.parse("email", Email::parse)?;
        let applicant = Applicant {
            name,
            id,
            mobile,
            email,
        };

        let m = root.obj("mailing_address")?;
        let mailing_address = MailingAddress {
            recipient: name_like(&m, "recipient")?,
            mobile: m.parse("mobile", Mobile::parse)?,
            province: m.text("province", 20)?,
            city: m.text("city", 30)?,
            district: m.text("district", 30)?,
            detail: m.text("detail", 120)?,
            postcode: match m.opt_str("postcode")? {
                None => None,
                Some(p) if p.len() == 6 && p.bytes().all(|c| c.is_ascii_digit()) => {
                    Some(p.to_owned())
                }
                Some(_) => return Err(m.err("postcode", "must be 6 digits")),
            },
        };

        let invoice = match root.opt_obj("invoice")? {
            None => None,
            Some(i) => Some(InvoiceRequest {
                title: i.text("title", 100)?,
                tax_id: match i.opt_str("tax_id")? {
                    None => None,
                    Some(t) => {
                        Some(CreditCode::parse(t).map_err(|e| i.err("tax_id", e.to_string()))?)
                    }
                },
                email: i.parse("email", Email::parse)?,
            }),
        };

        let p = root.obj("payment")?;
        let channel = p.parse("channel", |s| {
            PaymentChannel::parse(s).ok_or("must be wechat or alipay")
        })?;
        // WeChat's and Alipay's merchant order number rule: ≤ 32 of letters, digits, _ - | *.
        let out_trade_no = p.parse("out_trade_no", |s| {
            if (1..=32).contains(&s.len())
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"_-|*".contains(&c))
            {
                Ok(s.to_owned())
            } else {
                Err("must be 1 to 32 letters, digits or _-|*")
            }
        })?;
        let transaction_id = p.parse("transaction_id", |s| {
            if (1..=64).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_alphanumeric()) {
                Ok(s.to_owned())
            } else {
                Err("must be 1 to 64 letters and digits")
            }
        })?;
        let amount = match p.get("amount_fen")? {
            Value::Number(n) => match n.as_i64() {
                Some(v) if v > 0 && v <= 100_000_000 => Fen::new(v),
                _ => return Err(p.err("amount_fen", "must be a positive whole number of fen")),
            },
            _ => return Err(p.err("amount_fen", "must be a whole number of fen")),
        };
        let payment = Payment {
            channel,
            out_trade_no,
            transaction_id,
            amount,
            paid_at: p.time("paid_at")?,
        };

        let l = root.obj("liveness")?;
        let liveness_passed = l.bool("passed")?;
        let score = match l.get("score")? {
            Value::Number(n) => match n.as_f64() {
                Some(s) if (0.0..=1.0).contains(&s) => s,
                _ => return Err(l.err("score", "must be between 0 and 1")),
            },
            _ => return Err(l.err("score", "must be a number between 0 and 1")),
        };
        let liveness = Check {
            passed: liveness_passed,
            score: Some(score),
            checked_at: l.time("checked_at")?,
        };

        let t = root.obj("telecom_real_name")?;
        let telecom_real_name = Check {
            passed: t.bool("passed")?,
            score: None,
            checked_at: t.time("checked_at")?,
        };

        let c = root.obj("consents")?;
        let service_agreement_version = c.text("service_agreement_version", 32)?;
        if !c.bool("sensitive_pi_authorization")? {
            return Err(c.err("sensitive_pi_authorization", "the applicant must have authorised the processing of sensitive personal information"));
        }
        let consents = Consents {
            service_agreement_version,
            agreed_at: c.time("agreed_at")?,
        };

        let submitted_at = root.time("submitted_at")?;
        if let Some(now) = received {
            if submitted_at > now + MAX_FUTURE {
                return Err(root.err("submitted_at", "lies more than 5 minutes in the future"));
            }
            if submitted_at < now - MAX_PAST {
                return Err(root.err("submitted_at", "lies more than 30 days in the past"));
            }
        }

        Ok(NewApplication {
            hall_reference,
            certificate_serial,
            applicant,
            mailing_address,
            invoice,
            payment,
            liveness,
            telecom_real_name,
            consents,
            submitted_at,
        })
    }

    /// The normalised body as stored with each version (times in +08:00).
    pub fn to_json(&self) -> Value {
        let t = |t: &DateTime<Utc>| t.with_timezone(&beijing()).to_rfc3339();
        json!({
            "hall_reference": self.hall_reference,
            "certificate_serial": self.certificate_serial.as_str(),
            "applicant": {
                "name": self.applicant.name,
                "id_type": self.applicant.id.id_type().code(),
                "id_number": self.applicant.id.number(),
                "mobile": self.applicant.mobile.as_str(),
                "email": self.applicant.email.as_str(),
            },
            "mailing_address": {
                "recipient": self.mailing_address.recipient,
                "mobile": self.mailing_address.mobile.as_str(),
                "province": self.mailing_address.province,
                "city": self.mailing_address.city,
                "district": self.mailing_address.district,
                "detail": self.mailing_address.detail,
                "postcode": self.mailing_address.postcode,
            },
            "invoice": self.invoice.as_ref().map(|i| json!({
                "title": i.title,
                "tax_id": i.tax_id.as_ref().map(|c| c.as_str()),
                "email": i.email.as_str(),
            })),
            "payment": {
                "channel": self.payment.channel.code(),
                "out_trade_no": self.payment.out_trade_no,
                "transaction_id": self.payment.transaction_id,
                "amount_fen": self.payment.amount.get(),
                "paid_at": t(&self.payment.paid_at),
            },
            "liveness": {"passed": self.liveness.passed, "score": self.liveness.score, "checked_at": t(&self.liveness.checked_at)},
            "telecom_real_name": {"passed": self.telecom_real_name.passed, "checked_at": t(&self.telecom_real_name.checked_at)},
            "consents": {
                "service_agreement_version": self.consents.service_agreement_version,
                "sensitive_pi_authorization": true,
                "agreed_at": t(&self.consents.agreed_at),
            },
            "submitted_at": t(&self.submitted_at),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
