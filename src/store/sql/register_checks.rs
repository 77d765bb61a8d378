//! The cleansing report's reads (see `store::register`): two scans in table order — narrow
//! rows streamed one at a time, no `ORDER BY`, no `GROUP BY` (on a million rows each of those
//! built a temporary B-tree and took seconds) — and the full records of suspects by ID number.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::accounts::{PERSON_COLS, PersonRow, person};
use super::{Pool, SqlStore, copy_text, db_err, on, on_write};
use crate::store::register::{PersonSink, RegisterChecks, ScanRow, ScanSink, match_key};
use crate::store::{PersonRecord, StoreResult};

/// ID numbers per `IN (…)` look-up.
const IDS_PER_QUERY: usize = 500;

/// PostgreSQL's scan, as lines (see `copy_text`).
const SCAN_COPY: &str = "COPY (SELECT id_number, match_key, phone, household_id, \
     household_relation, residence, birth_date, nationality, card_expires_on, \
     deceased_on IS NOT NULL FROM persons) TO STDOUT";

/// Rows of a page of SQLite's scan.
const PAGE: i64 = 4_096;

/// SQLite's scan, a page at a time, each page one value: sqlx hands every row across to the
/// connection's thread and back (~5 µs a row, five times SQLite's own cost on a million), so
/// the rows of a page are joined into one text — fields split by U+001F, rows by U+001E; the
/// free-text columns hex-encoded so neither can occur in them; NULL as an empty field, a
/// value behind a `+`.
const SCAN_PAGE: &str = "SELECT MAX(rowid), group_concat(rec, char(30)) FROM (\
     SELECT rowid, id_number || char(31) || ifnull(match_key, '') || char(31) || \
     ifnull('+' || hex(phone), '') || char(31) || ifnull('+' || hex(household_id), '') || \
     char(31) || ifnull('+' || hex(household_relation), '') || char(31) || \
     ifnull('+' || hex(residence), '') || char(31) || birth_date || char(31) || \
     nationality || char(31) || ifnull('+' || card_expires_on, '') || char(31) || \
     (deceased_on IS NOT NULL) AS rec \
     FROM persons WHERE rowid > $1 ORDER BY rowid LIMIT $2)";

/// A page of CMND aliases in key order: hex of the value, then the ID number.
const CMND_PAGE: &str = "SELECT group_concat(hex(value) || char(31) || id_number, char(30)) FROM (\
     SELECT value, id_number FROM person_aliases WHERE kind = 'cmnd' AND (value, id_number) > ($1, $2) \
     ORDER BY value, id_number LIMIT $3)";

/// A field of a page: `None` for NULL, the value behind the `+` otherwise.
fn opt(field: &str) -> Option<&str> {
    field.strip_prefix('+')
}

/// Text from its hex form (the relation is a short enum; decoding it keeps it comparable).
fn unhex(h: &str) -> String {
    let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    let bytes: Vec<u8> = h
        .as_bytes()
        .chunks(2)
        .map(|p| digit(p[0]) << 4 | p.get(1).map_or(0, |c| digit(*c)))
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn page_rows(page: &str, each: PersonSink<'_>) {
    for rec in page.split('\u{1e}') {
        let f: Vec<&str> = rec.split('\u{1f}').collect();
        let [id, key, phone, hh, rel, res, birth, nat, exp, dead] = f[..] else {
            continue;
        };
        let relation = opt(rel).map(unhex);
        each(ScanRow {
            id_number: id,
            match_key: key.parse().ok(),
            phone: opt(phone),
            household_id: opt(hh),
            household_relation: relation.as_deref(),
            residence: opt(res),
            birth_date: birth,
            nationality: nat,
            card_expires_on: opt(exp),
            deceased: dead == "1",
        });
    }
}

/// `$1, $2, …` for PostgreSQL, `?, ?, …` for SQLite (see `register::placeholders`).
fn marks(pool: &Pool, n: usize) -> String {
    match pool {
        Pool::Postgres(_) => (1..=n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(","),
        Pool::Sqlite(_) => vec!["?"; n].join(","),
    }
}

#[async_trait]
impl RegisterChecks for SqlStore {
    async fn count_persons(&self) -> StoreResult<u64> {
        let n: i64 = on!(self, |p| sqlx::query_scalar("SELECT COUNT(*) FROM persons")
            .fetch_one(p)
            .await
            .map_err(db_err))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn scan_persons(&self, each: PersonSink<'_>) -> StoreResult<()> {
        match &self.pool {
            Pool::Postgres(p) => {
                copy_text::rows(p, SCAN_COPY, &mut |f| {
                    let text = |i: usize| f.get(i).and_then(|v| v.as_deref());
                    each(ScanRow {
                        id_number: text(0).unwrap_or_default(),
                        match_key: text(1).and_then(|k| k.parse().ok()),
                        phone: text(2),
                        household_id: text(3),
                        household_relation: text(4),
                        residence: text(5),
                        birth_date: text(6).unwrap_or_default(),
                        nationality: text(7).unwrap_or_default(),
                        card_expires_on: text(8),
                        deceased: text(9) == Some("t"),
                    })
                })
                .await?;
            }
            // The next page is read on SQLite's thread while this one is taken apart here
            // (`join!` sends the query before it runs the parsing): both cores at work.
            Pool::Sqlite(p) => {
                let page_after = |after: i64| {
                    sqlx::query_as::<_, (Option<i64>, Option<String>)>(SCAN_PAGE)
                        .bind(after)
                        .bind(PAGE)
                        .fetch_one(p)
                };
                let mut fetched = page_after(i64::MIN).await.map_err(db_err)?;
                while let (Some(last), Some(page)) = fetched {
                    let (next, ()) =
                        tokio::join!(page_after(last), async { page_rows(&page, each) });
                    fetched = next.map_err(db_err)?;
                }
            }
        }
        Ok(())
    }

    async fn scan_cmnd(&self, each: ScanSink<'_, (String, String)>) -> StoreResult<()> {
        match &self.pool {
            Pool::Postgres(p) => {
                const COPY: &str = "COPY (SELECT id_number, value FROM person_aliases \
                     WHERE kind = 'cmnd') TO STDOUT";
                copy_text::rows(p, COPY, &mut |f| {
                    if let [Some(id), Some(value)] = f {
                        each((id.to_string(), value.to_string()));
                    }
                })
                .await?;
            }
            // In pages as the persons (see `SCAN_PAGE`), after the last (value, person) seen.
            // The next page read while this one is handed on, as the persons' scan.
            Pool::Sqlite(p) => {
                let page_after = |value: String, id: String| async move {
                    sqlx::query_as::<_, (Option<String>,)>(CMND_PAGE)
                        .bind(value)
                        .bind(id)
                        .bind(PAGE)
                        .fetch_one(p)
                        .await
                };
                let (mut fetched,) = page_after(String::new(), String::new())
                    .await
                    .map_err(db_err)?;
                while let Some(page) = fetched {
                    let recs: Vec<(&str, &str)> = page
                        .split('\u{1e}')
                        .filter_map(|rec| rec.split_once('\u{1f}'))
                        .collect();
                    let Some(&(value, id)) = recs.last() else {
                        break;
                    };
                    let (next, ()) =
                        tokio::join!(page_after(unhex(value), id.to_string()), async {
                            for (value, id) in &recs {
                                each((id.to_string(), unhex(value)));
                            }
                        });
                    (fetched,) = next.map_err(db_err)?;
                }
            }
        }
        Ok(())
    }

    async fn persons_by_ids(&self, ids: &[String]) -> StoreResult<Vec<PersonRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT {PERSON_COLS} FROM persons WHERE id_number IN ({})",
                marks(&self.pool, chunk.len())
            );
            let rows: Vec<PersonRow> = on!(self, |p| {
                let full = chunk.len() == IDS_PER_QUERY;
                let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).persistent(full);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(p).await.map_err(db_err)
            })?;
            out.extend(rows.into_iter().map(person));
        }
        Ok(out)
    }

    async fn deceased_with_open_account(&self) -> StoreResult<Vec<String>> {
        const SQL: &str = "SELECT a.id_number FROM accounts a \
             JOIN persons p ON p.id_number = a.id_number \
             WHERE p.deceased_on IS NOT NULL AND a.state <> 'locked' ORDER BY a.id_number";
        on!(self, |p| sqlx::query_scalar(SQL)
            .fetch_all(p)
            .await
            .map_err(db_err))
    }

    async fn fill_match_keys(&self) -> StoreResult<u64> {
        const PICK: &str = "SELECT id_number, full_name, birth_date, sex FROM persons \
             WHERE match_key IS NULL LIMIT 2000";
        const SET: &str = "UPDATE persons SET match_key = $1 WHERE id_number = $2";
        let mut filled = 0u64;
        loop {
            let rows: Vec<(String, String, String, String)> = on!(self, |p| {
                sqlx::query_as(PICK).fetch_all(p).await.map_err(db_err)
            })?;
            if rows.is_empty() {
                return Ok(filled);
            }
            filled += rows.len() as u64;
            on_write!(self, |p| async {
                let mut tx = p.begin().await?;
                for (id, name, birth, sex) in &rows {
                    sqlx::query(SET)
                        .bind(match_key(name, birth, sex))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            .await
            .map_err(db_err))?;
        }
    }
}
