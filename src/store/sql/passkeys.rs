//! WebAuthn passkeys and the account's user handle.

use async_trait::async_trait;

use super::{SqlStore, db_err, on, on_write};
use crate::clock::UnixTime;
use crate::ids::Subject;
use crate::store::{PasskeyRecord, PasskeyStore, StoreResult};

type Row = (Vec<u8>, String, String, String, i64, Option<i64>, i64, i64);
const COLS: &str =
    "cred_id, sub, name, passkey, created_at, last_used_at, backup_eligible, backup_state";

fn record(r: Row) -> PasskeyRecord {
    PasskeyRecord {
        cred_id: r.0,
        sub: Subject::stored(r.1),
        name: r.2,
        passkey: r.3,
        created_at: r.4,
        last_used_at: r.5,
        backup_eligible: r.6 != 0,
        backup_state: r.7 != 0,
    }
}

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn webauthn_user(&self, sub: &str) -> StoreResult<Option<String>> {
        const SQL: &str = "SELECT webauthn_user FROM accounts WHERE sub = $1";
        let row = on!(self, |p| sqlx::query_as::<_, (Option<String>,)>(SQL)
            .bind(sub)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.and_then(|r| r.0))
    }

    async fn set_webauthn_user(&self, sub: &str, handle: &str) -> StoreResult<()> {
        const SQL: &str =
            "UPDATE accounts SET webauthn_user = $2 WHERE sub = $1 AND webauthn_user IS NULL";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(handle)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn sub_by_webauthn_user(&self, handle: &str) -> StoreResult<Option<String>> {
        const SQL: &str = "SELECT sub FROM accounts WHERE webauthn_user = $1";
        let row = on!(self, |p| sqlx::query_as::<_, (String,)>(SQL)
            .bind(handle)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(|r| r.0))
    }

    async fn insert_passkey(&self, k: &PasskeyRecord) -> StoreResult<()> {
        let sql = format!("INSERT INTO passkeys ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)");
        on_write!(self, |p| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&k.cred_id)
            .bind(k.sub.as_str())
            .bind(&k.name)
            .bind(&k.passkey)
            .bind(k.created_at)
            .bind(k.last_used_at)
            .bind(k.backup_eligible as i64)
            .bind(k.backup_state as i64)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn passkeys_of(&self, sub: &str) -> StoreResult<Vec<PasskeyRecord>> {
        let sql = format!("SELECT {COLS} FROM passkeys WHERE sub = $1 ORDER BY created_at, name");
        let rows = on!(self, |p| sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(sub)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(record).collect())
    }

    async fn passkey(&self, cred_id: &[u8]) -> StoreResult<Option<PasskeyRecord>> {
        let sql = format!("SELECT {COLS} FROM passkeys WHERE cred_id = $1");
        let row = on!(self, |p| sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(cred_id)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(row.map(record))
    }

    async fn touch_passkey(
        &self,
        cred_id: &[u8],
        passkey: &str,
        backup_state: bool,
        now: UnixTime,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE passkeys SET passkey = $2, backup_state = $3, last_used_at = $4 WHERE cred_id = $1";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(cred_id)
            .bind(passkey)
            .bind(backup_state as i64)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn rename_passkey(&self, sub: &str, cred_id: &[u8], name: &str) -> StoreResult<bool> {
        const SQL: &str = "UPDATE passkeys SET name = $3 WHERE sub = $1 AND cred_id = $2";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(cred_id)
            .bind(name)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(db_err))
    }

    async fn delete_passkey(&self, sub: &str, cred_id: &[u8]) -> StoreResult<bool> {
        const SQL: &str = "DELETE FROM passkeys WHERE sub = $1 AND cred_id = $2";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(cred_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(db_err))
    }
}
