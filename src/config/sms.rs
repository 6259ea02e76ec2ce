//! SMS to the applicant (README, "SMS to the applicant"): Alibaba Cloud SMS `SendSms`, on when
//! `BACKOFFICE_SMS_ACCESS_KEY_ID` is set. Then the secret (`BACKOFFICE_SMS_ACCESS_KEY_SECRET`),
//! the sign name (`BACKOFFICE_SMS_SIGN_NAME`) and a template code for each event
//! (`BACKOFFICE_SMS_TEMPLATE_RETURNED`, `_ACCEPTED`, `_SHIPPED`, `_INVOICE`) are required; the
//! endpoint (`BACKOFFICE_SMS_ENDPOINT`, `https://dysmsapi.aliyuncs.com`) and region
//! (`BACKOFFICE_SMS_REGION`, `cn-hangzhou`) have defaults. Off, SMS messages wait in the outbox.

use crate::domain::sms::SmsEvent;
use anyhow::bail;
use std::fmt;

pub const DEFAULT_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com";

#[derive(Clone, Default, Debug)]
pub struct SmsSettings {
    /// None: SMS is off and SMS messages wait.
    pub provider: Option<SmsProvider>,
}

#[derive(Clone)]
pub struct SmsProvider {
    /// `https://…`, or `http://` on a loopback address (tests).
    pub endpoint: url::Url,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub sign_name: String,
    pub region_id: String,
    /// The template code of each event, in the order of `SmsEvent::ALL`.
    pub templates: [String; 4],
}

impl SmsProvider {
    pub fn template(&self, e: SmsEvent) -> &str {
        let i = SmsEvent::ALL.iter().position(|x| *x == e).unwrap_or(0);
        &self.templates[i]
    }
}

impl fmt::Debug for SmsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsProvider")
            .field("endpoint", &self.endpoint.as_str())
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"***")
            .field("sign_name", &self.sign_name)
            .field("templates", &self.templates)
            .finish()
    }
}

impl SmsSettings {
    pub fn load(env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<SmsSettings> {
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(access_key_id) = get("BACKOFFICE_SMS_ACCESS_KEY_ID") else {
            return Ok(SmsSettings::default());
        };
        let need = |name: &str| {
            get(name).ok_or_else(|| {
                anyhow::anyhow!("{name} is required when BACKOFFICE_SMS_ACCESS_KEY_ID is set")
            })
        };
        let endpoint_text =
            get("BACKOFFICE_SMS_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let endpoint = url::Url::parse(&endpoint_text)
            .map_err(|e| anyhow::anyhow!("BACKOFFICE_SMS_ENDPOINT '{endpoint_text}': {e}"))?;
        let loopback = match endpoint.host() {
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        if !(endpoint.scheme() == "https" || (endpoint.scheme() == "http" && loopback)) {
            bail!("BACKOFFICE_SMS_ENDPOINT must be https:// (http:// only on a loopback address)");
        }
        if endpoint.path() != "/" || endpoint.query().is_some() {
            bail!("BACKOFFICE_SMS_ENDPOINT is the service's address only, without a path or query");
        }
        let templates = [
            need(SmsEvent::ALL[0].setting())?,
            need(SmsEvent::ALL[1].setting())?,
            need(SmsEvent::ALL[2].setting())?,
            need(SmsEvent::ALL[3].setting())?,
        ];
        Ok(SmsSettings {
            provider: Some(SmsProvider {
                endpoint,
                access_key_id,
                access_key_secret: need("BACKOFFICE_SMS_ACCESS_KEY_SECRET")?,
                sign_name: need("BACKOFFICE_SMS_SIGN_NAME")?,
                region_id: get("BACKOFFICE_SMS_REGION").unwrap_or_else(|| "cn-hangzhou".into()),
                templates,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> anyhow::Result<SmsSettings> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        SmsSettings::load(&|k: &str| map.get(k).cloned())
    }

    #[test]
    fn off_without_a_key_and_complete_with_one() {
        assert!(load(&[]).unwrap().provider.is_none());
        let err = format!(
            "{:#}",
            load(&[("BACKOFFICE_SMS_ACCESS_KEY_ID", "id")]).unwrap_err()
        );
        assert!(err.contains("BACKOFFICE_SMS_TEMPLATE_RETURNED"), "{err}");
        let full = [
            ("BACKOFFICE_SMS_ACCESS_KEY_ID", "id"),
            ("BACKOFFICE_SMS_ACCESS_KEY_SECRET", "secret"),
            ("BACKOFFICE_SMS_SIGN_NAME", "深圳CA"),
            ("BACKOFFICE_SMS_TEMPLATE_RETURNED", "SMS_1"),
            ("BACKOFFICE_SMS_TEMPLATE_ACCEPTED", "SMS_2"),
            ("BACKOFFICE_SMS_TEMPLATE_SHIPPED", "SMS_3"),
            ("BACKOFFICE_SMS_TEMPLATE_INVOICE", "SMS_4"),
        ];
        let p = load(&full).unwrap().provider.unwrap();
        assert_eq!(p.endpoint.as_str(), "https://dysmsapi.aliyuncs.com/");
        assert_eq!(p.template(SmsEvent::Shipped), "SMS_3");
        assert!(!format!("{p:?}").contains("secret\""));
        let mut plain = full.to_vec();
        plain.push(("BACKOFFICE_SMS_ENDPOINT", "http://sms.example.cn"));
        assert!(load(&plain).is_err());
        plain.pop();
        plain.push(("BACKOFFICE_SMS_ENDPOINT", "http://127.0.0.1:9999"));
        assert!(load(&plain).is_ok());
    }
}
