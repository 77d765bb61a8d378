//! Persons (population-register records), their aliases, and e-ID accounts.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{SqlStore, db_err, on, on_write};
use crate::clock::UnixTime;
use crate::ids::Subject;
use crate::store::{
    AccountRecord, AccountState, AccountStore, AliasRecord, Entry, PeopleBatch, PersonRecord,
    PersonStore, StoreError, StoreResult,
};

pub(super) const PERSON_COLS: &str = "id_number, full_name, birth_date, sex, nationality, phone, email, \
     residence, birth_place, household_id, household_relation, card_expires_on, deceased_on, \
     created_at, updated_at";

/// A person's [`PERSON_COLS`] bound in their order, on either engine.
pub(super) fn bind_person<'q, DB: sqlx::Database>(
    q: sqlx::query::Query<'q, DB, DB::Arguments>,
    p: &'q PersonRecord,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q Opt: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    q.bind(&p.id_number)
        .bind(&p.full_name)
        .bind(&p.birth_date)
        .bind(&p.sex)
        .bind(&p.nationality)
        .bind(&p.phone)
        .bind(&p.email)
        .bind(&p.residence)
        .bind(&p.birth_place)
        .bind(&p.household_id)
        .bind(&p.household_relation)
        .bind(&p.card_expires_on)
        .bind(&p.deceased_on)
        .bind(p.created_at)
        .bind(p.updated_at)
}

pub(super) type Opt = Option<String>;
pub(super) type PersonRow = (
    String,
    String,
    String,
    String,
    String,
    Opt,
    Opt,
    Opt,
    Opt,
    Opt,
    Opt,
    Opt,
    Opt,
    i64,
    i64,
);

pub(super) fn person(r: PersonRow) -> PersonRecord {
    PersonRecord {
        id_number: r.0,
        full_name: r.1,
        birth_date: r.2,
        sex: r.3,
        nationality: r.4,
        phone: r.5,
        email: r.6,
        residence: r.7,
        birth_place: r.8,
        household_id: r.9,
        household_relation: r.10,
        card_expires_on: r.11,
        deceased_on: r.12,
        created_at: r.13,
        updated_at: r.14,
    }
}

pub(super) const ACCOUNT_COLS: &str = "sub, id_number, password_hash, level, state, lock_reason, lock_note, \
     session_epoch, created_at, updated_at";

pub(super) type AccountRow = (String, String, String, i64, String, Opt, Opt, i64, i64, i64);

pub(super) fn account(r: AccountRow) -> AccountRecord {
    AccountRecord {
        sub: Subject::stored(r.0),
        id_number: r.1,
        password_hash: r.2,
        level: r.3,
        state: AccountState::from_stored(&r.4),
        lock_reason: r.5,
        lock_note: r.6,
        session_epoch: r.7,
        created_at: r.8,
        updated_at: r.9,
    }
}

impl SqlStore {
    async fn account_where(&self, column: &str, value: &str) -> StoreResult<Option<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE {column} = $1");
        let row = on!(self, |p| sqlx::query_as::<_, AccountRow>(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(value)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(row.map(account))
    }
}

#[async_trait]
impl PersonStore for SqlStore {
    async fn upsert_person(&self, p: &PersonRecord) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO persons ({PERSON_COLS}, match_key) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) \
             ON CONFLICT (id_number) DO UPDATE SET full_name = excluded.full_name, \
             birth_date = excluded.birth_date, sex = excluded.sex, nationality = excluded.nationality, \
             phone = excluded.phone, email = excluded.email, residence = excluded.residence, \
             birth_place = excluded.birth_place, household_id = excluded.household_id, \
             household_relation = excluded.household_relation, card_expires_on = excluded.card_expires_on, \
             deceased_on = excluded.deceased_on, updated_at = excluded.updated_at, \
             match_key = excluded.match_key, content_hash = NULL"
        );
        let key = crate::store::register::match_key(&p.full_name, &p.birth_date, &p.sex);
        // A record written one by one is no longer what the last import hashed.
        on_write!(self, |p_| bind_person(
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str())),
            p
        )
        .bind(key)
        .execute(p_)
        .await
        .map(|_| ())
        .map_err(db_err))
    }

    async fn person(&self, id_number: &str) -> StoreResult<Option<PersonRecord>> {
        let sql = format!("SELECT {PERSON_COLS} FROM persons WHERE id_number = $1");
        let row = on!(self, |p| sqlx::query_as::<_, PersonRow>(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(id_number)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(row.map(person))
    }

    /// An alias of a person on file (the table has no foreign key: see migration 0020).
    async fn add_alias(&self, a: &AliasRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO person_aliases (kind, value, id_number) \
             SELECT $1, $2, id_number FROM persons WHERE id_number = $3 \
             ON CONFLICT (kind, value, id_number) DO NOTHING";
        let written = on_write!(self, |p| sqlx::query(SQL)
            .bind(&a.kind)
            .bind(&a.value)
            .bind(&a.id_number)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err))?;
        if written == 0 && self.person(&a.id_number).await?.is_none() {
            return Err(StoreError::Other(format!(
                "no person with ID number {} to hold an alias",
                a.id_number
            )));
        }
        Ok(())
    }

    async fn end_bulk_load(&self) -> StoreResult<()> {
        let ended = match &self.bulk {
            Some(bulk) => bulk.end().await.map_err(db_err),
            None => Ok(()),
        };
        self.end_bulk_writer().await;
        ended
    }

    async fn person_hashes(&self, ids: &[String]) -> StoreResult<HashMap<String, Option<String>>> {
        super::register::person_hashes(self, ids).await
    }

    async fn upsert_people(
        &self,
        new: PeopleBatch<'_>,
        changed: PeopleBatch<'_>,
        history: Entry<'_>,
        alone: bool,
    ) -> StoreResult<()> {
        super::register::upsert_people(self, new, changed, history, alone).await
    }

    async fn persons_by_alias(&self, kind: &str, value: &str) -> StoreResult<Vec<PersonRecord>> {
        let cols = PERSON_COLS
            .split(", ")
            .map(|c| format!("p.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM persons p JOIN person_aliases a ON a.id_number = p.id_number \
             WHERE a.kind = $1 AND a.value = $2 ORDER BY p.id_number"
        );
        let rows = on!(self, |p| sqlx::query_as::<_, PersonRow>(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(kind)
        .bind(value)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(person).collect())
    }
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn insert_account(&self, a: &AccountRecord) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO accounts ({ACCOUNT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
        );
        on_write!(self, |p| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(a.sub.as_str())
            .bind(&a.id_number)
            .bind(&a.password_hash)
            .bind(a.level)
            .bind(a.state.as_str())
            .bind(&a.lock_reason)
            .bind(&a.lock_note)
            .bind(a.session_epoch)
            .bind(a.created_at)
            .bind(a.updated_at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn account_by_sub(&self, sub: &str) -> StoreResult<Option<AccountRecord>> {
        self.account_where("sub", sub).await
    }

    async fn account_by_id_number(&self, id_number: &str) -> StoreResult<Option<AccountRecord>> {
        self.account_where("id_number", id_number).await
    }

    async fn set_password(&self, sub: &str, hash: &str, now: UnixTime) -> StoreResult<i64> {
        const SQL: &str = "UPDATE accounts SET password_hash = $2, updated_at = $3, \
             session_epoch = session_epoch + 1 WHERE sub = $1 RETURNING session_epoch";
        let epoch = on_write!(self, |p| sqlx::query_scalar::<_, i64>(SQL)
            .bind(sub)
            .bind(hash)
            .bind(now)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        epoch.ok_or_else(|| StoreError::Other(format!("no account {sub}")))
    }

    async fn set_level(&self, sub: &str, level: i64, now: UnixTime) -> StoreResult<()> {
        const SQL: &str = "UPDATE accounts SET level = $2, updated_at = $3 WHERE sub = $1";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(level)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn set_state(
        &self,
        sub: &str,
        state: AccountState,
        reason: Option<&str>,
        note: Option<&str>,
        now: UnixTime,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE accounts SET state = $2, lock_reason = $3, lock_note = $4, \
             updated_at = $5, session_epoch = CASE WHEN $2 = 'locked' THEN session_epoch + 1 \
             ELSE session_epoch END WHERE sub = $1";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(state.as_str())
            .bind(reason)
            .bind(note)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }
}
