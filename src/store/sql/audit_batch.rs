//! Group commit for audit appends. Every release of claims is audited before it happens
//! (issue #15), so UserInfo and token requests append to the chain: one commit each made the
//! chain the bottleneck. Appends now queue here, and whoever holds the chain's lock writes
//! everything queued (up to [`MAX_BATCH`]) in one transaction — each entry still linked to
//! the one before, at the next position, the primary key still refusing a fork — and hands
//! each waiter its `seq`.
//! Under light load a batch is one entry and takes the single-INSERT path as before.
//!
//! An eligibility look-up's entry says what the look-up found, so it is made from the card
//! when the batch is written: the cards of all look-ups in a batch are read in one statement
//! just before it (issue #17), where each look-up read its own card before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::oneshot;

use super::audit::{AUDIT_LOCK, HEAD_KEPT, LAST, Link, SQLITE_TRIES, genesis, lost_race};
use super::{Pool, SqlStore, db_err};
use crate::store::insurance::{CardEntry, InsuranceCardRecord};
use crate::store::{AuditRecord, ChainLink, StoreError, StoreResult};

/// At most this many entries per transaction, so one batch never holds the writer long.
pub(super) const MAX_BATCH: usize = 256;

/// An append waiting for its batch: an entry, or a look-up's entry still to be made from the
/// card of this ID number.
pub(super) enum Pending {
    Entry(AuditRecord),
    Card(String, CardEntry),
}

type Written = StoreResult<(i64, Option<InsuranceCardRecord>)>;
type Reply = oneshot::Sender<Written>;
type Waiter = (Pending, Reply);

/// Appends waiting for the chain's lock.
#[derive(Default)]
pub(super) struct Queue(Mutex<Vec<Waiter>>);

impl Queue {
    fn push(&self, w: Waiter) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(w);
    }

    fn take(&self) -> Vec<Waiter> {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = q.len().min(MAX_BATCH);
        q.drain(..n).collect()
    }
}

/// The head as this process left it: its position and hash, and when.
pub(super) type Head = Option<(Link, Instant)>;

impl SqlStore {
    /// Queue `rec`; write batches under the chain's lock until it is written.
    pub(super) async fn append_grouped(
        &self,
        rec: &AuditRecord,
        link: ChainLink<'_>,
    ) -> StoreResult<i64> {
        let (seq, _) = self
            .append_pending(Pending::Entry(rec.clone()), link)
            .await?;
        Ok(seq)
    }

    /// Queue `pending`; write batches under the chain's lock until it is written.
    pub(super) async fn append_pending(&self, pending: Pending, link: ChainLink<'_>) -> Written {
        let (tx, mut rx) = oneshot::channel();
        self.audit_queue.push((pending, tx));
        let mut head = self.audit_head.lock().await;
        loop {
            // A batch written before this one got the lock may have carried it.
            if let Ok(done) = rx.try_recv() {
                return done;
            }
            // Appends are sustained writing too: rewind the log between two batches when
            // the checkpointer asks (see `wal.rs`).
            if let (Some(reset), Some(writer)) = (&self.wal_reset, &self.sqlite_writer) {
                reset.serve(writer).await;
            }
            let batch = self.audit_queue.take();
            if batch.is_empty() {
                return Err(StoreError::Other("audit append lost from its queue".into()));
            }
            let (recs, replies) = self.make_entries(batch).await;
            let refs: Vec<&AuditRecord> = recs.iter().collect();
            let written = match refs.as_slice() {
                [] => continue,
                [one] => self.append_one(&mut head, one, link).await.map(|s| vec![s]),
                many => self.append_many(&mut head, many, link).await,
            };
            match written {
                Ok(seqs) => {
                    for ((w, card), seq) in replies.into_iter().zip(seqs) {
                        let _ = w.send(Ok((seq, card)));
                    }
                }
                Err(e) => {
                    for (w, _) in replies {
                        let _ = w.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// The batch's entries, the look-ups' made from their cards (read in one go), each with
    /// its waiter. If the cards cannot be read, the look-ups are answered with the error
    /// here and the other entries go on.
    async fn make_entries(
        &self,
        batch: Vec<Waiter>,
    ) -> (Vec<AuditRecord>, Vec<(Reply, Option<InsuranceCardRecord>)>) {
        let ids: Vec<String> = batch
            .iter()
            .filter_map(|(p, _)| match p {
                Pending::Card(id, _) => Some(id.clone()),
                Pending::Entry(_) => None,
            })
            .collect();
        let cards = match ids.is_empty() {
            true => Ok(HashMap::new()),
            false => self.cards_by_id(&ids).await,
        };
        let mut recs = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for (pending, reply) in batch {
            match (pending, &cards) {
                (Pending::Entry(rec), _) => {
                    recs.push(rec);
                    replies.push((reply, None));
                }
                (Pending::Card(id, make), Ok(found)) => {
                    let card = found.get(&id).cloned();
                    recs.push(make(card.as_ref()));
                    replies.push((reply, card));
                }
                (Pending::Card(..), Err(e)) => {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
        (recs, replies)
    }

    /// One entry: one INSERT after the remembered head, or the locked read-then-insert.
    async fn append_one(
        &self,
        head: &mut Head,
        rec: &AuditRecord,
        link: ChainLink<'_>,
    ) -> StoreResult<i64> {
        // Taken, not copied: after any failure the head is read again.
        if let Some((prev, _)) = head.take().filter(|(_, at)| at.elapsed() < HEAD_KEPT) {
            let hash = link(&prev.1, rec);
            if let Some(seq) = self.insert_after(rec, &prev, &hash).await? {
                *head = Some(((seq, hash), Instant::now()));
                return Ok(seq);
            }
        }
        let last = self.append_at_head(rec, link).await?;
        let seq = last.0;
        *head = Some((last, Instant::now()));
        Ok(seq)
    }

    /// Several entries in one transaction, chained one after the other: after the remembered
    /// head if it is still the head; else from the head read in the transaction
    /// (on PostgreSQL under the chain's advisory lock; on SQLite tried again if another
    /// process appended first).
    async fn append_many(
        &self,
        head: &mut Head,
        recs: &[&AuditRecord],
        link: ChainLink<'_>,
    ) -> StoreResult<Vec<i64>> {
        if let Some((prev, _)) = head.take().filter(|(_, at)| at.elapsed() < HEAD_KEPT) {
            let after = match &self.pool {
                Pool::Sqlite(reader) => {
                    let p = self.sqlite_writer.as_ref().unwrap_or(reader);
                    sqlite_after(p, prev, recs, link).await
                }
                Pool::Postgres(p) => postgres_after(p, prev, recs, link).await,
            };
            match after {
                Ok((seqs, last)) => {
                    *head = Some((last, Instant::now()));
                    return Ok(seqs);
                }
                Err(e) if lost_race(&e) => {}
                Err(e) => return Err(db_err(e)),
            }
        }
        let (seqs, last) = match &self.pool {
            Pool::Sqlite(reader) => {
                let p = self.sqlite_writer.as_ref().unwrap_or(reader);
                let mut tries = 0;
                loop {
                    match sqlite_batch(p, recs, link).await {
                        Err(e) if lost_race(&e) && tries < SQLITE_TRIES => tries += 1,
                        other => break other.map_err(db_err)?,
                    }
                }
            }
            Pool::Postgres(p) => postgres_batch(p, recs, link).await.map_err(db_err)?,
        };
        *head = Some((last, Instant::now()));
        Ok(seqs)
    }
}

const COLS: &str = "seq, at, actor, action, subject, client_id, detail, ip, prev_hash, hash";
const WIDTH: usize = 10;

/// `(…), (…)` for `rows` entries: plain `?` for SQLite (sqlx-sqlite looks numbered ones up by
/// name, see `register.rs`), `$n` for PostgreSQL.
fn value_groups(rows: usize, numbered: bool) -> String {
    let groups: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=WIDTH)
                .map(|c| match numbered {
                    true => format!("${}", r * WIDTH + c),
                    false => "?".into(),
                })
                .collect();
            format!("({})", params.join(","))
        })
        .collect();
    groups.join(",")
}

/// `INSERT … VALUES (…), (…)` for `rows` entries.
fn insert_many(rows: usize, numbered: bool) -> String {
    let values = value_groups(rows, numbered);
    format!("INSERT INTO audit_log ({COLS}) VALUES {values}")
}

/// The same for PostgreSQL, holding the chain's advisory lock (the parameter after the rows)
/// until it commits.
fn insert_many_locked(rows: usize) -> String {
    let values = value_groups(rows, true);
    let lock = rows * WIDTH + 1;
    format!(
        "INSERT INTO audit_log ({COLS}) SELECT v.* FROM (VALUES {values}) AS v ({COLS}) \
         CROSS JOIN (SELECT pg_advisory_xact_lock(${lock})) AS chain"
    )
}

/// Insert `recs` through `exec`, each at the position after the one before starting from
/// `prev` — in one multi-row statement, so a batch costs one round trip to the database, not
/// one per entry; the seqs and the new head. (A macro: each engine's executor is its own type.)
macro_rules! insert_chain {
    ($exec:expr, $prev:expr, $recs:expr, $link:expr, $sql:expr, $lock:expr) => {{
        let (mut seq, mut prev): Link = $prev;
        let mut links: Vec<(i64, Vec<u8>, Vec<u8>)> = Vec::with_capacity($recs.len());
        for rec in $recs {
            let hash = $link(&prev, rec);
            seq += 1;
            links.push((seq, std::mem::replace(&mut prev, hash.clone()), hash));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe($sql));
        for (rec, (seq, before, hash)) in $recs.iter().zip(&links) {
            q = q
                .bind(*seq)
                .bind(rec.at)
                .bind(&rec.actor)
                .bind(&rec.action)
                .bind(&rec.subject)
                .bind(&rec.client_id)
                .bind(&rec.detail)
                .bind(&rec.ip)
                .bind(before)
                .bind(hash);
        }
        if let Some(lock) = $lock {
            q = q.bind(lock);
        }
        q.execute($exec).await?;
        let seqs: Vec<i64> = links.iter().map(|(seq, _, _)| *seq).collect();
        Ok::<_, sqlx::Error>((seqs, (seq, prev)))
    }};
}

/// The chain's head as the database has it, in the transaction `tx`.
macro_rules! read_head {
    ($tx:ident) => {{
        let prev: Option<Link> = sqlx::query_as(LAST).fetch_optional(&mut *$tx).await?;
        prev.unwrap_or_else(genesis)
    }};
}

/// After the head this process remembers, in one statement (its own transaction): a batch
/// is then one step on the writer's thread instead of four. If another process appended
/// since, the primary key refuses the whole statement and the caller reads the head.
async fn sqlite_after(
    p: &sqlx::SqlitePool,
    prev: Link,
    recs: &[&AuditRecord],
    link: ChainLink<'_>,
) -> Result<(Vec<i64>, Link), sqlx::Error> {
    insert_chain!(
        p,
        prev,
        recs,
        link,
        insert_many(recs.len(), false),
        None::<i64>
    )
}

/// The same on PostgreSQL, the statement taking the chain's advisory lock (as every append
/// there does) before its rows go in.
async fn postgres_after(
    p: &sqlx::PgPool,
    prev: Link,
    recs: &[&AuditRecord],
    link: ChainLink<'_>,
) -> Result<(Vec<i64>, Link), sqlx::Error> {
    let sql = insert_many_locked(recs.len());
    insert_chain!(p, prev, recs, link, sql, Some(AUDIT_LOCK))
}

async fn sqlite_batch(
    p: &sqlx::SqlitePool,
    recs: &[&AuditRecord],
    link: ChainLink<'_>,
) -> Result<(Vec<i64>, Link), sqlx::Error> {
    // IMMEDIATE: the write lock before the head is read, so the head stays the head (another
    // process, a CLI command, waits for it rather than slipping in between).
    let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
    let sql = insert_many(recs.len(), false);
    let written = insert_chain!(&mut *tx, read_head!(tx), recs, link, sql, None::<i64>)?;
    tx.commit().await?;
    Ok(written)
}

async fn postgres_batch(
    p: &sqlx::PgPool,
    recs: &[&AuditRecord],
    link: ChainLink<'_>,
) -> Result<(Vec<i64>, Link), sqlx::Error> {
    let mut tx = p.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *tx)
        .await?;
    let sql = insert_many(recs.len(), true);
    let written = insert_chain!(&mut *tx, read_head!(tx), recs, link, sql, None::<i64>)?;
    tx.commit().await?;
    Ok(written)
}
