//! Returns by part: a return reason is about a scan or a field (the catalogue's default part,
//! or the one the reviewer picked), and the resubmission of a returned version must change
//! every part its return sent back; reasons without a part do not constrain it.

use crate::domain::{
    ids::ApplicationId,
    intake::NewApplication,
    returned_part::{self, Part, Version},
    scan::ScanKind,
};
use crate::storage::{
    Storage,
    applications::{self, ReturnedPart, ScanRef},
};
use serde_json::Value;

/// The returned parts a resubmission would leave as they were. `before_body` and
/// `before_scans` are the returned version's; `app` the new body (None: the previous one again);
/// `new_scans` the scans sent (the others carry over).
pub fn left_unchanged(
    returned: &[ReturnedPart],
    before_body: &str,
    before_scans: &[ScanRef],
    app: Option<&NewApplication>,
    new_scans: &[ScanRef],
) -> Vec<Part> {
    if returned.is_empty() {
        return Vec::new();
    }
    let before: Value = serde_json::from_str(before_body).unwrap_or(Value::Null);
    let after = app.map_or_else(|| before.clone(), NewApplication::to_json);
    let hash = |scans: &[ScanRef], k: ScanKind| {
        scans.iter().find(|s| s.kind == k).map(|s| s.sha256.clone())
    };
    let old = |k: ScanKind| hash(before_scans, k);
    // A scan not sent again carries over: unchanged.
    let new = |k: ScanKind| hash(new_scans, k).or_else(|| hash(before_scans, k));
    let parts: Vec<Part> = returned.iter().map(|p| p.part).collect();
    returned_part::unchanged(
        &parts,
        &Version {
            body: &before,
            scan: &old,
        },
        &Version {
            body: &after,
            scan: &new,
        },
    )
}

/// The same check read outside any transaction, before the scans are stored: a resubmission
/// refused for an unchanged part leaves no file behind. The transaction checks again.
pub async fn left_unchanged_now(
    storage: &Storage,
    id: &ApplicationId,
    app: Option<&NewApplication>,
    new_scans: &[ScanRef],
) -> Result<Vec<Part>, sqlx::Error> {
    let Some(version) = storage.application_version(id).await? else {
        return Ok(Vec::new());
    };
    let returned = applications::returned_parts(storage.read_pool(), id, version).await?;
    if returned.is_empty() {
        return Ok(Vec::new());
    }
    let body = applications::find_version_body(storage.read_pool(), id, version)
        .await?
        .unwrap_or_default();
    let scans = storage.scans(id, version).await?;
    Ok(left_unchanged(&returned, &body, &scans, app, new_scans))
}
