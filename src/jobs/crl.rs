//! The CRL fetched from the CA's distribution point (`BACKOFFICE_CRL_URL`) every
//! `BACKOFFICE_CRL_FETCH_MINUTES`, bounded in bytes (`BACKOFFICE_CRL_MAX_BYTES`: the declared
//! length is checked before the body is read, and the body is counted as it arrives) and in time
//! (`BACKOFFICE_CRL_FETCH_TIMEOUT`), then imported as an upload is (`desks::revocation`). A CRL
//! the last import already read (same SHA-256) is not read again.

use super::Context;
use crate::config::revocation::RevocationSettings;
use crate::desks::revocation::{self, CrlSummary, RevocationError};
use crate::exchange::crl::CrlError;
use crate::storage::Storage;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("BACKOFFICE_CRL_URL is not set")]
    NoUrl,
    #[error(transparent)]
    TooLarge(CrlError),
    #[error("fetching the CRL: {0}")]
    Http(String),
    #[error(transparent)]
    Import(#[from] RevocationError),
}

/// The cron line (six fields, UTC) of every `minutes`: minutes under an hour, else whole
/// hours, and from 24 hours on once a day (00:00 UTC). Within an hour or a day the count starts
/// again at :00, so only periods that divide it are exact.
pub fn cron_of(minutes: u32) -> String {
    match minutes {
        0..60 => format!("0 */{} * * * *", minutes.max(1)),
        60..1440 => format!("0 0 */{} * * *", minutes / 60),
        _ => "0 0 0 * * *".into(),
    }
}

/// The body at `url`, within the settings' bytes and time.
pub async fn fetch(s: &RevocationSettings) -> Result<Vec<u8>, FetchError> {
    let url = s.crl_url.as_deref().ok_or(FetchError::NoUrl)?;
    let http = |e: reqwest::Error| FetchError::Http(e.without_url().to_string());
    let too_large = || FetchError::TooLarge(CrlError::TooLarge { max: s.max_bytes });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(s.fetch_timeout_secs))
        .build()
        .map_err(http)?;
    let mut resp = client
        .get(url.trim())
        .send()
        .await
        .map_err(http)?
        .error_for_status()
        .map_err(http)?;
    if resp.content_length().is_some_and(|n| n > s.max_bytes) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(http)? {
        if (body.len() + chunk.len()) as u64 > s.max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One fetch and import; None when the CRL is the one last imported.
pub async fn fetch_and_import(
    storage: &Storage,
    s: &RevocationSettings,
    at: i64,
) -> Result<Option<CrlSummary>, FetchError> {
    let body = fetch(s).await?;
    let sha = crate::storage::scan_files::sha256_hex(&body);
    if storage
        .latest_crl_sha256()
        .await
        .map_err(RevocationError::Db)?
        == Some(sha)
    {
        return Ok(None);
    }
    let source = format!("url:{}", s.crl_url.as_deref().unwrap_or(""));
    let summary = revocation::import_crl(storage, s, &body, &source, "job:crl_fetch", at).await?;
    Ok(Some(summary))
}

pub async fn run(state: &Context) {
    let now = state.clock.now().timestamp_millis();
    let r = fetch_and_import(&state.storage, &state.settings.revocation, now).await;
    state.metrics.job("crl_fetch", r.is_err());
    match r {
        Ok(Some(s)) => tracing::info!(
            revoked = s.revoked,
            still_queued = s.still_queued,
            "CRL imported"
        ),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "CRL fetch failed"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schedules() {
        assert_eq!(super::cron_of(15), "0 */15 * * * *");
        assert_eq!(super::cron_of(60), "0 0 */1 * * *");
        assert_eq!(super::cron_of(1440), "0 0 0 * * *");
    }
}
