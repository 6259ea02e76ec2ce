//! One demo application: the hall's body for a made-up applicant, and storing it with its scans
//! as the intake does (one transaction with its audit record).

use super::{people, scans};
use crate::{
    domain::{
        calendar::{WorkingCalendar, beijing},
        certificate::{CertStatus, Certificate},
        ids::ApplicationId,
        intake::NewApplication,
        personal_id::{IdType, PersonalId},
        scan::{ScanKind, sniff},
        serial::CertificateSerial,
    },
    storage::{
        applications::{self, NewRow, ScanRef},
        audit::{self, AuditEntry},
        certificates, ms,
    },
    web::state::AppState,
};
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, rngs::StdRng};
use serde_json::json;

/// An application before it is stored.
pub(super) struct Draft {
    pub(super) index: u64,
    pub(super) name: String,
    pub(super) id_number: String,
    pub(super) district: &'static str,
    pub(super) street: String,
    pub(super) cert: Certificate,
    pub(super) submitted: DateTime<Utc>,
    pub(super) app: NewApplication,
}

/// A made-up applicant's application, submitted (and paid minutes before) at `submitted`.
pub(super) fn draft(i: u64, submitted: DateTime<Utc>, rng: &mut StdRng) -> anyhow::Result<Draft> {
    let serial = format!("0150{:015X}", rng.random::<u64>() >> 4);
    let name = format!(
        "{}{}",
        people::SURNAMES[rng.random_range(0..people::SURNAMES.len())],
        people::GIVEN[rng.random_range(0..people::GIVEN.len())]
    );
    let idn = people::resident_id(rng);
    let mobile = format!(
        "1{}{:09}",
        [3, 5, 7, 8, 9][rng.random_range(0..5)],
        rng.random_range(0..1_000_000_000u64)
    );
    let cert = Certificate {
        serial: CertificateSerial::parse(&serial).map_err(anyhow::Error::msg)?,
        holder_name: name.clone(),
        holder: PersonalId::parse(IdType::ResidentId, &idn).map_err(anyhow::Error::msg)?,
        cert_type: "natural_person".into(),
        valid_from: (submitted - Duration::days(rng.random_range(30..700))).date_naive(),
        valid_to: (submitted + Duration::days(rng.random_range(200..700))).date_naive(),
        status: CertStatus::Valid,
    };
    let channel = if rng.random_bool(0.6) {
        "wechat"
    } else {
        "alipay"
    };
    let t = |t: DateTime<Utc>| t.with_timezone(&beijing()).to_rfc3339();
    let hall_reference = format!(
        "WT{}{:06}",
        submitted.with_timezone(&beijing()).format("%Y%m%d"),
        rng.random_range(0..1_000_000)
    );
    let district = people::DISTRICTS[rng.random_range(0..people::DISTRICTS.len())];
    let street = format!(
        "{}{}号",
        people::STREETS[rng.random_range(0..people::STREETS.len())],
        rng.random_range(1..300)
    );
    let body = json!({
        "hall_reference": hall_reference,
        "certificate_serial": serial,
        "applicant": {"name": name, "id_type": "resident_id", "id_number": idn, "mobile": mobile, "email": format!("user{i}@example.com")},
        "mailing_address": {"recipient": name, "mobile": mobile, "province": "广东省", "city": "深圳市",
            "district": district, "detail": street, "postcode": "518000"},
        "invoice": if rng.random_bool(0.4) { json!({"title": name, "tax_id": null, "email": format!("user{i}@example.com")}) } else { json!(null) },
        "payment": {"channel": channel, "out_trade_no": format!("SZCA{:016X}", rng.random::<u64>()), "transaction_id": format!("42000{:023}", rng.random_range(0..u64::MAX / 2)),
            "amount_fen": 20000, "paid_at": t(submitted - Duration::minutes(3))},
        "liveness": {"passed": true, "score": (rng.random_range(850..999) as f64) / 1000.0, "checked_at": t(submitted - Duration::minutes(5))},
        "telecom_real_name": {"passed": true, "checked_at": t(submitted - Duration::minutes(7))},
        "consents": {"service_agreement_version": "2023-05", "sensitive_pi_authorization": true, "agreed_at": t(submitted - Duration::minutes(10))},
        "submitted_at": t(submitted),
    });
    let app = NewApplication::parse(&body, None).map_err(|e| anyhow::anyhow!("demo body: {e}"))?;
    Ok(Draft {
        index: i,
        name,
        id_number: idn,
        district,
        street,
        cert,
        submitted,
        app,
    })
}

/// The small placeholder scans of application `i` (the pre-checks flag them as too small).
pub(super) fn placeholders(i: u64, form: &[u8], eseal: &[u8]) -> Vec<(ScanKind, Vec<u8>)> {
    vec![
        (ScanKind::ApplicationForm, form.to_vec()),
        (ScanKind::EsealForm, eseal.to_vec()),
        (ScanKind::IdFront, scans::id_card(true, i)),
        (ScanKind::IdBack, scans::id_card(false, 0)),
        (ScanKind::LivenessPhoto, scans::liveness_photo(i)),
    ]
}

/// Stores the application with its scans and certificate as the hall's API would.
pub(super) async fn store(
    state: &AppState,
    cal: &WorkingCalendar,
    d: &Draft,
    files: Vec<(ScanKind, Vec<u8>)>,
    now: DateTime<Utc>,
) -> anyhow::Result<ApplicationId> {
    let storage = &state.storage;
    let shas = state
        .scans
        .put_all(files.iter().map(|(_, b)| Bytes::from(b.clone())).collect())
        .await?;
    let scan_refs: Vec<ScanRef> = files
        .iter()
        .zip(shas)
        .map(|((kind, b), sha256)| ScanRef {
            kind: *kind,
            sha256,
            media_type: sniff(b).expect("generated"),
            size_bytes: b.len() as i64,
        })
        .collect();
    let id = ApplicationId::generate(d.submitted.with_timezone(&beijing()).date_naive());
    let mut tx = storage.begin().await?;
    certificates::upsert(&mut tx, &d.cert, ms(now)).await?;
    let body_text = d.app.to_json().to_string();
    applications::insert_new(
        &mut tx,
        &NewRow {
            application_id: &id,
            app: &d.app,
            body: &body_text,
            received_at: ms(d.submitted),
            review_due_at: ms(cal.review_due_at(d.submitted)),
            scans: &scan_refs,
            actor: "api:demo-hall",
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at: ms(d.submitted),
            actor: "api:demo-hall",
            action: "application.submitted",
            subject_type: "application",
            subject_id: id.as_str(),
            after: Some("submitted"),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// When a current application came in. One still waiting for a decision is mostly due in the
/// coming working days, now and then today, and a few are overdue; a decided one came in over
/// the last twelve days.
pub(super) fn submitted_at(
    cal: &WorkingCalendar,
    now: DateTime<Utc>,
    waiting: bool,
    rng: &mut StdRng,
) -> DateTime<Utc> {
    if !waiting {
        return now - Duration::minutes(rng.random_range(10..12 * 24 * 60));
    }
    let today = now.with_timezone(&beijing()).date_naive();
    let want = rng.random_range(0..100);
    for _ in 0..400 {
        let s = now - Duration::minutes(rng.random_range(10..10 * 24 * 60));
        let due = cal.review_due_at(s);
        let day = due.with_timezone(&beijing()).date_naive();
        let fits = match want {
            0..5 => due < now,
            5..15 => day == today && due >= now,
            _ => day > today,
        };
        if fits {
            return s;
        }
    }
    now - Duration::minutes(rng.random_range(10..120))
}
