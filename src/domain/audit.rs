//! The audit trail's hash chain: the canonical encoding of a record, its link to the previous
//! one, the day it belongs to, and a verifier that walks the chain in position order and names
//! the first record that does not fit. Pure: the storage layer feeds it rows.

use chrono::{DateTime, NaiveDate};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

mod verify;
pub use verify::{ChainPage, Verifier, link_encoded};

/// The hash before the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// One audit record as the chain sees it.
#[derive(Debug, Clone, Copy)]
pub struct ChainRecord<'a> {
    pub pos: i64,
    pub audit_id: i64,
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

fn put_text(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            buf.extend_from_slice(&(s.len() as u64).to_be_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
    }
}

/// The canonical encoding: a version tag, the position, id and instant as big-endian integers,
/// then each text field as a presence byte and a length-prefixed UTF-8 string (so no field can
/// spill into the next).
pub fn encode(r: &ChainRecord<'_>, buf: &mut Vec<u8>) {
    buf.extend_from_slice(b"audit-v1");
    buf.extend_from_slice(&r.pos.to_be_bytes());
    buf.extend_from_slice(&r.audit_id.to_be_bytes());
    buf.extend_from_slice(&r.at.to_be_bytes());
    for s in [r.actor, r.action, r.subject_type, r.subject_id] {
        put_text(buf, Some(s));
    }
    for s in [r.before, r.after, r.request_id] {
        put_text(buf, s);
    }
}

/// SHA-256(previous hash ‖ encoding). `buf` is scratch space, reused to spare allocations.
pub fn link(prev: &[u8; 32], r: &ChainRecord<'_>, buf: &mut Vec<u8>) -> [u8; 32] {
    buf.clear();
    encode(r, buf);
    link_encoded(prev, buf)
}

/// The Beijing calendar day of an instant (epoch milliseconds).
pub fn beijing_day(at_ms: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(at_ms)
        .unwrap_or_default()
        .with_timezone(&super::calendar::beijing())
        .date_naive()
}

/// A record's chain day: the Beijing day of its `at`, never earlier than its predecessor's, so
/// days follow positions even when clocks and commit order disagree.
pub fn chain_day(prev: Option<NaiveDate>, at_ms: i64) -> NaiveDate {
    let d = beijing_day(at_ms);
    match prev {
        Some(p) if p > d => p,
        _ => d,
    }
}

/// The anchor of one day: its first and last position and the hash of its last record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub day: NaiveDate,
    pub first_pos: i64,
    pub last_pos: i64,
    pub last_hash: String,
    pub records: i64,
}

/// The first thing found wrong, naming the record (or anchor) concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    #[error(
        "audit record {audit_id} (position {pos}) does not match its hash: it was edited, or moved from another position{}",
        prev_id.map(|p| format!(" (or the hash of audit record {p} before it was rewritten)")).unwrap_or_default()
    )]
    Mismatch {
        audit_id: i64,
        pos: i64,
        prev_id: Option<i64>,
    },
    #[error("position {pos} is missing before audit record {next_id} (position {next_pos}){}: a record was deleted", prev_id.map(|p| format!(", after audit record {p}")).unwrap_or_default())]
    Gap {
        pos: i64,
        next_id: i64,
        next_pos: i64,
        prev_id: Option<i64>,
    },
    #[error(
        "the anchor of {day} is missing (the chain has records of that day up to position {last_pos})"
    )]
    AnchorMissing { day: NaiveDate, last_pos: i64 },
    #[error(
        "the anchor of {day} (positions {anchor_first}–{anchor_last}, hash {anchor_hash}) does not match the chain (positions {first}–{last}, hash {hash}): the anchor was edited, or records after audit record {last_id} were deleted"
    )]
    AnchorMismatch {
        day: NaiveDate,
        anchor_first: i64,
        anchor_last: i64,
        anchor_hash: String,
        first: i64,
        last: i64,
        hash: String,
        last_id: i64,
    },
    #[error(
        "the anchor of {day} names positions {first}–{last} that the chain does not hold: records were deleted, or the anchor was forged"
    )]
    AnchorWithoutRecords {
        day: NaiveDate,
        first: i64,
        last: i64,
    },
}

/// Extends the chain: what the sealer computes for a run of unsealed records.
pub struct Sealer {
    pub prev: [u8; 32],
    pub next_pos: i64,
    /// The open day: its anchor as it stands (None before the first record).
    pub anchor: Option<Anchor>,
    buf: Vec<u8>,
}

impl Sealer {
    /// Continues from the latest anchor (or from the genesis).
    pub fn new(latest: Option<Anchor>) -> Result<Self, String> {
        let prev = match &latest {
            None => GENESIS,
            Some(a) => {
                let mut b = [0u8; 32];
                hex::decode_to_slice(&a.last_hash, &mut b)
                    .map_err(|_| format!("the anchor of {} holds no valid hash", a.day))?;
                b
            }
        };
        Ok(Sealer {
            prev,
            next_pos: latest.as_ref().map_or(1, |a| a.last_pos + 1),
            anchor: latest,
            buf: Vec::with_capacity(512),
        })
    }

    /// Seals one record (its `pos` is ignored: the next position is given). Returns the position,
    /// the hash, and the anchor of a day that this record closed, if any.
    pub fn seal(&mut self, r: &ChainRecord<'_>) -> (i64, String, Option<Anchor>) {
        let pos = self.next_pos;
        let rec = ChainRecord { pos, ..*r };
        let h = link(&self.prev, &rec, &mut self.buf);
        let hash = hex::encode(h);
        let day = chain_day(self.anchor.as_ref().map(|a| a.day), r.at);
        let closed = match &mut self.anchor {
            Some(a) if a.day == day => {
                a.last_pos = pos;
                a.last_hash = hash.clone();
                a.records += 1;
                None
            }
            open => open.replace(Anchor {
                day,
                first_pos: pos,
                last_pos: pos,
                last_hash: hash.clone(),
                records: 1,
            }),
        };
        self.prev = h;
        self.next_pos += 1;
        (pos, hash, closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: i64, at: i64, after: &str) -> (i64, i64, String) {
        (i, at, after.to_owned())
    }

    fn cr(r: &(i64, i64, String), pos: i64) -> ChainRecord<'_> {
        ChainRecord {
            pos,
            audit_id: r.0,
            at: r.1,
            actor: "staff:li",
            action: "accept",
            subject_type: "application",
            subject_id: "BF1",
            before: None,
            after: Some(&r.2),
            request_id: None,
        }
    }

    const DAY: i64 = 86_400_000;

    /// Seals `rows`, returning (record, pos, hash) and the anchors.
    fn sealed(rows: &[(i64, i64, String)]) -> (Vec<(usize, i64, String)>, Vec<Anchor>) {
        let mut s = Sealer::new(None).unwrap();
        let mut anchors = vec![];
        let mut out = vec![];
        for (i, r) in rows.iter().enumerate() {
            let (pos, hash, closed) = s.seal(&cr(r, 0));
            anchors.extend(closed);
            out.push((i, pos, hash));
        }
        anchors.extend(s.anchor.take());
        (out, anchors)
    }

    fn verify(
        rows: &[(i64, i64, String)],
        chain: &[(usize, i64, String)],
        anchors: Vec<Anchor>,
    ) -> Result<u64, Break> {
        let mut v = Verifier::new(anchors.clone());
        let one_by_one = chain
            .iter()
            .try_for_each(|(i, pos, hash)| v.push(&cr(&rows[*i], *pos), Some(hash)))
            .and_then(|()| v.finish());
        // In pages of every size, each hashed on its own: the same verdict.
        for size in 1..=chain.len() {
            let mut v = Verifier::new(anchors.clone());
            let paged = chain
                .chunks(size)
                .try_for_each(|c| {
                    let mut page = ChainPage::default();
                    for (i, pos, hash) in c {
                        page.push(&cr(&rows[*i], *pos), Some(hash));
                    }
                    page.hash();
                    v.push_page(&page)
                })
                .and_then(|()| v.finish());
            assert_eq!(paged, one_by_one, "pages of {size}");
        }
        one_by_one
    }

    fn sample() -> Vec<(i64, i64, String)> {
        // Three days; the fourth record's clock runs behind and stays on the day before it.
        vec![
            rec(1, 0, "a"),
            rec(2, 10, "b"),
            rec(3, DAY, "c"),
            rec(5, DAY - 5, "d"),
            rec(4, 2 * DAY, "e"),
            rec(6, 2 * DAY + 1, "f"),
        ]
    }

    #[test]
    fn an_intact_chain_verifies_and_anchors_each_day() {
        let rows = sample();
        let (chain, anchors) = sealed(&rows);
        assert_eq!(anchors.len(), 3);
        assert_eq!((anchors[1].first_pos, anchors[1].last_pos), (3, 4));
        assert_eq!(verify(&rows, &chain, anchors), Ok(6));
    }

    #[test]
    fn sealing_in_two_runs_equals_one() {
        let rows = sample();
        let (chain, anchors) = sealed(&rows);
        let mut s = Sealer::new(None).unwrap();
        for r in &rows[..3] {
            s.seal(&cr(r, 0));
        }
        let mut s2 = Sealer::new(s.anchor.clone()).unwrap();
        let mut last = None;
        for r in &rows[3..] {
            last = Some(s2.seal(&cr(r, 0)).1);
        }
        assert_eq!(last.unwrap(), chain[5].2);
        assert_eq!(s2.anchor.unwrap(), anchors[2]);
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        let rows = sample();
        let (chain, anchors) = sealed(&rows);

        let mut edited = rows.clone();
        edited[2].2 = "x".into();
        assert!(matches!(
            verify(&edited, &chain, anchors.clone()),
            Err(Break::Mismatch {
                audit_id: 3,
                pos: 3,
                ..
            })
        ));

        let mut deleted = chain.clone();
        deleted.remove(3);
        assert!(matches!(
            verify(&rows, &deleted, anchors.clone()),
            Err(Break::Gap {
                pos: 4,
                next_id: 4,
                prev_id: Some(3),
                ..
            })
        ));

        // Two records swap positions.
        let mut swapped = chain.clone();
        swapped.swap(1, 2);
        let (a, b) = (swapped[1].1, swapped[2].1);
        swapped[1].1 = b;
        swapped[2].1 = a;
        assert!(matches!(
            verify(&rows, &swapped, anchors.clone()),
            Err(Break::Mismatch { pos: 2, .. })
        ));

        let mut tail = chain.clone();
        tail.pop();
        assert!(matches!(
            verify(&rows, &tail, anchors.clone()),
            Err(Break::AnchorMismatch { last_id: 4, .. })
        ));

        let mut forged = anchors.clone();
        forged[1].last_hash = "00".repeat(32);
        assert!(matches!(
            verify(&rows, &chain, forged),
            Err(Break::AnchorMismatch { .. })
        ));

        let mut missing = anchors.clone();
        missing.remove(0);
        assert!(matches!(
            verify(&rows, &chain, missing),
            Err(Break::AnchorMissing { .. })
        ));
    }
}
