//! Group commit for refresh rotations.
//!
//! On SQLite every write goes through one writer connection served by one thread, and it was
//! the bottleneck of the refresh benchmark, mostly in thread wake-ups rather than in SQLite.
//! On PostgreSQL each rotation was its own transaction and commit. So rotations queue here,
//! and each worker sends whatever has queued (up to [`MAX_BATCH`]) as one statement
//! (`rotation.rs`), which also returns the grant views. Under light load a batch is a single
//! rotation and nothing waits; under load the cost of a round trip and a commit is shared.
//!
//! SQLite has one worker (one writer), which also rewinds the WAL between batches when asked
//! (`wal.rs`); PostgreSQL has a few, so commits overlap.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{AssertSqlSafe, PgPool, Row, SqlitePool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::rotation::{MAX_BATCH, ViewRow, postgres_batch, sqlite_batch, view, view_row};
use super::{db_err, wal};
use crate::clock::UnixTime;
use crate::store::{GrantView, RefreshRef, StoreError, StoreResult};

/// PostgreSQL workers: two commits overlap (one flushing while the next fills); more only
/// splits the queue into smaller batches. Measured at 16 connections: 1 → 3 460/s, 2 → 3 650/s,
/// 4 → 3 120/s (docs/benchmarks.md).
pub(super) const POSTGRES_WORKERS: u32 = 2;

struct Job {
    presented: RefreshRef,
    client_id: String,
    now: UnixTime,
    /// Written on the grant by this rotation only: how the job learns that it won.
    nonce: i64,
    reply: oneshot::Sender<StoreResult<Option<GrantView>>>,
}

pub(super) enum Writer {
    Sqlite(SqlitePool, wal::Reset),
    Postgres(PgPool),
}

/// The rotation queue.
pub(super) struct Rotations {
    queue: mpsc::Sender<Job>,
}

impl Rotations {
    pub(super) fn start(writer: Writer) -> Rotations {
        let (queue, jobs) = mpsc::channel(1024);
        let jobs = Arc::new(Mutex::new(jobs));
        let writer = Arc::new(writer);
        let workers = match *writer {
            Writer::Sqlite(..) => 1,
            Writer::Postgres(_) => POSTGRES_WORKERS as usize,
        };
        for _ in 0..workers {
            tokio::spawn(work(writer.clone(), jobs.clone()));
        }
        Rotations { queue }
    }

    /// Spend `presented` for `client_id`; `None` if it could not be spent.
    pub(super) async fn rotate(
        &self,
        presented: &RefreshRef,
        client_id: &str,
        now: UnixTime,
    ) -> StoreResult<Option<GrantView>> {
        let stopped = || StoreError::Unavailable("the rotation writer has stopped".into());
        // Tells this job's rotation from the others in its batch; not a secret.
        let nonce: i64 = rand::random();
        let (reply, answer) = oneshot::channel();
        let job = Job {
            presented: presented.clone(),
            client_id: client_id.to_string(),
            now,
            nonce,
            reply,
        };
        self.queue.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Wait for one job, then take whatever else has queued, up to a full batch.
async fn next_batch(jobs: &Mutex<mpsc::Receiver<Job>>) -> Option<Vec<Job>> {
    let mut jobs = jobs.lock().await;
    let mut batch = vec![jobs.recv().await?];
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Run one batch on either engine; the views come back keyed by the nonce on their grant.
/// SQLite's statement finds the views by the grant ids, bound again after the rotations.
macro_rules! run {
    ($pool:expr, $statement:expr, $batch:expr, $grants_again:expr) => {{
        let mut q = sqlx::query(AssertSqlSafe($statement));
        for j in $batch {
            q = q
                .bind(&j.presented.grant_id)
                .bind(j.presented.generation)
                .bind(&j.client_id)
                .bind(j.now)
                .bind(j.nonce);
        }
        if $grants_again {
            for j in $batch {
                q = q.bind(&j.presented.grant_id);
            }
        }
        match q.fetch_all($pool).await {
            Ok(rows) => rows
                .iter()
                .filter_map(|r| match r.try_get::<Option<i64>, _>(0) {
                    Ok(None) => None,
                    Ok(Some(nonce)) => Some(view_row(r, 1).map(|v| (nonce, v))),
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<HashMap<i64, ViewRow>, sqlx::Error>>(),
            Err(e) => Err(e),
        }
    }};
}

async fn work(writer: Arc<Writer>, jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let sql: Vec<String> = (0..=MAX_BATCH)
        .map(|n| match *writer {
            Writer::Sqlite(..) => sqlite_batch(n),
            Writer::Postgres(_) => postgres_batch(n),
        })
        .collect();
    loop {
        let Some(batch) = next_batch(&jobs).await else {
            return;
        };
        let statement = sql.get(batch.len()).map_or("", String::as_str);
        let outcome = match &*writer {
            Writer::Sqlite(pool, _) => run!(pool, statement, &batch, true),
            Writer::Postgres(pool) => run!(pool, statement, &batch, false),
        };
        answer(outcome, batch);
        if let Writer::Sqlite(pool, reset) = &*writer {
            reset.serve(pool).await;
        }
    }
}

fn answer(outcome: Result<HashMap<i64, ViewRow>, sqlx::Error>, batch: Vec<Job>) {
    match outcome {
        Ok(mut views) => {
            for job in batch {
                let v = views.remove(&job.nonce).map(view).transpose();
                let _ = job.reply.send(v);
            }
        }
        Err(e) => {
            let err = db_err(e);
            for job in batch {
                let _ = job.reply.send(Err(err.clone()));
            }
        }
    }
}
