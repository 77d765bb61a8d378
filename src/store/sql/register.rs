//! The register import's bulk path: which records are on file with which content hash, and
//! many records written in one transaction with multi-row statements.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::accounts::PERSON_COLS;
use super::{SqlStore, db_err, on, on_write};
use crate::store::{AliasRecord, PersonRecord, StoreResult};

/// Rows per statement: 16 values each stays far under SQLite's 32 766 and PostgreSQL's
/// 65 535 bound parameters.
const ROWS_PER_STATEMENT: usize = 500;

/// `($1,…,$n), ($n+1,…)`: `rows` groups of `width` numbered placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cells.join(","))
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) async fn person_hashes(
    db: &SqlStore,
    ids: &[String],
) -> StoreResult<HashMap<String, Option<String>>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id_number, content_hash FROM persons WHERE id_number IN ({})",
            marks.join(",")
        );
        let rows = on!(db, |p| {
            let mut q = sqlx::query_as::<_, (String, Option<String>)>(AssertSqlSafe(sql.as_str()));
            for id in chunk {
                q = q.bind(id);
            }
            q.fetch_all(p).await.map_err(db_err)
        })?;
        out.extend(rows);
    }
    Ok(out)
}

pub(super) async fn upsert_people(
    db: &SqlStore,
    people: &[(PersonRecord, String)],
    aliases: &[AliasRecord],
) -> StoreResult<()> {
    on_write!(db, |p| async {
        let mut tx = p.begin().await?;
        for chunk in people.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO persons ({PERSON_COLS}, content_hash) VALUES {} \
                 ON CONFLICT (id_number) DO UPDATE SET full_name = excluded.full_name, \
                 birth_date = excluded.birth_date, sex = excluded.sex, \
                 nationality = excluded.nationality, phone = excluded.phone, \
                 email = excluded.email, residence = excluded.residence, \
                 birth_place = excluded.birth_place, household_id = excluded.household_id, \
                 household_relation = excluded.household_relation, \
                 card_expires_on = excluded.card_expires_on, deceased_on = excluded.deceased_on, \
                 updated_at = excluded.updated_at, content_hash = excluded.content_hash",
                placeholders(chunk.len(), 16)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (r, hash) in chunk {
                q = q
                    .bind(&r.id_number)
                    .bind(&r.full_name)
                    .bind(&r.birth_date)
                    .bind(&r.sex)
                    .bind(&r.nationality)
                    .bind(&r.phone)
                    .bind(&r.email)
                    .bind(&r.residence)
                    .bind(&r.birth_place)
                    .bind(&r.household_id)
                    .bind(&r.household_relation)
                    .bind(&r.card_expires_on)
                    .bind(&r.deceased_on)
                    .bind(r.created_at)
                    .bind(r.updated_at)
                    .bind(hash);
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in aliases.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO person_aliases (kind, value, id_number) VALUES {} \
                 ON CONFLICT (kind, value, id_number) DO NOTHING",
                placeholders(chunk.len(), 3)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for a in chunk {
                q = q.bind(&a.kind).bind(&a.value).bind(&a.id_number);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await
    .map_err(db_err))
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_each_cell_once() {
        assert_eq!(super::placeholders(2, 3), "($1,$2,$3),($4,$5,$6)");
    }
}
