//! Keeping SQLite's write-ahead log small under sustained writes.
//!
//! Checkpoints run on their own connection, never inside the writer's commits: an automatic
//! checkpoint runs in the committing writer, and its fsyncs stalled every write queued behind
//! it (the refresh load showed the writer in disk waits while the cores sat idle). A passive
//! checkpoint every 100 ms folds the log back into the database without blocking anyone.
//!
//! Passive checkpoints cannot rewind the log while writes never pause, so it keeps growing.
//! SQLite rewinds it by itself when a write begins on a fully checkpointed log, and only the
//! writer can see to that: past 256 MiB the checkpointer asks, and the writer's loops (the
//! rotation batcher, the audit appends, bulk imports) run a passive checkpoint of their own
//! between two transactions — nothing is written meanwhile, so it reaches the end of the log
//! — and their next write starts the log afresh. A restarting checkpoint (which takes the
//! write lock and waits for readers in SQLite's busy handler, sleeping 1–100 ms a step) is
//! kept for when that fails again and again, and for the checkpointer when no writer's loop
//! is running: taken from the checkpointer under audited load it stalled every append for up
//! to 300 ms, the look-ups' p99.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::{SqliteConnection, SqliteExecutor, SqlitePool};

const PASSIVE: &str = "PRAGMA wal_checkpoint(PASSIVE)";
const RESTART: &str = "PRAGMA wal_checkpoint(RESTART)";
const MAX_FRAMES: i64 = 256 * 1024 * 1024 / 4096;
const TICK: Duration = Duration::from_millis(100);
/// Ticks to wait for the writer's loop before resetting from here.
const PATIENCE: u32 = 10;

/// A request, from the checkpointer to the writer's loop, to reset the log.
#[derive(Clone, Default)]
pub(super) struct Reset(Arc<AtomicBool>);

impl Reset {
    /// Called by the writer's loops between transactions: if asked, checkpoint the whole log
    /// so that the next write rewinds it; only a log that has grown to twice the bound (the
    /// rewinds keep failing) is restarted here, waiting for readers.
    pub(super) async fn serve(&self, writer: &SqlitePool) {
        if !self.0.load(Ordering::Acquire) {
            return;
        }
        match writer.acquire().await {
            Ok(mut conn) => self.serve_on(&mut conn).await,
            Err(sqlx::Error::PoolClosed) => {}
            Err(e) => tracing::warn!(error = %e, "no writer to rewind the log"),
        }
    }

    /// The same on a connection of its own (a bulk load's), between two of its transactions.
    pub(super) async fn serve_on(&self, conn: &mut SqliteConnection) {
        if self.0.swap(false, Ordering::AcqRel)
            && checkpoint(&mut *conn, PASSIVE)
                .await
                .is_some_and(|frames| frames > 2 * MAX_FRAMES)
        {
            checkpoint(conn, RESTART).await;
        }
    }
}

async fn checkpoint<'e, E: SqliteExecutor<'e>>(on: E, mode: &'static str) -> Option<i64> {
    match sqlx::query_as::<_, (i64, i64, i64)>(mode)
        .fetch_one(on)
        .await
    {
        Ok((_, frames, _)) => Some(frames),
        Err(sqlx::Error::PoolClosed) => None,
        Err(e) => {
            tracing::warn!(error = %e, mode, "WAL checkpoint failed");
            None
        }
    }
}

pub(super) fn spawn_checkpointer(checkpointer: SqlitePool, reset: Reset) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut waited = 0;
        while !checkpointer.is_closed() {
            tick.tick().await;
            if reset.0.load(Ordering::Acquire) {
                waited += 1;
                if waited >= PATIENCE && reset.0.swap(false, Ordering::AcqRel) {
                    checkpoint(&checkpointer, RESTART).await;
                }
                continue;
            }
            waited = 0;
            if checkpoint(&checkpointer, PASSIVE)
                .await
                .is_some_and(|frames| frames > MAX_FRAMES)
            {
                reset.0.store(true, Ordering::Release);
            }
        }
    });
}
