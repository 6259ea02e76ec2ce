//! `import-certificates`: the CA registry's export (operations.md, "Certificate registry
//! import"), all or nothing.

use super::sheet::{self, Columns, RowError, SheetError};
use crate::domain::{
    certificate::{CertStatus, Certificate, normalise_cert_type},
    personal_id::{IdType, PersonalId},
    serial::CertificateSerial,
};
use crate::storage::{Storage, certificates};
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub rows: usize,
}

pub use super::ImportError;

const COLUMNS: &[(&str, &str, bool)] = &[
    ("serial", "证书序列号", true),
    ("holder_name", "持有人姓名", true),
    ("holder_id_type", "证件类型", true),
    ("holder_id_number", "证件号码", true),
    ("cert_type", "证书类型", true),
    ("valid_from", "生效日期", true),
    ("valid_to", "失效日期", true),
    ("status", "状态", true),
];

fn parse_row(c: &Columns, row: &sheet::Row) -> Result<Certificate, RowError> {
    let serial =
        CertificateSerial::parse(&c.required_text(row, 0)?).map_err(|e| c.error(row, 0, e))?;
    let holder_name = c.required_text(row, 1)?;
    let id_type = c.parsed(
        row,
        2,
        IdType::parse,
        "one of resident_id/居民身份证, hk_macau_permit, taiwan_permit, foreign_passport",
    )?;
    let holder =
        PersonalId::parse(id_type, &c.required_text(row, 3)?).map_err(|e| c.error(row, 3, e))?;
    let cert_type = normalise_cert_type(&c.required_text(row, 4)?);
    let valid_from = c.date(row, 5)?;
    let valid_to = c.date(row, 6)?;
    if valid_to < valid_from {
        return Err(c.error(row, 6, "lies before valid_from"));
    }
    let status = c.parsed(
        row,
        7,
        CertStatus::parse,
        "one of valid/有效, revoked/已吊销, expired/已过期",
    )?;
    Ok(Certificate {
        serial,
        holder_name,
        holder,
        cert_type,
        valid_from,
        valid_to,
        status,
    })
}

/// Parses every row; all errors are collected (a serial twice in one file is an error too).
pub fn parse(bytes: &[u8]) -> Result<Vec<Certificate>, SheetError> {
    parse_with(bytes, &super::budget::current())
}

/// As [`parse`], within the given budgets.
pub fn parse_with(
    bytes: &[u8],
    b: &super::budget::FileBudgets,
) -> Result<Vec<Certificate>, SheetError> {
    sheet::read_rows(
        bytes,
        b,
        COLUMNS,
        |cert: &Certificate| format!("serial {}", cert.serial),
        parse_row,
    )
}

/// Parses, then stores every row in one transaction with one audit record.
pub async fn import(
    storage: &Storage,
    bytes: &[u8],
    actor: &str,
    at: i64,
) -> Result<Summary, ImportError> {
    let certs = parse(bytes)?;
    let mut tx = storage.begin().await?;
    for cert in &certs {
        certificates::upsert(&mut tx, cert, at).await?;
    }
    let sha = crate::storage::scan_files::sha256_hex(bytes);
    let after = format!("{} rows", certs.len());
    super::audit_file(
        &mut tx,
        actor,
        "certificates.imported",
        "file",
        &sha,
        &after,
        at,
    )
    .await?;
    tx.commit().await?;
    Ok(Summary { rows: certs.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_headers_in_any_order_and_errors_with_row_and_column() {
        let ok = "状态,证书序列号,持有人姓名,证件类型,证件号码,证书类型,生效日期,失效日期,备注\n\
                  有效,0150512140479054C03,张三,居民身份证,11010519491231002X,自然人证书,2024-01-01,2027-01-01,x\n";
        let certs = parse(ok.as_bytes()).unwrap();
        assert_eq!(certs[0].cert_type, "natural_person");
        assert_eq!(certs[0].status, CertStatus::Valid);

        let bad = "serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n\
                   A1,张三,resident_id,11010519491231002X,natural_person,2024-01-01,2027-01-01,valid\n\
                   A2,李四,resident_id,110105194912310021,natural_person,2024-01-01,2027-01-01,valid\n";
        let err = parse(bad.as_bytes()).unwrap_err().to_string();
        assert!(
            err.starts_with("row 3, column D (holder_id_number): the check character is wrong"),
            "{err}"
        );

        let missing = "serial,holder_name\nA1,张三\n";
        assert!(
            matches!(parse(missing.as_bytes()), Err(SheetError::MissingColumn(c)) if c.starts_with("holder_id_type"))
        );
    }
}
