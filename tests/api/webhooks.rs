//! Signed webhooks to the hall (issue 23, item 1), through the real server and a real endpoint:
//! an axum listener on loopback that keeps what it receives. Signatures are checked here with
//! the Standard Webhooks algorithm written out again (HMAC-SHA256 over
//! `{id}.{timestamp}.{body}` under the base64-decoded `whsec_` secret), not with the code under
//! test.

use crate::both;
use crate::helpers::*;
use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use backoffice::config::Settings;
use backoffice::domain::status::Action;
use backoffice::jobs::webhooks::deliver_all;
use backoffice::webhook::Sender;
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU16, Ordering},
};

/// What the endpoint holds: the requests received, and the status it answers.
type Hall = (Arc<Mutex<Vec<Received>>>, Arc<AtomicU16>);

#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// The hall's endpoint: answers `status` (200 unless set), with a short body; keeps each request.
#[derive(Clone)]
struct Endpoint {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Endpoint {
    async fn start() -> Endpoint {
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let state = (got.clone(), status.clone());
        let app = axum::Router::new()
            .route(
                "/hook",
                post(
                    |State((got, status)): State<Hall>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        let h = |n: &str| {
                            headers
                                .get(n)
                                .map(|v| v.to_str().unwrap().to_owned())
                                .unwrap_or_default()
                        };
                        got.lock().unwrap().push(Received {
                            id: h("webhook-id"),
                            timestamp: h("webhook-timestamp"),
                            signature: h("webhook-signature"),
                            body: String::from_utf8(body.to_vec()).unwrap(),
                        });
                        let s = StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap();
                        (
                            s,
                            if s.is_success() {
                                "ok"
                            } else {
                                "down for maintenance"
                            },
                        )
                    },
                ),
            )
            .with_state(state);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await });
        Endpoint { url, got, status }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// The specification's check of one `v1,` signature, written independently of the server's.
fn verifies(secret: &str, r: &Received) -> usize {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.signature.split(' ').filter(|s| *s == expected).count()
}

fn loopback(s: &mut Settings) {
    s.webhook.allow_private = true;
}

fn secret_on(page: &str) -> Option<String> {
    let start = page.find("<code class=\"secret\">")? + "<code class=\"secret\">".len();
    let end = page[start..].find("</code>")? + start;
    Some(page[start..end].to_owned())
}

/// The admin's page of the hall client (named by its token's id).
async fn client_page(app: &TestApp) -> (StaffBrowser, String) {
    let admin = app.signed_in_staff("admin1", "admin").await;
    let token = app.storage.api_tokens_of("online-hall").await.unwrap()[0];
    let path = format!("/admin/api-clients/{token}");
    admin.get_page(&format!("{path}/deliveries")).await;
    (admin, path)
}

/// Sets the endpoint on the admin page; returns the secret the page shows once.
async fn set_endpoint(admin: &StaffBrowser, path: &str, url: &str) -> String {
    let r = admin
        .post_form(
            &format!("{path}/webhook"),
            &[("action", "save"), ("url", url)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let secret = secret_on(&page).expect("the new secret is shown");
    assert!(secret.starts_with("whsec_"));
    // Once: the page opened again does not show it.
    let again = admin.get_page(&format!("{path}/deliveries")).await;
    assert!(!again.contains(&secret) && again.contains(url));
    secret
}

fn body(r: &Received) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

async fn returned_example(app: &TestApp) -> String {
    let id = app.submit_example().await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(
        &id,
        Action::Return,
        &[(
            "form_unsigned",
            "申请表未签名，请打印申请表、本人签名后重新上传",
        )],
    )
    .await;
    id
}

/// Each status change reaches the endpoint signed, once, though two instances deliver at the
/// same moment; the events say what the status query says.
async fn status_changes_are_delivered_once_by_two_instances(b: Backend) {
    let app = TestApp::spawn_with(b, loopback).await;
    let other = TestApp::spawn_on_with(&app.database_url, loopback).await;
    let hall = Endpoint::start().await;
    let (admin, path) = client_page(&app).await;
    let secret = set_endpoint(&admin, &path, &hall.url).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let id = crate::bulk_actions::submit_n(&app, i + 1).await;
        app.staff_act(&id, Action::Claim, &[]).await;
        app.staff_act(&id, Action::Return, &[("form_unsigned", "申请表未签名")])
            .await;
        ids.push(id);
    }
    let now = app.clock.now().timestamp_millis();
    let s = app.state.settings.webhook.clone();
    let (sa, sb) = (Sender::new(&s).unwrap(), Sender::new(&s).unwrap());
    let (a, c) = tokio::join!(
        deliver_all(&app.storage, &sa, &s, now),
        deliver_all(&other.storage, &sb, &s, now)
    );
    let (a, c) = (a.unwrap(), c.unwrap());
    assert_eq!(a.delivered + c.delivered, 12, "{a:?} {c:?}");
    let got = hall.received();
    assert_eq!(got.len(), 12, "each event reached the endpoint once");
    let mut event_ids: Vec<_> = got.iter().map(|r| r.id.clone()).collect();
    event_ids.sort();
    event_ids.dedup();
    assert_eq!(event_ids.len(), 12);
    for r in &got {
        assert_eq!(verifies(&secret, r), 1, "signed with the secret: {r:?}");
        assert_eq!(r.timestamp, (now / 1000).to_string());
    }
    // Nothing is due any more, on either instance, now or later.
    let later = now + 86_400_000;
    assert_eq!(
        deliver_all(&other.storage, &sb, &s, later)
            .await
            .unwrap()
            .delivered,
        0
    );
    // In the order they were queued (the pinned clock gives them one time).
    let queued = app
        .storage
        .webhook_deliveries("online-hall", 100)
        .await
        .unwrap();
    let order = |r: &Received| {
        queued
            .iter()
            .find(|d| d.event_id == r.id)
            .map(|d| d.delivery_id)
            .unwrap()
    };
    let mut got_in_order = got.clone();
    got_in_order.sort_by_key(order);
    for id in &ids {
        let mine: Vec<Value> = got_in_order
            .iter()
            .map(body)
            .filter(|v| v["data"]["id"] == id.as_str())
            .collect();
        let seen: Vec<&str> = mine
            .iter()
            .map(|v| v["data"]["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            seen,
            app.history(id).await,
            "events = the status query's history"
        );
        let ret = mine
            .iter()
            .find(|v| v["data"]["status"] == "returned")
            .unwrap();
        assert_eq!(ret["type"], "application.status_changed");
        assert_eq!(ret["data"]["previous_status"], "in_review");
        assert_eq!(ret["data"]["return_reasons"][0]["code"], "form_unsigned");
    }
    // The deliveries page lists them with their answers.
    let page = admin.get_page(&format!("{path}/deliveries")).await;
    assert_eq!(page.matches("已送达").count(), 12);
}

/// An endpoint that answers 500 is tried again after the backoff, then parked; the page shows
/// each answer; the admin's "send again" (audited) delivers it with the same webhook-id.
async fn a_failing_endpoint_is_retried_parked_and_sent_again(b: Backend) {
    let app = TestApp::spawn_with(b, |s| {
        loopback(s);
        s.webhook.max_attempts = 3;
    })
    .await;
    let hall = Endpoint::start().await;
    hall.status.store(500, Ordering::SeqCst);
    let (admin, path) = client_page(&app).await;
    let secret = set_endpoint(&admin, &path, &hall.url).await;
    app.submit_example().await;
    let s = app.state.settings.webhook.clone();
    let sender = Sender::new(&s).unwrap();
    let t0 = app.clock.now().timestamp_millis();
    let d = deliver_all(&app.storage, &sender, &s, t0).await.unwrap();
    assert_eq!((d.delivered, d.failed, d.parked), (0, 1, 0));
    // Not again before the backoff is over.
    let early = t0 + s.backoff_ms(1) - 1;
    assert_eq!(
        deliver_all(&app.storage, &sender, &s, early)
            .await
            .unwrap()
            .total(),
        0
    );
    let t1 = t0 + s.backoff_ms(1);
    assert_eq!(
        deliver_all(&app.storage, &sender, &s, t1)
            .await
            .unwrap()
            .failed,
        1
    );
    let t2 = t1 + s.backoff_ms(2);
    let d = deliver_all(&app.storage, &sender, &s, t2).await.unwrap();
    assert_eq!(
        (d.failed, d.parked),
        (0, 1),
        "parked after the third failure"
    );
    assert_eq!(
        deliver_all(&app.storage, &sender, &s, t2 + 86_400_000)
            .await
            .unwrap()
            .total(),
        0
    );
    assert_eq!(hall.received().len(), 3);
    let rows = app
        .storage
        .webhook_deliveries("online-hall", 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("parked", 3));
    let tries = app
        .storage
        .webhook_attempts("online-hall", 0)
        .await
        .unwrap();
    assert_eq!(tries.len(), 3);
    assert!(
        tries.iter().all(|a| a.http_status == Some(500)
            && a.body_head.as_deref() == Some("down for maintenance"))
    );
    let page = admin.get_page(&format!("{path}/deliveries")).await;
    assert!(page.contains("已搁置") && page.contains("down for maintenance"));
    // Sent again by the admin: the endpoint is back.
    hall.status.store(204, Ordering::SeqCst);
    let r = admin
        .post_form(
            &format!("/admin/webhook-deliveries/{}/resend", rows[0].delivery_id),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("msg=webhook_resent"));
    let audited = app.storage.audit_recent(100).await.unwrap();
    assert!(audited.iter().any(|a| a.action == "webhook.resent"
        && a.actor == "staff:admin1"
        && a.subject_id == rows[0].delivery_id.to_string()));
    let d = deliver_all(&app.storage, &sender, &s, t2 + 1)
        .await
        .unwrap();
    assert_eq!(d.delivered, 1);
    let got = hall.received();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.id == got[0].id), "the same webhook-id");
    assert_eq!(verifies(&secret, &got[3]), 1);
    let rows = app
        .storage
        .webhook_deliveries("online-hall", 10)
        .await
        .unwrap();
    assert_eq!(rows[0].status, "delivered");
}

/// A rotated secret: both sign during the overlap, only the new one after it.
async fn both_secrets_sign_during_a_rotations_overlap(b: Backend) {
    let app = TestApp::spawn_with(b, loopback).await;
    let hall = Endpoint::start().await;
    let (admin, path) = client_page(&app).await;
    let old = set_endpoint(&admin, &path, &hall.url).await;
    let r = admin
        .post_form(
            &format!("{path}/webhook"),
            &[("action", "rotate"), ("url", &hall.url)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let new = secret_on(&r.text().await.unwrap()).expect("the new secret is shown once");
    assert_ne!(old, new);
    let s = app.state.settings.webhook.clone();
    let sender = Sender::new(&s).unwrap();
    let now = app.clock.now().timestamp_millis();
    app.submit_example().await;
    deliver_all(&app.storage, &sender, &s, now).await.unwrap();
    let got = hall.received();
    assert_eq!(got[0].signature.split(' ').count(), 2);
    assert_eq!((verifies(&old, &got[0]), verifies(&new, &got[0])), (1, 1));
    // After the overlap, an event is signed by the new secret alone.
    let id = got[0].id.clone();
    let app_id = body(&got[0])["data"]["id"].as_str().unwrap().to_owned();
    app.staff_act(&app_id, Action::Claim, &[]).await;
    let after = now + s.secret_overlap_hours * 3_600_000 + 1;
    deliver_all(&app.storage, &sender, &s, after).await.unwrap();
    let got = hall.received();
    assert_eq!(got.len(), 2);
    assert_ne!(got[1].id, id);
    assert_eq!((verifies(&old, &got[1]), verifies(&new, &got[1])), (0, 1));
    assert_eq!(got[1].signature.split(' ').count(), 1);
    assert!(
        app.storage
            .audit_recent(100)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "webhook.secret_rotated"
                && !a.after_state.clone().unwrap_or_default().contains("whsec_"))
    );
}

/// Endpoints inside the network are refused when set; one set while allowed is refused at
/// delivery by an instance that does not allow it (nothing reaches it).
async fn private_and_plain_endpoints_are_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (admin, path) = client_page(&app).await;
    for url in [
        "https://10.0.0.5/hook",
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
        "http://hall.example.cn/hook",
        "http://127.0.0.1:9/hook",
        "ftp://hall.example.cn/hook",
    ] {
        let r = admin
            .post_form(
                &format!("{path}/webhook"),
                &[("action", "save"), ("url", url)],
            )
            .await;
        assert_eq!(r.status(), 422, "{url}");
        let page = r.text().await.unwrap();
        assert!(page.contains("推送地址不可用"), "{url}");
        assert!(secret_on(&page).is_none());
    }
    assert!(
        app.storage
            .webhook_endpoint("online-hall")
            .await
            .unwrap()
            .is_none()
    );
    // Set while allowed (another instance's settings), delivered by this one: refused.
    let lax = TestApp::spawn_on_with(&app.database_url, loopback).await;
    let hall = Endpoint::start().await;
    let admin2 = lax.browser();
    admin2.sign_in("admin1", STAFF_PASSWORD).await;
    admin2.get_page(&format!("{path}/deliveries")).await;
    set_endpoint(&admin2, &path, &hall.url).await;
    returned_example(&lax).await;
    let s = app.state.settings.webhook.clone();
    assert!(!s.allow_private);
    let sender = Sender::new(&s).unwrap();
    let now = app.clock.now().timestamp_millis();
    let d = deliver_all(&app.storage, &sender, &s, now).await.unwrap();
    assert_eq!((d.delivered, d.failed), (0, 3));
    assert!(hall.received().is_empty(), "nothing reached the endpoint");
    let tries = app
        .storage
        .webhook_attempts("online-hall", 0)
        .await
        .unwrap();
    assert!(tries.iter().all(|a| {
        a.http_status.is_none()
            && a.error
                .as_deref()
                .is_some_and(|e| e.starts_with("refused:"))
    }));
}

both!(
    status_changes_are_delivered_once_by_two_instances,
    a_failing_endpoint_is_retried_parked_and_sent_again,
    both_secrets_sign_during_a_rotations_overlap,
    private_and_plain_endpoints_are_refused,
);
