//! Reconciliation of bill lines against the applications' payments
//! (`../shared/contracts/payment-bills.md` §0): each new line gets exactly one class, and each
//! application of the bill's channel paid within its period is either matched by a line, already
//! on record, or missing. Pure: the caller loads what is known and stores the outcome.

use super::{intake::PaymentChannel, money::Fen};
use hashbrown::{HashTable, hash_table::Entry};
use std::collections::HashSet;

mod apps;
pub use apps::{AppPayment, Apps};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineClass {
    Matched,
    AmountMismatch,
    UnmatchedPayment,
    DuplicatePayment,
    Refund,
}

impl LineClass {
    pub const ALL: [LineClass; 5] = [
        LineClass::Matched,
        LineClass::AmountMismatch,
        LineClass::UnmatchedPayment,
        LineClass::DuplicatePayment,
        LineClass::Refund,
    ];
    pub fn code(self) -> &'static str {
        match self {
            LineClass::Matched => "matched",
            LineClass::AmountMismatch => "amount_mismatch",
            LineClass::UnmatchedPayment => "unmatched_payment",
            LineClass::DuplicatePayment => "duplicate_payment",
            LineClass::Refund => "refund",
        }
    }
}

/// A bill line not yet on record.
#[derive(Debug, Clone, Copy)]
pub struct LineIn<'a> {
    pub refund: bool,
    pub out_trade_no: &'a str,
    pub transaction_id: &'a str,
    pub amount: Fen,
    /// Unix milliseconds (any unit, the same as the period's)
    pub at: i64,
}

/// What is on record before this import.
#[derive(Debug, Default)]
pub struct Known {
    /// Applications by merchant order number: those paid within the bill's period and those
    /// the bill's lines name.
    pub apps: Apps,
    /// Merchant order numbers that already have a payment line stored (any channel).
    pub paid_orders: HashSet<String>,
}

#[derive(Debug, Default, PartialEq)]
pub struct Outcome<'k> {
    /// One class per input line, in input order.
    pub classes: Vec<LineClass>,
    /// The application a line belongs to (matched, mismatched, duplicate or refund lines whose
    /// order number is an application's).
    pub applications: Vec<Option<&'k str>>,
    /// Applications of the bill's channel paid within [from, to) whose payment is in no bill,
    /// by application id.
    pub missing: Vec<&'k str>,
}

/// Classifies `lines` (all of one bill of `channel`, none stored yet) and finds the missing
/// payments of the period `[from, to)`.
///
/// Of an order's payments the first (by time, then transaction number) is its payment, unless
/// the order already has one on record; every other is a duplicate. Each order is decided on
/// its own lines and its own application alone, so a caller may split a bill by order number
/// and reconcile the parts separately (`the_parts_of_a_split_decide_as_the_whole`). Linear: no
/// sort, a few hash look-ups a line.
pub fn reconcile<'k>(
    channel: PaymentChannel,
    (from, to): (i64, i64),
    lines: &[LineIn<'_>],
    known: &'k Known,
) -> Outcome<'k> {
    let mut classes = vec![LineClass::Refund; lines.len()];
    let mut applications: Vec<Option<&'k str>> = vec![None; lines.len()];
    let apps = &known.apps;
    let order_of = |j: &u32| lines[*j as usize].out_trade_no;
    // Each order's first payment in this bill (line numbers, hashed by order number with the
    // applications' hasher); a payment that is not (or stops being) the first is a duplicate on
    // the spot.
    let mut first: HashTable<u32> = HashTable::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let hash = apps.hash(l.out_trade_no);
        let app = apps.get_hashed(hash, l.out_trade_no);
        if l.refund {
            applications[i] = app.map(|a| a.application_id);
            continue;
        }
        let mut duplicate = false;
        match first.entry(
            hash,
            |j| order_of(j) == l.out_trade_no,
            |j| apps.hash(order_of(j)),
        ) {
            Entry::Vacant(v) => {
                v.insert(i as u32);
            }
            Entry::Occupied(mut o) => {
                let j = *o.get() as usize;
                let m = &lines[j];
                if (l.at, l.transaction_id) < (m.at, m.transaction_id) {
                    // This line is the order's first payment so far: the one before is not.
                    classes[j] = LineClass::DuplicatePayment;
                    applications[j] = app.map(|a| a.application_id);
                    *o.get_mut() = i as u32;
                } else {
                    duplicate = true;
                }
            }
        }
        let is_first = !duplicate && !known.paid_orders.contains(l.out_trade_no);
        classes[i] = match app {
            _ if !is_first => LineClass::DuplicatePayment,
            Some(a) if a.channel == channel => {
                if a.amount == l.amount {
                    LineClass::Matched
                } else {
                    LineClass::AmountMismatch
                }
            }
            _ => LineClass::UnmatchedPayment,
        };
        if classes[i] != LineClass::UnmatchedPayment {
            applications[i] = app.map(|a| a.application_id);
        }
    }
    // An application of the channel whose order has a first payment in this bill is paid by it.
    let mut missing: Vec<&'k str> = apps
        .iter()
        .filter(|(order, a)| {
            a.channel == channel
                && (from..to).contains(&a.paid_at)
                && !known.paid_orders.contains(*order)
                && first
                    .find(apps.hash(order), |j| order_of(j) == *order)
                    .is_none()
        })
        .map(|(_, a)| a.application_id)
        .collect();
    missing.sort_unstable();
    Outcome {
        classes,
        applications,
        missing,
    }
}

/// Counts per class, in [`LineClass::ALL`] order.
pub fn counts(classes: &[LineClass]) -> [usize; 5] {
    let mut n = [0; 5];
    for c in classes {
        n[LineClass::ALL.iter().position(|x| x == c).expect("listed")] += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    const W: PaymentChannel = PaymentChannel::Wechat;
    const A: PaymentChannel = PaymentChannel::Alipay;

    fn app(id: &str, channel: PaymentChannel, fen: i64, paid_at: i64) -> AppPayment<'_> {
        AppPayment {
            application_id: id,
            channel,
            amount: Fen::new(fen),
            paid_at,
        }
    }

    fn line<'a>(order: &'a str, tx: &'a str, fen: i64, at: i64, refund: bool) -> LineIn<'a> {
        LineIn {
            refund,
            out_trade_no: order,
            transaction_id: tx,
            amount: Fen::new(fen),
            at,
        }
    }

    #[test]
    fn every_class_is_provoked() {
        let mut known = Known::default();
        for (order, a) in [
            ("O1", app("A1", W, 20000, 10)),
            ("O2", app("A2", W, 20000, 10)),
            ("O3", app("A3", W, 20000, 10)),
            ("O4", app("A4", W, 20000, 10)),
            ("O5", app("A5", W, 20000, 10)),
            ("O6", app("A6", A, 20000, 10)),
            ("O7", app("A7", W, 20000, 1000)),
        ] {
            known.apps.insert(order, a);
        }
        known.paid_orders.insert("O5".into());
        let lines = [
            line("O1", "T1", 20000, 50, false),
            line("O2", "T2", 19900, 50, false),
            line("OX", "T3", 20000, 50, false),
            line("O3", "T5", 20000, 60, false),
            line("O3", "T4", 20000, 40, false),
            line("O1", "T1", 20000, 70, true),
            line("O5", "T6", 20000, 50, false),
        ];
        let out = reconcile(W, (0, 100), &lines, &known);
        use LineClass::*;
        assert_eq!(
            out.classes,
            [
                Matched,
                AmountMismatch,
                UnmatchedPayment,
                DuplicatePayment,
                Matched,
                Refund,
                DuplicatePayment
            ]
        );
        assert_eq!(out.applications[3], Some("A3"));
        assert_eq!(out.applications[2], None);
        // A4: paid in the period, in no bill. A5: on record. A6: the other channel. A7: later.
        assert_eq!(out.missing, ["A4"]);
        assert_eq!(counts(&out.classes), [2, 1, 1, 2, 1]);
    }

    #[test]
    fn class_codes() {
        assert_eq!(
            LineClass::ALL.map(LineClass::code),
            [
                "matched",
                "amount_mismatch",
                "unmatched_payment",
                "duplicate_payment",
                "refund"
            ]
        );
    }

    /// An Alipay bill: WeChat applications are neither matched nor missing in it.
    #[test]
    fn an_alipay_bill_sees_only_alipay_applications() {
        let mut known = Known::default();
        known.apps.insert("O1", app("A1", A, 20000, 10));
        known.apps.insert("O2", app("A2", W, 20000, 10));
        known.apps.insert("O3", app("A3", A, 20000, 10));
        let lines = [
            line("O1", "T1", 20000, 50, false),
            line("O2", "T2", 20000, 50, false),
        ];
        let out = reconcile(A, (0, 100), &lines, &known);
        use LineClass::*;
        assert_eq!(out.classes, [Matched, UnmatchedPayment]);
        assert_eq!(out.applications, [Some("A1"), None]);
        assert_eq!(out.missing, ["A3"]);
    }

    #[test]
    fn an_order_paid_through_the_other_channel_first_is_a_duplicate() {
        let mut known = Known::default();
        known.apps.insert("O1", app("A1", W, 20000, 10));
        known.paid_orders.insert("O1".into());
        let out = reconcile(W, (0, 100), &[line("O1", "T9", 20000, 50, false)], &known);
        assert_eq!(out.classes, [LineClass::DuplicatePayment]);
        assert!(out.missing.is_empty());
    }

    /// lines: (order, tx, fen, at, refund); apps: (order, wechat?, fen, paid_at)
    type Scenario = (Vec<(u8, u8, i64, i64, bool)>, Vec<(u8, bool, i64, i64)>);

    fn scenario() -> impl Strategy<Value = Scenario> {
        // lines: (order, tx, fen, at, refund); apps: (order, wechat?, fen, paid_at)
        (
            prop::collection::vec((0u8..30, 0u8..60, 1i64..5, 0i64..200, any::<bool>()), 0..60),
            prop::collection::vec((0u8..30, any::<bool>(), 1i64..5, 0i64..200), 0..40),
        )
    }

    proptest! {
        #[test]
        fn every_line_and_every_application_is_classified_once((raw_lines, raw_apps) in scenario(),
                                                               on_record in prop::collection::hash_set(0u8..30, 0..5),
                                                               channel in prop::sample::select(vec![W, A])) {
            let mut known = Known::default();
            for (k, (order, wechat, fen, paid_at)) in raw_apps.iter().enumerate() {
                known.apps.insert_new(&format!("O{order}"), app(&format!("A{k}"), if *wechat { W } else { A }, *fen * 100, *paid_at));
            }
            known.paid_orders = on_record.iter().map(|o| format!("O{o}")).collect();
            let orders: Vec<String> = raw_lines.iter().map(|l| format!("O{}", l.0)).collect();
            let txs: Vec<String> = raw_lines.iter().enumerate().map(|(i, l)| format!("T{}-{i}", l.1)).collect();
            let lines: Vec<LineIn> = raw_lines.iter().enumerate()
                .map(|(i, l)| line(&orders[i], &txs[i], l.2 * 100, l.3, l.4)).collect();
            let (from, to) = (0, 100);
            let out = reconcile(channel, (from, to), &lines, &known);

            // every line exactly one class, and the amounts add up
            prop_assert_eq!(out.classes.len(), lines.len());
            let total: i64 = lines.iter().map(|l| l.amount.get()).sum();
            let by_class: i64 = LineClass::ALL.iter().map(|c| lines.iter().zip(&out.classes)
                .filter(|(_, k)| *k == c).map(|(l, _)| l.amount.get()).sum::<i64>()).sum();
            prop_assert_eq!(total, by_class);
            prop_assert_eq!(counts(&out.classes).iter().sum::<usize>(), lines.len());
            // refunds are refunds, payments never are
            for (l, c) in lines.iter().zip(&out.classes) {
                prop_assert_eq!(l.refund, *c == LineClass::Refund);
            }
            // at most one first payment per order: matched + mismatched + unmatched ≤ 1 per order
            let mut firsts: HashMap<&str, usize> = HashMap::new();
            for (l, c) in lines.iter().zip(&out.classes) {
                if matches!(c, LineClass::Matched | LineClass::AmountMismatch | LineClass::UnmatchedPayment) {
                    *firsts.entry(l.out_trade_no).or_default() += 1;
                    prop_assert!(!known.paid_orders.contains(l.out_trade_no));
                }
            }
            prop_assert!(firsts.values().all(|&n| n == 1));
            // every application of the channel paid in the period: exactly one of matched by a
            // line of this bill, already on record, missing
            for (order, a) in known.apps.iter() {
                if a.channel != channel || !(from..to).contains(&a.paid_at) { continue; }
                let by_line = out.applications.iter().zip(&out.classes).filter(|(x, c)|
                    **x == Some(a.application_id)
                    && matches!(c, LineClass::Matched | LineClass::AmountMismatch)).count();
                let on_record = usize::from(known.paid_orders.contains(order));
                let missing = out.missing.iter().filter(|m| **m == a.application_id).count();
                prop_assert_eq!(by_line + on_record + missing, 1, "{}", order);
            }
            // an application of the other channel is never matched nor missing in this bill
            for a in known.apps.values().filter(|a| a.channel != channel) {
                prop_assert!(!out.missing.contains(&a.application_id));
                prop_assert!(!out.applications.iter().zip(&out.classes).any(|(x, c)|
                    *x == Some(a.application_id)
                    && matches!(c, LineClass::Matched | LineClass::AmountMismatch)));
            }
        }
    }

    /// The rule as first written: payments sorted by time, a set of the orders paid so far. The
    /// linear version must decide exactly as it does.
    fn reference(
        channel: PaymentChannel,
        (from, to): (i64, i64),
        lines: &[LineIn<'_>],
        known: &Known,
    ) -> (Vec<LineClass>, Vec<Option<String>>, Vec<String>) {
        let mut classes = vec![LineClass::Refund; lines.len()];
        let mut applications: Vec<Option<String>> = vec![None; lines.len()];
        let mut payments: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].refund).collect();
        payments.sort_by(|&a, &b| {
            (lines[a].at, lines[a].transaction_id).cmp(&(lines[b].at, lines[b].transaction_id))
        });
        let mut paid_now: HashSet<&str> = HashSet::new();
        let mut paid_apps: HashSet<&str> = HashSet::new();
        for i in payments {
            let l = &lines[i];
            let app = known.apps.get(l.out_trade_no);
            let first =
                !known.paid_orders.contains(l.out_trade_no) && paid_now.insert(l.out_trade_no);
            classes[i] = match app {
                _ if !first => LineClass::DuplicatePayment,
                Some(a) if a.channel == channel => {
                    paid_apps.insert(a.application_id);
                    if a.amount == l.amount {
                        LineClass::Matched
                    } else {
                        LineClass::AmountMismatch
                    }
                }
                _ => LineClass::UnmatchedPayment,
            };
            if classes[i] != LineClass::UnmatchedPayment {
                applications[i] = app.map(|a| a.application_id.to_owned());
            }
        }
        for (i, l) in lines.iter().enumerate().filter(|(_, l)| l.refund) {
            applications[i] = known
                .apps
                .get(l.out_trade_no)
                .map(|a| a.application_id.to_owned());
        }
        let mut missing: Vec<String> = known
            .apps
            .iter()
            .filter(|(order, a)| {
                a.channel == channel
                    && (from..to).contains(&a.paid_at)
                    && !known.paid_orders.contains(*order)
                    && !paid_apps.contains(a.application_id)
            })
            .map(|(_, a)| a.application_id.to_owned())
            .collect();
        missing.sort_unstable();
        (classes, applications, missing)
    }

    /// The scenario's applications (by order) and lines' texts.
    fn build(
        (raw_lines, raw_apps): &Scenario,
        on_record: &HashSet<u8>,
    ) -> (Known, Vec<String>, Vec<String>) {
        let mut known = Known::default();
        for (k, (order, wechat, fen, paid_at)) in raw_apps.iter().enumerate() {
            known.apps.insert_new(
                &format!("O{order}"),
                app(
                    &format!("A{k}"),
                    if *wechat { W } else { A },
                    *fen * 100,
                    *paid_at,
                ),
            );
        }
        known.paid_orders = on_record.iter().map(|o| format!("O{o}")).collect();
        let orders = raw_lines.iter().map(|l| format!("O{}", l.0)).collect();
        let txs = raw_lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("T{}-{}", l.1 % 7, i % 3))
            .collect();
        (known, orders, txs)
    }

    fn lines_of<'a>(
        raw: &[(u8, u8, i64, i64, bool)],
        orders: &'a [String],
        txs: &'a [String],
    ) -> Vec<LineIn<'a>> {
        raw.iter()
            .enumerate()
            .map(|(i, l)| line(&orders[i], &txs[i], l.2 * 100, l.3 % 20, l.4))
            .collect()
    }

    proptest! {
        /// Same-second payments and shared transaction numbers included (times mod 20, few
        /// transaction numbers).
        #[test]
        fn decides_as_the_rule_as_first_written(sc in scenario(), on_record in prop::collection::hash_set(0u8..30, 0..5),
                                                channel in prop::sample::select(vec![W, A])) {
            let (known, orders, txs) = build(&sc, &on_record);
            let lines = lines_of(&sc.0, &orders, &txs);
            let out = reconcile(channel, (0, 100), &lines, &known);
            let (classes, applications, missing) = reference(channel, (0, 100), &lines, &known);
            prop_assert_eq!(&out.classes, &classes);
            let apps: Vec<Option<String>> = out.applications.iter().map(|a| a.map(str::to_owned)).collect();
            prop_assert_eq!(apps, applications);
            prop_assert_eq!(out.missing, missing);
        }

        /// Split by order number (any split), each part with the applications its lines name,
        /// plus a part of the applications no line names: together they decide as the whole.
        #[test]
        fn the_parts_of_a_split_decide_as_the_whole(sc in scenario(), on_record in prop::collection::hash_set(0u8..30, 0..5),
                                                    part_of in prop::collection::vec(0usize..3, 30),
                                                    channel in prop::sample::select(vec![W, A])) {
            let (known, orders, txs) = build(&sc, &on_record);
            let lines = lines_of(&sc.0, &orders, &txs);
            let whole = reconcile(channel, (0, 100), &lines, &known);
            let restrict = |keep: &dyn Fn(&str) -> bool| {
                let mut apps = Apps::default();
                for (o, a) in known.apps.iter().filter(|(o, _)| keep(o)) {
                    apps.insert(o, a);
                }
                Known {
                    apps,
                    paid_orders: known.paid_orders.iter().filter(|o| keep(o)).cloned().collect(),
                }
            };
            let part = |o: &str| part_of[o[1..].parse::<usize>().unwrap()];
            let mut missing = Vec::new();
            for p in 0..3 {
                let idx: Vec<usize> = (0..lines.len()).filter(|&i| part(lines[i].out_trade_no) == p).collect();
                let named: HashSet<&str> = idx.iter().map(|&i| lines[i].out_trade_no).collect();
                let k = restrict(&|o| named.contains(o));
                let mine: Vec<LineIn> = idx.iter().map(|&i| lines[i]).collect();
                let out = reconcile(channel, (0, 100), &mine, &k);
                for (j, &i) in idx.iter().enumerate() {
                    prop_assert_eq!(out.classes[j], whole.classes[i]);
                    prop_assert_eq!(out.applications[j], whole.applications[i]);
                }
                missing.extend(out.missing.iter().map(|m| m.to_string()));
            }
            let named: HashSet<&str> = lines.iter().map(|l| l.out_trade_no).collect();
            let rest = restrict(&|o| !named.contains(o));
            missing.extend(reconcile(channel, (0, 100), &[], &rest).missing.iter().map(|m| m.to_string()));
            missing.sort();
            prop_assert_eq!(missing, whole.missing);
        }
    }
}
