//! Invoices (数电票): batches for the tax platform's batch import, and the read-back of what it
//! issued (`../shared/contracts/invoice-batch.md`). Each export and import is one transaction with
//! its audit record; the CLI and the finance desk call these same functions.

use crate::desks::finance::sha256_hex;
use crate::domain::{calendar::beijing, ids::ApplicationId, sms::Sms};
use crate::exchange::{
    audit_file,
    invoices::{self, InvoiceConfig, InvoiceRow, IssuedError, IssuedLine, LayoutError},
};
use crate::storage::{
    Storage,
    invoices::{self as store, NewBatch, NewInvoice},
    outbox,
    scan_files::ScanStore,
};
use crate::views::mail;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    File(#[from] IssuedError),
    #[error("{0}")]
    Refused(String),
    #[error("storing the invoice file: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// A new batch: its number, the file, how many requests, and those left out with their reason.
#[derive(Debug)]
pub struct Batch {
    pub batch_id: i64,
    pub batch_no: String,
    pub file: Vec<u8>,
    pub requests: usize,
    pub left_out: Vec<(ApplicationId, String)>,
}

/// Puts every pending, paid, accepted request (up to the per-file cap) into a new batch and
/// writes the platform's batch-import workbook. None when nothing is ready.
pub async fn export_batch(
    storage: &Storage,
    cfg: &InvoiceConfig,
    actor: &str,
    at: i64,
) -> Result<Option<Batch>, InvoiceError> {
    let layout = cfg.layout()?;
    let today = chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .with_timezone(&beijing())
        .date_naive();
    let mut tx = storage.begin().await?;
    crate::storage::advisory_lock(&mut tx, crate::storage::Lock::Invoicing).await?;
    let mut rows: Vec<(ApplicationId, InvoiceRow)> = Vec::new();
    let mut left_out = Vec::new();
    // Requests with a problem stay pending and are listed; the next ones take their place.
    let candidates = store::ready_requests(&mut tx, 5_000).await?;
    for r in candidates {
        if rows.len() >= cfg.max_per_file {
            break;
        }
        let row = InvoiceRow {
            serial: invoices::serial(&cfg.serial_prefix, today, 0),
            title: r.title.clone(),
            tax_id: r.tax_id.clone(),
            amount_fen: r.amount_fen,
            hall_reference: r.hall_reference.clone(),
            buyer_email: r.email.clone(),
        };
        match invoices::check_row(&layout, cfg, &row) {
            Ok(()) => rows.push((r.application_id, row)),
            Err(problem) => {
                store::set_problem(&mut tx, &r.application_id, &problem, at).await?;
                left_out.push((r.application_id, problem));
            }
        }
    }
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(None);
    }
    // Serials are never reused: a counter per day that only goes up.
    let day = today.format("%y%m%d").to_string();
    let last =
        store::next_counter(&mut tx, &format!("invoice_serial:{day}"), rows.len() as i64).await?;
    let first = last - rows.len() as i64 + 1;
    for (k, (_, row)) in rows.iter_mut().enumerate() {
        row.serial = invoices::serial(&cfg.serial_prefix, today, (first + k as i64) as u32);
    }
    let only: Vec<InvoiceRow> = rows.iter().map(|(_, r)| r.clone()).collect();
    let file = invoices::write_batch(&layout, cfg, &only)?;
    let sha = sha256_hex(&file);
    let seq = store::next_counter(&mut tx, &format!("invoice_batch:{day}"), 1).await?;
    let batch_no = format!("IB{}-{seq:03}", today.format("%Y%m%d"));
    let batch_id = store::insert_batch(
        &mut tx,
        &NewBatch {
            batch_no: &batch_no,
            requests: rows.len() as i64,
            sha256: &sha,
            file: &file,
            at,
            by: actor,
        },
    )
    .await?;
    for (app, row) in &rows {
        if !store::mark_batched(&mut tx, app, batch_id, &row.serial, at).await? {
            return Err(InvoiceError::Refused(format!(
                "{app} was batched by someone else meanwhile; try again"
            )));
        }
    }
    let after = format!("{batch_no}: {} requests", rows.len());
    let action = "invoices.exported";
    audit_file(
        &mut tx,
        actor,
        action,
        "invoice_batch_file",
        &sha,
        &after,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Batch {
        batch_id,
        batch_no,
        file,
        requests: rows.len(),
        left_out,
    }))
}

/// What an issued-invoice import did (`operations.md`: the last line of `import-invoices`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct IssuedSummary {
    pub lines: usize,
    pub matched: usize,
    pub already_known: usize,
    pub unmatched: usize,
    pub ambiguous: usize,
    pub amount_mismatch: usize,
    pub red_letter: usize,
    pub files_attached: usize,
    pub failed: usize,
}

enum Match {
    One(usize),
    None,
    Many,
}

/// Matching in the contract's order: serial, reference in the remark, buyer + amount + date.
fn find_request(l: &IssuedLine, open: &[store::OpenRequest]) -> Match {
    let one = |hits: Vec<usize>| match hits.len() {
        0 => Match::None,
        1 => Match::One(hits[0]),
        _ => Match::Many,
    };
    if let Some(s) = &l.serial {
        return one((0..open.len())
            .filter(|&i| open[i].serial.as_deref() == Some(s.as_str()))
            .collect());
    }
    let by_remark: Vec<usize> = (0..open.len())
        .filter(|&i| !l.remark.is_empty() && l.remark.contains(&open[i].hall_reference))
        .collect();
    if !by_remark.is_empty() {
        return one(by_remark);
    }
    let issued = l.issued_at.timestamp_millis();
    one((0..open.len())
        .filter(|&i| {
            let r = &open[i];
            r.title == l.buyer && r.amount_fen == l.amount_fen && issued >= r.exported_at
        })
        .collect())
}

/// The 20-digit number of the blue invoice a red-letter one names in its remark.
fn reversed_number(remark: &str) -> Option<String> {
    let digits: Vec<char> = remark.chars().collect();
    let mut run = String::new();
    for c in digits.into_iter().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if run.len() == 20 {
                return Some(run);
            }
            run.clear();
        }
    }
    None
}

/// Reads the platform's export of issued invoices (or a plain list, invoice files, a failure
/// list, or a zip of them), ties each line to its request, stores numbers, links and files and
/// queues the applicants' e-mails. A malformed file changes nothing.
#[allow(clippy::too_many_arguments)]
pub async fn import_issued(
    storage: &Storage,
    scans: &ScanStore,
    cfg: &InvoiceConfig,
    public_url: &str,
    bytes: &[u8],
    actor: &str,
    at: i64,
) -> Result<IssuedSummary, InvoiceError> {
    let file = invoices::read_issued(bytes)?;
    if let Some(seller) = cfg.seller_tax_id.as_deref()
        && let Some(l) = file
            .lines
            .iter()
            .find(|l| l.seller_tax_id.as_deref().is_some_and(|s| s != seller))
    {
        return Err(InvoiceError::Refused(format!(
            "row {}, column 销方识别号: {} is not our tax id {seller} (an export of purchase invoices?)",
            l.row,
            l.seller_tax_id.as_deref().unwrap_or("")
        )));
    }
    // Files first to the store (content-addressed, harmless if the import then fails).
    let mut stored_files = Vec::new();
    let mut to_stage = Vec::new();
    for f in &file.files {
        let sha = sha256_hex(&f.bytes);
        to_stage.push((sha.clone(), bytes::Bytes::from(f.bytes.clone())));
        stored_files.push((f.number.clone(), f.name.clone(), sha));
    }
    let staged = scans.stage(storage, to_stage).await?;
    let mut s = IssuedSummary {
        lines: file.lines.len(),
        ..Default::default()
    };
    let mut tx = storage.begin().await?;
    crate::storage::advisory_lock(&mut tx, crate::storage::Lock::Invoicing).await?;
    staged.confirm(&mut tx).await?;
    for f in &file.failures {
        if store::fail_serial(&mut tx, &f.serial, &f.reason, at).await? {
            s.failed += 1;
        }
    }
    let open = store::open_requests(&mut tx).await?;
    let mut taken = vec![false; open.len()];
    let mut to_mail: Vec<String> = Vec::new();
    for l in &file.lines {
        if store::invoice_known(&mut tx, &l.number).await? {
            s.already_known += 1;
            continue;
        }
        if !l.positive {
            let blue = reversed_number(&l.remark);
            let app = match &blue {
                Some(b) => store::mark_reversed(&mut tx, b, at).await?,
                None => None,
            };
            store::insert_invoice(
                &mut tx,
                &NewInvoice {
                    number: &l.number,
                    application_id: app.as_deref(),
                    issued_at: l.issued_at.timestamp_millis(),
                    buyer: &l.buyer,
                    amount_fen: l.amount_fen,
                    status: &l.status,
                    positive: false,
                    reverses: blue.as_deref(),
                    link: l.link.as_deref(),
                    at,
                },
            )
            .await?;
            s.red_letter += 1;
            continue;
        }
        let detail = format!(
            "row {}: {} {} yuan, {}",
            l.row,
            l.buyer,
            l.amount_fen,
            l.issued_at.with_timezone(&beijing()).format("%Y-%m-%d")
        );
        let i = match find_request(l, &open) {
            Match::One(i) if !taken[i] => i,
            Match::One(_) | Match::Many => {
                store::record_issue(&mut tx, &l.number, "ambiguous", &detail, at).await?;
                s.ambiguous += 1;
                continue;
            }
            Match::None => {
                store::record_issue(&mut tx, &l.number, "unmatched", &detail, at).await?;
                s.unmatched += 1;
                continue;
            }
        };
        let r = &open[i];
        if r.amount_fen != l.amount_fen {
            let detail = format!(
                "{detail}; request {} is {} yuan",
                r.application_id, r.amount_fen
            );
            store::record_issue(&mut tx, &l.number, "amount_mismatch", &detail, at).await?;
            s.amount_mismatch += 1;
            continue;
        }
        taken[i] = true;
        store::insert_invoice(
            &mut tx,
            &NewInvoice {
                number: &l.number,
                application_id: Some(r.application_id.as_str()),
                issued_at: l.issued_at.timestamp_millis(),
                buyer: &l.buyer,
                amount_fen: l.amount_fen,
                status: &l.status,
                positive: true,
                reverses: None,
                link: l.link.as_deref(),
                at,
            },
        )
        .await?;
        store::mark_issued(&mut tx, &r.application_id, &l.number, at).await?;
        s.matched += 1;
        to_mail.push(l.number.clone());
    }
    for (number, name, sha) in &stored_files {
        let token = uuid::Uuid::new_v4().simple().to_string();
        if store::attach_file(&mut tx, number, sha, name, &token).await? {
            s.files_attached += 1;
            to_mail.push(number.clone());
        }
    }
    to_mail.sort();
    to_mail.dedup();
    for number in &to_mail {
        queue_mail(&mut tx, cfg, public_url, number, at).await?;
    }
    let summary = serde_json::to_string(&s).expect("plain struct");
    let sha = sha256_hex(bytes);
    let action = "invoices.imported";
    audit_file(
        &mut tx,
        actor,
        action,
        "issued_invoice_file",
        &sha,
        &summary,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// Queues the applicant's e-mail once the invoice has a link or a stored file (or always, with
/// `email_without_file`), and the SMS with the link once the file is stored; the outbox's keys
/// make each once per invoice.
async fn queue_mail(
    tx: &mut crate::storage::Tx,
    cfg: &InvoiceConfig,
    public_url: &str,
    number: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let Some(inv) = store::invoice_for_mail(tx, number).await? else {
        return Ok(());
    };
    let link = match (&inv.link, &inv.download_token) {
        (Some(l), _) => Some(l.clone()),
        (None, Some(t)) if inv.file_sha256.is_some() => Some(format!(
            "{}/invoice-files/{t}",
            public_url.trim_end_matches('/')
        )),
        _ => None,
    };
    if link.is_none() && !cfg.email_without_file {
        return Ok(());
    }
    let issued_on = chrono::DateTime::from_timestamp_millis(inv.issued_at)
        .unwrap_or_default()
        .with_timezone(&beijing())
        .format("%Y-%m-%d")
        .to_string();
    let m = mail::applicant_invoice_issued(
        &inv.title,
        &inv.hall_reference,
        &inv.invoice_number,
        &issued_on,
        &inv.amount_fen.to_string(),
        link.as_deref(),
    );
    let key = format!("invoice_issued:{number}");
    let app = Some(inv.application_id.as_str());
    let kind = "applicant_invoice_issued";
    outbox::enqueue_mail(tx, &key, kind, &inv.email, &m, app, at).await?;
    // The SMS carries only the back office's own download link: the provider takes a link only
    // as fixed text in the template with a path variable (the token), never a whole URL. An
    // invoice with the platform's link alone gets its SMS once its file is stored here.
    if let (Some(token), Some(_)) = (&inv.download_token, &inv.file_sha256) {
        let sms = Sms::invoice_issued(&inv.hall_reference, number, token, public_url);
        outbox::enqueue_sms(tx, &key, &inv.mobile, &sms, app, at).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_red_letter_remark_names_the_blue_invoice() {
        assert_eq!(
            reversed_number("对应正数发票代码:号码:26442000000000012345").as_deref(),
            Some("26442000000000012345")
        );
        assert_eq!(reversed_number("申请编号：WT202611250001"), None);
        assert_eq!(reversed_number("123456789012345678901"), None);
    }
}
