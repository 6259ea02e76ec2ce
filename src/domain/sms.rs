//! One SMS to the applicant as written: which event (so which of the provider's registered
//! templates), the template's parameters, and the text the applicant reads. `storage::outbox`
//! holds it beside the e-mail of the same event; `sms` sends it through the provider.
//!
//! The provider (Alibaba Cloud SMS) sends only templates registered and approved in advance,
//! filling `${name}` variables of at most [`VARIABLE_MAX_CHARS`] characters each; a link may
//! not be a variable, only a path variable after a fixed address written in the template. The
//! texts below are the templates to register (README, "SMS to the applicant").

/// Alibaba Cloud SMS: "单个变量的长度限制为1~35个字符".
pub const VARIABLE_MAX_CHARS: usize = 35;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmsEvent {
    Returned,
    Accepted,
    Shipped,
    InvoiceIssued,
}

impl SmsEvent {
    pub const ALL: [SmsEvent; 4] = [
        SmsEvent::Returned,
        SmsEvent::Accepted,
        SmsEvent::Shipped,
        SmsEvent::InvoiceIssued,
    ];

    /// The outbox's `kind`, the same as the e-mail of the same event.
    pub fn kind(self) -> &'static str {
        match self {
            SmsEvent::Returned => "applicant_returned",
            SmsEvent::Accepted => "applicant_accepted",
            SmsEvent::Shipped => "applicant_shipped",
            SmsEvent::InvoiceIssued => "applicant_invoice_issued",
        }
    }

    pub fn from_kind(kind: &str) -> Option<SmsEvent> {
        SmsEvent::ALL.into_iter().find(|e| e.kind() == kind)
    }

    /// The setting that names the provider's template code for this event.
    pub fn setting(self) -> &'static str {
        match self {
            SmsEvent::Returned => "BACKOFFICE_SMS_TEMPLATE_RETURNED",
            SmsEvent::Accepted => "BACKOFFICE_SMS_TEMPLATE_ACCEPTED",
            SmsEvent::Shipped => "BACKOFFICE_SMS_TEMPLATE_SHIPPED",
            SmsEvent::InvoiceIssued => "BACKOFFICE_SMS_TEMPLATE_INVOICE",
        }
    }

    /// The template's text to register with the provider; `{public_url}` stands for the back
    /// office's public address (fixed text of the invoice template, the token its variable).
    pub fn template_zh(self) -> &'static str {
        match self {
            SmsEvent::Returned => {
                "您的数字证书申请${ref}已退回，请登录网上营业厅查看退回原因，修改后重新提交。"
            }
            SmsEvent::Accepted => "您的数字证书申请${ref}已审核通过，我们将尽快制作并寄出证书。",
            SmsEvent::Shipped => "您的数字证书申请${ref}的证书已寄出，${courier}运单号${waybill}。",
            SmsEvent::InvoiceIssued => {
                "您的数字证书申请${ref}的电子发票${number}已开具，下载：{public_url}/invoice-files/${token}"
            }
        }
    }
}

/// One SMS: its event, its parameters in the template's order (each at most
/// [`VARIABLE_MAX_CHARS`] characters) and the text the applicant reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub event: SmsEvent,
    pub params: Vec<(&'static str, String)>,
    pub text: String,
}

impl Sms {
    fn new(event: SmsEvent, params: Vec<(&'static str, String)>, public_url: &str) -> Sms {
        let params: Vec<_> = params.into_iter().map(|(k, v)| (k, clip(&v))).collect();
        let mut text = event
            .template_zh()
            .replace("{public_url}", public_url.trim_end_matches('/'));
        for (k, v) in &params {
            text = text.replace(&format!("${{{k}}}"), v);
        }
        Sms {
            event,
            params,
            text,
        }
    }

    pub fn returned(hall_reference: &str) -> Sms {
        Sms::new(SmsEvent::Returned, vec![("ref", hall_reference.into())], "")
    }

    pub fn accepted(hall_reference: &str) -> Sms {
        Sms::new(SmsEvent::Accepted, vec![("ref", hall_reference.into())], "")
    }

    pub fn shipped(hall_reference: &str, courier: &str, waybill: &str) -> Sms {
        let params = vec![
            ("ref", hall_reference.into()),
            ("courier", courier.into()),
            ("waybill", waybill.into()),
        ];
        Sms::new(SmsEvent::Shipped, params, "")
    }

    /// The invoice's own download link: `token` is the path after `/invoice-files/`.
    pub fn invoice_issued(
        hall_reference: &str,
        number: &str,
        token: &str,
        public_url: &str,
    ) -> Sms {
        let params = vec![
            ("ref", hall_reference.into()),
            ("number", number.into()),
            ("token", token.into()),
        ];
        Sms::new(SmsEvent::InvoiceIssued, params, public_url)
    }

    /// `TemplateParam`: a JSON object of the variables.
    pub fn param_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

/// At most [`VARIABLE_MAX_CHARS`] characters (the provider refuses a longer variable);
/// control characters, which no SMS shows, are dropped.
fn clip(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(VARIABLE_MAX_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_fit_the_providers_limit_and_fill_the_text() {
        let long = "字".repeat(50);
        let s = Sms::shipped("WT202611250001", "顺丰速运", &long);
        assert_eq!(s.params[2].1.chars().count(), VARIABLE_MAX_CHARS);
        assert_eq!(
            s.text,
            format!(
                "您的数字证书申请WT202611250001的证书已寄出，顺丰速运运单号{}。",
                "字".repeat(35)
            )
        );
        let v: serde_json::Value = serde_json::from_str(&s.param_json()).unwrap();
        assert_eq!(v["courier"], "顺丰速运");
        let i = Sms::invoice_issued(
            "WT1",
            "26442000000000012345",
            "ab\ncd",
            "https://bo.example.cn/",
        );
        assert_eq!(
            i.text,
            "您的数字证书申请WT1的电子发票26442000000000012345已开具，下载：https://bo.example.cn/invoice-files/abcd"
        );
    }

    #[test]
    fn every_variable_of_every_template_is_given_once() {
        let all = [
            Sms::returned("R"),
            Sms::accepted("R"),
            Sms::shipped("R", "C", "W"),
            Sms::invoice_issued("R", "N", "T", "https://x"),
        ];
        for s in all {
            assert!(!s.text.contains("${"), "{}", s.text);
            assert_eq!(SmsEvent::from_kind(s.event.kind()), Some(s.event));
            // A template is within the provider's 500 characters with every variable full.
            assert!(s.event.template_zh().chars().count() + 3 * VARIABLE_MAX_CHARS < 500);
            for (k, _) in &s.params {
                assert_eq!(
                    s.event.template_zh().matches(&format!("${{{k}}}")).count(),
                    1
                );
            }
        }
    }
}
