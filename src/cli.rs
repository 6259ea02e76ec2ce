//! The subcommands of operations.md, a few lines each, calling into a layer.
//! Exit status 0 on success; otherwise one line on standard error (printed by `main`).

use crate::{
    auth,
    clock::Clock,
    config::{Overrides, Settings},
    exchange, startup,
    storage::{self, staff::NewStaff},
};
use crate::{
    desks::{finance, fulfilment, invoicing},
    domain::intake::PaymentChannel,
    exchange::couriers::Courier,
};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::{io::BufRead, path::PathBuf};

#[derive(Parser)]
#[command(
    name = "backoffice",
    version,
    about = "Back office for lost-media certificate replacement (介质遗失补办)"
)]
pub struct Cli {
    /// TOML configuration file (optional).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory: the SQLite file, scans and exports [default: ./data].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Runs migrations, then serves HTTP until SIGTERM/SIGINT.
    Serve {
        #[arg(long)]
        listen: Option<String>,
    },
    /// Applies migrations and exits.
    Migrate,
    /// Fills the database with realistic demo data.
    Demo,
    /// Creates a staff account; the password is read from standard input (one line).
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Creates an API token for a client; prints it alone on the last line.
    CreateApiToken {
        #[arg(long)]
        name: String,
    },
    /// Revokes every active token of a client.
    RevokeApiToken {
        #[arg(long)]
        name: String,
    },
    /// Imports the CA's certificate registry export (.xlsx, .xls, .ods or .csv).
    ImportCertificates { file: PathBuf },
    /// Imports a working-day calendar (.xlsx or .csv); replaces the years it contains.
    ImportCalendar { file: PathBuf },
    /// Imports the CA's CRL (DER or PEM), checked against BACKOFFICE_CA_CERT, and marks the
    /// queued lost certificates it lists revoked; prints a JSON summary last.
    ImportCrl { file: PathBuf },
    /// Puts every pending invoice request into a new batch and writes the tax platform's
    /// batch-import workbook; prints the batch number last.
    ExportInvoices {
        #[arg(long)]
        out: PathBuf,
    },
    /// Puts every produced application in no open batch into a new courier batch and writes the
    /// courier's batch-order workbook; prints the batch number last.
    ExportShipments {
        #[arg(long, value_parser = ["sf", "ems"])]
        courier: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Imports the courier's export (order number → waybill number); prints a JSON summary last.
    ImportTracking { file: PathBuf },
    /// Imports the tax platform's export of issued invoices (or a zip with the invoice files);
    /// prints a JSON summary last.
    ImportInvoices { file: PathBuf },
    /// Imports a WeChat Pay trade bill or an Alipay business-detail bill (or a .zip / .gz of
    /// them) and reconciles it; prints a JSON summary last.
    ImportPayments {
        #[arg(long, value_parser = ["wechat", "alipay"])]
        channel: String,
        file: PathBuf,
    },
    /// Seals what is unsealed, then checks the audit trail's hash chain day by day; prints
    /// `ok N records`, or names the first broken record and exits non-zero.
    VerifyAudit,
    /// Writes a consistent copy of the SQLite database to a new file while servers run
    /// (PostgreSQL: use pg_dump, see the README).
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Copies every scan of the configured store (and every scan a row references) into another
    /// store (`s3://bucket/prefix` or a directory), verifying each; resumable. Prints a JSON
    /// summary last; fails if a referenced scan is missing or corrupt.
    MoveScans {
        #[arg(long)]
        to: String,
    },
    /// Runs the machine pre-checks on one scan and prints its findings as one JSON object.
    Precheck {
        #[arg(long, value_parser = ["id_front", "id_back", "application_form", "photo"])]
        kind: String,
        file: PathBuf,
    },
}

impl Cli {
    fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            listen: match &self.command {
                Command::Serve { listen } => listen.clone(),
                _ => None,
            },
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(&cli.overrides())?;
    crate::exchange::budget::install(settings.files);
    crate::telemetry::init(&settings.log_format);
    let now = || chrono::Utc::now().timestamp_millis();
    match cli.command {
        // No database: one file in, one JSON object out.
        Command::Precheck { kind, file } => {
            crate::tools::with(settings.tools.clone(), precheck(&kind, &file)).await
        }
        Command::Serve { .. } => {
            let app = startup::Application::build(settings, Clock::system()).await?;
            app.run_until_stopped(startup::shutdown_signal()).await
        }
        Command::Migrate => {
            startup::open_storage(&settings).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo => {
            let storage = startup::open_storage(&settings).await?;
            let state = startup::build_state(settings, storage, Clock::system()).await?;
            crate::demo::run(&state).await
        }
        Command::CreateUser {
            username,
            role,
            email,
            display_name,
        } => {
            if !auth::ROLES.contains(&role.as_str()) {
                bail!("--role must be one of {}", auth::ROLES.join(", "));
            }
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 10 {
                bail!("the password must have at least 10 characters");
            }
            let storage = startup::open_storage(&settings).await?;
            let hash = auth::hash_password(password)?;
            let s = NewStaff {
                username: &username,
                display_name: display_name.as_deref().unwrap_or(&username),
                email: email.as_deref(),
                role: &role,
                password_hash: &hash,
            };
            match storage.create_staff(&s, now(), "cli").await {
                Ok(_) => {
                    println!("created {username} ({role})");
                    Ok(())
                }
                Err(e) if storage::is_unique_violation(&e) => {
                    bail!("the username {username} is taken")
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::CreateApiToken { name } => {
            let storage = startup::open_storage(&settings).await?;
            let token = storage.create_api_token(&name, now(), "cli").await?;
            println!("API token for {name} (shown once; store it in the hall's secret store):");
            println!("{token}");
            Ok(())
        }
        Command::RevokeApiToken { name } => {
            let storage = startup::open_storage(&settings).await?;
            match storage.revoke_api_tokens(&name, now(), "cli").await? {
                0 => bail!("no active token is named {name}"),
                n => {
                    println!("revoked {n} token(s) of {name}");
                    Ok(())
                }
            }
        }
        Command::ImportCertificates { file } => {
            let bytes = read(&file)?;
            let storage = startup::open_storage(&settings).await?;
            let summary = exchange::certificates::import(&storage, &bytes, "cli", now()).await?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        Command::ImportCrl { file } => {
            let max = settings.revocation.max_bytes;
            let len = std::fs::metadata(&file)
                .with_context(|| format!("cannot read {}", file.display()))?
                .len();
            // Checked before the file is read into memory.
            if len > max {
                anyhow::bail!("{}", crate::exchange::crl::CrlError::TooLarge { max });
            }
            let bytes = read(&file)?;
            let storage = startup::open_storage(&settings).await?;
            let source = format!("cli:{}", file.display());
            let summary = crate::desks::revocation::import_crl(
                &storage,
                &settings.revocation,
                &bytes,
                &source,
                "cli",
                now(),
            )
            .await?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        Command::ImportCalendar { file } => {
            let bytes = read(&file)?;
            let storage = startup::open_storage(&settings).await?;
            let summary = exchange::calendar::import(&storage, &bytes, "cli", now()).await?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        Command::ExportInvoices { out } => {
            let storage = startup::open_storage(&settings).await?;
            match invoicing::export_batch(&storage, &settings.invoice, "cli", now()).await? {
                Some(b) => {
                    std::fs::write(&out, &b.file)
                        .with_context(|| format!("cannot write {}", out.display()))?;
                    for (app, why) in &b.left_out {
                        eprintln!("left out {app}: {why}");
                    }
                    println!("{} requests", b.requests);
                    println!("{}", b.batch_no);
                }
                None => eprintln!("no invoice request is ready; no file written"),
            }
            Ok(())
        }
        Command::ExportShipments { courier, out } => {
            let courier = Courier::parse(&courier).expect("checked by clap");
            let storage = startup::open_storage(&settings).await?;
            let gate = fulfilment::RevocationGate::of(&settings.revocation);
            let batch = fulfilment::create_gated_batch(
                &storage,
                &settings.courier,
                gate,
                courier,
                None,
                "cli",
                now(),
            )
            .await?;
            match batch {
                Some(b) => {
                    std::fs::write(&out, &b.file)
                        .with_context(|| format!("cannot write {}", out.display()))?;
                    for (app, why) in &b.left_out {
                        eprintln!("left out {app}: {why}");
                    }
                    println!("{} parcels", b.shipments);
                    println!("{}", b.batch_no);
                }
                None => eprintln!("no application is ready to ship; no file written"),
            }
            Ok(())
        }
        Command::ImportTracking { file } => {
            let bytes = read(&file)?;
            let storage = startup::open_storage(&settings).await?;
            let summary =
                fulfilment::import_tracking(&storage, &settings.courier, &bytes, "cli", now())
                    .await?;
            for (row, outcome, order, waybill) in &summary.problems {
                eprintln!("row {row}: {outcome} ({order} {waybill})");
            }
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        Command::ImportInvoices { file } => {
            let bytes = read(&file)?;
            let storage = startup::open_storage(&settings).await?;
            let scans = settings.open_scan_store()?;
            let summary = invoicing::import_issued(
                &storage,
                &scans,
                &settings.invoice,
                &settings.public_url,
                &bytes,
                "cli",
                now(),
            )
            .await?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        Command::MoveScans { to } => {
            let target = storage::scan_files::ScanLocation::parse(&to, |k| {
                std::env::var(k).ok().filter(|v| !v.is_empty())
            })
            .map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            if target == settings.scan_store {
                bail!("--to names the store already configured");
            }
            let to = storage::scan_files::ScanStore::open(&target)
                .with_context(|| format!("cannot use the scan store {to}"))?;
            let from = settings.open_scan_store()?;
            let storage = startup::open_storage(&settings).await?;
            let s = storage::scan_files::transfer::move_scans(&storage, &from, &to).await?;
            println!("{}", serde_json::to_string(&s)?);
            if !s.missing.is_empty() || !s.corrupt.is_empty() {
                bail!(
                    "{} referenced scans missing, {} corrupt (listed above)",
                    s.missing.len(),
                    s.corrupt.len()
                );
            }
            Ok(())
        }
        Command::ImportPayments { channel, file } => {
            let channel = PaymentChannel::parse(&channel).expect("checked by clap");
            let storage = startup::open_storage(&settings).await?;
            // From the file: a plain CSV bill is streamed, never held whole.
            let summaries =
                finance::import_bill_file(&storage, &file, Some(channel), "cli", now()).await?;
            let summary = summaries.into_iter().next().unwrap_or_default();
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        Command::VerifyAudit => {
            let storage = startup::open_storage(&settings).await?;
            storage.seal_audit(now(), true).await?;
            match storage.verify_audit(10_000).await? {
                storage::audit::Verdict::Intact(n) => {
                    println!("ok {n} records");
                    Ok(())
                }
                storage::audit::Verdict::Broken(b) => bail!("audit trail broken: {b}"),
            }
        }
        Command::Backup { out } => {
            if out.exists() {
                bail!("{} exists already; give a new file name", out.display());
            }
            let storage = startup::open_storage(&settings).await?;
            match storage.backup_sqlite(&out).await? {
                None => bail!(
                    "backup copies SQLite databases only; for PostgreSQL use pg_dump -Fc (see the README's Backups section)"
                ),
                Some(check) if check == "ok" => {
                    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
                    println!(
                        "backup written to {} ({size} bytes, integrity ok)",
                        out.display()
                    );
                    Ok(())
                }
                Some(check) => bail!(
                    "the copy in {} fails its integrity check: {check}",
                    out.display()
                ),
            }
        }
    }
}

/// The file a command was given, whole.
fn read(file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

/// operations.md: `precheck --kind K FILE`.
async fn precheck(kind: &str, file: &std::path::Path) -> anyhow::Result<()> {
    use crate::domain::precheck::CheckKind;
    let kind = CheckKind::parse(kind).context("unknown kind")?;
    let bytes = read(file)?;
    let check = crate::prechecks::check_scan(kind, &bytes).await?;
    println!("{}", serde_json::to_string(&check.findings)?);
    Ok(())
}
