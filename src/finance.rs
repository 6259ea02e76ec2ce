//! The finance desk's work: importing merchant bills and reconciling them, resolving the cases
//! they raise. Each import and each resolution is one transaction with its audit record; the CLI
//! and the pages call these same functions.

use crate::domain::{
    calendar::beijing,
    intake::PaymentChannel,
    reconcile::{self, LineIn},
};
use crate::exchange::payment_bills::{self, Bill, BillError, LineKind};
use crate::storage::{
    Storage, Tx,
    audit::{self, AuditEntry},
    finance::{self as store, LineRow, NewCase, NewImport},
};
use chrono::{Days, NaiveDate, TimeZone};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum FinanceError {
    #[error(transparent)]
    Bill(#[from] BillError),
    #[error("the file is a {found} bill; expected {expected}")]
    WrongChannel { expected: String, found: String },
    #[error("{0}")]
    Refused(String),
    #[error("someone else resolved this case first")]
    Conflict,
    #[error("no such case")]
    NotFound,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// What an import did (`operations.md`: the last line of `import-payments`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    pub channel: String,
    pub lines: usize,
    pub new_lines: usize,
    pub matched: usize,
    pub amount_mismatch: usize,
    pub unmatched_payment: usize,
    pub missing_payment: usize,
    pub duplicate_payment: usize,
    pub refund: usize,
}

impl ImportSummary {
    fn add(&mut self, o: &ImportSummary) {
        self.lines += o.lines;
        self.new_lines += o.new_lines;
        self.matched += o.matched;
        self.amount_mismatch += o.amount_mismatch;
        self.unmatched_payment += o.unmatched_payment;
        self.missing_payment += o.missing_payment;
        self.duplicate_payment += o.duplicate_payment;
        self.refund += o.refund;
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Imports a bill file (or a zip / gzip of bills) as one transaction and reconciles it; one
/// summary per channel found. `expect` refuses bills of the other channel.
pub async fn import_bills(
    storage: &Storage,
    bytes: &[u8],
    file_name: &str,
    expect: Option<PaymentChannel>,
    actor: &str,
    at: i64,
) -> Result<Vec<ImportSummary>, FinanceError> {
    let bills = payment_bills::parse_any(bytes)?;
    if let Some(want) = expect
        && let Some(b) = bills.iter().find(|b| b.channel != want)
    {
        return Err(FinanceError::WrongChannel {
            expected: want.code().into(),
            found: b.channel.code().into(),
        });
    }
    let sha = sha256_hex(bytes);
    let mut tx = storage.begin().await?;
    store::lock_reconciliation(&mut tx).await?;
    let mut out: Vec<ImportSummary> = Vec::new();
    for bill in &bills {
        let s = reconcile_bill(&mut tx, bill, &sha, file_name, actor, at).await?;
        match out.iter_mut().find(|o| o.channel == s.channel) {
            Some(o) => o.add(&s),
            None => out.push(s),
        }
    }
    for s in &out {
        let summary = serde_json::to_string(s).expect("plain struct");
        audit::record(
            &mut tx,
            &AuditEntry {
                at,
                actor,
                action: "payments.imported",
                subject_type: "bill_file",
                subject_id: &sha,
                before: None,
                after: Some(&summary),
                request_id: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(out)
}

fn day_start_ms(d: NaiveDate) -> i64 {
    beijing()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("fixed offset")
        .timestamp_millis()
}

fn line_key(l: &payment_bills::BillLine) -> String {
    match l.kind {
        LineKind::Payment => l.transaction_id.clone(),
        LineKind::Refund => format!(
            "R:{}:{}",
            l.transaction_id,
            l.refund_no.as_deref().unwrap_or("")
        ),
    }
}

async fn reconcile_bill(
    tx: &mut Tx,
    bill: &Bill,
    sha: &str,
    file_name: &str,
    actor: &str,
    at: i64,
) -> Result<ImportSummary, FinanceError> {
    let channel = bill.channel;
    let keys: Vec<String> = bill.lines.iter().map(line_key).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let stored = store::existing_keys(tx, channel, &key_refs).await?;
    // New lines: not stored, and the first of any copies within the file.
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    let fresh: Vec<usize> = (0..bill.lines.len())
        .filter(|&i| !stored.contains(&keys[i]) && seen.insert(keys[i].as_str()))
        .collect();
    let period = (
        day_start_ms(bill.period.0),
        day_start_ms(bill.period.1 + Days::new(1)),
    );
    let orders: Vec<&str> = fresh
        .iter()
        .map(|&i| bill.lines[i].out_trade_no.as_str())
        .collect();
    let known = store::known_for(tx, period, &orders).await?;
    let inputs: Vec<LineIn> = fresh
        .iter()
        .map(|&i| {
            let l = &bill.lines[i];
            LineIn {
                refund: l.kind == LineKind::Refund,
                out_trade_no: &l.out_trade_no,
                transaction_id: &l.transaction_id,
                amount: l.amount,
                at: l.at.timestamp_millis(),
            }
        })
        .collect();
    let outcome = reconcile::reconcile(channel, period, &inputs, &known);
    let n = reconcile::counts(&outcome.classes);
    let mut summary = ImportSummary {
        channel: channel.code().into(),
        lines: bill.lines.len(),
        new_lines: fresh.len(),
        matched: n[0],
        amount_mismatch: n[1],
        unmatched_payment: n[2],
        duplicate_payment: n[3],
        refund: n[4],
        missing_payment: 0,
    };
    let import_id = store::insert_import(
        tx,
        &NewImport {
            channel,
            sha256: sha,
            file_name,
            period: (bill.period.0.to_string(), bill.period.1.to_string()),
            lines: bill.lines.len() as i64,
            new_lines: fresh.len() as i64,
            summary: "",
            at,
            by: actor,
        },
    )
    .await?;
    let rows: Vec<LineRow> = fresh
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let l = &bill.lines[i];
            LineRow {
                key: &keys[i],
                line_no: l.line as i64,
                refund: l.kind == LineKind::Refund,
                at: l.at.timestamp_millis(),
                bill_day: l.at.with_timezone(&beijing()).date_naive().to_string(),
                transaction_id: &l.transaction_id,
                out_trade_no: &l.out_trade_no,
                amount_fen: l.amount.get(),
                fee_e5: l.fee_e5,
                refund_no: l.refund_no.as_deref(),
                class: outcome.classes[k].code(),
                application_id: outcome.applications[k].as_deref(),
            }
        })
        .collect();
    store::insert_lines(tx, channel, import_id, &rows).await?;
    drop(rows);

    // Cases: every line that is not simply matched, and every missing payment.
    for e in store::exception_lines(tx, import_id).await? {
        let kind = match e.class.as_str() {
            "refund" => {
                if let Some(case_id) =
                    store::open_refundable_case(tx, &e.out_trade_no, e.amount_fen).await?
                {
                    store::close_case(
                        tx,
                        case_id,
                        None,
                        "refunded",
                        e.refund_no.as_deref(),
                        Some(&format!("refund line in {file_name}")),
                        actor,
                        at,
                    )
                    .await?;
                    continue;
                }
                if store::refund_expected(tx, &e.out_trade_no).await? {
                    continue;
                }
                "unexpected_refund"
            }
            other => other,
        };
        store::open_case(
            tx,
            &NewCase {
                kind,
                channel,
                out_trade_no: &e.out_trade_no,
                application_id: e.application_id.as_deref(),
                line_id: Some(e.line_id),
                amount_fen: e.amount_fen,
                at,
            },
        )
        .await?;
    }
    for app_id in &outcome.missing {
        let order = known
            .apps
            .iter()
            .find(|(_, a)| &a.application_id == app_id)
            .map(|(o, a)| (o.as_str(), a.amount.get()))
            .unwrap_or(("", 0));
        if store::open_case(
            tx,
            &NewCase {
                kind: "missing_payment",
                channel,
                out_trade_no: order.0,
                application_id: Some(app_id),
                line_id: None,
                amount_fen: order.1,
                at,
            },
        )
        .await?
        {
            summary.missing_payment += 1;
        }
    }
    store::after_import(tx, import_id, actor, at).await?;
    let missing: Vec<&str> = outcome.missing.iter().map(String::as_str).collect();
    store::refresh_payment_state(tx, &missing).await?;
    let text = serde_json::to_string(&summary).expect("plain struct");
    store::set_import_summary(tx, import_id, &text).await?;
    Ok(summary)
}

/// How a clerk closes a case.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// An unmatched payment belongs to this application.
    Link { application_id: String },
    /// The money went back (or the refund in the bill is understood): the refund's number.
    ConfirmRefund { refund_no: String },
    /// The amount differs and finance accepts it.
    AcceptMismatch,
}

impl Resolution {
    pub fn code(&self) -> &'static str {
        match self {
            Resolution::Link { .. } => "linked",
            Resolution::ConfirmRefund { .. } => "refund_confirmed",
            Resolution::AcceptMismatch => "mismatch_accepted",
        }
    }
}

/// Closes a case with a note. `row_version`: what the clerk saw; someone else first → Conflict.
pub async fn resolve_case(
    storage: &Storage,
    case_id: i64,
    resolution: &Resolution,
    note: &str,
    row_version: Option<i64>,
    actor: &str,
    at: i64,
) -> Result<(), FinanceError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(FinanceError::Refused("a note is required".into()));
    }
    let mut tx = storage.begin().await?;
    store::lock_reconciliation(&mut tx).await?;
    let case = store::case_in_tx(&mut tx, case_id)
        .await?
        .ok_or(FinanceError::NotFound)?;
    if case.state != "open" || row_version.is_some_and(|v| v != case.row_version) {
        return Err(FinanceError::Conflict);
    }
    let allowed = match resolution {
        Resolution::Link { .. } => case.kind == "unmatched_payment",
        Resolution::ConfirmRefund { .. } => matches!(
            case.kind.as_str(),
            "duplicate_payment" | "refund_owed" | "unmatched_payment" | "unexpected_refund"
        ),
        Resolution::AcceptMismatch => case.kind == "amount_mismatch",
    };
    if !allowed {
        return Err(FinanceError::Refused(format!(
            "a {} case cannot be closed as {}",
            case.kind,
            resolution.code()
        )));
    }
    let mut touched: Vec<String> = case.application_id.iter().cloned().collect();
    let refund_no = match resolution {
        Resolution::ConfirmRefund { refund_no } => {
            let r = refund_no.trim();
            if r.is_empty() || r.len() > 64 {
                return Err(FinanceError::Refused(
                    "the refund number is required".into(),
                ));
            }
            Some(r.to_owned())
        }
        Resolution::Link { application_id } => {
            let app = store::app_payment(&mut tx, application_id.trim())
                .await?
                .ok_or_else(|| {
                    FinanceError::Refused(format!("no application {}", application_id.trim()))
                })?;
            if app.amount_fen != case.amount_fen {
                return Err(FinanceError::Refused(format!(
                    "the payment is {} yuan, the application's fee {} yuan",
                    crate::domain::money::Fen::new(case.amount_fen),
                    crate::domain::money::Fen::new(app.amount_fen)
                )));
            }
            if app.has_payment {
                return Err(FinanceError::Refused(format!(
                    "{} already has a payment; confirm a refund of this one instead",
                    app.application_id
                )));
            }
            let line_id = case.line_id.expect("an unmatched payment has its line");
            store::link_line(&mut tx, line_id, &app.application_id, "matched").await?;
            if let Some(missing) =
                store::open_case_of(&mut tx, &app.application_id, "missing_payment").await?
            {
                store::close_case(
                    &mut tx,
                    missing,
                    None,
                    "linked",
                    None,
                    Some(note),
                    actor,
                    at,
                )
                .await?;
            }
            touched.push(app.application_id);
            None
        }
        Resolution::AcceptMismatch => None,
    };
    if !store::close_case(
        &mut tx,
        case_id,
        Some(case.row_version),
        resolution.code(),
        refund_no.as_deref(),
        Some(note),
        actor,
        at,
    )
    .await?
    {
        return Err(FinanceError::Conflict);
    }
    let refs: Vec<&str> = touched.iter().map(String::as_str).collect();
    store::refresh_payment_state(&mut tx, &refs).await?;
    let subject = case_id.to_string();
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor,
            action: "finance_case.closed",
            subject_type: "finance_case",
            subject_id: &subject,
            before: Some(&case.kind),
            after: Some(resolution.code()),
            request_id: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
