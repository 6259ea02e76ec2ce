//! `demo`: users of every role, a certificate registry, and applications in every status with
//! scans, so a newcomer sees a working desk at once. Safe to run twice (adds more applications).

pub mod bills;
mod finance;
mod fulfilment;
mod people;
pub mod rendered;
pub mod scans;

use crate::{
    auth,
    desks::review::{self, Actor},
    domain::{
        calendar::beijing,
        certificate::{CertStatus, Certificate},
        ids::ApplicationId,
        intake::NewApplication,
        personal_id::{IdType, PersonalId},
        scan::{ScanKind, sniff},
        serial::CertificateSerial,
        status::Action,
    },
    storage::{
        applications::{self, NewRow, ScanRef},
        audit::{self, AuditEntry},
        certificates, ms,
        staff::NewStaff,
    },
    web::state::AppState,
};
use bytes::Bytes;
use chrono::{Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;

pub async fn run(state: &AppState) -> anyhow::Result<()> {
    let storage = &state.storage;
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(now.timestamp() as u64);

    println!("Demo users (passwords are shown once):");
    let users = [
        ("admin", "admin", "系统管理员"),
        ("supervisor", "supervisor", "审核主管"),
        ("reviewer", "reviewer", "审核员 李静"),
        ("reviewer2", "reviewer", "审核员 王磊"),
        ("finance", "finance", "财务 陈芳"),
        ("fulfillment", "fulfillment", "制证寄送 赵强"),
        ("hotline", "hotline", "客服 周敏"),
    ];
    for (username, role, display) in users {
        let password: String = (0..14)
            .map(|_| char::from(b"abcdefghjkmnpqrstuvwxyz23456789"[rng.random_range(0..31)]))
            .collect();
        let hash = auth::hash_password(&password)?;
        let email = format!("{username}@ca.example.cn");
        let s = NewStaff {
            username,
            display_name: display,
            email: Some(&email),
            role,
            password_hash: &hash,
        };
        match storage.create_staff(&s, ms(now), "demo").await {
            Ok(_) => println!("  {username:<12} {role:<12} {password}"),
            Err(e) if crate::storage::is_unique_violation(&e) => {
                println!("  {username:<12} {role:<12} (exists already, password unchanged)")
            }
            Err(e) => return Err(e.into()),
        }
    }

    // Realistic scans (the renderer the pre-check tests use) when the CJK fonts are installed;
    // tiny placeholders otherwise, which the pre-checks flag as too small to read.
    let realistic = crate::render::available();
    if !realistic {
        println!("(fonts-noto-cjk is not installed: the demo's scans are small placeholders)");
    }
    let form = scans::form_pdf("Application form / Shen Qing Biao", &["Applicant name:"]);
    let eseal = scans::form_pdf("E-seal collection form", &["Holder:", "Seal image:"]);
    let today = now.with_timezone(&beijing()).date_naive();
    let cal = state.calendar.get().await?;
    let count = 300;
    let mut made = 0;
    let mut plans: Vec<Plan> = Vec::new();
    let mut drafts = Vec::new();
    for i in 0..count {
        let serial = format!("0150{:015X}", rng.random::<u64>() >> 4);
        let name = format!(
            "{}{}",
            people::SURNAMES[rng.random_range(0..people::SURNAMES.len())],
            people::GIVEN[rng.random_range(0..people::GIVEN.len())]
        );
        let idn = people::resident_id(&mut rng);
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
            valid_from: (now - Duration::days(rng.random_range(30..700))).date_naive(),
            valid_to: (now + Duration::days(rng.random_range(30..700))).date_naive(),
            status: CertStatus::Valid,
        };
        // Submissions over the last twelve days.
        let submitted = now - Duration::minutes(rng.random_range(10..12 * 24 * 60));
        let channel = if rng.random_bool(0.6) {
            "wechat"
        } else {
            "alipay"
        };
        let t = |t: chrono::DateTime<Utc>| t.with_timezone(&beijing()).to_rfc3339();
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
        let app =
            NewApplication::parse(&body, None).map_err(|e| anyhow::anyhow!("demo body: {e}"))?;
        drafts.push((i, name, idn, district, street, cert, submitted, app));
    }
    // One planted defect each on the first applications (kept waiting in the queue).
    let planted = |i: u64| {
        rendered::PLANTED
            .get(i as usize)
            .copied()
            .unwrap_or(rendered::Planted::None)
    };
    let subjects: Vec<rendered::Subject> = drafts
        .iter()
        .map(|(i, name, idn, district, street, ..)| rendered::Subject {
            index: *i,
            name,
            id_number: idn,
            district,
            street,
            today,
            planted: planted(*i),
            // The reused photo is the first application's.
            photo_seed: if planted(*i) == rendered::Planted::ReusedPhoto {
                0
            } else {
                *i
            },
        })
        .collect();
    let mut drawn = if realistic {
        rendered::scans_all(&subjects[..subjects.len().min(rendered::DRAWN)])
    } else {
        Vec::new()
    };
    drawn.reverse();
    drop(subjects);
    for (i, _, _, _, _, cert, submitted, app) in drafts {
        let files: Vec<(ScanKind, Vec<u8>)> = match drawn.pop() {
            Some(files) => files,
            None => vec![
                (ScanKind::ApplicationForm, form.clone()),
                (ScanKind::EsealForm, eseal.clone()),
                (ScanKind::IdFront, scans::id_card(true, i)),
                (ScanKind::IdBack, scans::id_card(false, 0)),
                (ScanKind::LivenessPhoto, scans::liveness_photo(i)),
            ],
        };
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
        let id = ApplicationId::generate(submitted.with_timezone(&beijing()).date_naive());
        let mut tx = storage.begin().await?;
        certificates::upsert(&mut tx, &cert, ms(now)).await?;
        let body_text = app.to_json().to_string();
        applications::insert_new(
            &mut tx,
            &NewRow {
                application_id: &id,
                app: &app,
                body: &body_text,
                received_at: ms(submitted),
                review_due_at: ms(cal.review_due_at(submitted)),
                scans: &scan_refs,
                actor: "api:demo-hall",
            },
        )
        .await?;
        audit::record(
            &mut tx,
            &AuditEntry {
                at: ms(submitted),
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

        // The planted ones wait in the queue for a reviewer.
        let roll = if planted(i) == rendered::Planted::None {
            rng.random_range(0..100)
        } else {
            rng.random_range(0..35)
        };
        plans.push(Plan {
            id,
            app,
            submitted,
            roll,
            index: i,
        });
        made += 1;
    }

    // The merchants' bills of the days before today, with what finance meets in real life: a
    // payment missing from the bill, a short payment, an order paid twice, money without an
    // application. Then the reviewers move applications along (accepting needs a verified payment).
    let bill_summaries = finance::demo_bills(storage, &plans, now, &mut rng).await?;
    let mut to_produce: Vec<(ApplicationId, bool)> = Vec::new();
    for plan in plans {
        let Plan {
            id,
            app,
            submitted,
            roll,
            index: i,
        } = plan;
        // Move it along: the roll decides how far.
        let reviewer = if rng.random_bool(0.5) {
            "staff:reviewer"
        } else {
            "staff:reviewer2"
        };
        let actor = Actor {
            name: reviewer,
            request_id: None,
            may_override: false,
        };
        let steps: &[Action] = match roll {
            0..35 => &[],
            35..50 => &[Action::Claim],
            50..65 => &[Action::Claim, Action::Return],
            // accepted (65..80), made (80..90) and made and posted (90..98): the fulfilment desk
            // does the making and posting below
            65..98 => &[Action::Claim, Action::Accept],
            _ => &[Action::Withdraw],
        };
        let mut at = submitted;
        let mut accepted = false;
        for step in steps {
            // Only a payment a bill verified may be accepted; today's wait for tomorrow's bill.
            if *step == Action::Accept
                && storage.payment_state_of(&id).await?.as_deref() != Some("verified")
            {
                break;
            }
            at += Duration::minutes(rng.random_range(20..600));
            let reasons = if *step == Action::Return {
                vec![("form_unsigned".to_string(), "申请表未签名".to_string())]
            } else {
                vec![]
            };
            let data = review::Step {
                reasons,
                ..Default::default()
            };
            review::act(storage, &id, *step, &data, &actor, ms(at.min(now))).await?;
            accepted |= *step == Action::Accept;
        }
        if accepted && roll >= 80 {
            to_produce.push((id.clone(), roll >= 90));
        }
        // Half of the returned ones came back with a clearer ID photo: version 2, waiting again.
        if (50..58).contains(&roll) {
            at += Duration::minutes(rng.random_range(60..1440));
            let at = at.min(now);
            let front = if realistic {
                let typed = &app.applicant;
                rendered::front_again(&typed.name, typed.id.number(), i + 1000)
            } else {
                scans::id_card(true, i + 1000)
            };
            let sha = state
                .scans
                .put_all(vec![Bytes::from(front.clone())])
                .await?
                .remove(0);
            let new = ScanRef {
                kind: ScanKind::IdFront,
                sha256: sha,
                media_type: sniff(&front).expect("generated"),
                size_bytes: front.len() as i64,
            };
            let mut tx = storage.begin().await?;
            let seen = applications::current(&mut tx, &id)
                .await?
                .expect("just made");
            let due = ms(cal.review_due_at(at));
            review::resubmit_in(
                &mut tx,
                &seen,
                &app,
                vec![new],
                ms(at),
                due,
                "api:demo-hall",
                None,
            )
            .await?;
            tx.commit().await?;
        }
    }
    println!(
        "Demo data: {made} applications with scans, {} certificates in the registry.",
        storage.certificate_count().await?
    );
    for b in &bill_summaries {
        println!("  bill {}: {}", b.0, b.1);
    }
    finance::demo_invoices(state, now).await?;
    fulfilment::demo_fulfilment(state, &to_produce, now).await?;
    let token = storage
        .create_api_token("demo-hall", ms(now), "demo")
        .await?;
    println!("API token for the demo hall client (shown once):\n{token}");
    Ok(())
}

/// An application made, and how far the demo moves it afterwards.
pub(super) struct Plan {
    pub(super) id: ApplicationId,
    pub(super) app: NewApplication,
    pub(super) submitted: chrono::DateTime<Utc>,
    pub(super) roll: u32,
    pub(super) index: u64,
}
