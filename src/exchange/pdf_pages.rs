//! A PDF's pages as PNG images, by poppler's `pdftoppm` (`crate::tools`: a child bounded in time
//! and killed past it). The PDF is outside input: at most [`MAX_PAGES`] pages are rendered, each
//! scaled so its longer side is [`LONG_SIDE`] pixels whatever size the PDF claims, at most
//! [`AT_ONCE`] renders run at a time, and whatever `pdftoppm` cannot read is an error to show,
//! never a crash.

use crate::tools::{self, Program};
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// Pages rendered of one PDF; an application or e-seal form has one or two.
pub const MAX_PAGES: usize = 10;
/// The longer side of a page image, in pixels (an A4 page comes out about 1130 × 1600).
pub const LONG_SIDE: u32 = 1600;
/// Renders at a time in this process.
pub const AT_ONCE: usize = 2;

static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(AT_ONCE));

/// Why a PDF was not rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// `pdftoppm` refused the file (its own words) or rendered no page.
    #[error("the PDF cannot be read: {0}")]
    Unreadable(String),
    /// Rendering ran past the time limit: the file is too heavy to show as images.
    #[error("rendering took longer than {0} s and was stopped")]
    TimedOut(u64),
    /// Not installed, or the temporary folder failed: nothing to say about the file.
    #[error("{0}")]
    Tool(String),
}

impl RenderError {
    /// Whether the answer is the file's own, and so the same next time. A time-out is not: on a
    /// busy machine (the pre-checks' OCR beside it) a good PDF may run out of time once, and it
    /// is tried again on the next view rather than refused for ever.
    pub fn lasting(&self) -> bool {
        matches!(self, RenderError::Unreadable(_))
    }
}

/// The PDF's first pages (up to [`MAX_PAGES`]) as PNG files, page 1 first.
pub async fn render(pdf: &[u8]) -> Result<Vec<Vec<u8>>, RenderError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(RenderError::Unreadable(
            "it does not start with %PDF-".into(),
        ));
    }
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|e| RenderError::Tool(e.to_string()))?;
    let dir = tempfile::tempdir().map_err(|e| RenderError::Tool(e.to_string()))?;
    let root = dir.path().join("p");
    let root = root.to_string_lossy();
    let last = MAX_PAGES.to_string();
    let side = LONG_SIDE.to_string();
    let out = tools::run(
        Program::Pdftoppm,
        &[
            "-png",
            "-scale-to",
            &side,
            "-f",
            "1",
            "-l",
            &last,
            "-",
            &root,
        ],
        &[],
        pdf.to_vec(),
    )
    .await
    .map_err(|e| match tools::timed_out(&e) {
        Some(t) => RenderError::TimedOut(t.secs),
        None => RenderError::Tool(format!("{e:#}")),
    })?;
    // Killed by a signal (out of memory, say): the machine's state, not the file's.
    if out.status.code().is_none() {
        return Err(RenderError::Tool(format!(
            "pdftoppm ended with {}",
            out.status
        )));
    }
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().last().unwrap_or("").trim();
        return Err(RenderError::Unreadable(if why.is_empty() {
            format!("pdftoppm ended with {}", out.status)
        } else {
            why.chars().take(200).collect()
        }));
    }
    // p-1.png … or p-01.png … (padded to the page count's width): in page order by number.
    let mut pages = Vec::new();
    let mut entries = tokio::fs::read_dir(dir.path())
        .await
        .map_err(|e| RenderError::Tool(e.to_string()))?;
    while let Some(e) = entries
        .next_entry()
        .await
        .map_err(|e| RenderError::Tool(e.to_string()))?
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let number = name
            .strip_prefix("p-")
            .and_then(|n| n.strip_suffix(".png"))
            .and_then(|n| n.parse::<usize>().ok());
        if let Some(n) = number {
            pages.push((n, e.path()));
        }
    }
    pages.sort();
    let mut out = Vec::with_capacity(pages.len());
    for (_, path) in pages.into_iter().take(MAX_PAGES) {
        out.push(
            tokio::fs::read(&path)
                .await
                .map_err(|e| RenderError::Tool(e.to_string()))?,
        );
    }
    if out.is_empty() {
        return Err(RenderError::Unreadable("no page was rendered".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_form_renders_and_junk_is_refused() {
        let pdf = crate::demo::scans::form_pdf("Application form", &["Name: Zhang San"]);
        let pages = render(&pdf).await.unwrap();
        assert_eq!(pages.len(), 1);
        assert!(pages[0].starts_with(b"\x89PNG"));
        let img = image::load_from_memory(&pages[0]).unwrap();
        assert_eq!(img.width().max(img.height()), LONG_SIDE);

        let broken = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
        assert!(matches!(
            render(broken).await,
            Err(RenderError::Unreadable(_))
        ));
        assert!(matches!(
            render(b"GIF89a").await,
            Err(RenderError::Unreadable(_))
        ));
    }
}
