//! The queue of lost certificates to revoke (`revocations`) and the CRLs read (`crl_imports`).

use super::{DbResult, Storage, Tx};
use crate::domain::ids::ApplicationId;
use crate::{on_pool, on_tx};

/// Queues the application's lost certificate for revocation (keyCompromise), once; part of the
/// acceptance's transaction.
pub async fn queue(tx: &mut Tx, application_id: &ApplicationId, at: i64) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into revocations (application_id, serial, serial_key, queued_at, created_at, \
            updated_at) \
        select application_id, certificate_serial, ltrim(upper(certificate_serial), '0'), $2, $2, $2 \
        from applications where application_id = $1 \
        on conflict (application_id) do nothing",
    )
    .bind(application_id)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A queued serial, as a CRL is matched against it.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct Queued {
    pub revocation_id: i64,
    pub application_id: ApplicationId,
    pub serial: String,
    pub serial_key: String,
    pub row_version: i64,
}

pub async fn queued(tx: &mut Tx) -> DbResult<Vec<Queued>> {
    on_tx!(tx, |c| sqlx::query_as::<_, Queued>(
        "select revocation_id, application_id, serial, serial_key, row_version \
        from revocations where state = 'queued' order by revocation_id"
    )
    .fetch_all(c)
    .await)
}

/// Marks a queued serial revoked as the CRL says; false when someone else changed it first.
pub async fn mark_revoked(
    tx: &mut Tx,
    q: &Queued,
    revoked_at: i64,
    reason: Option<&str>,
    crl_import_id: i64,
    at: i64,
) -> DbResult<bool> {
    let r = on_tx!(tx, |c| sqlx::query(
        "update revocations set state = 'revoked', revoked_at = $1, crl_reason = $2, \
            crl_import_id = $3, row_version = row_version + 1, updated_at = $4 \
        where revocation_id = $5 and row_version = $6 and state = 'queued'"
    )
    .bind(revoked_at)
    .bind(reason)
    .bind(crl_import_id)
    .bind(at)
    .bind(q.revocation_id)
    .bind(q.row_version)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(r == 1)
}

/// The registry's entry of a revoked serial says so.
pub async fn registry_revoked(tx: &mut Tx, serial: &str, at: i64) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "update certificates set status = 'revoked', updated_at = $2 where serial = $1"
    )
    .bind(serial)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub struct NewCrlImport<'a> {
    pub issuer: &'a str,
    pub this_update: i64,
    pub next_update: i64,
    pub crl_number: Option<&'a str>,
    pub entries: i64,
    pub sha256: &'a str,
    pub source: &'a str,
    pub by: &'a str,
    pub at: i64,
}

pub async fn insert_crl_import(tx: &mut Tx, n: &NewCrlImport<'_>) -> DbResult<i64> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "insert into crl_imports (issuer, this_update, next_update, crl_number, entries, \
            matched, sha256, source, imported_by, imported_at) \
        values ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9) returning crl_import_id"
    )
    .bind(n.issuer)
    .bind(n.this_update)
    .bind(n.next_update)
    .bind(n.crl_number)
    .bind(n.entries)
    .bind(n.sha256)
    .bind(n.source)
    .bind(n.by)
    .bind(n.at)
    .fetch_one(c)
    .await)
}

pub async fn set_matched(tx: &mut Tx, crl_import_id: i64, matched: i64) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "update crl_imports set matched = $1 where crl_import_id = $2"
    )
    .bind(matched)
    .bind(crl_import_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A supervisor lets a queued application ship before its revocation; false when it is not
/// queued (revoked meanwhile), already overridden, or changed since `row_version`.
pub async fn override_gate(
    tx: &mut Tx,
    application_id: &ApplicationId,
    row_version: i64,
    by: &str,
    reason: &str,
    at: i64,
) -> DbResult<bool> {
    let r = on_tx!(tx, |c| sqlx::query(
        "update revocations set override_by = $1, override_reason = $2, override_at = $3, \
            row_version = row_version + 1, updated_at = $3 \
        where application_id = $4 and row_version = $5 and state = 'queued' \
            and override_at is null"
    )
    .bind(by)
    .bind(reason)
    .bind(at)
    .bind(application_id)
    .bind(row_version)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(r == 1)
}

/// The applications among `ids` whose lost certificate is queued, not revoked and not
/// overridden, with its serial: the courier batch's gate.
pub async fn held(tx: &mut Tx, ids: &[ApplicationId]) -> DbResult<Vec<(ApplicationId, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(400) {
        let sql = format!(
            "select application_id, serial from revocations \
            where state = 'queued' and override_at is null and application_id in ({}) \
            order by application_id",
            super::finance::placeholders(1, chunk.len())
        );
        let rows: Vec<(ApplicationId, String)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as::<_, (ApplicationId, String)>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// A row of the CA operator's page and export.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct RevocationRow {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub status: String,
    pub serial: String,
    pub reason: String,
    pub state: String,
    pub queued_at: i64,
    pub revoked_at: Option<i64>,
    pub crl_reason: Option<String>,
    pub override_by: Option<String>,
    pub override_reason: Option<String>,
    pub row_version: i64,
}

/// A CRL read, for the page.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct CrlImportRow {
    pub crl_import_id: i64,
    pub issuer: String,
    pub this_update: i64,
    pub next_update: i64,
    pub crl_number: Option<String>,
    pub entries: i64,
    pub matched: i64,
    pub source: String,
    pub imported_by: String,
    pub imported_at: i64,
}

const ROWS: &str = "select r.application_id, a.hall_reference, a.status, r.serial, r.reason, \
        r.state, r.queued_at, r.revoked_at, r.crl_reason, r.override_by, r.override_reason, \
        r.row_version \
    from revocations r join applications a on a.application_id = r.application_id";

impl Storage {
    /// Queued serials (oldest first), or the latest revoked; at most `limit`.
    pub async fn revocations(&self, queued: bool, limit: i64) -> DbResult<Vec<RevocationRow>> {
        let sql = if queued {
            format!(
                "{ROWS} where r.state = 'queued' order by r.queued_at, r.revocation_id limit $1"
            )
        } else {
            format!(
                "{ROWS} where r.state = 'revoked' order by r.updated_at desc, r.revocation_id desc limit $1"
            )
        };
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, RevocationRow>(
            &sql
        )
        .bind(limit)
        .fetch_all(p)
        .await)
    }

    pub async fn revocation_of(
        &self,
        application_id: &ApplicationId,
    ) -> DbResult<Option<RevocationRow>> {
        let sql = format!("{ROWS} where r.application_id = $1");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, RevocationRow>(
            &sql
        )
        .bind(application_id)
        .fetch_optional(p)
        .await)
    }

    pub async fn revocations_queued_count(&self) -> DbResult<i64> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from revocations where state = 'queued'"
        )
        .fetch_one(p)
        .await)
    }

    /// The SHA-256 of the CRL last imported.
    pub async fn latest_crl_sha256(&self) -> DbResult<Option<String>> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, String>(
            "select sha256 from crl_imports order by crl_import_id desc limit 1"
        )
        .fetch_optional(p)
        .await)
    }

    pub async fn crl_imports_recent(&self, limit: i64) -> DbResult<Vec<CrlImportRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, CrlImportRow>(
            "select crl_import_id, issuer, this_update, next_update, crl_number, entries, \
                matched, source, imported_by, imported_at \
            from crl_imports order by crl_import_id desc limit $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await)
    }
}
