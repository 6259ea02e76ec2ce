//! Webhook events to the API clients and their signature, as the Standard Webhooks
//! specification says: the body is signed with HMAC-SHA256 over `{id}.{timestamp}.{body}`
//! under the secret's bytes (`whsec_<base64>`), and the `webhook-signature` header carries
//! `v1,<base64>` once per secret that signs (space-separated, during a rotation's overlap).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use utoipa::ToSchema;

/// The prefix of a secret as it is shown to the client.
pub const SECRET_PREFIX: &str = "whsec_";

/// The event types, as `type` in the body.
pub const STATUS_CHANGED: &str = "application.status_changed";
pub const INVOICE_ISSUED: &str = "application.invoice_issued";

/// A signing secret: the bytes of `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// `whsec_` and the base64 of 24 to 64 bytes.
    pub fn parse(s: &str) -> Option<Secret> {
        let b64 = s.strip_prefix(SECRET_PREFIX)?;
        let bytes = STANDARD.decode(b64).ok()?;
        (24..=64).contains(&bytes.len()).then_some(Secret(bytes))
    }

    /// The secret as it is stored and shown: `whsec_<base64>`.
    pub fn from_bytes(bytes: [u8; 32]) -> (Secret, String) {
        let text = format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes));
        (Secret(bytes.to_vec()), text)
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one `v1,…` per secret, space-separated.
pub fn signature_header(secrets: &[&Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every event's envelope (Standard Webhooks' recommended shape).
#[derive(Debug, Clone, Serialize)]
pub struct Event<T> {
    /// `application.status_changed` or `application.invoice_issued`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened (RFC 3339, Beijing time).
    pub timestamp: String,
    pub data: T,
}

/// `application.status_changed`: the application's status as `GET /api/v1/applications/{id}`
/// reports it changed (internal steps such as a four-eyes hold are not events).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "BF20261125-7K3M9Q", "hall_reference": "WT202611250001",
    "status": "returned", "previous_status": "in_review", "changed_at": "2026-11-25T10:15:00+08:00",
    "return_reasons": [{"code": "form_unsigned", "text": "申请表未签名"}]}))]
pub struct StatusChanged {
    /// The application id.
    pub id: String,
    pub hall_reference: String,
    /// As in `GET /api/v1/applications/{id}`: submitted, in_review, returned, accepted,
    /// in_production, shipped, withdrawn, expired.
    pub status: String,
    /// The status before (absent for the first, `submitted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<String>,
    pub changed_at: String,
    /// When returned: the reasons shown to the applicant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub return_reasons: Vec<Reason>,
    /// When shipped: the parcel and its waybill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Shipment>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reason {
    pub code: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shipment {
    /// `SF` or `EMS`.
    pub courier: String,
    pub tracking_number: String,
    pub shipped_at: String,
}

/// `application.invoice_issued`: the electronic invoice (数电票) of an application was issued.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "BF20261125-7K3M9Q", "hall_reference": "WT202611250001",
    "invoice_number": "25442000000123456789", "issued_at": "2026-11-26T09:00:00+08:00"}))]
pub struct InvoiceIssued {
    pub id: String,
    pub hall_reference: String,
    pub invoice_number: String,
    pub issued_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's own example (its reference libraries' test).
    #[test]
    fn signs_the_specifications_example() {
        let s = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = s.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_whsec_and_enough_bytes() {
        assert!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none());
        assert!(Secret::parse("whsec_c2hvcnQ=").is_none());
        assert!(Secret::parse("whsec_!!!").is_none());
        let (s, text) = Secret::from_bytes([7; 32]);
        assert_eq!(Secret::parse(&text), Some(s));
    }

    #[test]
    fn two_secrets_sign_side_by_side() {
        let (a, _) = Secret::from_bytes([1; 32]);
        let (b, _) = Secret::from_bytes([2; 32]);
        let h = signature_header(&[&a, &b], "msg_1", 10, b"{}");
        let parts: Vec<_> = h.split(' ').collect();
        assert_eq!(
            parts,
            [a.sign("msg_1", 10, b"{}"), b.sign("msg_1", 10, b"{}")]
        );
    }
}
