//! A quarter of a working office behind the demo's current fortnight: applications received on
//! every working day of the thirteen weeks before, decided by the reviewers (mostly within the
//! three working days, a few late), their bills imported, invoices issued and parcels shipped
//! week by week — through the same desk functions the current work goes through.

use super::{Plan, drafts, finance, fulfilment};
use crate::{
    desks::review::{self, Actor},
    domain::{
        calendar::{WorkingCalendar, beijing},
        status::Action,
    },
    storage::ms,
    web::state::AppState,
};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use rand::{Rng, rngs::StdRng};

/// An application of the quarter and when its reviewer decides it.
pub(super) struct Past {
    pub(super) plan: Plan,
    decided_at: DateTime<Utc>,
}

/// The weeks of history before the current fortnight.
const WEEKS: i64 = 13;

/// Received on each working day from thirteen weeks to two weeks ago, 5 to 11 a day.
pub(super) async fn applications(
    state: &AppState,
    cal: &WorkingCalendar,
    now: DateTime<Utc>,
    (form, eseal): (&[u8], &[u8]),
    first: u64,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<Past>> {
    let today = now.with_timezone(&beijing()).date_naive();
    let mut out = Vec::new();
    let mut i = first;
    let mut day = today - Duration::weeks(WEEKS);
    while day < today - Duration::days(14) {
        if cal.is_working_day(day) {
            for _ in 0..rng.random_range(5..12) {
                let local = day.and_hms_opt(8, 30, 0).expect("valid")
                    + Duration::minutes(rng.random_range(0..9 * 60));
                let submitted = beijing()
                    .from_local_datetime(&local)
                    .single()
                    .expect("fixed offset")
                    .with_timezone(&Utc);
                let d = drafts::draft(i, submitted, rng)?;
                let id = drafts::store(state, cal, &d, drafts::placeholders(i, form, eseal), now)
                    .await?;
                let due = cal.review_due_at(submitted);
                let decided_at = if rng.random_bool(0.06) {
                    due + Duration::minutes(rng.random_range(30..2 * 24 * 60))
                } else {
                    let span = (due - submitted).num_minutes().max(2);
                    submitted + Duration::minutes(rng.random_range(1..span))
                };
                out.push(Past {
                    plan: Plan {
                        id,
                        app: d.app,
                        submitted,
                        roll: rng.random_range(0..100),
                        index: i,
                    },
                    decided_at,
                });
                i += 1;
            }
        }
        day += Duration::days(1);
    }
    Ok(out)
}

const REASONS: [(&str, &str); 4] = [
    ("form_unsigned", "申请表未签名"),
    ("id_front_unclear", "身份证人像面不清晰"),
    ("name_mismatch", "申请表姓名与证件不一致"),
    ("liveness_mismatch", "活体照片与证件照不符"),
];

/// Decided week by week (most accepted, some returned, a few withdrawn); at the end of each week
/// the invoices of the week are issued and its certificates made and shipped.
pub(super) async fn decide(
    state: &AppState,
    mut past: Vec<Past>,
    rng: &mut StdRng,
) -> anyhow::Result<(usize, usize)> {
    past.sort_by_key(|p| p.decided_at);
    let cfg = fulfilment::courier_config(state)?;
    let (mut accepted, mut shipped) = (0, 0);
    let mut made = 0usize;
    let mut week: Vec<&Past> = Vec::new();
    let mut n = 0;
    while n < past.len() {
        let key = |p: &Past| p.decided_at.with_timezone(&beijing()).iso_week();
        week.clear();
        let k = key(&past[n]);
        while n < past.len() && key(&past[n]) == k {
            week.push(&past[n]);
            n += 1;
        }
        let mut to_ship = Vec::new();
        for p in &week {
            let actor = Actor {
                name: if p.plan.index % 2 == 0 {
                    "staff:reviewer"
                } else {
                    "staff:reviewer2"
                },
                request_id: None,
                may_override: false,
            };
            let id = &p.plan.id;
            let claimed = (p.decided_at - Duration::minutes(rng.random_range(5..90)))
                .max(p.plan.submitted + Duration::minutes(1));
            let none = review::Step::default();
            review::act(
                &state.storage,
                id,
                Action::Claim,
                &none,
                &actor,
                ms(claimed),
            )
            .await?;
            let verified = state.storage.payment_state_of(id).await?.as_deref() == Some("verified");
            let (step, data) = match p.plan.roll {
                0..84 if verified => (Action::Accept, none),
                84..95 => {
                    let (code, text) = REASONS[rng.random_range(0..REASONS.len())];
                    let data = review::Step {
                        reasons: vec![(code.to_string(), text.to_string())],
                        ..Default::default()
                    };
                    (Action::Return, data)
                }
                _ => (Action::Withdraw, none),
            };
            review::act(&state.storage, id, step, &data, &actor, ms(p.decided_at)).await?;
            if step == Action::Accept {
                accepted += 1;
                to_ship.push((id.to_owned(), true));
            }
        }
        let Some(last) = week.last() else { break };
        // The week's paperwork the next morning.
        let at = last.decided_at + Duration::hours(18);
        finance::demo_invoices(state, at, true).await?;
        if let Some(f) = fulfilment::produce_and_ship(state, &cfg, &to_ship, at, made).await? {
            shipped += f.shipped;
        }
        made += to_ship.len();
    }
    Ok((accepted, shipped))
}

/// The applications whose scans were not drawn (the quarter's history, and current ones past
/// the drawing's limit) were pre-checked when they came in, as an office's worker keeps up with
/// intake: their jobs are closed through the worker's own claim and finish, a few minutes after
/// each was received, with no findings (their scans are small placeholders the checks would
/// flag). The drawn applications' jobs are left to `serve`'s worker: the claim's lease ends at
/// once, as a worker's that stopped. `received` maps each undrawn application to when it came
/// in. Returns the versions closed and the versions left.
pub(super) async fn prechecked_at_intake(
    storage: &crate::storage::Storage,
    received: &std::collections::HashMap<String, DateTime<Utc>>,
    now: DateTime<Utc>,
) -> anyhow::Result<(usize, usize)> {
    let token = "demo:intake";
    let jobs = storage
        .claim_prechecks(ms(now), ms(now), token, i64::from(u32::MAX))
        .await?;
    let mut closed = 0;
    for job in &jobs {
        let Some(at) = received.get(job.application_id.as_str()) else {
            continue;
        };
        let at = if job.version == 1 {
            *at + Duration::minutes(minutes_after(job.application_id.as_str()))
        } else {
            now - Duration::minutes(1)
        };
        closed += usize::from(
            storage
                .finish_precheck(job, token, &[], &[], ms(at))
                .await?,
        );
    }
    Ok((closed, jobs.len() - closed))
}

/// Two to nine minutes, the same for the same application.
fn minutes_after(id: &str) -> i64 {
    2 + id.bytes().map(i64::from).sum::<i64>() % 8
}

/// The e-mails and SMS of the quarter (decisions, invoices, parcels) went out when queued:
/// claimed and marked sent as the outbox worker does, a minute after each was queued. Returns
/// how many.
pub(super) async fn mails_sent(
    storage: &crate::storage::Storage,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for channel in [crate::storage::outbox::EMAIL, crate::storage::outbox::SMS] {
        loop {
            let rows = storage
                .claim_outbox(channel, ms(now), ms(now) + 60_000, 500)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                sent += usize::from(storage.mark_sent(row, row.created_at + 60_000).await?);
            }
        }
    }
    Ok(sent)
}
