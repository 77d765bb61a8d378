//! Persons (population-register records) and e-ID accounts.

use async_trait::async_trait;

use super::{SqlStore, db_err, on};
use crate::clock::UnixTime;
use crate::store::{AccountRecord, AccountStore, PersonRecord, PersonStore, StoreResult};

type PersonRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

fn person(r: PersonRow) -> PersonRecord {
    PersonRecord {
        id_number: r.0,
        full_name: r.1,
        birth_date: r.2,
        sex: r.3,
        nationality: r.4,
        phone: r.5,
        email: r.6,
        residence: r.7,
        created_at: r.8,
    }
}

type AccountRow = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    i64,
    i64,
);

fn account(r: AccountRow) -> AccountRecord {
    AccountRecord {
        sub: r.0,
        id_number: r.1,
        password_hash: r.2,
        level: r.3,
        state: r.4,
        lock_reason: r.5,
        created_at: r.6,
        updated_at: r.7,
    }
}

const ACCOUNT_COLS: &str =
    "sub, id_number, password_hash, level, state, lock_reason, created_at, updated_at";

#[async_trait]
impl PersonStore for SqlStore {
    async fn upsert_person(&self, p: &PersonRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO persons (id_number, full_name, birth_date, sex, nationality, \
             phone, email, residence, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) \
             ON CONFLICT (id_number) DO UPDATE SET full_name = excluded.full_name, \
             birth_date = excluded.birth_date, sex = excluded.sex, nationality = excluded.nationality, \
             phone = excluded.phone, email = excluded.email, residence = excluded.residence";
        on!(self, |p_| sqlx::query(SQL)
            .bind(&p.id_number)
            .bind(&p.full_name)
            .bind(&p.birth_date)
            .bind(&p.sex)
            .bind(&p.nationality)
            .bind(&p.phone)
            .bind(&p.email)
            .bind(&p.residence)
            .bind(p.created_at)
            .execute(p_)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn person(&self, id_number: &str) -> StoreResult<Option<PersonRecord>> {
        const SQL: &str = "SELECT id_number, full_name, birth_date, sex, nationality, phone, email, \
             residence, created_at FROM persons WHERE id_number = $1";
        let row = on!(self, |p| sqlx::query_as::<_, PersonRow>(SQL)
            .bind(id_number)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(person))
    }
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn insert_account(&self, a: &AccountRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO accounts (sub, id_number, password_hash, level, state, \
             lock_reason, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)";
        on!(self, |p| sqlx::query(SQL)
            .bind(&a.sub)
            .bind(&a.id_number)
            .bind(&a.password_hash)
            .bind(a.level)
            .bind(&a.state)
            .bind(&a.lock_reason)
            .bind(a.created_at)
            .bind(a.updated_at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn account_by_sub(&self, sub: &str) -> StoreResult<Option<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE sub = $1");
        let row = on!(self, |p| sqlx::query_as::<_, AccountRow>(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(sub)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(row.map(account))
    }

    async fn account_by_id_number(&self, id_number: &str) -> StoreResult<Option<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id_number = $1");
        let row = on!(self, |p| sqlx::query_as::<_, AccountRow>(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(id_number)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(row.map(account))
    }

    async fn set_password(&self, sub: &str, hash: &str, now: UnixTime) -> StoreResult<()> {
        const SQL: &str = "UPDATE accounts SET password_hash = $2, updated_at = $3 WHERE sub = $1";
        on!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(hash)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn set_level(&self, sub: &str, level: i64, now: UnixTime) -> StoreResult<()> {
        const SQL: &str = "UPDATE accounts SET level = $2, updated_at = $3 WHERE sub = $1";
        on!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(level)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }
}
