//! Reconciling one bill: its new lines classified by the domain's rule (group by group, so a bill
//! of a million lines stays in memory bounds), stored, and the cases they raise opened.

use super::{FinanceError, ImportSummary, bills::day_start_ms};
use crate::domain::{
    intake::PaymentChannel,
    reconcile::{self, Known, LineClass, LineIn},
};
use crate::exchange::payment_bills::{Bill, BillLine, LineKind, Lines};
use crate::storage::{
    Tx,
    finance::{self as store, LineRow, NewCase, NewImport},
};
use chrono::{Days, NaiveDate};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// What identifies a line among all of its channel's: a payment its transaction number, a
/// refund its transaction and refund numbers.
fn line_key<'a>(l: &BillLine<'a>) -> Cow<'a, str> {
    match l.kind {
        LineKind::Payment => Cow::Borrowed(l.transaction_id),
        LineKind::Refund => Cow::Owned(format!(
            "R:{}:{}",
            l.transaction_id,
            l.refund_no.unwrap_or("")
        )),
    }
}

/// A line of `lines` compared and hashed by its key (without building the key's text).
#[derive(Clone, Copy)]
struct KeyOf<'a> {
    lines: &'a Lines,
    i: u32,
}

impl KeyOf<'_> {
    fn parts(&self) -> (LineKind, &str, &str) {
        let l = self.lines.get(self.i as usize);
        match l.kind {
            LineKind::Payment => (l.kind, l.transaction_id, ""),
            LineKind::Refund => (l.kind, l.transaction_id, l.refund_no.unwrap_or("")),
        }
    }
}

impl PartialEq for KeyOf<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.parts() == o.parts()
    }
}

impl Eq for KeyOf<'_> {}

impl std::hash::Hash for KeyOf<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.parts().hash(h);
    }
}

/// The lines to reconcile: not stored yet, and the first of any copies within the file.
async fn fresh_lines(
    tx: &mut Tx,
    channel: PaymentChannel,
    lines: &Lines,
) -> Result<Vec<u32>, FinanceError> {
    let mut seen = HashSet::with_capacity(lines.len());
    let firsts: Vec<u32> = (0..lines.len() as u32)
        .filter(|&i| seen.insert(KeyOf { lines, i }))
        .collect();
    drop(seen);
    let mut fresh = Vec::with_capacity(firsts.len());
    for chunk in firsts.chunks(KEYS_PER_LOOKUP) {
        let keys: Vec<Cow<str>> = chunk
            .iter()
            .map(|&i| line_key(&lines.get(i as usize)))
            .collect();
        let refs: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        let stored = store::existing_keys(tx, channel, &refs).await?;
        fresh.extend(
            chunk
                .iter()
                .zip(&keys)
                .filter(|(_, k)| !stored.contains(k.as_ref()))
                .map(|(&i, _)| i),
        );
    }
    Ok(fresh)
}

/// New lines from which an import counts as large (see `store::after_import`).
const BULK: usize = 20_000;

/// Lines per look-up of stored keys.
const KEYS_PER_LOOKUP: usize = 20_000;

/// Lines classified at once: the applications they name are loaded for them alone.
const LINES_PER_GROUP: usize = 50_000;

/// Which group an order number's lines go to (FNV-1a): every line of an order in one group.
fn group_of(order: &str, groups: usize) -> usize {
    let h = order.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (h % groups as u64) as usize
}

/// What the classification decided for each new line: its class and its application.
struct Decided {
    classes: Vec<LineClass>,
    /// Per new line, a range of `app_text` (empty: no application).
    apps: Vec<(u32, u32)>,
    app_text: String,
    missing: Vec<store::Missing>,
}

impl Decided {
    fn app(&self, k: usize) -> Option<&str> {
        let (a, b) = self.apps[k];
        (b > a).then(|| &self.app_text[a as usize..b as usize])
    }
}

/// Classifies the new lines (`fresh`, indexes into the bill's lines) with the domain's rule,
/// group by group: a group holds every line of its order numbers, and the rule decides each
/// order on its own lines and application alone, so the groups together decide as one call
/// over the whole bill would, while only one group's applications are in memory at a time.
async fn classify(
    tx: &mut Tx,
    bill: &Bill,
    fresh: &[u32],
    period: (i64, i64),
) -> Result<Decided, FinanceError> {
    let lines = &bill.lines;
    let groups = fresh.len().div_ceil(LINES_PER_GROUP).max(1);
    // The new lines ordered by group (a counting sort; file order within a group).
    let group: Vec<u32> = fresh
        .iter()
        .map(|&i| group_of(lines.get(i as usize).out_trade_no, groups) as u32)
        .collect();
    let mut starts = vec![0usize; groups + 1];
    for &g in &group {
        starts[g as usize + 1] += 1;
    }
    for g in 0..groups {
        starts[g + 1] += starts[g];
    }
    let mut by_group = vec![0u32; fresh.len()];
    let mut next = starts.clone();
    for (k, &g) in group.iter().enumerate() {
        by_group[next[g as usize]] = k as u32;
        next[g as usize] += 1;
    }
    drop(group);
    let mut d = Decided {
        classes: vec![LineClass::Refund; fresh.len()],
        apps: vec![(0, 0); fresh.len()],
        app_text: String::new(),
        missing: Vec::new(),
    };
    for g in 0..groups {
        let ks = &by_group[starts[g]..starts[g + 1]];
        let mut orders: Vec<&str> = ks
            .iter()
            .map(|&k| lines.get(fresh[k as usize] as usize).out_trade_no)
            .collect();
        orders.sort_unstable();
        orders.dedup();
        let known = store::known_for_orders(tx, &orders).await?;
        drop(orders);
        let inputs: Vec<LineIn> = ks
            .iter()
            .map(|&k| line_in(&lines.get(fresh[k as usize] as usize)))
            .collect();
        let outcome = reconcile::reconcile(bill.channel, period, &inputs, &known);
        for (j, &k) in ks.iter().enumerate() {
            d.classes[k as usize] = outcome.classes[j];
            if let Some(a) = outcome.applications[j] {
                let start = d.app_text.len() as u32;
                d.app_text.push_str(a);
                d.apps[k as usize] = (start, d.app_text.len() as u32);
            }
        }
        d.missing.extend(missing_of(&known, &outcome.missing));
    }
    Ok(d)
}

/// A bill line as the reconciliation core takes it.
pub fn line_in<'a>(l: &BillLine<'a>) -> LineIn<'a> {
    LineIn {
        refund: l.kind == LineKind::Refund,
        out_trade_no: l.out_trade_no,
        transaction_id: l.transaction_id,
        amount: l.amount,
        at: l.at,
    }
}

/// The missing applications with their order number and amount.
fn missing_of(known: &Known, missing: &[&str]) -> Vec<store::Missing> {
    if missing.is_empty() {
        return Vec::new();
    }
    let by_id: HashMap<&str, (&str, i64)> = known
        .apps
        .iter()
        .map(|(o, a)| (a.application_id, (o, a.amount.get())))
        .collect();
    missing
        .iter()
        .map(|id| {
            let (o, f) = by_id.get(id).copied().unwrap_or(("", 0));
            ((*id).to_owned(), o.to_owned(), f)
        })
        .collect()
}

pub(super) async fn reconcile_bill(
    tx: &mut Tx,
    bill: &Bill,
    sha: &str,
    file_name: &str,
    actor: &str,
    at: i64,
) -> Result<ImportSummary, FinanceError> {
    let channel = bill.channel;
    let lines = &bill.lines;
    let clock = std::time::Instant::now();
    let phase = |name: &str| {
        tracing::debug!(
            phase = name,
            ms = clock.elapsed().as_millis() as u64,
            "reconcile_bill"
        )
    };
    let fresh = fresh_lines(tx, channel, lines).await?;
    phase("fresh");
    let period = (
        day_start_ms(bill.period.0),
        day_start_ms(bill.period.1 + Days::new(1)),
    );
    let fresh_count = fresh.len();
    // Lines imported before are done; the new ones as they are stored.
    crate::desks::progress::advance(lines.len() - fresh_count);
    let mut decided = classify(tx, bill, &fresh, period).await?;
    phase("classified");
    let n = reconcile::counts(&decided.classes);
    let mut summary = ImportSummary {
        channel: channel.code().into(),
        lines: lines.len(),
        new_lines: fresh.len(),
        matched: n[0],
        amount_mismatch: n[1],
        unmatched_payment: n[2],
        duplicate_payment: n[3],
        refund: n[4],
        missing_payment: 0,
    };
    let import_id = store::insert_import(
        tx,
        &NewImport {
            channel,
            sha256: sha,
            file_name,
            period: (bill.period.0.to_string(), bill.period.1.to_string()),
            lines: lines.len() as i64,
            new_lines: fresh.len() as i64,
            summary: "",
            at,
            by: actor,
        },
    )
    .await?;
    let floor = store::line_id_floor(tx).await?;
    // The lines, in file order, a few thousand per statement.
    let mut day_cache: (NaiveDate, String) = (NaiveDate::default(), String::new());
    for (c, chunk) in fresh.chunks(store::LINE_ROWS).enumerate() {
        let rows: Vec<LineRow> = chunk
            .iter()
            .enumerate()
            .map(|(j, &i)| {
                let k = c * store::LINE_ROWS + j;
                let l = lines.get(i as usize);
                let day = l.day();
                if day != day_cache.0 || day_cache.1.is_empty() {
                    day_cache = (day, day.to_string());
                }
                LineRow {
                    key: line_key(&l),
                    line_no: i64::from(l.line),
                    refund: l.kind == LineKind::Refund,
                    at: l.at,
                    bill_day: day_cache.1.clone(),
                    transaction_id: l.transaction_id,
                    out_trade_no: l.out_trade_no,
                    amount_fen: l.amount,
                    fee_e5: l.fee_e5,
                    refund_no: l.refund_no,
                    class: decided.classes[k].code(),
                    application_id: decided.app(k),
                }
            })
            .collect();
        store::insert_lines(tx, channel, import_id, &rows).await?;
        crate::desks::progress::advance(rows.len());
    }
    drop(fresh);
    if fresh_count > BULK {
        store::analyze_lines(tx).await?;
    }
    phase("lines stored");

    // Missing payments of applications no new line names: narrowed by one anti-join, decided by
    // the same rule (with no lines, every candidate of the channel and period is missing).
    let unnamed = store::unpaid_unnamed(tx, channel, period, import_id, floor).await?;
    let mut rest = Known::default();
    rest.apps.reserve(unnamed.len(), unnamed.len() * 40);
    for u in &unnamed {
        u.add_to(&mut rest.apps);
    }
    drop(unnamed);
    let outcome = reconcile::reconcile(channel, period, &[], &rest);
    decided.missing.extend(missing_of(&rest, &outcome.missing));
    drop(rest);
    phase("unnamed missing");

    // Cases: every line that is not simply matched (in line order: a refund line may close the
    // case of a duplicate before it), and every missing payment.
    let mut after = floor;
    for e in store::refund_lines(tx, import_id, floor).await? {
        store::open_line_cases(tx, import_id, (after, e.line_id), at).await?;
        after = e.line_id;
        if let Some(case_id) =
            store::open_refundable_case(tx, &e.out_trade_no, e.amount_fen).await?
        {
            store::close_case(
                tx,
                case_id,
                None,
                "refunded",
                e.refund_no.as_deref(),
                Some(&format!("refund line in {file_name}")),
                actor,
                at,
            )
            .await?;
            continue;
        }
        if store::refund_expected(tx, &e.out_trade_no).await? {
            continue;
        }
        store::open_case(
            tx,
            &NewCase {
                kind: "unexpected_refund",
                channel,
                out_trade_no: &e.out_trade_no,
                application_id: e.application_id.as_ref(),
                line_id: Some(e.line_id),
                amount_fen: e.amount_fen,
                at,
            },
        )
        .await?;
    }
    store::open_line_cases(tx, import_id, (after, i64::MAX), at).await?;
    phase("line cases");
    let mut missing = decided.missing;
    drop(decided.app_text);
    missing.sort_unstable();
    summary.missing_payment = store::open_missing_cases(tx, channel, &missing, at).await? as usize;
    phase("missing cases");
    store::after_import(tx, import_id, floor, fresh_count > BULK, actor, at).await?;
    phase("after import");
    let ids: Vec<&str> = missing.iter().map(|m| m.0.as_str()).collect();
    store::refresh_payment_state(tx, &ids).await?;
    let text = serde_json::to_string(&summary).expect("plain struct");
    store::set_import_summary(tx, import_id, &text).await?;
    phase("done");
    Ok(summary)
}
