//! Revocation of the lost certificate (README, "Revocation of the lost certificate"): the CA
//! certificate a CRL must be signed by (`BACKOFFICE_CA_CERT`), the CRL's distribution point and
//! how often it is fetched (`BACKOFFICE_CRL_URL`, `BACKOFFICE_CRL_FETCH_MINUTES`), and the
//! bounds of every CRL or certificate file read (`BACKOFFICE_CRL_MAX_BYTES`,
//! `BACKOFFICE_CRL_FETCH_TIMEOUT`).

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::sync::Arc;

/// The largest CA certificate file read at start.
const CA_CERT_MAX_BYTES: u64 = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct RevocationSettings {
    /// The CA certificate (PEM or DER) as read at start; None when `BACKOFFICE_CA_CERT` is not
    /// set: no CRL can then be imported, and the courier-batch gate is off.
    pub ca_cert: Option<Arc<Vec<u8>>>,
    pub ca_cert_path: Option<PathBuf>,
    /// Where the CA publishes its CRL (`BACKOFFICE_CRL_URL`, http or https).
    pub crl_url: Option<String>,
    /// Minutes between fetches of `crl_url` (`BACKOFFICE_CRL_FETCH_MINUTES`, 60; 5 to 1440).
    pub fetch_minutes: u32,
    /// The largest CRL or certificate file read, in bytes (`BACKOFFICE_CRL_MAX_BYTES`, 32 MiB).
    pub max_bytes: u64,
    /// Seconds one fetch of `crl_url` may take, body included (`BACKOFFICE_CRL_FETCH_TIMEOUT`, 60).
    pub fetch_timeout_secs: u64,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        RevocationSettings {
            ca_cert: None,
            ca_cert_path: None,
            crl_url: None,
            fetch_minutes: 60,
            max_bytes: 32 * 1024 * 1024,
            fetch_timeout_secs: 60,
        }
    }
}

impl RevocationSettings {
    pub fn load(env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<RevocationSettings> {
        let d = RevocationSettings::default();
        let whole = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| match env(name)
        {
            None => Ok(default),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => bail!(
                    "{name} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            },
        };
        let max_bytes = whole(
            "BACKOFFICE_CRL_MAX_BYTES",
            d.max_bytes,
            1024..=1024 * 1024 * 1024,
        )?;
        let fetch_minutes = whole("BACKOFFICE_CRL_FETCH_MINUTES", 60, 5..=1440)? as u32;
        let fetch_timeout_secs = whole("BACKOFFICE_CRL_FETCH_TIMEOUT", 60, 1..=3600)?;
        let crl_url = env("BACKOFFICE_CRL_URL").filter(|u| !u.trim().is_empty());
        if let Some(u) = &crl_url {
            let parsed = url::Url::parse(u.trim())
                .map_err(|e| anyhow::anyhow!("BACKOFFICE_CRL_URL '{u}': {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                bail!("BACKOFFICE_CRL_URL must start with http:// or https://");
            }
        }
        let ca_cert_path = env("BACKOFFICE_CA_CERT")
            .filter(|p| !p.trim().is_empty())
            .map(PathBuf::from);
        let ca_cert = match &ca_cert_path {
            None => None,
            Some(p) => Some(Arc::new(read_ca_cert(p)?)),
        };
        if crl_url.is_some() && ca_cert.is_none() {
            bail!(
                "BACKOFFICE_CRL_URL needs BACKOFFICE_CA_CERT (the CRL's signature is checked against it)"
            );
        }
        Ok(RevocationSettings {
            ca_cert,
            ca_cert_path,
            crl_url,
            fetch_minutes,
            max_bytes,
            fetch_timeout_secs,
        })
    }
}

/// Reads and checks the CA certificate: a PEM or DER X.509 certificate of at most 1 MiB.
fn read_ca_cert(p: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(p)
        .with_context(|| format!("BACKOFFICE_CA_CERT: cannot read {}", p.display()))?;
    if meta.len() > CA_CERT_MAX_BYTES {
        bail!(
            "BACKOFFICE_CA_CERT: {} is over {CA_CERT_MAX_BYTES} bytes; not a certificate",
            p.display()
        );
    }
    let bytes = std::fs::read(p)
        .with_context(|| format!("BACKOFFICE_CA_CERT: cannot read {}", p.display()))?;
    crate::exchange::crl::CaCert::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("BACKOFFICE_CA_CERT {}: {e}", p.display()))?;
    Ok(bytes)
}
