//! The register import's bulk path: which records are on file with which content hash, and
//! many records written in one transaction. SQLite takes multi-row statements; PostgreSQL
//! takes each column as one array (`UNNEST`), one statement per batch whatever its size.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::accounts::{PERSON_COLS, bind_person};
use super::audit::lost_race;
use super::{Pool, SqlStore, db_err};
use crate::store::register::match_key;
use crate::store::{
    AliasRecord, AuditStore, Entry, PeopleBatch, PersonRecord, StoreError, StoreResult,
};

/// Rows per SQLite statement: 17 values each stays far under its 32 766 bound parameters
/// (PostgreSQL takes a whole batch as arrays).
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// Whether to keep a statement of `rows` rows prepared: only at the full size of `scale`
/// chunks. Each other size is a different text, and a connection keeps up to 100 prepared —
/// at thousands of parameters each, a long import's leftover sizes grew the process by
/// hundreds of megabytes.
pub(super) fn keep(rows: usize, scale: usize) -> bool {
    rows == ROWS_PER_STATEMENT * scale
}

/// `(?,…), (?,…)`: `rows` groups of `width` plain placeholders. Plain: with numbered ones
/// sqlx-sqlite looks each parameter up by name, which made a 500-row statement spend nine
/// tenths of an import's time in `sqlite3_bind_parameter_name`.
pub(super) fn placeholders(rows: usize, width: usize) -> String {
    let group = format!("({})", vec!["?"; width].join(","));
    vec![group; rows].join(",")
}

const UPDATE: &str = "ON CONFLICT (id_number) DO UPDATE SET full_name = excluded.full_name, \
     birth_date = excluded.birth_date, sex = excluded.sex, nationality = excluded.nationality, \
     phone = excluded.phone, email = excluded.email, residence = excluded.residence, \
     birth_place = excluded.birth_place, household_id = excluded.household_id, \
     household_relation = excluded.household_relation, \
     card_expires_on = excluded.card_expires_on, deceased_on = excluded.deceased_on, \
     updated_at = excluded.updated_at, content_hash = excluded.content_hash, \
     match_key = excluded.match_key";

pub(super) async fn person_hashes(
    db: &SqlStore,
    ids: &[String],
) -> StoreResult<HashMap<String, Option<String>>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
        let rows: Vec<(String, Option<String>)> = match &db.pool {
            Pool::Postgres(p) => {
                // A join, not `= ANY($1)`: right after a bulk load the planner's statistics
                // are stale and it scanned the whole table for each batch.
                const SQL: &str = "SELECT p.id_number, p.content_hash \
                     FROM UNNEST($1::text[]) AS wanted (id) \
                     JOIN persons p ON p.id_number = wanted.id";
                sqlx::query_as(SQL).bind(chunk).fetch_all(p).await
            }
            Pool::Sqlite(p) => {
                let sql = format!(
                    "SELECT id_number, content_hash FROM persons WHERE id_number IN {}",
                    placeholders(1, chunk.len())
                );
                let mut q = sqlx::query_as(AssertSqlSafe(sql)).persistent(keep(chunk.len(), 4));
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(p).await
            }
        }
        .map_err(db_err)?;
        out.extend(rows);
    }
    Ok(out)
}

pub(super) async fn upsert_people(
    db: &SqlStore,
    new: PeopleBatch<'_>,
    changed: PeopleBatch<'_>,
    history: Entry<'_>,
    alone: bool,
) -> StoreResult<()> {
    // Not beside a running server's writes: they would meet SQLite's busy handler, and its
    // sleeps would rarely find the lock free between two of the import's transactions.
    if let Some(bulk) = db.bulk.as_ref().filter(|_| alone) {
        let reset = db.wal_reset.as_ref();
        return bulk.write(reset, history, new, changed).await;
    }
    // The history first, through the chain's queue: a batch it cannot hold is not written.
    db.append_audit(history.record, history.link)
        .await
        .map_err(StoreError::history_unwritten)?;
    match &db.pool {
        Pool::Postgres(p) => match postgres(p, new, changed, false).await {
            // Another import wrote one of the "new" records since they were classified: the
            // batch was rolled back whole; write it again, every record as an upsert.
            Err(e) if lost_race(&e) => postgres(p, new, changed, true).await,
            other => other,
        },
        Pool::Sqlite(reader) => sqlite(db, reader, new, changed).await,
    }
    .map_err(db_err)
}

/// One batch in its own transaction, on SQLite's one connection (an in-memory database).
async fn sqlite(
    db: &SqlStore,
    reader: &sqlx::SqlitePool,
    new: PeopleBatch<'_>,
    changed: PeopleBatch<'_>,
) -> Result<(), sqlx::Error> {
    let writer = db.bulk_writer(reader).await?;
    let mut tx = writer.begin().await?;
    write_rows(&mut tx, new, changed).await?;
    tx.commit().await
}

/// A batch's rows in the order of their table's key: the persons by ID number, the aliases
/// by (kind, value). Both B-trees grow at random places, and rows in key order walk each
/// one's leaves once, front to back, where the file's order jumped about them (a first import
/// of a million records: SQLite 34.7–36.1 s → 29.7–30.2 s, PostgreSQL 28.0–33.5 s →
/// 25.6–27.2 s). Same rows, same report.
fn in_key_order<'a, T, K: Ord>(
    rows: impl Iterator<Item = &'a T>,
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut rows: Vec<&'a T> = rows.collect();
    rows.sort_unstable_by_key(|r| key(r));
    rows
}

fn person_key(p: &(PersonRecord, String)) -> &String {
    &p.0.id_number
}

fn alias_key(a: &AliasRecord) -> (&String, &String) {
    (&a.kind, &a.value)
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// A batch's records and aliases on SQLite, in the transaction `conn` holds: every record an
/// upsert (a plain insert saves nothing measurable here). Each statement's values are bound
/// while the one before runs on SQLite's thread, which would otherwise wait for them.
pub(super) async fn write_rows(
    conn: &mut sqlx::SqliteConnection,
    new: PeopleBatch<'_>,
    changed: PeopleBatch<'_>,
) -> Result<(), sqlx::Error> {
    let people = in_key_order(new.people.iter().chain(changed.people), person_key);
    let aliases = in_key_order(new.aliases.iter().chain(changed.aliases), alias_key);
    let mut statements = people
        .chunks(ROWS_PER_STATEMENT)
        .map(people_statement)
        .chain(aliases.chunks(ROWS_PER_STATEMENT).map(aliases_statement));
    let mut next = statements.next();
    while let Some(q) = next {
        let mut run = std::pin::pin!(q.execute(&mut *conn));
        // Polled once, the statement is on its way to SQLite's thread; then bind the next.
        let sent = std::future::poll_fn(|cx| std::task::Poll::Ready(run.as_mut().poll(cx))).await;
        next = statements.next();
        match sent {
            std::task::Poll::Ready(done) => done?,
            std::task::Poll::Pending => run.await?,
        };
    }
    Ok(())
}

fn people_statement<'q>(chunk: &[&'q (PersonRecord, String)]) -> SqliteQuery<'q> {
    let sql = format!(
        "INSERT INTO persons ({PERSON_COLS}, content_hash, match_key) VALUES {} {UPDATE}",
        placeholders(chunk.len(), 17)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(keep(chunk.len(), 1));
    for &(r, hash) in chunk {
        q = bind_person(q, r)
            .bind(hash)
            .bind(match_key(&r.full_name, &r.birth_date, &r.sex));
    }
    q
}

fn aliases_statement<'q>(chunk: &[&'q AliasRecord]) -> SqliteQuery<'q> {
    let sql = format!(
        "INSERT INTO person_aliases (kind, value, id_number) VALUES {} \
         ON CONFLICT (kind, value, id_number) DO NOTHING",
        placeholders(chunk.len(), 3)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(keep(chunk.len(), 1));
    for a in chunk {
        q = q.bind(&a.kind).bind(&a.value).bind(&a.id_number);
    }
    q
}

/// One batch on PostgreSQL, one transaction: the new records and their aliases with plain
/// `INSERT`s unless `upsert_all` — an upsert's speculative insertion cost a first import
/// of a million records 3.7 s of 10.4 for the persons, 4.1 s of 8.8 for their aliases — the
/// changed ones as upserts.
async fn postgres(
    p: &sqlx::PgPool,
    new: PeopleBatch<'_>,
    changed: PeopleBatch<'_>,
    upsert_all: bool,
) -> Result<(), sqlx::Error> {
    const KEEP: &str = "ON CONFLICT (kind, value, id_number) DO NOTHING";
    let (people, aliases) = if upsert_all { (UPDATE, KEEP) } else { ("", "") };
    let mut tx = p.begin().await?;
    pg_people(
        &mut tx,
        &in_key_order(new.people.iter(), person_key),
        people,
    )
    .await?;
    pg_people(
        &mut tx,
        &in_key_order(changed.people.iter(), person_key),
        UPDATE,
    )
    .await?;
    pg_aliases(
        &mut tx,
        &in_key_order(new.aliases.iter(), alias_key),
        aliases,
    )
    .await?;
    pg_aliases(
        &mut tx,
        &in_key_order(changed.aliases.iter(), alias_key),
        KEEP,
    )
    .await?;
    tx.commit().await
}

async fn pg_aliases(
    tx: &mut sqlx::PgConnection,
    aliases: &[&AliasRecord],
    conflict: &str,
) -> Result<(), sqlx::Error> {
    if aliases.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&AliasRecord) -> &String| -> Vec<String> {
        aliases.iter().map(|a| f(a).clone()).collect()
    };
    let sql = format!(
        "INSERT INTO person_aliases (kind, value, id_number) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[]) {conflict}"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(column(|a| &a.kind))
        .bind(column(|a| &a.value))
        .bind(column(|a| &a.id_number))
        .execute(tx)
        .await?;
    Ok(())
}

/// `people` as one `INSERT … SELECT * FROM UNNEST(…)`, each column an array, ending in
/// `conflict` (empty: a plain insert).
async fn pg_people(
    tx: &mut sqlx::PgConnection,
    people: &[&(PersonRecord, String)],
    conflict: &str,
) -> Result<(), sqlx::Error> {
    if people.is_empty() {
        return Ok(());
    }
    let text = |f: fn(&PersonRecord) -> &String| -> Vec<String> {
        people.iter().map(|(r, _)| f(r).clone()).collect()
    };
    let opt = |f: fn(&PersonRecord) -> &Option<String>| -> Vec<Option<String>> {
        people.iter().map(|(r, _)| f(r).clone()).collect()
    };
    let sql = format!(
        "INSERT INTO persons ({PERSON_COLS}, content_hash, match_key) SELECT * FROM UNNEST(\
         $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
         $14::bigint[], $15::bigint[], $16::text[], $17::bigint[]) {conflict}"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(text(|r| &r.id_number))
        .bind(text(|r| &r.full_name))
        .bind(text(|r| &r.birth_date))
        .bind(text(|r| &r.sex))
        .bind(text(|r| &r.nationality))
        .bind(opt(|r| &r.phone))
        .bind(opt(|r| &r.email))
        .bind(opt(|r| &r.residence))
        .bind(opt(|r| &r.birth_place))
        .bind(opt(|r| &r.household_id))
        .bind(opt(|r| &r.household_relation))
        .bind(opt(|r| &r.card_expires_on))
        .bind(opt(|r| &r.deceased_on))
        .bind(people.iter().map(|(r, _)| r.created_at).collect::<Vec<_>>())
        .bind(people.iter().map(|(r, _)| r.updated_at).collect::<Vec<_>>())
        .bind(people.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>())
        .bind(
            people
                .iter()
                .map(|(r, _)| match_key(&r.full_name, &r.birth_date, &r.sex))
                .collect::<Vec<_>>(),
        )
        .execute(tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_placeholders_in_groups() {
        assert_eq!(super::placeholders(2, 3), "(?,?,?),(?,?,?)");
    }
}
