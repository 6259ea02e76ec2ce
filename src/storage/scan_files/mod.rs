//! Scan bytes (and issued-invoice files), content-addressed by SHA-256 outside the database;
//! rows keep only the hash. One interface, `ScanBackend`, with two implementations: the local
//! file system (default) and S3-compatible object storage. `ScanStore` adds what both share:
//! hashing, verification on read, and the fence that keeps the orphan sweep from deleting an
//! object an upload is about to reference.
//!
//! The rule: an object is written before the row that references it commits, and an object no
//! row references is deleted later (`sweep`), never the reverse. The sweep bumps a generation
//! under an exclusive lock; an upload reads the generation before writing and again, under a
//! shared lock, inside the transaction that adds the reference. If a sweep ran in between, the
//! upload checks its objects are still there (and writes back any that were taken).

pub mod local;
pub mod s3;
pub mod sweep;
pub mod transfer;

use super::{DbResult, Storage, Tx};
use crate::on_pool;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use sha2::{Digest, Sha256};
use std::{fmt, io, path::PathBuf, sync::Arc};

/// What a scan store can do; keys are lowercase hex SHA-256 of the bytes.
#[async_trait]
pub trait ScanBackend: fmt::Debug + Send + Sync {
    /// Stores each file under its hash; durable when it returns.
    async fn put_many(&self, files: Vec<(String, Bytes)>) -> io::Result<()>;
    /// The stored bytes as they are (not verified), or None.
    async fn read(&self, sha256: &str) -> io::Result<Option<Bytes>>;
    async fn exists(&self, sha256: &str) -> io::Result<bool>;
    /// Deleting what is not there is not an error.
    async fn delete(&self, sha256: &str) -> io::Result<()>;
    /// Every stored object.
    fn list(&self) -> BoxStream<'static, io::Result<StoredObject>>;
    /// Where the store is, for messages (no credentials).
    fn describe(&self) -> String;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub sha256: String,
    /// Last written, epoch milliseconds.
    pub modified_ms: i64,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// Where scans live: `BACKOFFICE_SCAN_STORE` (TOML `scan_store`), a directory or `s3://bucket/prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanLocation {
    Local(PathBuf),
    S3(S3Settings),
}

/// An S3 bucket and what is needed to reach it. Credentials and region also come from the
/// standard `AWS_*` variables when these are not set.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct S3Settings {
    pub bucket: String,
    pub prefix: String,
    /// `AWS_ENDPOINT_URL` or `BACKOFFICE_S3_ENDPOINT`; none means AWS itself.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `bucket.host` instead of `host/bucket` (`AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`).
    pub virtual_hosted: bool,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("url", &self.url())
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

impl S3Settings {
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl ScanLocation {
    /// `s3://bucket[/prefix]` or a path (`file://` allowed); `env` gives endpoint, region and
    /// keys for S3.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<ScanLocation, String> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
            if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(ok) {
                return Err(format!(
                    "'{text}': the bucket name must be 3 to 63 lowercase letters, digits, '-' or \
                        '.'"
                ));
            }
            Ok(ScanLocation::S3(S3Settings {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                endpoint: env("BACKOFFICE_S3_ENDPOINT").or_else(|| env("AWS_ENDPOINT_URL")),
                region: env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")),
                access_key_id: env("AWS_ACCESS_KEY_ID"),
                secret_access_key: env("AWS_SECRET_ACCESS_KEY"),
                virtual_hosted: env("AWS_VIRTUAL_HOSTED_STYLE_REQUEST").as_deref() == Some("true"),
            }))
        } else if text.contains("://") && !text.starts_with("file://") {
            Err(format!(
                "'{text}' is neither s3://bucket/prefix nor a directory"
            ))
        } else if text.is_empty() {
            Err("the scan store is empty".into())
        } else {
            Ok(ScanLocation::Local(PathBuf::from(
                text.strip_prefix("file://").unwrap_or(text),
            )))
        }
    }
}

#[derive(Clone, Debug)]
pub struct ScanStore {
    backend: Arc<dyn ScanBackend>,
}

/// Files written to the store and not yet referenced: confirm them inside the transaction
/// that references them.
pub struct Staged {
    store: ScanStore,
    generation: i64,
    files: Vec<(String, Bytes)>,
}

impl ScanStore {
    pub fn local(dir: impl Into<PathBuf>) -> io::Result<ScanStore> {
        Ok(ScanStore {
            backend: Arc::new(Arc::new(local::LocalScans::open(dir)?)),
        })
    }

    pub fn s3(s: &S3Settings) -> io::Result<ScanStore> {
        Ok(ScanStore {
            backend: Arc::new(Arc::new(s3::S3Scans::open(s)?)),
        })
    }

    pub fn open(at: &ScanLocation) -> io::Result<ScanStore> {
        match at {
            ScanLocation::Local(dir) => Self::local(dir),
            ScanLocation::S3(s) => Self::s3(s),
        }
    }

    pub fn backend(&self) -> &dyn ScanBackend {
        &*self.backend
    }

    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// The SHA-256 of each file, computed off the async workers.
    pub async fn hash_all(files: Vec<Bytes>) -> io::Result<(Vec<Bytes>, Vec<String>)> {
        tokio::task::spawn_blocking(move || {
            let shas = files.iter().map(|f| sha256_hex(f)).collect();
            (files, shas)
        })
        .await
        .map_err(io::Error::other)
    }

    /// Stores files under their (already computed) hashes. Durable when it returns.
    pub async fn write_all(&self, files: Vec<(String, Bytes)>) -> io::Result<()> {
        self.backend.put_many(files).await
    }

    /// Reads the sweep generation, then writes: what `Staged::confirm` needs.
    pub async fn stage(
        &self,
        storage: &Storage,
        files: Vec<(String, Bytes)>,
    ) -> io::Result<Staged> {
        let generation = sweep_generation(storage.read_pool())
            .await
            .map_err(io::Error::other)?;
        self.write_all(files.clone()).await?;
        Ok(Staged {
            store: self.clone(),
            generation,
            files,
        })
    }

    /// Hashes and stores each file; returns the hashes in order.
    pub async fn put_all(&self, files: Vec<Bytes>) -> io::Result<Vec<String>> {
        let (files, shas) = Self::hash_all(files).await?;
        self.write_all(shas.iter().cloned().zip(files).collect())
            .await?;
        Ok(shas)
    }

    /// The bytes stored under `sha256`, checked against it: a changed object is an error,
    /// never served.
    pub async fn get(&self, sha256: &str) -> io::Result<Bytes> {
        let bytes = self.backend.read(sha256).await?.ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("scan {sha256} is missing"))
        })?;
        let ok = {
            let b = bytes.clone();
            let want = sha256.to_owned();
            tokio::task::spawn_blocking(move || sha256_hex(&b) == want)
                .await
                .map_err(io::Error::other)?
        };
        if !ok {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("scan {sha256} is corrupt"),
            ));
        }
        Ok(bytes)
    }
}

impl Staged {
    /// Inside the transaction that adds the references: if a sweep ran since the files were
    /// written, writes back any it took. After this, no sweep can take them before the commit.
    pub async fn confirm(self, tx: &mut Tx) -> io::Result<()> {
        let now = lock_shared_and_read(tx).await.map_err(io::Error::other)?;
        if now == self.generation {
            return Ok(());
        }
        let mut missing = Vec::new();
        for (sha, bytes) in self.files {
            if !self.store.backend.exists(&sha).await? {
                missing.push((sha, bytes));
            }
        }
        if !missing.is_empty() {
            tracing::warn!(
                objects = missing.len(),
                "a sweep took staged scans; writing them again"
            );
            self.store.write_all(missing).await?;
        }
        Ok(())
    }
}

async fn sweep_generation(e: impl Into<super::Exec<'_>>) -> DbResult<i64> {
    crate::on_exec!(e, |c| sqlx::query_scalar::<_, i64>(
        "select generation from scan_sweeps where singleton = 1"
    )
    .fetch_one(c)
    .await)
}

async fn lock_shared_and_read(tx: &mut Tx) -> DbResult<i64> {
    // Uploads hold the sweep's lock shared, the sweep exclusive (`Lock::ScanSweep`).
    super::advisory_lock_shared(tx, super::Lock::ScanSweep).await?;
    sweep_generation(tx).await
}

/// The sweep's side of the fence, held while it checks references and deletes: the
/// exclusive lock, and a new generation that is committed before anything is deleted.
pub struct SweepLock(SweepConn);

enum SweepConn {
    /// `begin immediate`: no other writer until it ends. A failed commit after deletions would
    /// lose the bump, but then the database itself is failing (disk full, I/O error).
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// A session-level lock on a connection of its own, so the bump commits at once.
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl SweepLock {
    pub async fn take(storage: &Storage) -> DbResult<SweepLock> {
        const BUMP: &str = "update scan_sweeps set generation = generation + 1 where singleton = 1";
        Ok(SweepLock(match &storage.write {
            super::Pool::Sqlite(p) => {
                let mut t = p.begin_with("begin immediate").await?;
                sqlx::query(BUMP).execute(&mut *t).await?;
                SweepConn::Sqlite(t)
            }
            super::Pool::Postgres(p) => {
                let mut c = p.acquire().await?;
                // However the sweep ends (an error, a dropped task), the session and its lock end.
                c.close_on_drop();
                sqlx::query("select pg_advisory_lock($1)")
                    .bind(super::Lock::ScanSweep.number())
                    .execute(&mut *c)
                    .await?;
                sqlx::query(BUMP).execute(&mut *c).await?;
                SweepConn::Postgres(c)
            }
        }))
    }

    /// Which of `shas` a row references: an application's scan, an issued invoice's file, or a
    /// page image of a scan an application references.
    pub async fn referenced(&mut self, shas: &[String]) -> DbResult<Vec<String>> {
        if shas.is_empty() {
            return Ok(Vec::new());
        }
        let list = (1..=shas.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "select sha256 \
            from application_scans \
            where sha256 in ({list}) \
            union select file_sha256 \
            from issued_invoices \
            where file_sha256 in ({list}) \
            union select png_sha256 \
            from scan_pages \
            where png_sha256 in ({list}) and scan_sha256 in (select sha256 from application_scans)"
        );
        macro_rules! run {
            ($c:expr) => {{
                let mut q = sqlx::query_scalar::<_, String>(&sql);
                for s in shas {
                    q = q.bind(s);
                }
                q.fetch_all($c).await
            }};
        }
        match &mut self.0 {
            SweepConn::Sqlite(t) => run!(&mut **t),
            SweepConn::Postgres(c) => run!(&mut **c),
        }
    }

    pub async fn release(self) -> DbResult<()> {
        match self.0 {
            SweepConn::Sqlite(t) => t.commit().await,
            // Closing the connection ends its session and so the lock.
            SweepConn::Postgres(c) => c.close().await,
        }
    }
}

/// Every hash a row references, in order, `limit` after `after` (for the move command).
pub async fn referenced_page(storage: &Storage, after: &str, limit: i64) -> DbResult<Vec<String>> {
    on_pool!(storage.read_pool(), |p| sqlx::query_scalar::<_, String>(
        "select sha256 \
        from ( select sha256 from application_scans where sha256 > $1 union select file_sha256 \
            from issued_invoices where file_sha256 > $1 union select png_sha256 from scan_pages \
            where png_sha256 > $1 and scan_sha256 in (select sha256 from application_scans) ) r \
        order by sha256 \
        limit $2"
    )
    .bind(after)
    .bind(limit)
    .fetch_all(p)
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_and_get_verify_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = ScanStore::local(dir.path()).unwrap();
        let shas = store
            .put_all(vec![Bytes::from_static(b"one"), Bytes::from_static(b"one")])
            .await
            .unwrap();
        assert_eq!(shas[0], shas[1]);
        assert_eq!(store.get(&shas[0]).await.unwrap(), &b"one"[..]);
        // A file changed on disk is refused, not served.
        std::fs::write(dir.path().join(&shas[0][..2]).join(&shas[0]), b"two").unwrap();
        assert!(store.get(&shas[0]).await.is_err());
        assert!(store.get("../../etc/passwd").await.is_err());
    }

    #[test]
    fn locations_parse() {
        let env = |k: &str| (k == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:9000".to_owned());
        let ScanLocation::S3(s) = ScanLocation::parse("s3://scans-ca/prod/", env).unwrap() else {
            panic!("not s3");
        };
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("scans-ca", "prod"));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s.url(), "s3://scans-ca/prod");
        assert_eq!(
            ScanLocation::parse("/srv/scans", |_| None).unwrap(),
            ScanLocation::Local("/srv/scans".into())
        );
        assert!(ScanLocation::parse("s3://A_b/x", |_| None).is_err());
        assert!(ScanLocation::parse("gs://b/x", |_| None).is_err());
        let secret = S3Settings {
            secret_access_key: Some("hunter2".into()),
            ..Default::default()
        };
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
