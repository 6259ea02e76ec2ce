//! Walking the sealed chain: the verifier and the pages it checks (hashed apart, on other cores).

use super::*;

/// Walks the sealed records in position order.
pub struct Verifier {
    anchors: BTreeMap<NaiveDate, Anchor>,
    prev: [u8; 32],
    prev_id: Option<i64>,
    next_pos: i64,
    day: Option<NaiveDate>,
    day_first: i64,
    buf: Vec<u8>,
    count: u64,
}

impl Verifier {
    pub fn new(anchors: Vec<Anchor>) -> Self {
        Verifier {
            anchors: anchors.into_iter().map(|a| (a.day, a)).collect(),
            prev: GENESIS,
            prev_id: None,
            next_pos: 1,
            day: None,
            day_first: 1,
            buf: Vec::with_capacity(512),
            count: 0,
        }
    }

    /// Checks the day that just ended against its anchor.
    fn close_day(&mut self) -> Result<(), Break> {
        let Some(day) = self.day else { return Ok(()) };
        let last = self.next_pos - 1;
        let hash = hex::encode(self.prev);
        let Some(a) = self.anchors.remove(&day) else {
            return Err(Break::AnchorMissing {
                day,
                last_pos: last,
            });
        };
        if a.first_pos != self.day_first
            || a.last_pos != last
            || a.last_hash != hash
            || a.records != last - self.day_first + 1
        {
            return Err(Break::AnchorMismatch {
                day,
                anchor_first: a.first_pos,
                anchor_last: a.last_pos,
                anchor_hash: a.last_hash,
                first: self.day_first,
                last,
                hash,
                last_id: self.prev_id.unwrap_or(0),
            });
        }
        Ok(())
    }

    /// The next record in position order, with the hash stored beside it.
    pub fn push(&mut self, r: &ChainRecord<'_>, stored_hash: Option<&str>) -> Result<(), Break> {
        self.expect_pos(r.pos, r.audit_id)?;
        let h = link(&self.prev, r, &mut self.buf);
        self.accept(r.pos, r.audit_id, r.at, h, parse_hash(stored_hash))
    }

    /// The next page in position order (see [`ChainPage`]): the same checks as [`Self::push`]
    /// on each record, with the hashes the page computed while it waited.
    pub fn push_page(&mut self, page: &ChainPage) -> Result<(), Break> {
        for (i, r) in page.recs.iter().enumerate() {
            self.expect_pos(r.pos, r.audit_id)?;
            // The page hashed each record on its predecessor's stored hash; where that is not
            // the hash this walk computed (a page's first record, or after a broken one) the
            // record is hashed again here, so the result is exactly that of `push`.
            let h = if page.prev_of(i) == self.prev {
                r.computed
            } else {
                link_encoded(&self.prev, page.encoding(i))
            };
            self.accept(r.pos, r.audit_id, r.at, h, r.stored)?;
        }
        Ok(())
    }

    fn expect_pos(&self, pos: i64, audit_id: i64) -> Result<(), Break> {
        if pos != self.next_pos {
            return Err(Break::Gap {
                pos: self.next_pos,
                next_id: audit_id,
                next_pos: pos,
                prev_id: self.prev_id,
            });
        }
        Ok(())
    }

    /// A record whose hash `h` was computed on this walk's previous hash.
    fn accept(
        &mut self,
        pos: i64,
        audit_id: i64,
        at: i64,
        h: [u8; 32],
        stored: Option<[u8; 32]>,
    ) -> Result<(), Break> {
        if stored != Some(h) {
            return Err(Break::Mismatch {
                audit_id,
                pos,
                prev_id: self.prev_id,
            });
        }
        // The record is sound; a new day first closes the day before against its anchor.
        let day = chain_day(self.day, at);
        if self.day != Some(day) {
            self.close_day()?;
            self.day = Some(day);
            self.day_first = pos;
        }
        self.prev = h;
        self.prev_id = Some(audit_id);
        self.next_pos += 1;
        self.count += 1;
        Ok(())
    }

    /// Closes the last day; an anchor left over names records that are gone. Returns the count.
    pub fn finish(mut self) -> Result<u64, Break> {
        self.close_day()?;
        if let Some((_, a)) = self.anchors.into_iter().next() {
            return Err(Break::AnchorWithoutRecords {
                day: a.day,
                first: a.first_pos,
                last: a.last_pos,
            });
        }
        Ok(self.count)
    }
}

/// A stored hash as bytes (None when absent or not 64 hex digits).
fn parse_hash(s: Option<&str>) -> Option<[u8; 32]> {
    let mut b = [0u8; 32];
    hex::decode_to_slice(s?, &mut b).ok().map(|_| b)
}

/// SHA-256(previous hash ‖ an encoding made by [`encode`]).
pub fn link_encoded(prev: &[u8; 32], encoding: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(encoding);
    h.finalize().into()
}

/// A page of records read for verification, in position order: their canonical encodings in one
/// buffer (no allocation per record) and their stored hashes. [`ChainPage::hash`] hashes each
/// record on its predecessor's stored hash, so pages can be hashed apart, on other cores, while
/// the walk ([`Verifier::push_page`]) goes on; the walk re-hashes where that guess was wrong.
#[derive(Default)]
pub struct ChainPage {
    buf: Vec<u8>,
    recs: Vec<PageRecord>,
}

struct PageRecord {
    pos: i64,
    audit_id: i64,
    at: i64,
    /// Where its encoding ends in `buf`.
    end: usize,
    stored: Option<[u8; 32]>,
    computed: [u8; 32],
}

impl ChainPage {
    pub fn push(&mut self, r: &ChainRecord<'_>, stored_hash: Option<&str>) {
        encode(r, &mut self.buf);
        self.recs.push(PageRecord {
            pos: r.pos,
            audit_id: r.audit_id,
            at: r.at,
            end: self.buf.len(),
            stored: parse_hash(stored_hash),
            computed: GENESIS,
        });
    }

    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    fn encoding(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.recs[i - 1].end };
        &self.buf[start..self.recs[i].end]
    }

    /// The hash record `i` is hashed on: its predecessor's stored hash (the genesis for the
    /// first of the page, or when the predecessor has none).
    fn prev_of(&self, i: usize) -> [u8; 32] {
        match i.checked_sub(1) {
            Some(p) => self.recs[p].stored.unwrap_or(GENESIS),
            None => GENESIS,
        }
    }

    /// Hashes every record of the page (CPU only: call it off the async threads).
    pub fn hash(&mut self) {
        for i in 0..self.recs.len() {
            let h = link_encoded(&self.prev_of(i), self.encoding(i));
            self.recs[i].computed = h;
        }
    }
}
