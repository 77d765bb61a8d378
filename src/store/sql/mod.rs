//! The durable store on SQLite (embedded default) or PostgreSQL, with one set of SQL.
//!
//! Each query is written once and run on whichever pool is configured ([`on!`]); both engines
//! accept `$n` placeholders, `ON CONFLICT` and `RETURNING`. Columns keep types both engines
//! share (text, 64-bit integers, bytes); lists are JSON text. Migrations differ only in DDL.

mod accounts;
mod audit;
mod audit_batch;
mod backchannel;
mod batcher;
mod bulk;
mod clients;
mod consents;
mod copy_text;
mod face;
mod grants;
mod insurance;
mod keys;
mod mfa;
mod officers;
mod passkeys;
mod register;
mod register_checks;
mod rotation;
mod transfers;
mod wal;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, SqlSafeStr};

use super::{Durable, StoreError, StoreResult};

pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub struct SqlStore {
    /// Reads (and all of PostgreSQL).
    pool: Pool,
    /// SQLite's one writer: writes queue here instead of meeting SQLite's busy handler, whose
    /// sleeps made p99 spike; reads keep their own connections (WAL lets them run alongside).
    sqlite_writer: Option<SqlitePool>,
    /// The register import's own connection on a SQLite file, several batches per commit
    /// (`bulk.rs`).
    bulk: Option<bulk::Bulk>,
    /// Asks SQLite's writer to rewind the log between two of its transactions (`wal.rs`).
    wal_reset: Option<wal::Reset>,
    /// Group-committed refresh rotations (see `batcher.rs`).
    rotations: batcher::Rotations,
    /// The audit chain's head as this process's last append left it, and when; the lock also
    /// serialises this process's appends (see `audit.rs`).
    audit_head: tokio::sync::Mutex<audit_batch::Head>,
    /// Appends waiting for that lock, written together (`audit_batch.rs`).
    audit_queue: audit_batch::Queue,
}

/// Run the same statement on whichever engine backs the store.
macro_rules! on {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::sql::Pool::Sqlite($p) => $body,
            $crate::store::sql::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use on;

/// Like [`on!`], for statements that write.
macro_rules! on_write {
    ($store:expr, |$p:ident| $body:expr) => {
        match (&$store.pool, &$store.sqlite_writer) {
            (_, Some($p)) => $body,
            ($crate::store::sql::Pool::Sqlite($p), None) => $body,
            ($crate::store::sql::Pool::Postgres($p), _) => $body,
        }
    };
}
pub(crate) use on_write;

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(d.to_string()),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

pub(crate) fn to_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn from_json(s: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("list column: {e}")))
}

fn migrator(sources: &[(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = sources
        .iter()
        .map(|(version, name, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                AssertSqlSafe(*sql).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// The SQLite writer's page cache for a bulk load, and day to day (SQLite's default), in KiB
/// (negative: a size, not a page count).
const BULK_CACHE_KIB: i64 = -65_536;
const DAY_TO_DAY_CACHE_KIB: i64 = -2_000;

#[rustfmt::skip]
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "core", include_str!("../migrations/sqlite/0001_core.sql")),
    (2, "identity", include_str!("../migrations/sqlite/0002_identity.sql")),
    (3, "mfa", include_str!("../migrations/sqlite/0003_mfa.sql")),
    (4, "passkeys", include_str!("../migrations/sqlite/0004_passkeys.sql")),
    (5, "refresh rotation", include_str!("../migrations/sqlite/0005_refresh_rotation.sql")),
    (6, "refresh families", include_str!("../migrations/sqlite/0006_refresh_families.sql")),
    (7, "audit chain", include_str!("../migrations/sqlite/0007_audit_chain.sql")),
    (8, "officer credentials", include_str!("../migrations/sqlite/0008_officer_credentials.sql")),
    (9, "client policy", include_str!("../migrations/sqlite/0009_client_policy.sql")),
    (10, "consent receipts", include_str!("../migrations/sqlite/0010_consent_receipts.sql")),
    (11, "backchannel logout", include_str!("../migrations/sqlite/0011_backchannel_logout.sql")),
    (13, "verification unit", include_str!("../migrations/sqlite/0013_verification_unit.sql")),
    (14, "person content hash", include_str!("../migrations/sqlite/0014_person_content_hash.sql")),
    (15, "register cleansing", include_str!("../migrations/sqlite/0015_register_cleansing.sql")),
    (17, "fapi transfers", include_str!("../migrations/sqlite/0017_fapi_transfers.sql")),
    (18, "face checks", include_str!("../migrations/sqlite/0018_face_checks.sql")),
    (16, "insurance", include_str!("../migrations/sqlite/0016_insurance.sql")),
    (19, "aliases without rowid", include_str!("../migrations/sqlite/0019_aliases_without_rowid.sql")),
    (20, "aliases without foreign key", include_str!("../migrations/sqlite/0020_aliases_without_foreign_key.sql")),
    (21, "audit chain by position", include_str!("../migrations/sqlite/0021_audit_chain_by_position.sql")),
    (22, "verifications by person", include_str!("../migrations/sqlite/0022_verifications_by_person.sql")),
];
#[rustfmt::skip]
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "core", include_str!("../migrations/postgres/0001_core.sql")),
    (2, "identity", include_str!("../migrations/postgres/0002_identity.sql")),
    (3, "mfa", include_str!("../migrations/postgres/0003_mfa.sql")),
    (4, "passkeys", include_str!("../migrations/postgres/0004_passkeys.sql")),
    (5, "refresh rotation", include_str!("../migrations/postgres/0005_refresh_rotation.sql")),
    (6, "refresh families", include_str!("../migrations/postgres/0006_refresh_families.sql")),
    (7, "audit chain", include_str!("../migrations/postgres/0007_audit_chain.sql")),
    (8, "officer credentials", include_str!("../migrations/postgres/0008_officer_credentials.sql")),
    (9, "client policy", include_str!("../migrations/postgres/0009_client_policy.sql")),
    (10, "consent receipts", include_str!("../migrations/postgres/0010_consent_receipts.sql")),
    (11, "backchannel logout", include_str!("../migrations/postgres/0011_backchannel_logout.sql")),
    (13, "verification unit", include_str!("../migrations/postgres/0013_verification_unit.sql")),
    (14, "person content hash", include_str!("../migrations/postgres/0014_person_content_hash.sql")),
    (15, "register cleansing", include_str!("../migrations/postgres/0015_register_cleansing.sql")),
    (17, "fapi transfers", include_str!("../migrations/postgres/0017_fapi_transfers.sql")),
    (18, "face checks", include_str!("../migrations/postgres/0018_face_checks.sql")),
    (16, "insurance", include_str!("../migrations/postgres/0016_insurance.sql")),
    (19, "aliases without rowid", include_str!("../migrations/postgres/0019_aliases_without_rowid.sql")),
    (20, "aliases without foreign key", include_str!("../migrations/postgres/0020_aliases_without_foreign_key.sql")),
    (21, "audit chain by position", include_str!("../migrations/postgres/0021_audit_chain_by_position.sql")),
    (22, "verifications by person", include_str!("../migrations/postgres/0022_verifications_by_person.sql")),
];

/// PostgreSQL pool settings. sqlx pings every connection before handing it out: one more
/// round trip per statement. A connection used within the last second is alive; one idle
/// longer (possibly across a failover) is still checked, and replaced if dead.
fn pg_pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for < Duration::from_secs(1) {
                    return Ok(true);
                }
                sqlx::Connection::ping(conn).await.map(|()| true)
            })
        })
}

/// The rotation workers' own connections. Their statement's VALUES list of parameters made
/// PostgreSQL plan it afresh on every execution (custom plans): ~15 % of its CPU per rotation
/// (83–87 → 69–74 µs measured). Every rotation has the same shape, lookups by primary key, so
/// one generic plan serves them all.
fn pg_rotation_pool(opts: PgConnectOptions) -> PgPool {
    pg_pool_options(batcher::POSTGRES_WORKERS)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query("SET plan_cache_mode = force_generic_plan")
                    .execute(conn)
                    .await
                    .map(|_| ())
            })
        })
        .connect_lazy_with(opts)
}

impl SqlStore {
    /// Connect and apply migrations. On PostgreSQL the migrator holds an advisory lock, so
    /// several nodes starting at once apply each migration exactly once.
    pub async fn connect(url: &str) -> StoreResult<SqlStore> {
        let mut sqlite_writer = None;
        let mut store_reset = None;
        let mut bulk = None;
        let rotation_writer;
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(db_err)?;
            let pool = pg_pool_options(16)
                .connect_with(opts.clone())
                .await
                .map_err(db_err)?;
            rotation_writer = batcher::Writer::Postgres(pg_rotation_pool(opts));
            migrator(POSTGRES_MIGRATIONS)
                .run(&pool)
                .await
                .map_err(|e| StoreError::Other(e.to_string()))?;
            Pool::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            create_parent_dir(url)?;
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(db_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            // WAL with synchronous=NORMAL: a commit is durable against a crash of the process
            // without an fsync per commit (SQLite's recommended pairing for WAL).
            let opts = opts.synchronous(SqliteSynchronous::Normal);
            let in_memory = url.contains(":memory:");
            // With a file, the checkpointer below does the checkpoints (0 = none on commit).
            let writer_autocheckpoint = if in_memory { "1000" } else { "0" };
            // The writer's page cache stays SQLite's 2 MiB: it is raised only for bulk loads
            // (`bulk_writer`); the register import's own connection has 64 MiB (`bulk.rs`).
            let writer_opts = opts
                .clone()
                .pragma("wal_autocheckpoint", writer_autocheckpoint);
            let writer = sqlite_pool(1, writer_opts.clone()).await?;
            migrator(SQLITE_MIGRATIONS)
                .run(&writer)
                .await
                .map_err(|e| StoreError::Other(e.to_string()))?;
            let wal_reset = wal::Reset::default();
            rotation_writer = batcher::Writer::Sqlite(writer.clone(), wal_reset.clone());
            if in_memory {
                // One connection is the whole in-memory database: it must serve reads too.
                Pool::Sqlite(writer)
            } else {
                // Rows cross from a connection's thread in a bounded channel: 50 (the default)
                // made a million-row scan wait on a wake-up every few rows.
                let readers = sqlite_pool(4, opts.clone().row_buffer_size(1024)).await?;
                wal::spawn_checkpointer(sqlite_pool(1, opts).await?, wal_reset.clone());
                let cache = BULK_CACHE_KIB.to_string();
                bulk = Some(bulk::Bulk::new(writer_opts.pragma("cache_size", cache)));
                store_reset = Some(wal_reset);
                sqlite_writer = Some(writer);
                Pool::Sqlite(readers)
            }
        } else {
            return Err(StoreError::Other(format!(
                "database URL must start with sqlite: or postgres:// (got {:?})",
                url.split(':').next().unwrap_or_default()
            )));
        };
        Ok(SqlStore {
            pool,
            rotations: batcher::Rotations::start(rotation_writer),
            sqlite_writer,
            bulk,
            wal_reset: store_reset,
            audit_head: tokio::sync::Mutex::new(None),
            audit_queue: audit_batch::Queue::default(),
        })
    }

    /// SQLite's writer for a bulk load on the pool's writer (an insurance import batch; a
    /// register import on an in-memory database — on a file it has its own connection,
    /// `bulk.rs`): its page cache raised to 64 MiB, so inserts at random places of a
    /// million-row table find their pages in memory, and the log rewound first if the
    /// checkpointer asks (see `wal.rs`). Set on every batch, so a connection the pool renews
    /// mid-import gets it too. Day-to-day writes keep the small default: every commit walks
    /// the page cache's hash table to drop pages past the end of the file, and at 64 MiB that
    /// walk was a fifth of the writer's time under audited look-ups.
    async fn bulk_writer(&self, reader: &SqlitePool) -> Result<SqlitePool, sqlx::Error> {
        let writer = self.sqlite_writer.clone().unwrap_or_else(|| reader.clone());
        if let Some(reset) = &self.wal_reset {
            reset.serve(&writer).await;
        }
        let sql = format!("PRAGMA cache_size = {BULK_CACHE_KIB}");
        sqlx::query(AssertSqlSafe(sql)).execute(&writer).await?;
        Ok(writer)
    }

    /// The writer's page cache back to SQLite's default once an import is over: a server that
    /// took an upload otherwise kept 64 MiB of cache on its writer, and every commit after it
    /// paid the walk `bulk_writer` describes.
    pub(super) async fn end_bulk_writer(&self) {
        let Some(writer) = &self.sqlite_writer else {
            return;
        };
        let sql = format!("PRAGMA cache_size = {DAY_TO_DAY_CACHE_KIB}");
        if let Err(e) = sqlx::query(AssertSqlSafe(sql)).execute(writer).await {
            tracing::warn!(error = %e, "the writer's page cache stays at its bulk size");
        }
    }

    pub fn engine(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on!(self, |p| p.close().await)
    }
}

/// No ping before each checkout: a local file cannot drop the connection, and the ping is one
/// more hop to the connection's thread for every statement.
async fn sqlite_pool(size: u32, opts: SqliteConnectOptions) -> StoreResult<SqlitePool> {
    SqlitePoolOptions::new()
        .max_connections(size)
        .test_before_acquire(false)
        .connect_with(opts)
        .await
        .map_err(db_err)
}

fn create_parent_dir(url: &str) -> StoreResult<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(())
}

#[async_trait]
impl Durable for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        on!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }
}
