//! All SQL lives here. One `Storage` over SQLite or PostgreSQL; the SQL is written once in the
//! dialect both share, and `on_pool!` / `on_tx!` / `on_exec!` expand the same body into each
//! backend's arm.

use sqlx::{
    Postgres, Sqlite,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{str::FromStr, time::Duration};

pub mod applications;
pub mod assignment;
pub mod audit;
mod audit_batch;
mod audit_verify;
pub mod calendar;
pub mod certificates;
pub mod expiry;
pub mod finance;
pub mod four_eyes;
pub mod fulfilment;
pub mod hotline;
pub mod idempotency;
pub mod import_jobs;
pub mod invoice_lists;
pub mod invoices;
pub mod job_runs;
pub mod mentions;
pub mod metrics;
pub mod outbox;
pub mod paging;
pub mod pauses;
pub mod policies;
pub mod prechecks;
pub mod quality;
pub mod queue;
pub mod reasons;
pub mod retention;
/// The lost certificates queued for revocation and the CRLs read.
pub mod revocations;
pub mod saved_views;
pub mod scan_files;
pub mod scan_pages;
pub mod sessions;
pub mod sla;
pub mod staff;
pub mod summary;
pub mod supervision;
#[cfg(any(test, feature = "bench-support"))]
pub mod synthetic;
pub mod tokens;
pub mod types;
pub mod webhooks;

pub type DbResult<T> = Result<T, sqlx::Error>;

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A write transaction on whichever backend is live.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one sqlx expression against a pool; each arm is type-checked against its own driver.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::storage::Pool::Sqlite($p) => $body,
            $crate::storage::Pool::Postgres($p) => $body,
        }
    };
}

/// Runs one sqlx expression inside a transaction (`$c` is the connection).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::storage::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::storage::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// What one query runs on: a pool, or an open transaction. A query that both need is written
/// once, in a function taking `impl Into<Exec>`, with [`on_exec!`].
pub enum Exec<'a> {
    Pool(&'a Pool),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Pool> for Exec<'a> {
    fn from(p: &'a Pool) -> Self {
        Exec::Pool(p)
    }
}

impl<'a> From<&'a mut Tx> for Exec<'a> {
    fn from(t: &'a mut Tx) -> Self {
        Exec::Tx(t)
    }
}

/// Runs one sqlx expression on whatever converts into an [`Exec`] (`$c` is the executor).
#[macro_export]
macro_rules! on_exec {
    ($exec:expr, |$c:ident| $body:expr) => {
        match ::core::convert::Into::<$crate::storage::Exec<'_>>::into($exec) {
            $crate::storage::Exec::Pool($crate::storage::Pool::Sqlite($c)) => $body,
            $crate::storage::Exec::Pool($crate::storage::Pool::Postgres($c)) => $body,
            $crate::storage::Exec::Tx($crate::storage::Tx::Sqlite(t)) => {
                let $c = &mut **t;
                $body
            }
            $crate::storage::Exec::Tx($crate::storage::Tx::Postgres(t)) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

#[derive(Clone, Debug)]
pub struct Storage {
    /// Readers. On PostgreSQL the same pool as `write`.
    read: Pool,
    /// Writers. On SQLite a single connection, so writers queue in the pool (async, fair)
    /// instead of spinning in SQLite's busy handler.
    write: Pool,
    /// Pause points for tests that force a race (`pauses`); never set by the application.
    pauses: std::sync::Arc<std::sync::OnceLock<pauses::Pauses>>,
    /// The group commit of views' audit records (`audit_batch`), started on first use.
    audit_writer: audit_batch::AuditWriter,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Storage {
    /// Connects (creating the SQLite file and its directory if needed). Does not migrate.
    pub async fn connect(url: &str) -> DbResult<Storage> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                // WAL: readers never block the writer; NORMAL: a commit survives a crash of the
                // process (not of the machine's power), the usual choice with WAL.
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                // Keeps the planner's statistics fresh as tables grow (PRAGMA optimize).
                .optimize_on_close(true, Some(1000));
            if let Some(dir) = opts.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts.read_only(false))
                .await?;
            Ok(Storage {
                read: Pool::Sqlite(read),
                write: Pool::Sqlite(write),
                pauses: Default::default(),
                audit_writer: Default::default(),
            })
        } else {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await?;
            Ok(Storage {
                read: Pool::Postgres(pool.clone()),
                write: Pool::Postgres(pool),
                pauses: Default::default(),
                audit_writer: Default::default(),
            })
        }
    }

    /// Applies pending migrations. On PostgreSQL sqlx holds an advisory lock meanwhile, so
    /// several instances starting at once migrate once.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match &self.write {
            Pool::Sqlite(p) => {
                SQLITE_MIGRATIONS.run(p).await?;
                // SQLite plans without statistics until ANALYZE has run; PostgreSQL's autovacuum
                // keeps its own. Analyse what has grown since the last start.
                sqlx::query("pragma analysis_limit = 1000")
                    .execute(p)
                    .await?;
                sqlx::query("pragma optimize = 0x10002").execute(p).await?;
                Ok(())
            }
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.write {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn read_pool(&self) -> &Pool {
        &self.read
    }

    pub fn write_pool(&self) -> &Pool {
        &self.write
    }

    /// The pause points of this storage and its clones, armed by a test that forces a race.
    pub fn test_pauses(&self) -> &pauses::Pauses {
        self.pauses.get_or_init(Default::default)
    }

    /// Passes a pause point: nothing unless a test armed one (`test_pauses`).
    pub(crate) async fn pause_point(&self, name: &str) {
        if let Some(p) = self.pauses.get() {
            p.pass(name).await;
        }
    }

    /// Begins a write transaction. On SQLite `begin immediate` takes the write lock up front,
    /// so another process (a CLI import) cannot make it fail half-way with SQLITE_BUSY.
    pub async fn begin(&self) -> DbResult<Tx> {
        Ok(match &self.write {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("begin immediate").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A cheap round trip, for /healthz.
    pub async fn ping(&self) -> DbResult<()> {
        on_pool!(&self.read, |p| sqlx::query("select 1")
            .execute(p)
            .await
            .map(|_| ()))
    }

    pub async fn close(&self) {
        on_pool!(&self.read, |p| p.close().await);
        on_pool!(&self.write, |p| p.close().await);
    }
}

impl Tx {
    pub async fn commit(self) -> DbResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
    pub async fn rollback(self) -> DbResult<()> {
        match self {
            Tx::Sqlite(t) => t.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
    }
}

/// What a transaction serialises on, by PostgreSQL advisory lock (sqlx's migration lock apart).
/// On SQLite every write transaction (`begin immediate` on the single writer) already excludes
/// every other, so the lock functions do nothing there.
#[derive(Clone, Copy, Debug)]
pub enum Lock<'a> {
    /// Reconciliations: two bill imports at once would each classify against what the other
    /// has not committed yet.
    Reconciliation,
    /// Invoice batch exports and issued-invoice imports.
    Invoicing,
    /// Courier batch creation and tracking imports.
    Fulfilment,
    /// Sealing the audit chain: one instance seals at a time.
    AuditSeal,
    /// Scan uploads (shared) against the sweep of unreferenced scans (exclusive).
    ScanSweep,
    /// Sign-in failures of one username: the count and the new failure are one step.
    SignIn(&'a str),
    /// Hotline identity checks of one application: the count and the check are one step.
    HotlineVerify(&'a str),
    /// Assignment by the server: the open claims counted and the claim made are one step, so
    /// two instances assigning at once cannot both fill a reviewer's last place.
    Assignment,
    /// One member's saved views: the count and the new view are one step.
    SavedViews(&'a str),
}

/// An advisory lock's key: one number, or a key space and the hash of a text key.
enum LockKey<'a> {
    One(i64),
    Two(i32, &'a str),
}

impl<'a> Lock<'a> {
    fn key(self) -> LockKey<'a> {
        match self {
            Lock::Reconciliation => LockKey::One(70_070_001),
            Lock::Invoicing => LockKey::One(70_070_002),
            Lock::Fulfilment => LockKey::One(70_070_003),
            Lock::AuditSeal => LockKey::One(70_070_010),
            Lock::ScanSweep => LockKey::One(70_070_011),
            Lock::Assignment => LockKey::One(70_070_012),
            Lock::SignIn(username) => LockKey::Two(17_001, username),
            Lock::HotlineVerify(application_id) => LockKey::Two(17_002, application_id),
            Lock::SavedViews(username) => LockKey::Two(17_003, username),
        }
    }

    /// The single-number key, for a lock taken outside a transaction (`pg_advisory_lock`).
    pub(crate) fn number(self) -> i64 {
        match self.key() {
            LockKey::One(n) => n,
            LockKey::Two(..) => unreachable!("{self:?} has a text key"),
        }
    }
}

/// Waits for `lock`, held until the transaction ends (PostgreSQL; nothing on SQLite).
pub async fn advisory_lock(tx: &mut Tx, lock: Lock<'_>) -> DbResult<()> {
    lock_in(tx, lock, "pg_advisory_xact_lock").await.map(|_| ())
}

/// Takes `lock` in shared mode until the transaction ends (PostgreSQL; nothing on SQLite).
pub async fn advisory_lock_shared(tx: &mut Tx, lock: Lock<'_>) -> DbResult<()> {
    lock_in(tx, lock, "pg_advisory_xact_lock_shared")
        .await
        .map(|_| ())
}

/// Takes `lock` until the transaction ends if nobody holds it: whether it did (always on SQLite).
pub async fn try_advisory_lock(tx: &mut Tx, lock: Lock<'_>) -> DbResult<bool> {
    lock_in(tx, lock, "pg_try_advisory_xact_lock").await
}

async fn lock_in(tx: &mut Tx, lock: Lock<'_>, function: &str) -> DbResult<bool> {
    let Tx::Postgres(t) = tx else {
        return Ok(true);
    };
    let args = match lock.key() {
        LockKey::One(_) => "$1",
        LockKey::Two(..) => "$1, hashtext($2)",
    };
    // Only the `try` functions answer; the others return void once they hold the lock.
    let sql = if function.contains("_try_") {
        format!("select {function}({args})")
    } else {
        format!("select true from (select {function}({args})) l")
    };
    let q = sqlx::query_scalar(&sql);
    let q = match lock.key() {
        LockKey::One(n) => q.bind(n),
        LockKey::Two(space, key) => q.bind(space).bind(key),
    };
    q.fetch_one(&mut **t).await
}

/// Whether an error is a unique-key violation (the same on both backends).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Milliseconds since the epoch, the storage form of every instant.
pub fn ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(v: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(v).unwrap_or_default()
}

impl Storage {
    /// A consistent copy of the SQLite database in a new file (`VACUUM INTO`: one read
    /// transaction, so writers carry on and the copy is the database as of one instant),
    /// then checked with `pragma integrity_check` on the copy. PostgreSQL: `None` (pg_dump).
    pub async fn backup_sqlite(&self, out: &std::path::Path) -> DbResult<Option<String>> {
        let Pool::Sqlite(p) = &self.read else {
            return Ok(None);
        };
        let name = out.to_str().ok_or_else(|| {
            sqlx::Error::Protocol(format!("{} is not a UTF-8 path", out.display()))
        })?;
        sqlx::query("vacuum into $1").bind(name).execute(p).await?;
        let opts = SqliteConnectOptions::new().filename(out).read_only(true);
        let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&opts).await?;
        let check: String = sqlx::query_scalar("pragma integrity_check")
            .fetch_one(&mut c)
            .await?;
        <sqlx::SqliteConnection as sqlx::Connection>::close(c).await?;
        Ok(Some(check))
    }
}
