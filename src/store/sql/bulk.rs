//! The register import's writes on SQLite (a file): several batches in one transaction, on a
//! connection of the import's own.
//!
//! Several batches per commit: each commit writes every page it changed to the log, and a
//! batch's records land all over the two B-trees that grow at random places (the ID numbers'
//! index, the aliases). At a million records a batch of 10 000 changed most of their leaf
//! pages, so the log written per record grew with the register; five batches per commit write
//! such a page once instead of five times, without holding more rows in memory (they are in
//! SQLite's pages). A connection of its own: its 64 MiB page cache goes when the import ends —
//! the pool's writer kept it through the cleansing report that follows (SQLite's pages live in
//! the C allocator's heap, which keeps what a connection frees but returns a closed
//! connection's), and day-to-day writes keep the writer's small cache.
//!
//! A batch's history entry is appended in its transaction, which holds the write lock, so the
//! entry and the batch are written together or not at all. Only for an import that writes
//! alone (the command line): a commit is at most [`GROUP_ROWS`] records or [`GROUP_TIME`]
//! away, but other writers meet SQLite's busy handler, whose sleeps rarely find the lock free
//! between two transactions — an upload to a running server commits each batch on the pool's
//! writer instead, in turn with the sign-ins' writes. An import stopped half-way loses the
//! batches since the last commit, whole, with their entries; the next run writes them.

use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::{db_err, wal};
use crate::store::{Entry, PeopleBatch, StoreResult};

/// Records per commit, at most ...
pub(super) const GROUP_ROWS: usize = 50_000;
/// ... and the longest a transaction stays open once a batch has been written in it.
pub(super) const GROUP_TIME: Duration = Duration::from_secs(1);

struct Open {
    conn: SqliteConnection,
    /// The open transaction's start and the records written in it.
    group: Option<(Instant, usize)>,
}

/// The import's connection, opened by its first batch and closed by `end`.
pub(super) struct Bulk {
    opts: SqliteConnectOptions,
    open: tokio::sync::Mutex<Option<Open>>,
}

impl Bulk {
    pub fn new(opts: SqliteConnectOptions) -> Bulk {
        Bulk {
            opts,
            open: tokio::sync::Mutex::new(None),
        }
    }

    /// Write one batch with its history entry; commit when the group is full. On an error the
    /// connection is closed, which rolls its transaction back: the batches since the last
    /// commit are not written. An entry that cannot be appended is `Unavailable`, as every
    /// unwritten history is.
    pub async fn write(
        &self,
        reset: Option<&wal::Reset>,
        history: Entry<'_>,
        new: PeopleBatch<'_>,
        changed: PeopleBatch<'_>,
    ) -> StoreResult<()> {
        let mut open = self.open.lock().await;
        let written = self.write_in(&mut open, reset, history, new, changed).await;
        if written.is_err()
            && let Some(o) = open.take()
        {
            let _ = o.conn.close().await;
        }
        written
    }

    async fn write_in(
        &self,
        open: &mut Option<Open>,
        reset: Option<&wal::Reset>,
        history: Entry<'_>,
        new: PeopleBatch<'_>,
        changed: PeopleBatch<'_>,
    ) -> StoreResult<()> {
        let o = match open {
            Some(o) => o,
            None => open.insert(Open {
                conn: self.opts.connect().await.map_err(db_err)?,
                group: None,
            }),
        };
        let (since, rows) = match o.group {
            Some(g) => g,
            None => {
                // Between two transactions: the log may be rewound (see `wal.rs`).
                if let Some(r) = reset {
                    r.serve_on(&mut o.conn).await;
                }
                let begin = sqlx::query("BEGIN IMMEDIATE").execute(&mut o.conn).await;
                begin.map_err(db_err)?;
                (Instant::now(), 0)
            }
        };
        super::audit::append_in(&mut o.conn, history)
            .await
            .map_err(|e| db_err(e).history_unwritten())?;
        super::register::write_rows(&mut o.conn, new, changed)
            .await
            .map_err(db_err)?;
        let rows = rows + new.people.len() + changed.people.len();
        o.group = Some((since, rows));
        if rows >= GROUP_ROWS || since.elapsed() >= GROUP_TIME {
            sqlx::query("COMMIT")
                .execute(&mut o.conn)
                .await
                .map_err(db_err)?;
            o.group = None;
        }
        Ok(())
    }

    /// Commit what is held and close the connection (its page cache with it).
    pub async fn end(&self) -> Result<(), sqlx::Error> {
        let Some(mut o) = self.open.lock().await.take() else {
            return Ok(());
        };
        let committed = match o.group {
            Some(_) => sqlx::query("COMMIT").execute(&mut o.conn).await.map(|_| ()),
            None => Ok(()),
        };
        let closed = o.conn.close().await;
        committed.and(closed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqlStore;
    use crate::store::{AuditRecord, AuditStore, Entry, PeopleBatch, PersonRecord, PersonStore};

    fn person(id: &str) -> (PersonRecord, String) {
        let p = PersonRecord {
            id_number: id.into(),
            full_name: "Nguyễn Văn A".into(),
            birth_date: "1999-01-02".into(),
            sex: "male".into(),
            nationality: "VN".into(),
            ..Default::default()
        };
        (p, format!("hash-{id}"))
    }

    fn entry(action: &str) -> AuditRecord {
        AuditRecord {
            seq: 0,
            at: 1,
            actor: "cli".into(),
            action: action.into(),
            subject: None,
            client_id: None,
            detail: "{}".into(),
            ip: None,
            prev_hash: Vec::new(),
            hash: Vec::new(),
        }
    }

    /// A stand-in for the audit module's link (the store does not depend on it): the hash
    /// names the previous one and the action.
    fn link(prev: &[u8], r: &AuditRecord) -> Vec<u8> {
        let mut h = prev.iter().rev().take(8).copied().collect::<Vec<u8>>();
        h.extend(r.action.as_bytes());
        h
    }

    fn with_link(record: &AuditRecord) -> Entry<'_> {
        Entry {
            record,
            link: &link,
        }
    }

    /// A store on a SQLite file (the import's own connection needs one), in a directory that
    /// lives as long as the first half.
    async fn on_a_file() -> (tempfile::TempDir, SqlStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("eidp.db").display());
        let db = SqlStore::connect(&url).await.unwrap();
        (dir, db)
    }

    async fn on_file(db: &SqlStore, ids: &[String]) -> usize {
        db.person_hashes(ids).await.unwrap().len()
    }

    /// Two batches in one transaction, each with its history entry, committed together by
    /// `end_bulk_load`; appends before and after (this process's remembered head left behind
    /// by the import's) keep one unbroken chain; the day-to-day writer keeps its small cache.
    #[tokio::test]
    async fn batches_share_a_commit_with_their_history_and_the_chain_goes_on() {
        let (_dir, db) = on_a_file().await;
        db.append_audit(&entry("before"), &link).await.unwrap();
        let ids: Vec<String> = ["001099012345", "001099012346"].map(String::from).into();
        for (i, id) in ids.iter().enumerate() {
            let people = [person(id)];
            let new = PeopleBatch {
                people: &people,
                aliases: &[],
            };
            let rec = entry("register_updated");
            let history = with_link(&rec);
            db.upsert_people(new, PeopleBatch::default(), history, true)
                .await
                .unwrap();
            assert_eq!(
                on_file(&db, &ids).await,
                0,
                "batch {i} is not committed alone"
            );
        }
        db.end_bulk_load().await.unwrap();
        assert_eq!(on_file(&db, &ids).await, 2);
        db.append_audit(&entry("after"), &link).await.unwrap();
        let log = db.audit_since(0, 100).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        let want = ["before", "register_updated", "register_updated", "after"];
        assert_eq!(actions, want);
        assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
        for pair in log.windows(2) {
            assert_eq!(
                pair[1].prev_hash, pair[0].hash,
                "entry {} follows",
                pair[1].seq
            );
            assert_eq!(pair[1].hash, link(&pair[0].hash, &pair[1]));
        }
        let writer = db
            .sqlite_writer
            .as_ref()
            .expect("a file has its own writer");
        let cache: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(writer)
            .await
            .unwrap();
        assert_eq!(cache, super::super::DAY_TO_DAY_CACHE_KIB);
    }

    /// A batch that fails takes the batches of its transaction with it, and their entries:
    /// the next import starts afresh.
    #[tokio::test]
    async fn a_failed_batch_leaves_nothing_of_its_transaction() {
        let (_dir, db) = on_a_file().await;
        let rec = entry("register_updated");
        let history = with_link(&rec);
        // A record the database refuses, as a full disk or a broken file would refuse a batch.
        const REFUSE: &str = "CREATE TRIGGER refuse BEFORE INSERT ON persons \
             WHEN NEW.id_number = '001099012399' BEGIN SELECT RAISE(ABORT, 'refused'); END";
        let writer = db
            .sqlite_writer
            .as_ref()
            .expect("a file has its own writer");
        sqlx::query(REFUSE).execute(writer).await.unwrap();
        let good = [person("001099012345")];
        let batch = |people| PeopleBatch {
            people,
            aliases: &[],
        };
        db.upsert_people(batch(&good), PeopleBatch::default(), history, true)
            .await
            .unwrap();
        let refused = [person("001099012399")];
        let failed = db.upsert_people(batch(&refused), PeopleBatch::default(), history, true);
        assert!(failed.await.is_err());
        db.end_bulk_load().await.unwrap();
        assert_eq!(on_file(&db, &["001099012345".into()]).await, 0);
        assert!(db.audit_since(0, 100).await.unwrap().is_empty());
        let again = db.upsert_people(batch(&good), PeopleBatch::default(), history, true);
        again.await.unwrap();
        db.end_bulk_load().await.unwrap();
        assert_eq!(on_file(&db, &["001099012345".into()]).await, 1);
    }

    /// An import beside a running server's writes (an upload) commits each batch on the
    /// pool's writer, in turn with them: nothing is held between two batches.
    #[tokio::test]
    async fn an_import_not_alone_commits_each_batch() {
        let (_dir, db) = on_a_file().await;
        let rec = entry("register_updated");
        let history = with_link(&rec);
        let people = [person("001099012345")];
        let new = PeopleBatch {
            people: &people,
            aliases: &[],
        };
        db.upsert_people(new, PeopleBatch::default(), history, false)
            .await
            .unwrap();
        assert_eq!(on_file(&db, &["001099012345".into()]).await, 1);
        db.append_audit(&entry("after"), &link).await.unwrap();
        assert_eq!(db.audit_since(0, 100).await.unwrap().len(), 2);
        db.end_bulk_load().await.unwrap();
    }
}
