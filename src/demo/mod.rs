//! `demo`: users of every role, a certificate registry, and applications in every status with
//! scans, so a newcomer sees a working desk at once: a quarter of decided, shipped and invoiced
//! history behind a fortnight of current work. It fills an empty database only: run again, it
//! says so and adds nothing.

pub mod bills;
mod drafts;
mod finance;
mod fulfilment;
mod history;
mod people;
pub mod rendered;
pub mod scans;

use crate::{
    auth,
    desks::review::{self, Actor},
    domain::{
        calendar::beijing,
        ids::ApplicationId,
        intake::NewApplication,
        scan::{ScanKind, sniff},
        status::Action,
    },
    storage::{
        applications::{self, ScanRef},
        ms,
        staff::NewStaff,
    },
    web::state::AppState,
};
use anyhow::Context;
use bytes::Bytes;
use chrono::{Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};

pub async fn run(state: &AppState) -> anyhow::Result<()> {
    let storage = &state.storage;
    let existing = storage.application_count().await?;
    if existing > 0 {
        eprintln!(
            "demo: the database already holds {existing} applications; the demo fills an empty \
             database only, so it added nothing and changed no password (for a fresh demo, point \
             DATABASE_URL and BACKOFFICE_DATA_DIR somewhere new)."
        );
        return Ok(());
    }
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
    // One planted defect each on the first applications (kept waiting in the queue).
    let planted = |i: u64| {
        rendered::PLANTED
            .get(i as usize)
            .copied()
            .unwrap_or(rendered::Planted::None)
    };
    let seed = rendered::seed();
    let who = |i: u64| StdRng::seed_from_u64(seed ^ (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    for i in 0..count {
        // Who applied and how far the application moves (the roll, below) come from the demo's
        // seed and the application's index alone, so every demo shows the same people and scans
        // (only the dates follow today); those still waiting for a decision afterwards
        // (unclaimed, claimed, returned and back) came in recently.
        let mut who = who(i);
        let roll = if planted(i) == rendered::Planted::None {
            who.random_range(0..100)
        } else {
            who.random_range(0..35)
        };
        let submitted = drafts::submitted_at(&cal, now, roll < 58, &mut rng);
        drafts.push((roll, drafts::draft(i, submitted, &mut who)?));
    }
    // The reused photo is the first clean application's that waits unclaimed in the queue too;
    // the planted one came in after it (so the donor's pre-check runs first and the planted one
    // is flagged).
    let donor = drafts
        .iter()
        .find(|(roll, d)| *roll < 35 && planted(d.index) == rendered::Planted::None)
        .map_or(0, |(_, d)| d.index);
    if let Some(reused) = rendered::PLANTED
        .iter()
        .position(|p| *p == rendered::Planted::ReusedPhoto)
    {
        let after = drafts[donor as usize].1.submitted + Duration::minutes(7);
        if drafts[reused].1.submitted <= after {
            let mut who = who(reused as u64);
            who.random_range(0..35);
            drafts[reused].1 = drafts::draft(reused as u64, after.min(now), &mut who)?;
        }
    }
    // Drawn: the applications that will wait in the queue (the roll says so, and today's, whose
    // payment no bill has verified yet), the planted ones and the donor first, up to the limit.
    let limit = rendered::drawing_limit();
    let mut drawn: Vec<u64> = drafts
        .iter()
        .filter(|(roll, d)| {
            *roll < 58 || d.submitted.with_timezone(&beijing()).date_naive() == today
        })
        .map(|(_, d)| d.index)
        .collect();
    let stays = |i: u64| drafts[i as usize].0 < 58;
    drawn.sort_by_key(|i| {
        let first = planted(*i) != rendered::Planted::None || *i == donor;
        (!first, !stays(*i), *i)
    });
    drawn.truncate(limit);
    let drawn: std::collections::HashSet<u64> = if realistic {
        drawn.into_iter().collect()
    } else {
        Default::default()
    };
    let subjects: Vec<rendered::Subject> = drafts
        .iter()
        .map(|(_, d)| rendered::Subject {
            index: d.index,
            name: d.name.clone(),
            id_number: d.id_number.clone(),
            district: d.district,
            street: d.street.clone(),
            today,
            planted: planted(d.index),
            photo_seed: if planted(d.index) == rendered::Planted::ReusedPhoto {
                donor
            } else {
                d.index
            },
        })
        .collect();
    let mut drawing = rendered::Drawing::start(
        subjects
            .iter()
            .filter(|s| drawn.contains(&s.index))
            .cloned()
            .collect(),
    );
    let mut undrawn = std::collections::HashMap::new();
    for (roll, d) in drafts {
        let files = if drawn.contains(&d.index) {
            drawing
                .next()
                .await
                .context("drawing the demo's scans stopped")?
        } else {
            drafts::placeholders(d.index, &form, &eseal)
        };
        let id = drafts::store(state, &cal, &d, files, now).await?;
        if !drawn.contains(&d.index) {
            undrawn.insert(id.as_str().to_owned(), d.submitted);
        }
        plans.push(Plan {
            id,
            app: d.app,
            submitted: d.submitted,
            roll,
            index: d.index,
        });
        made += 1;
    }

    // The merchants' bills of the days before today, with what finance meets in real life: a
    // payment missing from the bill, a short payment, an order paid twice, money without an
    // application. Then the reviewers move applications along (accepting needs a verified payment).
    let past = history::applications(state, &cal, now, (&form, &eseal), count, &mut rng).await?;
    // The quarter's history was pre-checked when it came in (below).
    undrawn.extend(
        past.iter()
            .map(|p| (p.plan.id.as_str().to_owned(), p.plan.submitted)),
    );
    let history_count = past.len();
    let bill_summaries = finance::demo_bills(
        storage,
        past.iter().map(|p| &p.plan).chain(plans.iter()),
        now,
        &mut rng,
    )
    .await?;
    let (history_accepted, history_shipped) = history::decide(state, past, &mut rng).await?;
    let history_mails = history::mails_sent(storage, now).await?;
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
            // Returned for the ID card's front: the part the resubmission below replaces.
            let (reasons, parts) = if *step == Action::Return {
                let (code, text) = ("id_front_unclear", "身份证人像面不清晰");
                let part = crate::domain::returned_part::Part::Scan(ScanKind::IdFront);
                (
                    vec![(code.to_string(), text.to_string())],
                    vec![(code.to_string(), part)],
                )
            } else {
                (vec![], vec![])
            };
            let data = review::Step {
                reasons,
                parts,
                ..Default::default()
            };
            review::act(storage, &id, *step, &data, &actor, ms(at.min(now))).await?;
            accepted |= *step == Action::Accept;
        }
        if accepted && roll >= 80 {
            to_produce.push((id.clone(), roll >= 90));
        }
        // Returned for an unclear card photo; half came back with a clearer one: version 2,
        // waiting again.
        if (50..58).contains(&roll) {
            at += Duration::minutes(rng.random_range(60..1440));
            let at = at.min(now);
            let front = if drawn.contains(&i) {
                rendered::front_again(&subjects[i as usize])
            } else {
                // Another tone than the first front's (`seed % 40`): a different file, as the
                // returned part requires.
                scans::id_card(true, i + 1001)
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
    println!(
        "History: {history_count} applications over the {} weeks before, pre-checked at intake, \
         {history_accepted} accepted, {history_shipped} shipped, their invoices issued and \
         {history_mails} e-mails and SMS sent; {} bills imported.",
        13,
        bill_summaries.len()
    );
    let earlier = bill_summaries.len().saturating_sub(20);
    for b in &bill_summaries[earlier..] {
        println!("  bill {}: {}", b.0, b.1);
    }
    finance::demo_invoices(state, now, false).await?;
    fulfilment::demo_fulfilment(state, &to_produce, history_accepted, now).await?;
    let (closed, queued) = history::prechecked_at_intake(storage, &undrawn, now).await?;
    println!(
        "Pre-checks: {queued} application versions with drawn scans wait for `serve`'s pre-check \
         worker; {closed} others (placeholder scans) were pre-checked at intake."
    );
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
