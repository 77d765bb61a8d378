//! The health-insurance register on both engines, and the look-ups read back from the audit
//! log. Imports write a batch in one transaction: SQLite with multi-row statements,
//! PostgreSQL with one `UNNEST` statement per batch (as `register.rs`).

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::audit::{COLS as AUDIT_COLS, Row as AuditRow, record as audit_record};
use super::audit_batch::Pending;
use super::officers::{OfficerRow, officer};
use super::register::{ROWS_PER_STATEMENT, keep, placeholders};
use super::{Pool, SqlStore, db_err, on};
use crate::clock::UnixTime;
use crate::store::insurance::{
    CardEntry, InsuranceCardRecord, InsuranceStore, LOOKUP_ACTION, Lookups,
};
use crate::store::{AuditRecord, ChainLink, OfficerRecord, StoreError, StoreResult};

const CARD_COLS: &str = "id_number, card_code, valid_from, valid_to, facility_code, \
     facility_name, benefit_level, five_years_since, status, created_at, updated_at";

type CardRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    String,
    i64,
    i64,
);

fn card(r: CardRow) -> InsuranceCardRecord {
    InsuranceCardRecord {
        id_number: r.0,
        card_code: r.1,
        valid_from: r.2,
        valid_to: r.3,
        facility_code: r.4,
        facility_name: r.5,
        benefit_level: r.6,
        five_years_since: r.7,
        status: r.8,
        created_at: r.9,
        updated_at: r.10,
    }
}

const UPDATE: &str = "ON CONFLICT (id_number) DO UPDATE SET card_code = excluded.card_code, \
     valid_from = excluded.valid_from, valid_to = excluded.valid_to, \
     facility_code = excluded.facility_code, facility_name = excluded.facility_name, \
     benefit_level = excluded.benefit_level, five_years_since = excluded.five_years_since, \
     status = excluded.status, content_hash = excluded.content_hash, \
     updated_at = excluded.updated_at";

impl SqlStore {
    async fn card_where(
        &self,
        column: &str,
        value: &str,
    ) -> StoreResult<Option<InsuranceCardRecord>> {
        let sql = format!("SELECT {CARD_COLS} FROM insurance_cards WHERE {column} = $1");
        let row = on!(self, |p| sqlx::query_as::<_, CardRow>(AssertSqlSafe(
            sql.as_str()
        ))
        .bind(value)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(row.map(card))
    }

    /// The cards of `ids` by ID number (a batch of look-ups, `audit_batch.rs`).
    pub(super) async fn cards_by_id(
        &self,
        ids: &[String],
    ) -> StoreResult<HashMap<String, InsuranceCardRecord>> {
        let select = format!("SELECT {CARD_COLS} FROM insurance_cards WHERE");
        let rows: Vec<CardRow> = self
            .rows_in(&select, "id_number", ids, CARDS_PER_READ)
            .await?;
        Ok(rows.into_iter().map(|r| (r.0.clone(), card(r))).collect())
    }

    /// `{select} {column} IN (values)` (`select` ends in `WHERE` or `AND`), in chunks, on
    /// either engine: on SQLite up to `per_statement` values a statement, kept prepared at
    /// that full size — or at every size when `per_statement` is small (a batch of look-ups:
    /// few sizes, each met again and again).
    async fn rows_in<T>(
        &self,
        select: &str,
        column: &str,
        values: &[String],
        per_statement: usize,
    ) -> StoreResult<Vec<T>>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let chunk_size = match &self.pool {
            Pool::Postgres(_) => BULK_READ,
            Pool::Sqlite(_) => per_statement,
        };
        let mut out = Vec::with_capacity(values.len());
        for chunk in values.chunks(chunk_size) {
            let rows: Vec<T> = match &self.pool {
                Pool::Postgres(p) => {
                    let sql = format!("{select} {column} = ANY($1)");
                    sqlx::query_as(AssertSqlSafe(sql))
                        .bind(chunk)
                        .fetch_all(p)
                        .await
                }
                Pool::Sqlite(p) => {
                    let sql = format!("{select} {column} IN {}", placeholders(1, chunk.len()));
                    let kept = chunk.len() == per_statement || per_statement <= CARDS_PER_READ;
                    let mut q = sqlx::query_as(AssertSqlSafe(sql)).persistent(kept);
                    for v in chunk {
                        q = q.bind(v);
                    }
                    q.fetch_all(p).await
                }
            }
            .map_err(db_err)?;
            out.extend(rows);
        }
        Ok(out)
    }
}

/// Values per statement of an import's reads.
const BULK_READ: usize = ROWS_PER_STATEMENT * 4;
/// The most ID numbers one SQLite statement of [`SqlStore::cards_by_id`] asks for.
const CARDS_PER_READ: usize = 32;

#[async_trait]
impl InsuranceStore for SqlStore {
    async fn insurance_card(&self, id_number: &str) -> StoreResult<Option<InsuranceCardRecord>> {
        self.card_where("id_number", id_number).await
    }

    async fn audited_card(
        &self,
        id_number: &str,
        entry: CardEntry,
        link: ChainLink<'_>,
    ) -> StoreResult<(i64, Option<InsuranceCardRecord>)> {
        let pending = Pending::Card(id_number.to_string(), entry);
        self.append_pending(pending, link)
            .await
            .map_err(StoreError::history_unwritten)
    }

    async fn insurance_card_by_code(&self, code: &str) -> StoreResult<Option<InsuranceCardRecord>> {
        self.card_where("card_code", code).await
    }

    async fn card_hashes(&self, ids: &[String]) -> StoreResult<HashMap<String, (String, String)>> {
        const SELECT: &str = "SELECT id_number, card_code, content_hash FROM insurance_cards WHERE";
        let rows: Vec<(String, String, String)> =
            self.rows_in(SELECT, "id_number", ids, BULK_READ).await?;
        Ok(rows.into_iter().map(|(id, c, h)| (id, (c, h))).collect())
    }

    async fn card_code_holders(&self, codes: &[String]) -> StoreResult<Vec<(String, String)>> {
        const CARDS: &str = "SELECT card_code, id_number FROM insurance_cards WHERE";
        const ALIASES: &str = "SELECT value, id_number FROM person_aliases WHERE kind = 'bhyt' AND";
        let mut out: Vec<(String, String)> =
            self.rows_in(CARDS, "card_code", codes, BULK_READ).await?;
        out.extend(
            self.rows_in::<(String, String)>(ALIASES, "value", codes, BULK_READ)
                .await?,
        );
        Ok(out)
    }

    async fn upsert_cards(&self, cards: &[(InsuranceCardRecord, String)]) -> StoreResult<()> {
        match &self.pool {
            Pool::Postgres(p) => postgres(p, cards).await,
            Pool::Sqlite(reader) => match self.bulk_writer(reader).await {
                Ok(writer) => sqlite(&writer, cards).await,
                Err(e) => Err(e),
            },
        }
        .map_err(db_err)
    }

    async fn insurance_lookups(
        &self,
        whose: Lookups<'_>,
        since: UnixTime,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>> {
        let (column, value) = match whose {
            Lookups::Client(c) => ("client_id", c),
            Lookups::Patient(id) => ("subject", id),
        };
        let sql = format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE {column} = $1 AND action = $2 \
             AND at >= $3 ORDER BY at DESC, seq DESC LIMIT $4"
        );
        let rows = on!(self, |p| sqlx::query_as::<_, AuditRow>(AssertSqlSafe(
            sql.as_str()
        ))
        .bind(value)
        .bind(LOOKUP_ACTION)
        .bind(since)
        .bind(limit)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(audit_record).collect())
    }

    async fn insurance_lookup_hours(
        &self,
        client_id: &str,
        since: UnixTime,
    ) -> StoreResult<Vec<(UnixTime, i64)>> {
        const SQL: &str = "SELECT (at / 3600) * 3600 AS hour, COUNT(*) FROM audit_log \
             WHERE client_id = $1 AND action = $2 AND at >= $3 GROUP BY hour ORDER BY hour";
        on!(self, |p| sqlx::query_as::<_, (i64, i64)>(SQL)
            .bind(client_id)
            .bind(LOOKUP_ACTION)
            .bind(since)
            .fetch_all(p)
            .await
            .map_err(db_err))
    }

    async fn officers_with_id_number(&self, id_number: &str) -> StoreResult<Vec<OfficerRecord>> {
        const SQL: &str = "SELECT officer_id, name, roles, id_number, created_at, unit \
             FROM officers WHERE id_number = $1";
        let rows = on!(self, |p| sqlx::query_as::<_, OfficerRow>(SQL)
            .bind(id_number)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter().map(officer).collect()
    }
}

async fn sqlite(
    p: &sqlx::SqlitePool,
    cards: &[(InsuranceCardRecord, String)],
) -> Result<(), sqlx::Error> {
    let mut tx = p.begin().await?;
    for chunk in cards.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO insurance_cards ({CARD_COLS}, content_hash) VALUES {} {UPDATE}",
            placeholders(chunk.len(), 12)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(keep(chunk.len(), 1));
        for (c, hash) in chunk {
            q = q
                .bind(&c.id_number)
                .bind(&c.card_code)
                .bind(&c.valid_from)
                .bind(&c.valid_to)
                .bind(&c.facility_code)
                .bind(&c.facility_name)
                .bind(c.benefit_level)
                .bind(&c.five_years_since)
                .bind(&c.status)
                .bind(c.created_at)
                .bind(c.updated_at)
                .bind(hash);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}

async fn postgres(
    p: &sqlx::PgPool,
    cards: &[(InsuranceCardRecord, String)],
) -> Result<(), sqlx::Error> {
    let text = |f: fn(&InsuranceCardRecord) -> &String| -> Vec<String> {
        cards.iter().map(|(c, _)| f(c).clone()).collect()
    };
    let number = |f: fn(&InsuranceCardRecord) -> i64| -> Vec<i64> {
        cards.iter().map(|(c, _)| f(c)).collect()
    };
    let sql = format!(
        "INSERT INTO insurance_cards ({CARD_COLS}, content_hash) SELECT * FROM UNNEST(\
         $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[]) {UPDATE}"
    );
    let mut tx = p.begin().await?;
    sqlx::query(AssertSqlSafe(sql))
        .bind(text(|c| &c.id_number))
        .bind(text(|c| &c.card_code))
        .bind(text(|c| &c.valid_from))
        .bind(text(|c| &c.valid_to))
        .bind(text(|c| &c.facility_code))
        .bind(text(|c| &c.facility_name))
        .bind(number(|c| c.benefit_level))
        .bind(
            cards
                .iter()
                .map(|(c, _)| c.five_years_since.clone())
                .collect::<Vec<_>>(),
        )
        .bind(text(|c| &c.status))
        .bind(number(|c| c.created_at))
        .bind(number(|c| c.updated_at))
        .bind(cards.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
