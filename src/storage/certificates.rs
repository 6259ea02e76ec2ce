//! The certificate registry, as imported from the CA's exports.

use super::{DbResult, Storage, Tx};
use crate::domain::{
    certificate::{CertStatus, Certificate},
    personal_id::{IdType, PersonalId},
    serial::CertificateSerial,
};
use crate::{on_pool, on_tx};
use chrono::NaiveDate;

/// Inserts or updates by serial.
pub async fn upsert(tx: &mut Tx, c: &Certificate, at: i64) -> DbResult<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into certificates (serial, holder_name, holder_id_type, holder_id_number, \
                cert_type, valid_from, valid_to, status, created_at, updated_at) \
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
            on conflict (serial) do update \
            set holder_name = excluded.holder_name, holder_id_type = excluded.holder_id_type, \
                holder_id_number = excluded.holder_id_number, cert_type = excluded.cert_type, \
                valid_from = excluded.valid_from, valid_to = excluded.valid_to, status = \
                excluded.status, updated_at = excluded.updated_at",
        )
        .bind(c.serial.as_str())
        .bind(&c.holder_name)
        .bind(c.holder.id_type().code())
        .bind(c.holder.number())
        .bind(&c.cert_type)
        .bind(c.valid_from.to_string())
        .bind(c.valid_to.to_string())
        .bind(c.status.code())
        .bind(at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CertRow {
    serial: String,
    holder_name: String,
    holder_id_type: String,
    holder_id_number: String,
    cert_type: String,
    valid_from: String,
    valid_to: String,
    status: String,
}

impl CertRow {
    fn into_certificate(self) -> Option<Certificate> {
        let id_type = IdType::parse(&self.holder_id_type)?;
        Some(Certificate {
            serial: CertificateSerial::parse(&self.serial).ok()?,
            holder_name: self.holder_name,
            holder: PersonalId::parse(id_type, &self.holder_id_number).ok()?,
            cert_type: self.cert_type,
            valid_from: NaiveDate::parse_from_str(&self.valid_from, "%Y-%m-%d").ok()?,
            valid_to: NaiveDate::parse_from_str(&self.valid_to, "%Y-%m-%d").ok()?,
            status: CertStatus::parse(&self.status)?,
        })
    }
}

const SELECT: &str = "select serial, holder_name, holder_id_type, holder_id_number, cert_type, \
        valid_from, valid_to, status \
    from certificates \
    where serial = $1";

impl Storage {
    pub async fn certificate(&self, serial: &CertificateSerial) -> DbResult<Option<Certificate>> {
        let row = on_pool!(self.read_pool(), |p| sqlx::query_as::<_, CertRow>(SELECT)
            .bind(serial.as_str())
            .fetch_optional(p)
            .await)?;
        Ok(row.and_then(CertRow::into_certificate))
    }

    pub async fn certificate_count(&self) -> DbResult<i64> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from certificates"
        )
        .fetch_one(p)
        .await)
    }
}

/// The registry entry, read inside a transaction (the intake's registry check).
pub async fn find(tx: &mut Tx, serial: &CertificateSerial) -> DbResult<Option<Certificate>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, CertRow>(SELECT)
        .bind(serial.as_str())
        .fetch_optional(c)
        .await)?;
    Ok(row.and_then(CertRow::into_certificate))
}
