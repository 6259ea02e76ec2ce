//! `verify-audit` at volume (issue 24): readers on their own connections read the chain in
//! pages of positions, each page's records encoded into one buffer and hashed off the async
//! threads, while the walk checks the pages in position order. Memory stays at a few pages,
//! whatever the length of the chain.

use super::audit::{AnchorRow, CHAIN_COLUMNS, ChainRow, Verdict};
use super::{DbResult, Storage};
use crate::domain::audit::{ChainPage, ChainRecord, Verifier};
use futures_util::TryStreamExt;
use sqlx::Row;
use tokio::sync::mpsc;

/// Readers at once: page k is read by reader k mod READERS, so the next pages are read (and
/// hashed) while the walk checks this one.
const READERS: i64 = 2;

/// A reader task, aborted when the walk ends early (a broken record, an error).
struct Reader(tokio::task::JoinHandle<()>);

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Positions (lo, hi] of the chain, read as one page (a deleted record leaves it short).
async fn read_page(s: &Storage, lo: i64, hi: i64) -> DbResult<ChainPage> {
    let sql = format!(
        "select {CHAIN_COLUMNS} from audit_log \
        where chain_pos > $1 and chain_pos <= $2 \
        order by chain_pos"
    );
    let mut page = ChainPage::default();
    crate::on_pool!(s.read_pool(), |p| {
        let mut rows = sqlx::query(&sql).bind(lo).bind(hi).fetch(p);
        while let Some(row) = rows.try_next().await? {
            // Borrowed from the row: no allocation per record beyond the driver's.
            let r = ChainRecord {
                pos: row.try_get(0)?,
                audit_id: row.try_get(2)?,
                at: row.try_get(3)?,
                actor: row.try_get(4)?,
                action: row.try_get(5)?,
                subject_type: row.try_get(6)?,
                subject_id: row.try_get(7)?,
                before: row.try_get(8)?,
                after: row.try_get(9)?,
                request_id: row.try_get(10)?,
            };
            page.push(&r, row.try_get(1)?);
        }
        DbResult::Ok(())
    })?;
    // Hashing is CPU work: off the async threads, on whichever core is free.
    tokio::task::spawn_blocking(move || {
        page.hash();
        page
    })
    .await
    .map_err(|e| sqlx::Error::Protocol(format!("hashing an audit page: {e}")))
}

/// Reads pages `first`, `first + READERS`, … of `size` positions until one comes back short
/// (the chain's end, or a hole the walk will name) or the walk stops listening.
async fn read_pages(s: Storage, first: i64, size: i64, out: mpsc::Sender<DbResult<ChainPage>>) {
    let mut k = first;
    loop {
        let page = read_page(&s, k * size, (k + 1) * size).await;
        let last = page.as_ref().map_or(true, |p| (p.len() as i64) < size);
        if out.send(page).await.is_err() || last {
            return;
        }
        k += READERS;
    }
}

impl Storage {
    /// Walks the sealed chain in position order, day by day against the anchors, `page`
    /// positions at a time; stops at the first record that does not fit.
    pub async fn verify_audit(&self, page: i64) -> DbResult<Verdict> {
        let page = page.max(1);
        let anchors = crate::on_pool!(self.read_pool(), |p| sqlx::query_as::<_, AnchorRow>(
            "select day, first_pos, last_pos, last_hash, records from audit_anchors"
        )
        .fetch_all(p)
        .await)?
        .into_iter()
        .map(AnchorRow::anchor)
        .collect::<Result<Vec<_>, _>>()?;
        let mut v = Verifier::new(anchors);
        let mut pages = Vec::new();
        let mut readers = Vec::new();
        for r in 0..READERS {
            // One page waiting per reader, one being read: memory stays at a few pages.
            let (tx, rx) = mpsc::channel(1);
            readers.push(Reader(tokio::spawn(read_pages(self.clone(), r, page, tx))));
            pages.push(rx);
        }
        let mut k = 0;
        loop {
            let Some(p) = pages[(k % READERS) as usize].recv().await else {
                return Err(sqlx::Error::Protocol("an audit reader stopped".into()));
            };
            let p = p?;
            if let Err(b) = v.push_page(&p) {
                return Ok(Verdict::Broken(b));
            }
            if (p.len() as i64) < page {
                // The chain ends here, or positions of this page are missing: the next record
                // after the page, if any, is then out of place and named.
                let next = crate::on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ChainRow>(
                    &format!(
                        "select {CHAIN_COLUMNS} from audit_log where chain_pos > $1 \
                        order by chain_pos limit 1"
                    )
                )
                .bind((k + 1) * page)
                .fetch_optional(p)
                .await)?;
                if let Some(r) = next
                    && let Err(b) = v.push(&r.record(), r.hash.as_deref())
                {
                    return Ok(Verdict::Broken(b));
                }
                break;
            }
            k += 1;
        }
        drop(readers);
        Ok(match v.finish() {
            Ok(n) => Verdict::Intact(n),
            Err(b) => Verdict::Broken(b),
        })
    }
}
