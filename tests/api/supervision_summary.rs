//! The supervision summary (triggers, +1 / -1 rows, compaction) against the same figures
//! computed from the tables, after a seeded random sequence of everything that moves them:
//! submissions, claims, releases, decisions with reasons, resubmissions, production, shipping,
//! returned parcels, withdrawals, SLA sweeps, calendar changes that move deadlines.

use crate::both;
use crate::helpers::*;
use backoffice::desks::review::{self, ActionError, Actor, Step};
use backoffice::domain::{
    calendar::DayKind,
    status::{Action, Status},
};
use backoffice::storage::calendar;
use serde_json::json;

/// xorshift64*: a reproducible stream without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

async fn assert_summary_matches(app: &TestApp, step: usize) {
    let summary = app.storage.all_supervision_counts().await.unwrap();
    let direct = app.storage.recomputed_supervision_counts().await.unwrap();
    assert_eq!(summary, direct, "after step {step}");
}

/// The application's status as stored.
async fn status_of(app: &TestApp, id: &str) -> Status {
    app.storage
        .application_status(&aid(id))
        .await
        .unwrap()
        .unwrap()
}

async fn random_actions_keep_the_summary_exact(b: Backend) {
    let app = TestApp::spawn(b).await;
    const REASONS: [(&str, &str); 3] = [
        ("id_front_unclear", "身份证人像面照片不清晰"),
        ("form_unsigned", "申请表未签字"),
        ("other", "其他"),
    ];
    const ACTIONS: [Action; 9] = [
        Action::Claim,
        Action::Release,
        Action::Accept,
        Action::Return,
        Action::Resubmit,
        Action::StartProduction,
        Action::Ship,
        Action::ReturnParcel,
        Action::Withdraw,
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut t = test_now() - chrono::Duration::days(40);
    let mut ids: Vec<String> = Vec::new();
    let mut moved = 0;
    let (mut returned, mut resubmitted): (Vec<String>, usize) = (Vec::new(), 0);
    for step in 0..160 {
        // Minutes to a day and a half between steps, so Beijing midnights are crossed.
        t += chrono::Duration::minutes(1 + rng.below(36 * 60) as i64 / 8);
        app.clock.set(t);
        let now = t.timestamp_millis();
        match rng.below(20) {
            0..=4 => {
                let n = ids.len();
                let mut j = example_json();
                j["hall_reference"] = json!(format!("WS20260900{n:04}"));
                j["payment"]["out_trade_no"] = json!(format!("SUM{n:08}"));
                j["payment"]["paid_at"] = json!((t - chrono::Duration::minutes(3)).to_rfc3339());
                j["submitted_at"] = json!((t - chrono::Duration::minutes(1)).to_rfc3339());
                let r = app
                    .submit(&format!("sum-{n}"), Submission::with_json(j).form())
                    .await;
                assert_eq!(r.status(), 201);
                let v: serde_json::Value = r.json().await.unwrap();
                ids.push(v["id"].as_str().unwrap().to_owned());
            }
            5 | 6 if !returned.is_empty() => {
                // A resubmission through the hall's API (refused if it moved on meanwhile).
                let id = returned.swap_remove(rng.below(returned.len() as u64) as usize);
                let sub =
                    Submission::empty().set("id_front", "f.jpg", "image/jpeg", jpeg(b"again"));
                let from = status_of(&app, &id).await;
                let r = app.resubmit(&id, &format!("sum-r{step}"), sub.form()).await;
                if from == Status::Returned {
                    assert_eq!(r.status(), 200, "resubmitting {id}");
                    assert_eq!(status_of(&app, &id).await, Status::Submitted);
                    resubmitted += 1;
                } else {
                    assert_error(r, 409, "invalid_state", None).await;
                    assert_eq!(status_of(&app, &id).await, from);
                }
            }
            6 | 9 => {
                backoffice::jobs::sla::sweep(&app.storage, "http://x", now)
                    .await
                    .unwrap();
            }
            7 => {
                // A holiday (or its removal) on one of the next days moves open deadlines.
                let day = t
                    .with_timezone(&backoffice::domain::calendar::beijing())
                    .date_naive()
                    + chrono::Duration::days(rng.below(6) as i64);
                let kind = (rng.below(2) == 0).then_some(DayKind::Holiday);
                let mut tx = app.storage.begin().await.unwrap();
                calendar::set_day(&mut tx, day, kind, "测试").await.unwrap();
                let cal = calendar::load_in(&mut tx).await.unwrap();
                moved += calendar::recompute_deadlines(&mut tx, &cal).await.unwrap();
                tx.commit().await.unwrap();
            }
            8 => {
                app.storage.compact_supervision_counts().await.unwrap();
            }
            _ if !ids.is_empty() => {
                let id = &ids[rng.below(ids.len() as u64) as usize];
                let action = ACTIONS[rng.below(ACTIONS.len() as u64) as usize];
                let reasons = if action == Action::Return {
                    let k = 1 + rng.below(2) as usize;
                    let first = rng.below(3) as usize;
                    (0..k)
                        .map(|i| REASONS[(first + i) % 3])
                        .map(|(c, x)| (c.to_owned(), x.to_owned()))
                        .collect()
                } else {
                    Vec::new()
                };
                let name = format!("staff:r{}", rng.below(3));
                let actor = Actor {
                    name: &name,
                    request_id: None,
                    may_override: true,
                };
                let step = Step {
                    reasons,
                    payment_override: Some("抽查".into()),
                    ..Default::default()
                };
                // Transitions the status does not allow are refused and change nothing; the
                // others land where the status machine says (a supervisor's override, so
                // neither the claim nor the payment stands in the way).
                let from = status_of(&app, id).await;
                let r = review::act(&app.storage, &aid(id), action, &step, &actor, now).await;
                let want = match action {
                    Action::Resubmit => None,
                    _ => from.apply(action).ok(),
                };
                match (&r, want) {
                    (Ok(got), Some(want)) => assert_eq!(*got, want, "{action:?} on {from:?}"),
                    (Err(ActionError::Illegal(_)), None) => {}
                    (r, want) => panic!("{action:?} on {from:?}: {r:?}, expected {want:?}"),
                }
                assert_eq!(status_of(&app, id).await, want.unwrap_or(from));
                if action == Action::Return && r.is_ok() {
                    returned.push(id.to_string());
                }
            }
            _ => {}
        }
        if step % 20 == 19 {
            assert_summary_matches(&app, step).await;
        }
    }
    assert_summary_matches(&app, 160).await;
    app.storage.compact_supervision_counts().await.unwrap();
    assert_summary_matches(&app, 161).await;
    // The sequence did reach the figures it is meant to test.
    let counts = app.storage.all_supervision_counts().await.unwrap();
    for f in [
        "waiting", "due", "rounds", "decided", "reason", "windows", "breached",
    ] {
        assert!(counts.iter().any(|c| c.figure == f), "no {f} in {counts:?}");
    }
    assert!(resubmitted > 0 && counts.iter().any(|c| c.figure == "rounds" && c.key == "2"));
    assert!(moved > 0, "a calendar change moved deadlines");
}

both!(random_actions_keep_the_summary_exact);
