//! The audit log: append-only and hash-chained. Appends are serialised (a process lock, and on
//! PostgreSQL a transaction-scoped advisory lock) so the chain never forks across nodes.

use async_trait::async_trait;

use super::{Pool, SqlStore, db_err, on, on_write};
use crate::clock::UnixTime;
use crate::store::{AuditRecord, AuditStore, ChainLink, StoreResult};

const COLS: &str = "seq, at, actor, action, subject, client_id, detail, ip, prev_hash, hash";
type Row = (
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

fn record(r: Row) -> AuditRecord {
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

const LAST_HASH: &str = "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1";
const INSERT: &str = "INSERT INTO audit_log (at, actor, action, subject, client_id, detail, ip, \
     prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING seq";
/// Any fixed number: the advisory lock that serialises audit appends on PostgreSQL.
const AUDIT_LOCK: i64 = 0x6569_6470_6175;

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, rec: &AuditRecord, link: ChainLink<'_>) -> StoreResult<i64> {
        let _guard = self.audit_lock.lock().await;
        // A macro, not a closure: the statement is built for each engine's own types.
        macro_rules! insert {
            ($prev:expr) => {{
                let prev: Vec<u8> = $prev;
                let hash = link(&prev, rec);
                sqlx::query_as::<_, (i64,)>(INSERT)
                    .bind(rec.at)
                    .bind(rec.actor.clone())
                    .bind(rec.action.clone())
                    .bind(rec.subject.clone())
                    .bind(rec.client_id.clone())
                    .bind(rec.detail.clone())
                    .bind(rec.ip.clone())
                    .bind(prev)
                    .bind(hash)
            }};
        }
        let genesis = || vec![0u8; 32];
        let seq = match &self.pool {
            // SQLite serves one node: the process lock alone keeps the chain straight, and
            // plain statements avoid upgrading a read transaction (SQLITE_BUSY_SNAPSHOT).
            Pool::Sqlite(reader) => {
                let p = self.sqlite_writer.as_ref().unwrap_or(reader);
                async {
                    let prev: Option<(Vec<u8>,)> =
                        sqlx::query_as(LAST_HASH).fetch_optional(p).await?;
                    insert!(prev.map(|p| p.0).unwrap_or_else(genesis))
                        .fetch_one(p)
                        .await
                }
                .await
            }
            Pool::Postgres(p) => {
                async {
                    let mut tx = p.begin().await?;
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(AUDIT_LOCK)
                        .execute(&mut *tx)
                        .await?;
                    let prev: Option<(Vec<u8>,)> =
                        sqlx::query_as(LAST_HASH).fetch_optional(&mut *tx).await?;
                    let row = insert!(prev.map(|p| p.0).unwrap_or_else(genesis))
                        .fetch_one(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(row)
                }
                .await
            }
        }
        .map_err(db_err)?;
        Ok(seq.0)
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
