//! A bill's lines kept packed: one text buffer and a small fixed-size record a line.

use super::{BillLine, LineKind};
use crate::domain::money::Fen;

/// A bill's lines, packed: the texts one after another in one buffer, the rest in a record of
/// 40 bytes (a million `String`s would cost three times as much).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lines {
    text: String,
    recs: Vec<Rec>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rec {
    at: i64,
    amount: i64,
    fee_e5: i64,
    line: u32,
    /// Where the transaction id starts in `text`; the order number and the refund number follow it.
    start: u32,
    tx_len: u16,
    order_len: u16,
    refund_len: u16,
    kind: LineKind,
}

impl Lines {
    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }
    pub fn get(&self, i: usize) -> BillLine<'_> {
        let r = &self.recs[i];
        let s = r.start as usize;
        let (o, f) = (
            s + usize::from(r.tx_len),
            s + usize::from(r.tx_len + r.order_len),
        );
        BillLine {
            line: r.line,
            kind: r.kind,
            at: r.at,
            transaction_id: &self.text[s..o],
            out_trade_no: &self.text[o..f],
            amount: Fen::new(r.amount),
            refund_no: (r.refund_len > 0).then(|| &self.text[f..f + usize::from(r.refund_len)]),
            fee_e5: r.fee_e5,
        }
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = BillLine<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
    /// Adds a line; an empty refund number counts as none.
    pub(super) fn push(&mut self, l: &BillLine<'_>) -> Result<(), String> {
        let refund = l.refund_no.unwrap_or("");
        let len = |s: &str, what: &str| {
            u16::try_from(s.len()).map_err(|_| format!("the {what} is too long"))
        };
        let (tx_len, order_len, refund_len) = (
            len(l.transaction_id, "transaction number")?,
            len(l.out_trade_no, "order number")?,
            len(refund, "refund number")?,
        );
        let start = u32::try_from(self.text.len())
            .ok()
            .filter(|s| {
                s.checked_add(u32::from(tx_len) + u32::from(order_len) + u32::from(refund_len))
                    .is_some()
            })
            .ok_or("the bill is too large (over 4 GiB of identifiers)")?;
        self.text.push_str(l.transaction_id);
        self.text.push_str(l.out_trade_no);
        self.text.push_str(refund);
        self.recs.push(Rec {
            at: l.at,
            amount: l.amount.get(),
            fee_e5: l.fee_e5,
            line: l.line,
            start,
            tx_len,
            order_len,
            refund_len,
            kind: l.kind,
        });
        Ok(())
    }
    pub(super) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.recs.shrink_to_fit();
    }
}
