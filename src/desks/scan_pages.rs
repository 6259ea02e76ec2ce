//! PDF scans shown like images (issue 21, item 4): an application or e-seal form sent as a PDF
//! is rendered to one PNG per page (`exchange::pdf_pages`), once per scan — the images go to the
//! scan store and `scan_pages` records them under the scan's hash — so the review page shows it
//! as it shows a photo: zoom, rotate, compare, the pre-checks' outlined regions. Every page shown
//! is a view of the scan, audited as the scan's own route audits one.

use crate::domain::ids::ApplicationId;
use crate::domain::scan::{MediaType, ScanKind};
use crate::exchange::pdf_pages::{self, RenderError};
use crate::storage::{
    Storage,
    scan_files::ScanStore,
    scan_pages::{self, Rendered},
};
use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub enum PagesError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] std::io::Error),
    /// The PDF cannot be shown as images; the original stays one click away.
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// The hashes of a PDF scan's page images, page 1 first: rendered and stored the first time,
/// read from `scan_pages` after. A PDF that cannot be rendered is refused the same way every
/// time without being tried again (unless the tool itself was missing).
pub async fn ensure(
    storage: &Storage,
    store: &ScanStore,
    scan_sha256: &str,
) -> Result<Vec<String>, PagesError> {
    match storage.scan_render(scan_sha256).await? {
        Some(Rendered::Pages(shas)) if !shas.is_empty() => Ok(shas),
        Some(Rendered::Refused(why)) => Err(RenderError::Unreadable(why).into()),
        _ => render_and_store(storage, store, scan_sha256).await,
    }
}

async fn render_and_store(
    storage: &Storage,
    store: &ScanStore,
    scan_sha256: &str,
) -> Result<Vec<String>, PagesError> {
    let pdf = store.get(scan_sha256).await?;
    let pngs = match pdf_pages::render(&pdf).await {
        Ok(p) => p,
        Err(e) if e.lasting() => {
            let why = match &e {
                RenderError::Unreadable(w) => w.clone(),
                other => other.to_string(),
            };
            let mut tx = storage.begin().await?;
            scan_pages::save(&mut tx, scan_sha256, &Rendered::Refused(why)).await?;
            tx.commit().await?;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let (pngs, shas) = ScanStore::hash_all(pngs.into_iter().map(Bytes::from).collect()).await?;
    // Written before the rows that reference them, inside the sweep's fence (scan_files).
    let staged = store
        .stage(storage, shas.iter().cloned().zip(pngs).collect())
        .await?;
    let mut tx = storage.begin().await?;
    staged.confirm(&mut tx).await?;
    scan_pages::save(&mut tx, scan_sha256, &Rendered::Pages(shas.clone())).await?;
    tx.commit().await?;
    Ok(shas)
}

/// Page `page` (from 1) of a PDF scan of an application's version, as PNG; None when there is
/// no such scan, it is not a PDF, or it has no such page. Audited before the bytes go out.
#[allow(clippy::too_many_arguments)]
pub async fn page(
    storage: &Storage,
    store: &ScanStore,
    id: &ApplicationId,
    version: i64,
    kind: ScanKind,
    page: usize,
    actor: &str,
    request_id: &str,
    at: i64,
) -> Result<Option<Bytes>, PagesError> {
    let Some(scan) = storage
        .scans(id, version)
        .await?
        .into_iter()
        .find(|s| s.kind == kind && s.media_type == MediaType::Pdf)
    else {
        return Ok(None);
    };
    let shas = ensure(storage, store, &scan.sha256).await?;
    let Some(png) = page.checked_sub(1).and_then(|i| shas.get(i)) else {
        return Ok(None);
    };
    let bytes = match store.get(png).await {
        Ok(b) => b,
        // Taken from the store (restored from a backup without it, say): rendered again.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let shas = render_and_store(storage, store, &scan.sha256).await?;
            match shas.get(page - 1) {
                Some(png) => store.get(png).await?,
                None => return Ok(None),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let what = format!("v{version}/{} p{page}", kind.code());
    super::review::audit_scan_view(storage, actor, id, &what, request_id, at).await?;
    Ok(Some(bytes))
}
