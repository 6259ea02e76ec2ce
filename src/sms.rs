//! Sending SMS: Alibaba Cloud SMS `SendSms` (API version 2017-05-25), an RPC-style `GET`
//! signed as the provider documents ("签名机制", HMAC-SHA1): the parameters but `Signature`
//! sorted by name, each name and value percent-encoded per RFC 3986 (only `A-Z a-z 0-9 - _ . ~`
//! left as they are, UTF-8 bytes as `%XY`), joined as `name=value&…`; the string to sign is
//! `GET&%2F&` followed by that query percent-encoded once more; the key is the AccessKey secret
//! followed by `&`; the signature is the HMAC-SHA1 in Base64, sent as `Signature`.
//!
//! The answer's `Code` says what happened: `OK` sent; the codes the provider documents as
//! flow control or its own trouble (and any 5xx or lost connection) are tried again later;
//! every other code (a wrong number, template, parameter, signature or key) parks the message.

use crate::config::sms::SmsProvider;
use crate::domain::sms::SmsEvent;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use std::time::Duration;

/// A whole request (connect, send, the answer) must finish within this, well inside the
/// outbox's lease (`jobs::outbox::LEASE_MS`): no other worker takes over a message being sent.
pub const SEND_TIME_LIMIT: Duration = Duration::from_secs(30);

/// The largest answer read; the provider's is a few hundred bytes.
const ANSWER_MAX_BYTES: usize = 64 * 1024;

/// Codes the provider documents as passing (flow control, limits, its own errors): tried again.
const RETRYABLE_CODES: &[&str] = &[
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "isv.MONTH_LIMIT_CONTROL",
    "isv.OUT_OF_SERVICE",
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "SignatureNonceUsed",
    "ServiceUnavailable",
    "InternalError",
];

/// What became of one send.
#[derive(Debug, PartialEq, Eq)]
pub enum SmsOutcome {
    /// Accepted by the provider (its `BizId`).
    Sent(String),
    /// Try again after the outbox's backoff.
    Retry(String),
    /// Trying again cannot help: park for an administrator.
    Park(String),
}

#[derive(Clone)]
pub struct SmsSender {
    provider: SmsProvider,
    client: reqwest::Client,
}

/// RFC 3986 percent-encoding as the provider's signature asks for it.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonicalized query: sorted by name, encoded, `name=value` joined by `&`.
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<_> = params.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `Signature` of a `GET` with these parameters (Base64, not yet percent-encoded).
pub fn signature(secret: &str, params: &[(&str, &str)]) -> String {
    let to_sign = format!("GET&%2F&{}", percent_encode(&canonical_query(params)));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What the provider's answer means: by its `Code` first, then by the HTTP status.
pub fn classify(status: u16, body: &[u8]) -> SmsOutcome {
    let v: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        v.as_ref()
            .and_then(|v| v[k].as_str())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>()
    };
    let (code, message) = (field("Code"), field("Message"));
    let said = format!("HTTP {status} {code}: {message}");
    if status == 200 && code == "OK" {
        return SmsOutcome::Sent(field("BizId"));
    }
    if RETRYABLE_CODES.contains(&code.as_str()) || code.starts_with("Throttling") {
        return SmsOutcome::Retry(said);
    }
    if status >= 500 || status == 429 || (code.is_empty() && status == 200) {
        // The provider's trouble, or an answer that says nothing: not the message's fault.
        return SmsOutcome::Retry(said);
    }
    SmsOutcome::Park(said)
}

impl SmsSender {
    /// None when SMS is not configured: SMS messages then wait in the outbox.
    pub fn from_settings(s: &crate::config::sms::SmsSettings) -> anyhow::Result<Option<Self>> {
        let Some(provider) = s.provider.clone() else {
            return Ok(None);
        };
        let client = reqwest::Client::builder()
            .timeout(SEND_TIME_LIMIT)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Some(SmsSender { provider, client }))
    }

    /// Sends one queued SMS: `kind` names its event (so its template), `param_json` its
    /// `TemplateParam`. The number never appears in what this returns.
    pub async fn send(&self, mobile: &str, kind: &str, param_json: &str) -> SmsOutcome {
        let Some(event) = SmsEvent::from_kind(kind) else {
            return SmsOutcome::Park(format!("no SMS template for '{kind}'"));
        };
        // An erased (or never valid) number is not sent to the provider at all.
        if crate::domain::contact::Mobile::parse(mobile).is_err() {
            return SmsOutcome::Park("the recipient is not a mainland mobile number".into());
        }
        let p = &self.provider;
        let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let nonce = uuid::Uuid::new_v4().to_string();
        let params: Vec<(&str, &str)> = vec![
            ("AccessKeyId", p.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", mobile),
            ("RegionId", p.region_id.as_str()),
            ("SignName", p.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce.as_str()),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", p.template(event)),
            ("TemplateParam", param_json),
            ("Timestamp", timestamp.as_str()),
            ("Version", "2017-05-25"),
        ];
        let sig = signature(&p.access_key_secret, &params);
        let url = format!(
            "{}?Signature={}&{}",
            p.endpoint,
            percent_encode(&sig),
            canonical_query(&params)
        );
        // The error text names no number: reqwest's would carry the URL, so it is dropped.
        let lost = |e: reqwest::Error| {
            SmsOutcome::Retry(format!("SMS request failed: {}", e.without_url()))
        };
        let mut resp = match self.client.get(url).send().await {
            Ok(r) => r,
            Err(e) => return lost(e),
        };
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) if body.len() + c.len() <= ANSWER_MAX_BYTES => {
                    body.extend_from_slice(&c)
                }
                Ok(Some(_)) => {
                    return SmsOutcome::Retry(format!(
                        "HTTP {status}: the answer is over {ANSWER_MAX_BYTES} bytes"
                    ));
                }
                Ok(None) => break,
                Err(e) => return lost(e),
            }
        }
        classify(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The provider's worked example ("签名机制", SendSms with testId / testSecret).
    #[test]
    fn the_documented_example_signs_as_documented() {
        let params = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ];
        let mut shuffled = params;
        shuffled.reverse();
        assert_eq!(
            canonical_query(&shuffled),
            "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001\
            &RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B\
            %E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1\
            &SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0\
            &TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D\
            &Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
        );
        assert_eq!(
            signature("testSecret", &shuffled),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
        assert_eq!(
            percent_encode("zJDF+Lrzhj/ThnlvIToysFRq6t4="),
            "zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D"
        );
        assert_eq!(percent_encode("a b*~"), "a%20b%2A~");
    }

    #[test]
    fn answers_are_sent_retried_or_parked() {
        let body = |code: &str| {
            format!(r#"{{"Code":"{code}","Message":"m","BizId":"9","RequestId":"r"}}"#)
        };
        assert_eq!(
            classify(200, body("OK").as_bytes()),
            SmsOutcome::Sent("9".into())
        );
        for c in [
            "isv.BUSINESS_LIMIT_CONTROL",
            "Throttling.User",
            "isp.SYSTEM_ERROR",
        ] {
            assert!(
                matches!(classify(200, body(c).as_bytes()), SmsOutcome::Retry(_)),
                "{c}"
            );
        }
        assert!(matches!(
            classify(503, b"<html>busy</html>"),
            SmsOutcome::Retry(_)
        ));
        for c in [
            "isv.MOBILE_NUMBER_ILLEGAL",
            "isv.TEMPLATE_MISSING_PARAMETERS",
        ] {
            assert!(
                matches!(classify(200, body(c).as_bytes()), SmsOutcome::Park(_)),
                "{c}"
            );
        }
        match classify(400, body("SignatureDoesNotMatch").as_bytes()) {
            SmsOutcome::Park(e) => assert!(e.contains("SignatureDoesNotMatch"), "{e}"),
            o => panic!("{o:?}"),
        }
    }
}
