//! A PDF scan's pages rendered to PNG (`desks::scan_pages`): which image is which page, keyed by
//! the scan's hash, or why the PDF cannot be rendered. The images live in the scan store; the
//! orphan sweep keeps one while an application references its scan
//! (`scan_files::SweepLock::referenced`).

use super::{DbResult, Storage, Tx};
use crate::{on_pool, on_tx};

/// What rendering a PDF scan gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// The PNGs' hashes, page 1 first.
    Pages(Vec<String>),
    /// Why it cannot be shown as images (pdftoppm's words, or the budget it ran past).
    Refused(String),
}

impl Storage {
    /// The page images of these scans (for the retention job, which deletes them with the scan).
    pub async fn scan_page_images(&self, scan_sha256s: &[String]) -> DbResult<Vec<String>> {
        let mut out = Vec::new();
        for sha in scan_sha256s {
            if let Some(Rendered::Pages(pngs)) = self.scan_render(sha).await? {
                out.extend(pngs);
            }
        }
        Ok(out)
    }

    /// What rendering the scan gave, if it was rendered.
    pub async fn scan_render(&self, scan_sha256: &str) -> DbResult<Option<Rendered>> {
        let rows = on_pool!(self.read_pool(), |p| sqlx::query_as::<
            _,
            (i64, Option<String>, Option<String>),
        >(
            "select page, png_sha256, refused \
            from scan_pages \
            where scan_sha256 = $1 \
            order by page"
        )
        .bind(scan_sha256)
        .fetch_all(p)
        .await)?;
        // Page images, once there are any, win over a refusal: a render that failed beside one
        // that succeeded (a time-out under load) never hides the pages.
        let pngs: Vec<String> = rows
            .iter()
            .filter(|(page, _, _)| *page >= 1)
            .filter_map(|(_, png, _)| png.clone())
            .collect();
        Ok(match rows.first() {
            None => None,
            Some(_) if !pngs.is_empty() => Some(Rendered::Pages(pngs)),
            Some((_, _, refused)) => Some(Rendered::Refused(refused.clone().unwrap_or_default())),
        })
    }
}

/// Records what rendering a scan gave. Page images replace what was recorded before; a refusal
/// only adds its row (page 0) and never removes pages another render stored, so of two renders
/// at once the one that succeeded is what [`Storage::scan_render`] reads.
pub async fn save(tx: &mut Tx, scan_sha256: &str, r: &Rendered) -> DbResult<()> {
    let rows: Vec<(i64, Option<&str>, Option<&str>)> = match r {
        Rendered::Pages(pngs) => pngs
            .iter()
            .enumerate()
            .map(|(i, png)| (i as i64 + 1, Some(png.as_str()), None))
            .collect(),
        Rendered::Refused(why) => vec![(0, None, Some(why.as_str()))],
    };
    for (page, png, refused) in &rows {
        on_tx!(tx, |c| sqlx::query(
            "insert into scan_pages (scan_sha256, page, png_sha256, refused) \
            values ($1, $2, $3, $4) \
            on conflict (scan_sha256, page) do update \
            set png_sha256 = excluded.png_sha256, refused = excluded.refused"
        )
        .bind(scan_sha256)
        .bind(page)
        .bind(png)
        .bind(refused)
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    let (Some(low), Some(high)) = (rows.first().map(|r| r.0), rows.last().map(|r| r.0)) else {
        return Ok(());
    };
    if low == 0 {
        return Ok(());
    }
    on_tx!(tx, |c| sqlx::query(
        "delete from scan_pages \
        where scan_sha256 = $1 and (page < $2 or page > $3)"
    )
    .bind(scan_sha256)
    .bind(low)
    .bind(high)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}
