//! The applications a bill is reconciled against, packed for a million look-ups.

use super::super::{intake::PaymentChannel, money::Fen};
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// An application's payment as the hall reported it (borrowed from [`Apps`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AppPayment<'a> {
    pub application_id: &'a str,
    pub channel: PaymentChannel,
    pub amount: Fen,
    /// Unix milliseconds (any unit, the same as the period's)
    pub paid_at: i64,
}

/// Applications by merchant order number, packed: the texts one after another in one buffer, a
/// record of 40 bytes each and a table of record numbers hashed with foldhash (a million
/// `String`-keyed entries of owned strings cost about three times as much, and SipHash twice the
/// time). The hasher is exposed so that a caller hashes a line's order number once for several
/// tables.
#[derive(Debug, Default, Clone)]
pub struct Apps {
    text: String,
    recs: Vec<AppRec>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

#[derive(Debug, Clone, Copy)]
struct AppRec {
    /// Where the order number starts in `text`; the application id follows it.
    start: usize,
    order_len: u32,
    id_len: u32,
    channel: PaymentChannel,
    amount: Fen,
    paid_at: i64,
}

impl Apps {
    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }
    /// Room for `n` more applications of about `text` bytes of order number and id in all.
    pub fn reserve(&mut self, n: usize, text: usize) {
        self.recs.reserve(n);
        self.text.reserve(text);
        let h = &self.hasher;
        let (t, r) = (&self.text, &self.recs);
        self.table
            .reserve(n, |&k| h.hash_one(Self::order_in(t, &r[k as usize])));
    }
    /// The hash of an order number, as the table computes it.
    pub fn hash(&self, order: &str) -> u64 {
        self.hasher.hash_one(order)
    }
    fn order_in<'t>(text: &'t str, r: &AppRec) -> &'t str {
        &text[r.start..r.start + r.order_len as usize]
    }
    fn view(&self, k: u32) -> (&str, AppPayment<'_>) {
        let r = &self.recs[k as usize];
        let o = r.start + r.order_len as usize;
        (
            &self.text[r.start..o],
            AppPayment {
                application_id: &self.text[o..o + r.id_len as usize],
                channel: r.channel,
                amount: r.amount,
                paid_at: r.paid_at,
            },
        )
    }
    fn find(&self, hash: u64, order: &str) -> Option<u32> {
        self.table
            .find(hash, |&k| {
                Self::order_in(&self.text, &self.recs[k as usize]) == order
            })
            .copied()
    }
    /// The application using this order number.
    pub fn get(&self, order: &str) -> Option<AppPayment<'_>> {
        self.get_hashed(self.hash(order), order)
    }
    /// As [`get`](Self::get), with the order number's [`hash`](Self::hash).
    pub fn get_hashed(&self, hash: u64, order: &str) -> Option<AppPayment<'_>> {
        self.find(hash, order).map(|k| self.view(k).1)
    }
    pub fn contains(&self, order: &str) -> bool {
        self.find(self.hash(order), order).is_some()
    }
    /// Adds the application of an order number, replacing the one it had (as a map would).
    pub fn insert(&mut self, order: &str, a: AppPayment<'_>) {
        let rec = AppRec {
            start: self.text.len(),
            // Order numbers and ids are short; a longer one is cut at a character boundary
            // rather than stored wrong (never in practice: they come from our own columns).
            order_len: u32::try_from(order.len()).unwrap_or(u32::MAX),
            id_len: u32::try_from(a.application_id.len()).unwrap_or(u32::MAX),
            channel: a.channel,
            amount: a.amount,
            paid_at: a.paid_at,
        };
        let hash = self.hash(order);
        if let Some(k) = self.find(hash, order) {
            self.text.push_str(order);
            self.text.push_str(a.application_id);
            self.recs[k as usize] = rec;
            return;
        }
        let Ok(k) = u32::try_from(self.recs.len()) else {
            return;
        };
        self.text.push_str(order);
        self.text.push_str(a.application_id);
        self.recs.push(rec);
        let (h, t, r) = (&self.hasher, &self.text, &self.recs);
        self.table
            .insert_unique(hash, k, |&j| h.hash_one(Self::order_in(t, &r[j as usize])));
    }
    /// Adds the application of an order number unless it has one; whether it was added.
    pub fn insert_new(&mut self, order: &str, a: AppPayment<'_>) -> bool {
        if self.contains(order) {
            return false;
        }
        self.insert(order, a);
        true
    }
    /// Every application with its order number, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&str, AppPayment<'_>)> + '_ {
        // Every record is live: a replacement overwrites its record in place.
        (0..self.recs.len()).map(|k| self.view(k as u32))
    }
    pub fn values(&self) -> impl Iterator<Item = AppPayment<'_>> + '_ {
        self.iter().map(|(_, a)| a)
    }
    /// Sets every application's payment time (a caller that learns the period after loading).
    pub fn set_paid_at(&mut self, at: i64) {
        for r in &mut self.recs {
            r.paid_at = at;
        }
    }
}
