//! Revocation of the lost certificate: the CA's CRL read against the queue of serials to revoke
//! (queued at acceptance, `decision::decided`), a supervisor's override of the courier-batch
//! gate, the list of serials for the CA operator, and the issued certificate's file checked
//! against its application and put in the registry. Each change is one transaction with its
//! audit records; the pages, the CLI and the fetch job call these same functions.

use crate::config::revocation::RevocationSettings;
use crate::domain::{
    calendar::beijing,
    certificate::{CertStatus, Certificate},
    ids::ApplicationId,
    personal_id::{IdType, PersonalId},
    serial::CertificateSerial,
};
use crate::exchange::{
    audit_file,
    crl::{self, CaCert, CrlError},
    layout::{reproducible_workbook, text_format},
};
use crate::storage::{
    Storage, Tx, audit,
    revocations::{self as store, NewCrlImport, RevocationRow},
};
use crate::{on_tx, storage::scan_files::sha256_hex};

#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    #[error(transparent)]
    File(#[from] CrlError),
    #[error("{0}")]
    Refused(String),
    #[error("该申请已被他人处理或已变更 (someone else changed {0} first)")]
    Conflict(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// What a CRL import did; the CLI prints it as JSON, the page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CrlSummary {
    pub crl_import_id: i64,
    pub issuer: String,
    pub this_update: i64,
    pub next_update: i64,
    pub entries: usize,
    /// Queued serials this CRL showed revoked (now marked).
    pub revoked: usize,
    /// Serials still waiting for a CRL that lists them.
    pub still_queued: usize,
}

fn ca_of(settings: &RevocationSettings) -> Result<Option<CaCert>, CrlError> {
    settings
        .ca_cert
        .as_deref()
        .map(|b| CaCert::parse(b))
        .transpose()
}

/// Reads a CRL (checked against the CA certificate, current at `at`) and marks each queued
/// serial it lists revoked, with the CRL's date and reason. All or nothing; a refused file
/// changes nothing.
pub async fn import_crl(
    storage: &Storage,
    settings: &RevocationSettings,
    bytes: &[u8],
    source: &str,
    actor: &str,
    at: i64,
) -> Result<CrlSummary, RevocationError> {
    let ca = ca_of(settings)?;
    let list = crl::read_crl(bytes, ca.as_ref(), settings.max_bytes, at)?;
    let sha = sha256_hex(bytes);
    let by_serial: std::collections::HashMap<&str, &crl::CrlEntry> = list
        .entries
        .iter()
        .map(|e| (e.serial_key.as_str(), e))
        .collect();
    let mut tx = storage.begin().await?;
    let id = store::insert_crl_import(
        &mut tx,
        &NewCrlImport {
            issuer: &list.issuer,
            this_update: list.this_update,
            next_update: list.next_update,
            crl_number: list.number.as_deref(),
            entries: list.entries.len() as i64,
            sha256: &sha,
            source,
            by: actor,
            at,
        },
    )
    .await?;
    let queued = store::queued(&mut tx).await?;
    let mut revoked = 0;
    for q in &queued {
        let Some(e) = by_serial.get(q.serial_key.as_str()) else {
            continue;
        };
        // Another import marked it first: nothing left to do for this one.
        if !store::mark_revoked(&mut tx, q, e.revoked_at, e.reason, id, at).await? {
            continue;
        }
        store::registry_revoked(&mut tx, &q.serial, at).await?;
        let after = format!(
            "{} revoked {} ({})",
            q.serial,
            time_text(e.revoked_at),
            e.reason.unwrap_or("no reason code")
        );
        audit_app(
            &mut tx,
            actor,
            "revocation.revoked",
            &q.application_id,
            Some(&after),
            at,
        )
        .await?;
        revoked += 1;
    }
    store::set_matched(&mut tx, id, revoked as i64).await?;
    let summary = CrlSummary {
        crl_import_id: id,
        issuer: list.issuer.clone(),
        this_update: list.this_update,
        next_update: list.next_update,
        entries: list.entries.len(),
        revoked,
        still_queued: queued.len() - revoked,
    };
    let after = serde_json::to_string(&summary).unwrap_or_default();
    audit_file(&mut tx, actor, "crl.imported", "crl_file", &sha, &after, at).await?;
    tx.commit().await?;
    Ok(summary)
}

fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&beijing())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

async fn audit_app(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    application_id: &ApplicationId,
    after: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    audit::record(
        tx,
        &audit::AuditEntry {
            at,
            actor,
            action,
            subject_type: "application",
            subject_id: application_id.as_str(),
            before: None,
            after,
            request_id: None,
        },
    )
    .await
}

/// A supervisor lets the application into a courier batch before its lost certificate is
/// revoked; the reason is required and audited. Of two at once, one wins.
pub async fn override_gate(
    storage: &Storage,
    application_id: &ApplicationId,
    row_version: i64,
    reason: &str,
    actor: &str,
    at: i64,
) -> Result<(), RevocationError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(RevocationError::Refused(
            "请填写放行理由（不超过 500 字）。A reason is required (at most 500 characters)."
                .into(),
        ));
    }
    let mut tx = storage.begin().await?;
    if !store::override_gate(&mut tx, application_id, row_version, actor, reason, at).await? {
        return Err(RevocationError::Conflict(application_id.to_string()));
    }
    audit_app(
        &mut tx,
        actor,
        "revocation.overridden",
        application_id,
        Some(reason),
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The serials waiting for revocation as a workbook for the CA operator (序列号, 吊销原因,
/// 受理编号, 大厅编号, 登记时间), its download audited.
pub async fn serials_workbook(
    storage: &Storage,
    actor: &str,
    at: i64,
) -> Result<Vec<u8>, RevocationError> {
    let rows = storage.revocations(true, 1_000_000).await?;
    let bytes = write_serials(&rows).map_err(|e| RevocationError::Refused(e.to_string()))?;
    crate::desks::record_export(
        storage,
        actor,
        "revocation.serials_exported",
        &bytes,
        &format!("{} serials", rows.len()),
        at,
    )
    .await?;
    Ok(bytes)
}

fn write_serials(rows: &[RevocationRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = reproducible_workbook()?;
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name("待吊销证书")?;
    let text = text_format();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let headers = [
        "证书序列号",
        "吊销原因",
        "受理编号",
        "大厅受理号",
        "登记时间",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (c, w) in [26.0, 16.0, 24.0, 20.0, 18.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string_with_format(row, 0, &r.serial, &text)?;
        ws.write_string_with_format(row, 1, &r.reason, &text)?;
        ws.write_string_with_format(row, 2, r.application_id.as_str(), &text)?;
        ws.write_string_with_format(row, 3, &r.hall_reference, &text)?;
        ws.write_string_with_format(row, 4, time_text(r.queued_at), &text)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, rows.len() as u32, 4)?;
    wb.save_to_buffer()
}

/// What the issued certificate's upload recorded.
#[derive(Debug, Clone)]
pub struct IssuedSummary {
    pub serial: String,
    pub valid_to: String,
}

#[derive(sqlx::FromRow)]
struct Holder {
    status: String,
    applicant_name: String,
    id_type: String,
    id_number: String,
    produced_serial: Option<String>,
}

async fn holder(tx: &mut Tx, application_id: &ApplicationId) -> sqlx::Result<Option<Holder>> {
    on_tx!(tx, |c| sqlx::query_as::<_, Holder>(
        "select a.status, a.applicant_name, a.id_type, a.id_number, \
            (select p.certificate_serial from productions p \
             where p.application_id = a.application_id \
             order by p.produced_at desc, p.production_id desc limit 1) as produced_serial \
        from applications a where a.application_id = $1"
    )
    .bind(application_id)
    .fetch_optional(c)
    .await)
}

/// Whether a subject's common name names the holder: the name itself, or the name as one part
/// of a CN such as `张三@11010519491231002X`.
fn names_holder(cn: &str, name: &str) -> bool {
    cn.trim() == name
        || cn
            .split(['@', '/', '|', ',', ' ', '_', '-'])
            .any(|part| part.trim() == name)
}

/// Reads the issued certificate's file for an application whose production is recorded: its
/// serial must be the recorded one, its subject must name the applicant (and carry the ID number
/// when the subject has a serialNumber), it must be valid at `at` (and signed by the CA when one
/// is configured). The registry then holds it.
pub async fn record_issued(
    storage: &Storage,
    settings: &RevocationSettings,
    application_id: &ApplicationId,
    bytes: &[u8],
    actor: &str,
    at: i64,
) -> Result<IssuedSummary, RevocationError> {
    let ca = ca_of(settings)?;
    let cert = crl::read_certificate(bytes, ca.as_ref(), settings.max_bytes)?;
    let refuse = |m: String| Err(RevocationError::Refused(m));
    let mut tx = storage.begin().await?;
    let Some(h) = holder(&mut tx, application_id).await? else {
        return refuse(format!("no application {application_id}"));
    };
    let Some(recorded) = h.produced_serial.filter(|_| h.status != "accepted") else {
        return refuse(format!(
            "{application_id}: 尚未登记制作，无法上传签发证书。Record the production first."
        ));
    };
    if crl::serial_key(&recorded) != cert.serial_key {
        return refuse(format!(
            "证书序列号 {} 与登记的 {recorded} 不符。The certificate's serial {} is not the recorded {recorded}.",
            cert.serial_key, cert.serial_key
        ));
    }
    if !cert
        .common_names
        .iter()
        .any(|cn| names_holder(cn, &h.applicant_name))
    {
        return refuse(format!(
            "证书主题（{}）不是申请人的姓名。The certificate's subject does not name the applicant.",
            cert.subject
        ));
    }
    let id_upper = h.id_number.to_ascii_uppercase();
    if !cert.subject_serial_numbers.is_empty()
        && !cert
            .subject_serial_numbers
            .iter()
            .any(|s| s.trim().to_ascii_uppercase().ends_with(&id_upper))
    {
        return refuse(
            "证书主题中的证件号码与申请不符。The subject's serialNumber is not the applicant's ID number."
                .into(),
        );
    }
    if cert.not_before > at || cert.not_after < at {
        return refuse(format!(
            "证书不在有效期内（{} 至 {}）。The certificate is not valid now.",
            time_text(cert.not_before),
            time_text(cert.not_after)
        ));
    }
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .with_timezone(&beijing())
            .date_naive()
    };
    let id_type = IdType::parse(&h.id_type).ok_or_else(|| {
        RevocationError::Refused(format!("{application_id}: unknown ID type {}", h.id_type))
    })?;
    let entry = Certificate {
        serial: CertificateSerial::parse(&recorded)
            .map_err(|e| RevocationError::Refused(format!("serial {recorded}: {e}")))?,
        holder_name: h.applicant_name.clone(),
        holder: PersonalId::parse(id_type, &h.id_number).map_err(RevocationError::Refused)?,
        cert_type: "natural_person".into(),
        valid_from: day(cert.not_before),
        valid_to: day(cert.not_after),
        status: CertStatus::Valid,
    };
    crate::storage::certificates::upsert(&mut tx, &entry, at).await?;
    let after = format!(
        "{} valid {} – {}; file sha256 {}",
        entry.serial.as_str(),
        entry.valid_from,
        entry.valid_to,
        sha256_hex(bytes)
    );
    audit_app(
        &mut tx,
        actor,
        "certificate.issued_recorded",
        application_id,
        Some(&after),
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedSummary {
        serial: entry.serial.as_str().to_owned(),
        valid_to: entry.valid_to.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_name_the_holder() {
        assert!(names_holder("张三", "张三"));
        assert!(names_holder("张三@11010519491231002X", "张三"));
        assert!(!names_holder("张三丰", "张三"));
        assert!(!names_holder("李四", "张三"));
    }
}
