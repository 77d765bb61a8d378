//! Refresh-token rotation, the write every signed-in relying party makes, and the grant view
//! (grant ⋈ account ⋈ person) that comes back with it.
//!
//! Spending a token names its successor; the `refresh_tokens_rotate` trigger (migration 0005)
//! inserts the successor within the same statement, so a family is never half-rotated. The
//! presenting client's ownership and the grant's liveness are checked in that statement too.
//!
//! On SQLite every write goes through one writer connection, served by one thread: it was the
//! bottleneck of the refresh benchmark, mostly in wake-ups rather than in SQLite. So rotations
//! are group-committed: whatever queued while the writer was busy goes in the next statement
//! (one `UPDATE … FROM (VALUES …)`), and the views of all of them come back in the same call.
//! PostgreSQL takes one statement per rotation, on its pool.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use sqlx::{AssertSqlSafe, PgPool, Row, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::accounts::{ACCOUNT_COLS, AccountRow, Opt, PERSON_COLS, PersonRow, account, person};
use super::grants::{GRANT_COLS, GrantRow, grant};
use super::{db_err, wal};
use crate::clock::UnixTime;
use crate::store::{GrantView, StoreError, StoreResult, Successor};

/// Grant ⋈ account ⋈ person (account and person columns NULL when absent): `lead` columns
/// first, then the view, from the grants joined to `from` (which must yield `g`).
fn view_sql(lead: &str, from: &str, filter: &str) -> String {
    let prefixed = |alias: &str, cols: &str| {
        cols.split(',')
            .map(|c| format!("{alias}.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT {lead}{}, {}, {} FROM {from} LEFT JOIN accounts a ON a.sub = g.sub \
         LEFT JOIN persons p ON p.id_number = a.id_number WHERE {filter}",
        prefixed("g", GRANT_COLS),
        prefixed("a", ACCOUNT_COLS),
        prefixed("p", PERSON_COLS),
    )
}

pub(super) static VIEW_SQL: LazyLock<String> =
    LazyLock::new(|| view_sql("", "grants g", "g.id = $1"));

/// Decode consecutive columns from `$at` into a tuple of the listed types.
macro_rules! columns {
    ($row:expr, $at:expr, ($($t:ty),+ $(,)?)) => {{
        let mut i = $at;
        ($({
            let v: $t = $row.try_get(i)?;
            i += 1;
            v
        },)+)
    }};
}

pub(super) type ViewRow = (GrantRow, Option<AccountRow>, Option<PersonRow>);

/// The view's columns, starting at column `at`.
#[allow(unused_assignments)] // the last column's index step in `columns!`
pub(super) fn view_row<R: Row>(r: &R, at: usize) -> Result<ViewRow, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let account_at = at + 12;
    let person_at = account_at + 10;
    #[rustfmt::skip]
    let g: GrantRow = columns!(r, at, (String, String, Opt, String, Option<i64>, Opt, String, Opt, Opt, i64, i64, Option<i64>));
    let a = match r.try_get::<Opt, _>(account_at)? {
        None => None,
        #[rustfmt::skip]
        Some(_) => Some(columns!(r, account_at, (String, String, String, i64, String, Opt, Opt, i64, i64, i64))),
    };
    let p = match r.try_get::<Opt, _>(person_at)? {
        None => None,
        #[rustfmt::skip]
        Some(_) => Some(columns!(r, person_at, (String, String, String, String, String, Opt, Opt, Opt, Opt, Opt, Opt, Opt, Opt, i64, i64))),
    };
    Ok((g, a, p))
}

pub(super) fn view((g, a, p): ViewRow) -> StoreResult<GrantView> {
    Ok(GrantView {
        grant: grant(g)?,
        account: a.map(account),
        person: p.map(person),
    })
}

/// The spend, for one token ($1 hash, $2 now, $3/$4 successor and its expiry, $5 client).
const SPEND_ONE: &str = "UPDATE refresh_tokens SET used_at = $2, successor = $3, \
     successor_expires_at = $4 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
     AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.grant_id \
     AND g.client_id = $5 AND g.revoked_at IS NULL AND g.expires_at > $2)";

static ROTATE_POSTGRES: LazyLock<String> = LazyLock::new(|| {
    let view = view_sql("", "spent JOIN grants g ON g.id = spent.grant_id", "TRUE");
    format!("WITH spent AS ({SPEND_ONE} RETURNING grant_id) {view}")
});

pub(super) async fn rotate_postgres(
    pool: &PgPool,
    old: &[u8],
    client_id: &str,
    next: &Successor,
    now: UnixTime,
) -> StoreResult<Option<GrantView>> {
    let row = sqlx::query(AssertSqlSafe(ROTATE_POSTGRES.as_str()))
        .bind(old)
        .bind(now)
        .bind(&next.token_hash)
        .bind(next.expires_at)
        .bind(client_id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    let row = row.map(|r| view_row(&r, 0)).transpose().map_err(db_err)?;
    row.map(view).transpose()
}

const MAX_BATCH: usize = 32;
const COLS_PER_JOB: usize = 5;

/// The batch statement for `n` rotations: the spend of all of them, then the view of every
/// successor that now exists (each exists only if its own token was spent).
fn batch_sql(n: usize) -> String {
    let values = (0..n)
        .map(|i| {
            let b = i * COLS_PER_JOB;
            format!("(${},${},${},${},${})", b + 1, b + 2, b + 3, b + 4, b + 5)
        })
        .collect::<Vec<_>>()
        .join(",");
    let successors = (0..n)
        .map(|i| format!("${}", n * COLS_PER_JOB + i + 1))
        .collect::<Vec<_>>()
        .join(",");
    let spend = format!(
        "UPDATE refresh_tokens SET used_at = v.column5, successor = v.column2, \
         successor_expires_at = v.column3 FROM (VALUES {values}) AS v \
         WHERE refresh_tokens.token_hash = v.column1 AND refresh_tokens.used_at IS NULL \
         AND refresh_tokens.expires_at > v.column5 \
         AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.grant_id \
         AND g.client_id = v.column4 AND g.revoked_at IS NULL AND g.expires_at > v.column5)"
    );
    let views = view_sql(
        "r.token_hash, ",
        "refresh_tokens r JOIN grants g ON g.id = r.grant_id",
        &format!("r.token_hash IN ({successors})"),
    );
    format!("{spend}; {views}")
}

struct Job {
    old: Vec<u8>,
    client_id: String,
    next: Successor,
    now: UnixTime,
    reply: oneshot::Sender<StoreResult<Option<GrantView>>>,
}

/// The SQLite writer's rotation queue.
pub(super) struct Rotations {
    queue: mpsc::Sender<Job>,
}

impl Rotations {
    pub(super) fn start(writer: SqlitePool, wal_reset: wal::Reset) -> Rotations {
        let (queue, jobs) = mpsc::channel(1024);
        tokio::spawn(serve(writer, jobs, wal_reset));
        Rotations { queue }
    }

    pub(super) async fn rotate(
        &self,
        old: &[u8],
        client_id: &str,
        next: &Successor,
        now: UnixTime,
    ) -> StoreResult<Option<GrantView>> {
        let stopped = || StoreError::Unavailable("the rotation writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        let job = Job {
            old: old.to_vec(),
            client_id: client_id.to_string(),
            next: next.clone(),
            now,
            reply,
        };
        self.queue.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn serve(writer: SqlitePool, mut jobs: mpsc::Receiver<Job>, wal_reset: wal::Reset) {
    let sql: Vec<String> = (0..=MAX_BATCH).map(batch_sql).collect();
    let mut deferred: Vec<Job> = Vec::new();
    loop {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut seen = HashSet::new();
        let mut later = Vec::new();
        // Jobs deferred last round first: they were queued before anything still waiting.
        for job in deferred.drain(..) {
            admit(job, &mut batch, &mut seen, &mut later);
        }
        if batch.is_empty() {
            match jobs.recv().await {
                Some(job) => admit(job, &mut batch, &mut seen, &mut later),
                None => return,
            }
        }
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => admit(job, &mut batch, &mut seen, &mut later),
                Err(_) => break,
            }
        }
        deferred = later;
        let statement = sql.get(batch.len()).map_or("", String::as_str);
        answer(run(&writer, statement, &batch).await, batch);
        wal_reset.serve(&writer).await;
    }
}

/// The same token twice in one statement would be spent once with no way to tell who won:
/// a second presentation waits for the next round, where it finds the token spent (a replay).
fn admit(job: Job, batch: &mut Vec<Job>, seen: &mut HashSet<Vec<u8>>, later: &mut Vec<Job>) {
    if batch.len() < MAX_BATCH && seen.insert(job.old.clone()) {
        batch.push(job);
    } else {
        later.push(job);
    }
}

async fn run(
    writer: &SqlitePool,
    statement: &str,
    batch: &[Job],
) -> Result<HashMap<Vec<u8>, ViewRow>, sqlx::Error> {
    let mut q = sqlx::query(AssertSqlSafe(statement));
    for j in batch {
        q = q
            .bind(&j.old)
            .bind(&j.next.token_hash)
            .bind(j.next.expires_at)
            .bind(&j.client_id)
            .bind(j.now);
    }
    for j in batch {
        q = q.bind(&j.next.token_hash);
    }
    let rows = q.fetch_all(writer).await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<Vec<u8>, _>(0)?, view_row(r, 1)?)))
        .collect()
}

fn answer(outcome: Result<HashMap<Vec<u8>, ViewRow>, sqlx::Error>, batch: Vec<Job>) {
    match outcome {
        Ok(mut views) => {
            for job in batch {
                let v = views.remove(&job.next.token_hash).map(view).transpose();
                let _ = job.reply.send(v);
            }
        }
        Err(e) => {
            let err = db_err(e);
            for job in batch {
                let _ = job.reply.send(Err(copy(&err)));
            }
        }
    }
}

fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
        StoreError::Other(m) => StoreError::Other(m.clone()),
    }
}
