//! SMS to the applicant (issue 23, item 2) through the real server: decisions queue an SMS
//! beside each e-mail; without a provider the SMS wait; a local stand-in for Alibaba Cloud
//! SMS `SendSms` checks the documented signature (written again here from the documentation,
//! not by calling the back office's), the template code and parameters, and answers as the
//! test scripts it: success, flow control, a server error, a refused number. Each message goes
//! once however many instances deliver, is retried on the passing errors and parked on the
//! others; the administrator's outbox lists the parked SMS (mobile masked) and retries it.

use crate::both;
use crate::helpers::*;
use axum::{Router, extract::RawQuery, http::StatusCode, routing::get};
use backoffice::config::sms::SmsSettings;
use backoffice::domain::status::Action;
use backoffice::jobs::outbox::{deliver_all_sms, deliver_sms};
use backoffice::sms::SmsSender;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

const MINUTE: i64 = 60_000;
const KEY_ID: &str = "testId";
const SECRET: &str = "testSecret";
const SIGN_NAME: &str = "深圳CA";
/// The template codes configured per event, with the variables each template has.
const TEMPLATES: [(&str, &str, &[&str]); 4] = [
    ("BACKOFFICE_SMS_TEMPLATE_RETURNED", "SMS_900001", &["ref"]),
    ("BACKOFFICE_SMS_TEMPLATE_ACCEPTED", "SMS_900002", &["ref"]),
    (
        "BACKOFFICE_SMS_TEMPLATE_SHIPPED",
        "SMS_900003",
        &["courier", "ref", "waybill"],
    ),
    (
        "BACKOFFICE_SMS_TEMPLATE_INVOICE",
        "SMS_900004",
        &["number", "ref", "token"],
    ),
];

#[derive(Clone, Copy, Debug)]
enum Reply {
    Ok,
    Throttled,
    ServerError,
    MobileIllegal,
}

#[derive(Debug, Clone)]
struct Seen {
    phone: String,
    template: String,
    params: Value,
    ok: bool,
}

#[derive(Default)]
struct ProviderState {
    seen: Vec<Seen>,
    script: VecDeque<Reply>,
    bad_signatures: usize,
    nonces: HashSet<String>,
}

/// The stand-in provider on a loopback port.
struct Provider {
    port: u16,
    state: Arc<Mutex<ProviderState>>,
}

/// RFC 3986 as the documentation says to get it from a form encoder: `+` → `%20`,
/// `*` → `%2A`, `%7E` → `~`.
fn pop_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace('*', "%2A")
        .replace("%7E", "~")
}

/// The documented signature of a GET with `params` (all but `Signature`).
fn expected_signature(params: &BTreeMap<String, String>) -> String {
    let canonical = params
        .iter()
        .map(|(k, v)| format!("{}={}", pop_encode(k), pop_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("GET&{}&{}", pop_encode("/"), pop_encode(&canonical));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{SECRET}&").as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn answer(code: &str, message: &str) -> (StatusCode, String) {
    let status = if code == "SignatureDoesNotMatch" {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body =
        json!({"Code": code, "Message": message, "RequestId": "R-1", "BizId": "900826175889^0"});
    (status, body.to_string())
}

/// Checks one request as the provider would; the reply the script says (success when empty).
fn handle(state: &Mutex<ProviderState>, query: &str) -> (StatusCode, String) {
    let mut all: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let signature = all.remove("Signature").unwrap_or_default();
    let mut st = state.lock().unwrap();
    if signature != expected_signature(&all) {
        st.bad_signatures += 1;
        return answer(
            "SignatureDoesNotMatch",
            "Specified signature is not matched",
        );
    }
    let fixed = [
        ("AccessKeyId", KEY_ID),
        ("Action", "SendSms"),
        ("Format", "JSON"),
        ("RegionId", "cn-hangzhou"),
        ("SignName", SIGN_NAME),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("Version", "2017-05-25"),
    ];
    for (k, v) in fixed {
        if all.get(k).map(String::as_str) != Some(v) {
            return answer("isv.INVALID_PARAMETERS", &format!("{k} is wrong"));
        }
    }
    let nonce = all.get("SignatureNonce").cloned().unwrap_or_default();
    let ts = all.get("Timestamp").cloned().unwrap_or_default();
    if nonce.is_empty()
        || !st.nonces.insert(nonce)
        || chrono::NaiveDateTime::parse_from_str(&ts, "%Y-%m-%dT%H:%M:%SZ").is_err()
    {
        return answer("SignatureNonceUsed", "nonce or timestamp");
    }
    let phone = all.get("PhoneNumbers").cloned().unwrap_or_default();
    let template = all.get("TemplateCode").cloned().unwrap_or_default();
    let params: Value =
        serde_json::from_str(all.get("TemplateParam").map_or("", |s| s)).unwrap_or(Value::Null);
    let Some((_, _, vars)) = TEMPLATES.iter().find(|t| t.1 == template) else {
        return answer("isv.SMS_TEMPLATE_ILLEGAL", "no such template");
    };
    let mut keys: Vec<&str> = params
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort();
    let lengths_ok = params.as_object().is_some_and(|o| {
        o.values().all(|v| {
            v.as_str()
                .is_some_and(|s| (1..=35).contains(&s.chars().count()))
        })
    });
    if keys != *vars || !lengths_ok {
        return answer("isv.TEMPLATE_MISSING_PARAMETERS", "template parameters");
    }
    let reply = st.script.pop_front().unwrap_or(Reply::Ok);
    let ok = matches!(reply, Reply::Ok);
    st.seen.push(Seen {
        phone,
        template,
        params,
        ok,
    });
    match reply {
        Reply::Ok => answer("OK", "OK"),
        Reply::Throttled => answer("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5"),
        Reply::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "<html>upstream error</html>".into(),
        ),
        Reply::MobileIllegal => answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
    }
}

impl Provider {
    async fn start() -> Provider {
        let state = Arc::new(Mutex::new(ProviderState::default()));
        let s = state.clone();
        let app = Router::new().route(
            "/",
            get(move |RawQuery(q): RawQuery| {
                let s = s.clone();
                async move {
                    // A little time per request, so that two workers overlap.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    handle(&s, q.as_deref().unwrap_or(""))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Provider { port, state }
    }

    fn sender_with_secret(&self, secret: &str) -> SmsSender {
        let endpoint = format!("http://127.0.0.1:{}", self.port);
        let mut env: BTreeMap<&str, &str> = TEMPLATES.iter().map(|t| (t.0, t.1)).collect();
        env.insert("BACKOFFICE_SMS_ENDPOINT", &endpoint);
        env.insert("BACKOFFICE_SMS_ACCESS_KEY_ID", KEY_ID);
        env.insert("BACKOFFICE_SMS_ACCESS_KEY_SECRET", secret);
        env.insert("BACKOFFICE_SMS_SIGN_NAME", SIGN_NAME);
        let s = SmsSettings::load(&|k: &str| env.get(k).map(|v| (*v).to_owned())).unwrap();
        SmsSender::from_settings(&s).unwrap().expect("configured")
    }

    fn sender(&self) -> SmsSender {
        self.sender_with_secret(SECRET)
    }

    fn script(&self, replies: &[Reply]) {
        self.state
            .lock()
            .unwrap()
            .script
            .extend(replies.iter().copied());
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    fn bad_signatures(&self) -> usize {
        self.state.lock().unwrap().bad_signatures
    }
}

fn mobile(n: u32) -> String {
    format!("1390000{n:04}")
}

fn hall(n: u32) -> String {
    format!("WT2026112571{n:02}")
}

/// An application of its own (`n`), submitted through the API.
async fn submitted(app: &TestApp, n: u32) -> String {
    let mut j = example_json();
    j["hall_reference"] = json!(hall(n));
    j["applicant"]["mobile"] = json!(mobile(n));
    j["payment"]["out_trade_no"] = json!(format!("SZCA{:016X}", 0xE000u64 + u64::from(n)));
    let r = app
        .submit(&format!("sms-{n}"), Submission::with_json(j).form())
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn returned(app: &TestApp, n: u32) -> String {
    let id = submitted(app, n).await;
    app.staff_act(&id, Action::Claim, &[]).await;
    let reason = [(
        "form_unsigned",
        "申请表未签名，请打印申请表、本人签名后重新上传",
    )];
    app.staff_act(&id, Action::Return, &reason).await;
    id
}

async fn accepted(app: &TestApp, n: u32) -> String {
    let id = submitted(app, n).await;
    app.verify_payment(&id).await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(&id, Action::Accept, &[]).await;
    id
}

async fn sms_wait_without_a_provider_then_go_once_each_from_two_instances(b: Backend) {
    let app = TestApp::spawn(b).await;
    assert!(app.state.settings.sms.provider.is_none());
    assert!(
        SmsSender::from_settings(&app.state.settings.sms)
            .unwrap()
            .is_none()
    );
    for n in 1..=3 {
        returned(&app, n).await;
    }
    for n in 4..=6 {
        accepted(&app, n).await;
    }
    // Queued beside each e-mail, with the text the applicant reads and the template's values.
    let pending = app.storage.sms_messages("pending", 50).await.unwrap();
    assert_eq!(pending.len(), 6);
    for m in &pending {
        let n: u32 = m.recipient[7..].parse().unwrap();
        assert_eq!(m.recipient, mobile(n));
        let params: Value = serde_json::from_str(&m.body_text).unwrap();
        assert_eq!(params, json!({"ref": hall(n)}));
        let word = if n <= 3 {
            "已退回"
        } else {
            "已审核通过"
        };
        assert!(
            m.subject.contains(&hall(n)) && m.subject.contains(word),
            "{}",
            m.subject
        );
    }
    // The e-mail worker takes its six e-mails and leaves the SMS waiting.
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let now = app.clock.now().timestamp_millis();
    let d = backoffice::jobs::outbox::deliver_all(&app.storage, &sink.mailer(), now)
        .await
        .unwrap();
    assert_eq!(d.sent, 6);
    assert_eq!(
        app.storage.sms_messages("pending", 50).await.unwrap().len(),
        6
    );

    // A provider now: two instances deliver at once, each SMS reaches it once.
    let provider = Provider::start().await;
    let other = TestApp::spawn_on(&app.database_url).await;
    let (sa, sb) = (provider.sender(), provider.sender());
    let later = now + MINUTE;
    let (da, db) = tokio::join!(
        deliver_all_sms(&app.storage, &sa, later),
        deliver_all_sms(&other.storage, &sb, later)
    );
    let (da, db) = (da.unwrap(), db.unwrap());
    assert_eq!((da.sent + db.sent, da.failed + db.failed), (6, 0));
    assert_eq!(provider.bad_signatures(), 0);
    let seen = provider.seen();
    assert_eq!(seen.len(), 6, "{seen:?}");
    let phones: HashSet<_> = seen.iter().map(|s| s.phone.clone()).collect();
    assert_eq!(phones.len(), 6, "each mobile once: {seen:?}");
    for s in &seen {
        let n: u32 = s.phone[7..].parse().unwrap();
        let code = if n <= 3 { "SMS_900001" } else { "SMS_900002" };
        assert_eq!(
            (s.template.as_str(), &s.params),
            (code, &json!({"ref": hall(n)}))
        );
        assert!(s.ok);
    }
    assert_eq!(app.storage.outbox_count_of("sms", "sent").await.unwrap(), 6);
    assert_eq!(
        app.storage.outbox_count_of("sms", "pending").await.unwrap(),
        0
    );
    // Nothing more goes, however often the workers pass.
    let d = deliver_all_sms(&other.storage, &sb, later + 3 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(d.sent + d.failed, 0);
    assert_eq!(provider.seen().len(), 6);
}
both!(sms_wait_without_a_provider_then_go_once_each_from_two_instances);

async fn sms_retried_on_passing_errors_parked_on_refusals_and_retried_by_the_admin(b: Backend) {
    let app = TestApp::spawn(b).await;
    returned(&app, 1).await;
    returned(&app, 2).await;
    let provider = Provider::start().await;
    let sender = provider.sender();
    let now = app.clock.now().timestamp_millis();

    // Flow control for the first, a server error for the second: both due again in a minute.
    provider.script(&[Reply::Throttled, Reply::ServerError]);
    let d = deliver_sms(&app.storage, &sender, now, 10).await.unwrap();
    assert_eq!((d.sent, d.failed), (0, 2));
    let pending = app.storage.sms_messages("pending", 10).await.unwrap();
    assert_eq!(pending.len(), 2);
    let by_mobile = |rows: &[backoffice::storage::outbox::OutboxRow], n: u32| {
        rows.iter()
            .find(|r| r.recipient == mobile(n))
            .cloned()
            .unwrap()
    };
    let (first, second) = (by_mobile(&pending, 1), by_mobile(&pending, 2));
    assert_eq!((first.attempts, first.next_attempt_at), (1, now + MINUTE));
    assert_eq!((second.attempts, second.next_attempt_at), (1, now + MINUTE));
    assert!(
        first
            .last_error
            .as_deref()
            .unwrap()
            .contains("isv.BUSINESS_LIMIT_CONTROL")
    );
    assert!(second.last_error.as_deref().unwrap().contains("HTTP 500"));
    let early = deliver_sms(&app.storage, &sender, now + MINUTE - 1, 10)
        .await
        .unwrap();
    assert_eq!(early.sent + early.failed, 0, "not due before its backoff");

    // A minute on: the first number is refused (parked at once), the second goes.
    provider.script(&[Reply::MobileIllegal, Reply::Ok]);
    let d = deliver_sms(&app.storage, &sender, now + MINUTE, 10)
        .await
        .unwrap();
    assert_eq!((d.sent, d.failed), (1, 1));
    let parked = app.storage.sms_messages("parked", 10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(
        (parked[0].recipient.as_str(), parked[0].attempts),
        (mobile(1).as_str(), 2)
    );
    assert!(
        parked[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("isv.MOBILE_NUMBER_ILLEGAL")
    );
    assert_eq!(app.storage.outbox_count_of("sms", "sent").await.unwrap(), 1);
    // Parked stays parked, days later too.
    let d = deliver_all_sms(&app.storage, &sender, now + 30 * 24 * 60 * MINUTE)
        .await
        .unwrap();
    assert_eq!(d.sent + d.failed, 0);
    let tries = |n: u32| {
        provider
            .seen()
            .iter()
            .filter(|s| s.phone == mobile(n))
            .count()
    };
    assert_eq!((tries(1), tries(2)), (2, 2));

    // The administrator's outbox lists it in the SMS part, the mobile masked, with a retry.
    let admin = app.signed_in_staff("ops.admin", "admin").await;
    let page = admin.get_page("/admin/outbox").await;
    let sms_part = &page[page.find("短信发送队列").unwrap()..];
    let id = parked[0].message_id;
    assert!(
        sms_part.contains(&format!("action=\"/admin/outbox/{id}/retry\"")),
        "{sms_part}"
    );
    assert!(sms_part.contains("139****0001") && sms_part.contains("isv.MOBILE_NUMBER_ILLEGAL"));
    assert!(!page.contains(&mobile(1)), "the full mobile is not shown");
    let r = admin
        .post_form(&format!("/admin/outbox/{id}/retry"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let audited = app.storage.audit_recent(100).await.unwrap();
    assert!(
        audited
            .iter()
            .any(|a| a.action == "outbox.retried" && a.subject_id == id.to_string())
    );
    // Sent on the next pass (the provider takes it now), once.
    let now = app.clock.now().timestamp_millis();
    let d = deliver_all_sms(&app.storage, &sender, now).await.unwrap();
    assert_eq!((d.sent, d.failed), (1, 0));
    assert_eq!(tries(1), 3);
    assert_eq!(app.storage.outbox_count_of("sms", "sent").await.unwrap(), 2);

    // A request signed with another secret is refused by the provider's check, and parked.
    returned(&app, 3).await;
    let wrong = provider.sender_with_secret("notTheSecret");
    let d = deliver_all_sms(&app.storage, &wrong, now).await.unwrap();
    assert_eq!((d.sent, d.failed), (0, 1));
    assert_eq!(provider.bad_signatures(), 1);
    let parked = app.storage.sms_messages("parked", 10).await.unwrap();
    assert!(
        parked.iter().any(|p| p.recipient == mobile(3)
            && p.last_error
                .as_deref()
                .unwrap()
                .contains("SignatureDoesNotMatch")),
        "{parked:?}"
    );
}
both!(sms_retried_on_passing_errors_parked_on_refusals_and_retried_by_the_admin);
