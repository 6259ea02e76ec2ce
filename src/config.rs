//! Settings (operations.md, "Configuration"): defaults → `--config` TOML → environment → flags.
//! Checked once at start; secrets never appear in `Debug` output.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::{fmt, net::SocketAddr, path::PathBuf};

mod invoice;
pub use invoice::InvoiceConfig;

/// `[courier]`: the sender, layouts, accounts and waybill patterns.
pub mod courier;
/// `BACKOFFICE_FILE_*`: the budgets of every file read from outside.
pub mod files;
/// `BACKOFFICE_FOUR_EYES_*`, `BACKOFFICE_RETURNED_EXPIRY_DAYS`: the review desk's rules.
pub mod review;
/// `BACKOFFICE_CA_CERT`, `BACKOFFICE_CRL_*`: revocation of the lost certificate.
pub mod revocation;
/// `BACKOFFICE_SMS_*`: SMS to the applicant.
pub mod sms;
pub mod web;
/// `BACKOFFICE_WEBHOOK_*`: webhooks to the API clients.
pub mod webhook;

#[derive(Clone, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Default)]
pub struct SmtpSettings {
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    /// PEM file of further root certificates trusted for the relay's TLS (`BACKOFFICE_SMTP_CA_FILE`,
    /// `smtp.ca_file`): a relay with a certificate from a private CA. Without it, the public roots.
    pub ca_file: Option<PathBuf>,
}

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: String,
    pub smtp: SmtpSettings,
    pub team_email: Option<String>,
    pub log_format: LogFormat,
    /// Beijing time of the reviewers' and team's digest (working days).
    pub digest_at: (u32, u32),
    /// Beijing time of the supervisors' warning about applications due today.
    pub warning_at: (u32, u32),
    /// Whether `serve` runs the scheduled jobs (tests drive them by hand).
    pub run_jobs: bool,
    /// Whether this instance runs the scans' machine pre-checks (`BACKOFFICE_PRECHECKS`, on by
    /// default; off leaves the queue to other instances).
    pub prechecks: bool,
    /// Look-ups, views and checks a hotline agent may make per hour before being throttled (0: no limit).
    pub hotline_lookups_per_hour: i64,
    /// The intake API's per-client limits (rate, concurrent uploads, body size) are enforced.
    pub api_limits: bool,
    /// Seconds a connection may take to send a request's headers.
    pub header_read_timeout_secs: u64,
    /// Seconds a request's body may stall between two chunks (every route).
    pub body_read_timeout_secs: u64,
    /// The tax platform's batch layout, seller and service item (`invoice-batch.md`).
    pub invoice: InvoiceConfig,
    /// The sender, the couriers' layouts and accounts (`courier-batch.md`).
    pub courier: courier::CourierConfig,
    /// Where the audit trail's latest anchor is e-mailed for an outside witness.
    pub auditor_email: Option<String>,
    /// The bearer token `/metrics` requires; unset, `/metrics` answers nobody.
    pub metrics_token: Option<String>,
    /// Whole years after a certificate's expiry that an application's personal data is kept.
    pub retention_years: u32,
    /// Where scans live: `BACKOFFICE_SCAN_STORE` (TOML `scan_store`), `<data dir>/scans` by
    /// default, or `s3://bucket/prefix` with the endpoint from `BACKOFFICE_S3_ENDPOINT` or
    /// `AWS_ENDPOINT_URL` and credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    pub scan_store: crate::storage::scan_files::ScanLocation,
    /// Hours an unreferenced object is left before the sweep deletes it
    /// (`BACKOFFICE_SCAN_SWEEP_GRACE_HOURS`, 24).
    pub scan_sweep_grace_hours: i64,
    /// Forms, connections, password hashes, session lifetime (`config::web`).
    pub web: web::WebLimits,
    /// The pre-checks' outside programs and the time limit of one run (`BACKOFFICE_PDFTOPPM`,
    /// `BACKOFFICE_TESSERACT`, `BACKOFFICE_TOOL_TIME_LIMIT` in seconds, 60).
    pub tools: crate::tools::Tools,
    /// The budgets of every uploaded or imported file (`BACKOFFICE_FILE_*`, README "Limits and
    /// hostile input"); put in force for the process by the CLI at start.
    pub files: files::FileBudgets,
    /// Four eyes' default rules and the returned applications' expiry (`config::review`).
    pub review: review::ReviewSettings,
    /// The CA certificate, the CRL's URL and the bounds of its reading (`config::revocation`).
    pub revocation: revocation::RevocationSettings,
    /// The SMS provider's endpoint, keys, sign name and templates (`config::sms`).
    pub sms: sms::SmsSettings,
    /// Delivery of the API clients' webhooks (`config::webhook`).
    pub webhook: webhook::WebhookSettings,
}

fn parse_hm(name: &str, s: &str) -> anyhow::Result<(u32, u32)> {
    let (h, m) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("{name} must be HH:MM"))?;
    let (h, m): (u32, u32) = (h.parse()?, m.parse()?);
    if h > 23 || m > 59 {
        bail!("{name} must be HH:MM");
    }
    Ok((h, m))
}

/// The settings file read from the data directory when `--config` is not given.
pub const SETTINGS_FILE: &str = "backoffice.toml";

/// The TOML file's shape; every key optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    public_url: Option<String>,
    team_email: Option<String>,
    log_format: Option<String>,
    digest_at: Option<String>,
    warning_at: Option<String>,
    hotline_lookups_per_hour: Option<i64>,
    smtp: Option<FileSmtp>,
    invoice: Option<InvoiceConfig>,
    courier: Option<courier::CourierConfig>,
    auditor_email: Option<String>,
    metrics_token: Option<String>,
    retention_years: Option<u32>,
    scan_store: Option<String>,
    scan_sweep_grace_hours: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    url: Option<String>,
    ca_file: Option<PathBuf>,
    username: Option<String>,
    password: Option<String>,
    from: Option<String>,
}

/// Values given on the command line (they win over everything else).
#[derive(Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
}

impl Settings {
    /// Reads the layers from the real environment.
    pub fn load(o: &Overrides) -> anyhow::Result<Settings> {
        Self::load_from(o, |k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    pub fn load_from(
        o: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Settings> {
        // Without --config, a `backoffice.toml` in the data directory is read when present.
        let implicit = o
            .data_dir
            .clone()
            .or_else(|| env("BACKOFFICE_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("./data"))
            .join(SETTINGS_FILE);
        let config = o
            .config
            .clone()
            .or_else(|| implicit.exists().then_some(implicit));
        let file: FileSettings = match &config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("{} is not valid configuration", p.display()))?
            }
            None => FileSettings::default(),
        };
        let smtp_file = file.smtp.unwrap_or_default();
        let data_dir = o
            .data_dir
            .clone()
            .or_else(|| env("BACKOFFICE_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = env("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("backoffice.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("DATABASE_URL must start with sqlite:// or postgres://");
        }
        let listen_text = o
            .listen
            .clone()
            .or_else(|| env("BACKOFFICE_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text
            .parse()
            .with_context(|| format!("listen address '{listen_text}' is not host:port"))?;
        let public_url = env("BACKOFFICE_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let smtp_url = env("BACKOFFICE_SMTP_URL").or(smtp_file.url);
        if let Some(u) = &smtp_url
            && !(u.starts_with("smtp://") || u.starts_with("smtps://"))
        {
            bail!("BACKOFFICE_SMTP_URL must start with smtp:// or smtps://");
        }
        let log_format = match env("BACKOFFICE_LOG_FORMAT").or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("BACKOFFICE_LOG_FORMAT must be text or json, not '{other}'"),
        };
        let digest_at = parse_hm(
            "BACKOFFICE_DIGEST_AT",
            &env("BACKOFFICE_DIGEST_AT")
                .or(file.digest_at)
                .unwrap_or_else(|| "09:00".into()),
        )?;
        let warning_at = parse_hm(
            "BACKOFFICE_WARNING_AT",
            &env("BACKOFFICE_WARNING_AT")
                .or(file.warning_at)
                .unwrap_or_else(|| "14:00".into()),
        )?;
        let hotline_lookups_per_hour = match env("BACKOFFICE_HOTLINE_LOOKUPS_PER_HOUR") {
            Some(v) => v.parse().map_err(|_| {
                anyhow::anyhow!("BACKOFFICE_HOTLINE_LOOKUPS_PER_HOUR must be a whole number")
            })?,
            None => file.hotline_lookups_per_hour.unwrap_or(60),
        };
        let prechecks = match env("BACKOFFICE_PRECHECKS").as_deref() {
            None | Some("on" | "true" | "1") => true,
            Some("off" | "false" | "0") => false,
            Some(other) => bail!("BACKOFFICE_PRECHECKS must be on or off, not '{other}'"),
        };
        let api_limits = match env("BACKOFFICE_API_LIMITS").as_deref().map(str::trim) {
            None | Some("on" | "true" | "1") => true,
            Some("off" | "false" | "0") => false,
            Some(_) => bail!("BACKOFFICE_API_LIMITS must be on or off"),
        };
        let secs = |name: &str, default: u64| -> anyhow::Result<u64> {
            match env(name) {
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => bail!("{name} must be a whole number of seconds above 0"),
                },
                None => Ok(default),
            }
        };
        let header_read_timeout_secs = secs("BACKOFFICE_HEADER_READ_TIMEOUT", 10)?;
        let body_read_timeout_secs = secs("BACKOFFICE_BODY_READ_TIMEOUT", 30)?;
        let mut invoice = file.invoice.unwrap_or_default();
        if let Some(p) = env("BACKOFFICE_INVOICE_LAYOUT_FILE") {
            invoice.layout_file = Some(PathBuf::from(p));
        }
        if let Some(t) = env("BACKOFFICE_INVOICE_SELLER_TAX_ID") {
            invoice.seller_tax_id = Some(t);
        }
        invoice
            .validate()
            .map_err(|e| anyhow::anyhow!("invoice settings: {e}"))?;
        if let Err(e) = invoice.layout() {
            bail!("invoice layout: {e}");
        }
        let courier = file.courier.unwrap_or_default();
        courier
            .validate()
            .map_err(|e| anyhow::anyhow!("courier settings: {e}"))?;
        let auditor_email = env("BACKOFFICE_AUDITOR_EMAIL").or(file.auditor_email);
        if let Some(a) = &auditor_email
            && crate::domain::contact::Email::parse(a).is_err()
        {
            bail!("BACKOFFICE_AUDITOR_EMAIL '{a}' is not an e-mail address");
        }
        let metrics_token = env("BACKOFFICE_METRICS_TOKEN").or(file.metrics_token);
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            bail!("BACKOFFICE_METRICS_TOKEN must have at least 16 characters");
        }
        let retention_years = match env("BACKOFFICE_RETENTION_YEARS") {
            Some(v) => v.parse().map_err(|_| {
                anyhow::anyhow!("BACKOFFICE_RETENTION_YEARS must be a whole number of years")
            })?,
            None => file.retention_years.unwrap_or(5),
        };
        if !(1..=100).contains(&retention_years) {
            bail!("BACKOFFICE_RETENTION_YEARS must be between 1 and 100");
        }
        let scan_store = match env("BACKOFFICE_SCAN_STORE").or(file.scan_store) {
            None => crate::storage::scan_files::ScanLocation::Local(data_dir.join("scans")),
            Some(t) => crate::storage::scan_files::ScanLocation::parse(&t, &env)
                .map_err(|e| anyhow::anyhow!("BACKOFFICE_SCAN_STORE: {e}"))?,
        };
        let scan_sweep_grace_hours = match env("BACKOFFICE_SCAN_SWEEP_GRACE_HOURS") {
            Some(v) => v.parse().ok().filter(|h| *h >= 1).ok_or_else(|| {
                anyhow::anyhow!("BACKOFFICE_SCAN_SWEEP_GRACE_HOURS must be a whole number ≥ 1")
            })?,
            None => file.scan_sweep_grace_hours.unwrap_or(24).max(1),
        };
        let web = web::WebLimits::load(&env)?;
        let tools = crate::tools::Tools {
            pdftoppm: env("BACKOFFICE_PDFTOPPM").map_or_else(|| "pdftoppm".into(), PathBuf::from),
            tesseract: env("BACKOFFICE_TESSERACT")
                .map_or_else(|| "tesseract".into(), PathBuf::from),
            time_limit: std::time::Duration::from_secs(secs(
                "BACKOFFICE_TOOL_TIME_LIMIT",
                crate::tools::DEFAULT_TIME_LIMIT.as_secs(),
            )?),
            ocr_command: env("BACKOFFICE_OCR").is_some_and(|v| v == "command"),
        };
        let files = files::FileBudgets::from_env(&env).map_err(anyhow::Error::msg)?;
        let review = review::ReviewSettings::load(&env)?;
        let revocation = revocation::RevocationSettings::load(&env)?;
        let sms = sms::SmsSettings::load(&env)?;
        let webhook = webhook::WebhookSettings::load(&env)?;
        Ok(Settings {
            sms,
            webhook,
            review,
            revocation,
            web,
            tools,
            files,
            auditor_email,
            metrics_token,
            retention_years,
            scan_store,
            scan_sweep_grace_hours,
            courier,
            invoice,
            hotline_lookups_per_hour,
            api_limits,
            header_read_timeout_secs,
            body_read_timeout_secs,
            digest_at,
            warning_at,
            run_jobs: true,
            prechecks,
            database_url,
            data_dir,
            listen,
            public_url,
            smtp: SmtpSettings {
                url: smtp_url,
                username: smtp_file.username,
                password: smtp_file.password,
                ca_file: env("BACKOFFICE_SMTP_CA_FILE")
                    .map(PathBuf::from)
                    .or(smtp_file.ca_file),
                from: env("BACKOFFICE_MAIL_FROM")
                    .or(smtp_file.from)
                    .unwrap_or_else(|| "backoffice@localhost".into()),
            },
            team_email: env("BACKOFFICE_TEAM_EMAIL").or(file.team_email),
            log_format,
        })
    }

    pub fn scans_dir(&self) -> PathBuf {
        self.data_dir.join("scans")
    }

    /// Opens the configured scan store.
    pub fn open_scan_store(&self) -> anyhow::Result<crate::storage::scan_files::ScanStore> {
        crate::storage::scan_files::ScanStore::open(&self.scan_store)
            .with_context(|| format!("cannot use the scan store {:?}", self.scan_store))
    }
}

/// Hides a password in `scheme://user:password@host` forms.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("smtp_url", &self.smtp.url.as_deref().map(redact_url))
            .field("smtp_password", &self.smtp.password.as_ref().map(|_| "***"))
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("scan_store", &self.scan_store)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_nothing() {
        let s = Settings::load_from(&Overrides::default(), |_| None).unwrap();
        assert_eq!(s.database_url, "sqlite://./data/backoffice.db");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert_eq!(s.scans_dir(), PathBuf::from("./data/scans"));
    }

    #[test]
    fn layers_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/bo\"\n[smtp]\nfrom = \"ca@example.com\"\npassword = \"hunter2\"\n").unwrap();
        let o = Overrides {
            config: Some(file),
            ..Default::default()
        };
        let s = Settings::load_from(&o, |k| {
            (k == "BACKOFFICE_LISTEN").then(|| "127.0.0.1:9001".into())
        })
        .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(s.database_url, "sqlite:///srv/bo/backoffice.db");
        assert_eq!(s.smtp.from, "ca@example.com");
        assert_eq!(s.smtp.ca_file, None);
        assert!(!format!("{s:?}").contains("hunter2"));
        let with_ca = Settings::load_from(&o, |k| {
            (k == "BACKOFFICE_SMTP_CA_FILE").then(|| "/etc/bo/relay-ca.pem".into())
        })
        .unwrap();
        assert_eq!(
            with_ca.smtp.ca_file,
            Some(PathBuf::from("/etc/bo/relay-ca.pem"))
        );
        let o2 = Overrides {
            listen: Some("127.0.0.1:9002".into()),
            ..o
        };
        assert_eq!(
            Settings::load_from(&o2, |_| None)
                .unwrap()
                .listen
                .to_string(),
            "127.0.0.1:9002"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(
            Settings::load_from(&Overrides::default(), |k| (k == "DATABASE_URL")
                .then(|| "mysql://x".into()))
            .is_err()
        );
        assert!(
            Settings::load_from(&Overrides::default(), |k| (k == "BACKOFFICE_LISTEN")
                .then(|| "nope".into()))
            .is_err()
        );
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
