//! The cleansing report's queries (see `store::register`). Each suspect-group query is one
//! statement: a grouped subquery picks the groups (`GROUP BY … HAVING`), the outer query
//! returns their members ordered by the group key. Plain SQL both engines run as written. The
//! listings of single persons are in table order (no `ORDER BY id_number`: walking that
//! index looks every row up and took seconds on a million).

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::accounts::{Opt, PERSON_COLS, PersonRow, person};
use super::{SqlStore, db_err, on, on_write};
use crate::store::register::{
    HouseholdBounds, RegisterChecks, RegisterCounts, SUSPECT_ROWS, SharedKey, match_key,
};
use crate::store::{PersonRecord, StoreResult};

/// `PERSON_COLS` of the table aliased `p`.
fn p_cols() -> String {
    PERSON_COLS
        .split(", ")
        .map(|c| format!("p.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The shared key, then a `PersonRow` (sqlx decodes flat tuples only; one line per kind).
#[rustfmt::skip]
type KeyedRow = (String, String, String, String, String, String,
    Opt, Opt, Opt, Opt, Opt, Opt, Opt, Opt, i64, i64);

fn keyed(r: KeyedRow) -> (String, PersonRecord) {
    let row: PersonRow = (
        r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14, r.15,
    );
    (r.0, person(row))
}

/// The birth year of a `YYYY-MM-DD` birth date, as a number.
const BIRTH_YEAR: &str = "CAST(SUBSTR(birth_date, 1, 4) AS INTEGER)";

/// A living Vietnamese national born by `$1` with no CMND alias (`p` is the person).
const UNLINKED: &str = "p.deceased_on IS NULL AND p.nationality = 'VN' AND p.birth_date <= $1 \
     AND NOT EXISTS (SELECT 1 FROM person_aliases a \
     WHERE a.id_number = p.id_number AND a.kind = 'cmnd')";

#[async_trait]
impl RegisterChecks for SqlStore {
    async fn persons_sharing(
        &self,
        key: SharedKey,
        at_least: i64,
    ) -> StoreResult<Vec<(String, PersonRecord)>> {
        let cols = p_cols();
        let sql = match key {
            SharedKey::MatchKey | SharedKey::Phone => {
                let col = if key == SharedKey::Phone {
                    "phone"
                } else {
                    "match_key"
                };
                format!(
                    "SELECT CAST(p.{col} AS TEXT), {cols} FROM persons p WHERE p.{col} IN \
                     (SELECT {col} FROM persons WHERE {col} IS NOT NULL \
                      GROUP BY {col} HAVING COUNT(*) >= $1) \
                     ORDER BY p.{col}, p.id_number LIMIT $2"
                )
            }
            SharedKey::Cmnd => format!(
                "SELECT a.value, {cols} FROM person_aliases a \
                 JOIN persons p ON p.id_number = a.id_number \
                 WHERE a.kind = 'cmnd' AND a.value IN \
                 (SELECT value FROM person_aliases WHERE kind = 'cmnd' \
                  GROUP BY value HAVING COUNT(*) >= $1) \
                 ORDER BY a.value, p.id_number LIMIT $2"
            ),
        };
        let rows = on!(self, |p| sqlx::query_as::<_, KeyedRow>(AssertSqlSafe(
            sql.as_str()
        ))
        .bind(at_least)
        .bind(SUSPECT_ROWS as i64)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(keyed).collect())
    }

    async fn suspect_households(&self, b: &HouseholdBounds) -> StoreResult<Vec<PersonRecord>> {
        let by = BIRTH_YEAR;
        let rel =
            |r: &str, then: &str| format!("CASE WHEN household_relation = '{r}' THEN {then} END");
        let sql = format!(
            "SELECT {cols} FROM persons p WHERE p.household_id IN \
             (SELECT household_id FROM persons WHERE household_id IS NOT NULL \
              GROUP BY household_id HAVING \
              SUM(CASE WHEN household_relation = 'head' THEN 1 ELSE 0 END) <> 1 \
              OR MAX({head_birth}) > $1 \
              OR MAX({head_dead}) = 1 \
              OR MAX({spouse_birth}) > $2 \
              OR MIN({child_year}) < MAX({head_year}) + $3 \
              OR MAX({parent_year}) > MIN({head_year}) - $3 \
              OR COUNT(DISTINCT residence) > 1) \
             ORDER BY p.household_id, p.id_number LIMIT $4",
            cols = p_cols(),
            head_birth = rel("head", "birth_date"),
            head_dead = rel("head", "(CASE WHEN deceased_on IS NULL THEN 0 ELSE 1 END)"),
            spouse_birth = rel("spouse", "birth_date"),
            child_year = rel("child", by),
            head_year = rel("head", by),
            parent_year = rel("parent", by),
        );
        let rows = on!(self, |p| sqlx::query_as::<_, PersonRow>(AssertSqlSafe(
            sql.as_str()
        ))
        .bind(&b.head_born_after)
        .bind(&b.spouse_born_after)
        .bind(b.generation_years)
        .bind(SUSPECT_ROWS as i64)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(person).collect())
    }

    async fn heads_without_household(&self, limit: i64) -> StoreResult<Vec<String>> {
        const SQL: &str = "SELECT id_number FROM persons WHERE household_relation = 'head' \
             AND household_id IS NULL LIMIT $1";
        on!(self, |p| sqlx::query_scalar(SQL)
            .bind(limit)
            .fetch_all(p)
            .await
            .map_err(db_err))
    }

    async fn cmnd_of(&self, ids: &[String]) -> StoreResult<Vec<(String, String)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!(
                "SELECT id_number, value FROM person_aliases \
                 WHERE kind = 'cmnd' AND id_number IN ({marks}) ORDER BY id_number, value"
            );
            let rows: Vec<(String, String)> = on!(self, |p| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(p).await.map_err(db_err)
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    async fn unlinked_cmnd(&self, born_by: &str, limit: i64) -> StoreResult<Vec<String>> {
        let sql = format!("SELECT p.id_number FROM persons p WHERE {UNLINKED} LIMIT $2");
        on!(self, |p| sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
            .bind(born_by)
            .bind(limit)
            .fetch_all(p)
            .await
            .map_err(db_err))
    }

    async fn expired_cards(&self, today: &str, limit: i64) -> StoreResult<Vec<String>> {
        const SQL: &str = "SELECT id_number FROM persons WHERE deceased_on IS NULL \
             AND card_expires_on < $1 LIMIT $2";
        on!(self, |p| sqlx::query_scalar(SQL)
            .bind(today)
            .bind(limit)
            .fetch_all(p)
            .await
            .map_err(db_err))
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

    async fn register_counts(&self, born_by: &str, today: &str) -> StoreResult<RegisterCounts> {
        let sql = format!(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN p.deceased_on IS NOT NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN p.deceased_on IS NULL AND (p.residence IS NULL \
               OR p.household_id IS NULL OR p.household_relation IS NULL) THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN {UNLINKED} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN p.deceased_on IS NULL AND p.card_expires_on < $2 \
               THEN 1 ELSE 0 END), 0) \
             FROM persons p"
        );
        let r: (i64, i64, i64, i64, i64) =
            on!(self, |p| sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(born_by)
                .bind(today)
                .fetch_one(p)
                .await
                .map_err(db_err))?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(RegisterCounts {
            persons: n(r.0),
            deceased: n(r.1),
            incomplete: n(r.2),
            unlinked_cmnd: n(r.3),
            expired_cards: n(r.4),
        })
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
