//! The audit log: append-only and hash-chained. The chain cannot fork: each entry takes the
//! position (`seq`) after the head its writer read, and the primary key lets no two entries
//! take the same one, whoever writes (migration 0021; before, a unique index on `prev_hash`).
//! Appends within a process go one at a time after the head the last one left; on PostgreSQL
//! each also holds a transaction-scoped advisory lock, so nodes take turns rather than retry.
//! Appends that queue while one is written go together in one transaction (`audit_batch.rs`).

use std::time::Duration;

use async_trait::async_trait;

use super::{Pool, SqlStore, db_err, on, on_write};
use crate::clock::UnixTime;
use crate::store::{AuditRecord, AuditStore, ChainLink, Entry, StoreError, StoreResult};

pub(super) const COLS: &str =
    "seq, at, actor, action, subject, client_id, detail, ip, prev_hash, hash";
pub(super) type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Vec<u8>,
    Vec<u8>,
);

pub(super) fn record(r: Row) -> AuditRecord {
    AuditRecord {
        seq: r.0,
        at: r.1,
        actor: r.2,
        action: r.3,
        subject: r.4,
        client_id: r.5,
        detail: r.6,
        ip: r.7,
        prev_hash: r.8,
        hash: r.9,
    }
}

/// An entry of the chain as the next one needs it: its position and its hash.
pub(super) type Link = (i64, Vec<u8>);

pub(super) const LAST: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
const INSERT: &str = "INSERT INTO audit_log (seq, at, actor, action, subject, client_id, detail, \
     ip, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)";
/// PostgreSQL: the same insert, holding the chain's advisory lock until it commits. Every
/// append takes the lock, so the slow path (`append_at_head`) always finds the head it read
/// still the head when it inserts.
const INSERT_LOCKED: &str = "INSERT INTO audit_log (seq, at, actor, action, subject, client_id, \
     detail, ip, prev_hash, hash) SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10 \
     FROM (SELECT pg_advisory_xact_lock($11)) AS chain";
/// Any fixed number: the advisory lock that serialises audit appends on PostgreSQL.
pub(super) const AUDIT_LOCK: i64 = 0x6569_6470_6175;
/// How long a remembered head is trusted. Only retention could fool the chain's positions (a
/// head whose successor has been pruned), and retention removes entries five years old.
pub(super) const HEAD_KEPT: Duration = Duration::from_secs(3600);
/// SQLite: how often to read the head again when another process keeps appending first.
pub(super) const SQLITE_TRIES: usize = 16;

/// Before the first entry: position 0, a hash of zeros.
pub(super) fn genesis() -> Link {
    (0, vec![0u8; 32])
}

/// The insert, for each engine's own types (a macro, not a function: the query's type differs).
macro_rules! insert_row {
    ($sql:expr, $seq:expr, $rec:expr, $prev:expr, $hash:expr) => {
        sqlx::query($sql)
            .bind($seq)
            .bind($rec.at)
            .bind($rec.actor.clone())
            .bind($rec.action.clone())
            .bind($rec.subject.clone())
            .bind($rec.client_id.clone())
            .bind($rec.detail.clone())
            .bind($rec.ip.clone())
            .bind($prev)
            .bind($hash)
    };
}

/// Append `entry` on SQLite's `conn` inside the write transaction it holds (a bulk load's,
/// `bulk.rs`), after the head as that transaction sees it: holding the write lock, it sees
/// the head. This process's remembered head may be left behind; its next append finds the
/// position taken and reads the head again, as after another process's append.
pub(super) async fn append_in(
    conn: &mut sqlx::SqliteConnection,
    entry: Entry<'_>,
) -> Result<i64, sqlx::Error> {
    let prev: Option<Link> = sqlx::query_as(LAST).fetch_optional(&mut *conn).await?;
    let prev = prev.unwrap_or_else(genesis);
    let hash = (entry.link)(&prev.1, entry.record);
    let seq = prev.0 + 1;
    insert_row!(INSERT, seq, entry.record, &prev.1, &hash)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// Another writer took the position (or the key) first.
pub(super) fn lost_race(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl SqlStore {
    /// One INSERT after `prev`: `Ok(None)` if `prev` is no longer the head (its successor's
    /// position is taken).
    pub(super) async fn insert_after(
        &self,
        rec: &AuditRecord,
        prev: &Link,
        hash: &[u8],
    ) -> StoreResult<Option<i64>> {
        let seq = prev.0 + 1;
        let done = match &self.pool {
            Pool::Sqlite(reader) => {
                let p = self.sqlite_writer.as_ref().unwrap_or(reader);
                insert_row!(INSERT, seq, rec, &prev.1, hash)
                    .execute(p)
                    .await
                    .map(|_| ())
            }
            Pool::Postgres(p) => insert_row!(INSERT_LOCKED, seq, rec, &prev.1, hash)
                .bind(AUDIT_LOCK)
                .execute(p)
                .await
                .map(|_| ()),
        };
        match done {
            Ok(_) => Ok(Some(seq)),
            Err(e) if lost_race(&e) => Ok(None),
            Err(e) => Err(db_err(e)),
        }
    }

    /// Read the head and append after it. On PostgreSQL under the chain's lock, in one
    /// transaction, so it cannot lose; SQLite serves one node, where only a CLI command beside
    /// the server can slip in, so read-and-insert is simply tried again.
    pub(super) async fn append_at_head(
        &self,
        rec: &AuditRecord,
        link: ChainLink<'_>,
    ) -> StoreResult<Link> {
        match &self.pool {
            Pool::Sqlite(reader) => {
                let p = self.sqlite_writer.as_ref().unwrap_or(reader);
                for _ in 0..SQLITE_TRIES {
                    let prev: Option<Link> = sqlx::query_as(LAST)
                        .fetch_optional(p)
                        .await
                        .map_err(db_err)?;
                    let prev = prev.unwrap_or_else(genesis);
                    let hash = link(&prev.1, rec);
                    if let Some(seq) = self.insert_after(rec, &prev, &hash).await? {
                        return Ok((seq, hash));
                    }
                }
                Err(StoreError::Conflict(
                    "the audit log kept moving under this append".into(),
                ))
            }
            Pool::Postgres(p) => async {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(AUDIT_LOCK)
                    .execute(&mut *tx)
                    .await?;
                let prev: Option<Link> = sqlx::query_as(LAST).fetch_optional(&mut *tx).await?;
                let prev = prev.unwrap_or_else(genesis);
                let hash = link(&prev.1, rec);
                let seq = prev.0 + 1;
                insert_row!(INSERT, seq, rec, &prev.1, &hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok((seq, hash))
            }
            .await
            .map_err(db_err),
        }
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    /// Queued and group-committed (`audit_batch.rs`); alone, one INSERT after the head this
    /// process left last time: one round trip where a locked read-then-insert took five. If
    /// someone else appended since, the position is taken and the head is read again.
    async fn append_audit(&self, rec: &AuditRecord, link: ChainLink<'_>) -> StoreResult<i64> {
        self.append_grouped(rec, link).await
    }

    async fn audit_for_subject(
        &self,
        subject: &str,
        since: UnixTime,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT {COLS} FROM audit_log WHERE subject = $1 AND at >= $2 ORDER BY seq DESC LIMIT $3"
        );
        let rows = on!(self, |p| sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(subject)
        .bind(since)
        .bind(limit)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(record).collect())
    }

    async fn audit_since(&self, since: UnixTime, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        let sql = format!("SELECT {COLS} FROM audit_log WHERE at >= $1 ORDER BY seq LIMIT $2");
        let rows = on!(self, |p| sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(since)
        .bind(limit)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(record).collect())
    }

    async fn prune_audit(&self, before: UnixTime) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM audit_log WHERE at < $1";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(before)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err))
    }
}
