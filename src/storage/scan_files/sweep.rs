//! The orphan sweep: deletes objects older than a grace period that no row references. An
//! upload writes its objects before its row commits, so for a while every new object is an
//! orphan; the grace period leaves those alone, and the fence (see `mod.rs`) covers an upload
//! slower than the grace period.

use super::{ScanStore, SweepLock};
use crate::storage::Storage;
use futures_util::StreamExt;
use serde::Serialize;

/// Objects checked against the database (and deleted) per lock.
const BATCH: usize = 100;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct SweepSummary {
    /// Objects listed in the store.
    pub listed: u64,
    /// Of which older than the grace period.
    pub old_enough: u64,
    /// Of which referenced by no row, and deleted.
    pub deleted: u64,
}

pub async fn sweep(
    storage: &Storage,
    store: &ScanStore,
    now_ms: i64,
    grace_ms: i64,
) -> anyhow::Result<SweepSummary> {
    let mut s = SweepSummary::default();
    let mut list = store.backend().list();
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(o) = list.next().await {
        let o = o?;
        s.listed += 1;
        if o.modified_ms > now_ms - grace_ms {
            continue;
        }
        s.old_enough += 1;
        batch.push(o.sha256);
        if batch.len() == BATCH {
            s.deleted += sweep_batch(storage, store, &batch).await?;
            batch.clear();
        }
    }
    s.deleted += sweep_batch(storage, store, &batch).await?;
    Ok(s)
}

pub async fn sweep_batch(
    storage: &Storage,
    store: &ScanStore,
    shas: &[String],
) -> anyhow::Result<u64> {
    if shas.is_empty() {
        return Ok(0);
    }
    let mut lock = SweepLock::take(storage).await?;
    let result = async {
        let keep = lock.referenced(shas).await?;
        let mut n = 0;
        for sha in shas.iter().filter(|s| !keep.contains(s)) {
            store.backend().delete(sha).await?;
            tracing::info!(sha256 = %sha, "orphaned scan object deleted");
            n += 1;
        }
        anyhow::Ok(n)
    }
    .await;
    lock.release().await?;
    result
}
