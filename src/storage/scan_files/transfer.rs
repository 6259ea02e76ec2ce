//! `move-scans --to URL`: copies every object of the configured store, and every object a row
//! references, into another store, verifying each by its SHA-256 on both sides. An object
//! already in the target and intact is left as it is, so a run that stopped half-way resumes
//! where it was, and a second run changes nothing. The source is left untouched: switch
//! `BACKOFFICE_SCAN_STORE` to the target, then remove the old store.

use super::{ScanStore, referenced_page};
use crate::storage::Storage;
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::io;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct MoveSummary {
    /// Objects looked at (the source's, then the referenced ones it did not list).
    pub objects: u64,
    pub copied: u64,
    /// Already in the target and intact.
    pub already_there: u64,
    /// Referenced by a row but in neither store.
    pub missing: Vec<String>,
    /// Present in the source with other bytes than its name says (not copied).
    pub corrupt: Vec<String>,
}

enum Outcome {
    Copied,
    AlreadyThere,
    Missing,
    Corrupt,
}

async fn copy_one(from: &ScanStore, to: &ScanStore, sha: &str) -> io::Result<Outcome> {
    if to.get(sha).await.is_ok() {
        return Ok(Outcome::AlreadyThere);
    }
    let bytes = match from.get(sha).await {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Outcome::Missing),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(Outcome::Corrupt),
        Err(e) => return Err(e),
    };
    to.write_all(vec![(sha.to_owned(), bytes)]).await?;
    // Read back: what the target holds is what the name says.
    to.get(sha).await?;
    Ok(Outcome::Copied)
}

fn count(s: &mut MoveSummary, sha: String, o: Outcome) {
    s.objects += 1;
    match o {
        Outcome::Copied => s.copied += 1,
        Outcome::AlreadyThere => s.already_there += 1,
        Outcome::Missing => s.missing.push(sha),
        Outcome::Corrupt => s.corrupt.push(sha),
    }
    if s.objects.is_multiple_of(1000) {
        eprintln!("{} objects, {} copied", s.objects, s.copied);
    }
}

pub async fn move_scans(
    storage: &Storage,
    from: &ScanStore,
    to: &ScanStore,
) -> anyhow::Result<MoveSummary> {
    let mut s = MoveSummary::default();
    // Everything the source holds, orphans included: an upload in flight may reference them yet.
    let mut done = from
        .backend()
        .list()
        .map_ok(|o| async move {
            let r = copy_one(from, to, &o.sha256).await?;
            io::Result::Ok((o.sha256, r))
        })
        .try_buffer_unordered(8);
    while let Some(r) = done.next().await {
        let (sha, o) = r?;
        count(&mut s, sha, o);
    }
    // Then every reference, so a row never points at nothing in the target.
    let mut after = String::new();
    loop {
        let page = referenced_page(storage, &after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.clone();
        for sha in page {
            if to.backend().exists(&sha).await? {
                continue;
            }
            let o = copy_one(from, to, &sha).await?;
            count(&mut s, sha, o);
        }
    }
    Ok(s)
}
