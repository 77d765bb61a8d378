//! TOTP credentials and recovery codes.

use async_trait::async_trait;

use super::{SqlStore, db_err, on, on_write};
use crate::clock::UnixTime;
use crate::store::{MfaStore, StoreResult};

#[async_trait]
impl MfaStore for SqlStore {
    async fn put_totp(&self, sub: &str, secret_sealed: &[u8], now: UnixTime) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO totp_credentials (sub, secret_sealed, created_at, last_step) \
             VALUES ($1,$2,$3,0) ON CONFLICT (sub) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
             created_at = excluded.created_at, last_step = 0";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(secret_sealed)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn totp(&self, sub: &str) -> StoreResult<Option<(Vec<u8>, i64)>> {
        const SQL: &str = "SELECT secret_sealed, last_step FROM totp_credentials WHERE sub = $1";
        on!(self, |p| sqlx::query_as::<_, (Vec<u8>, i64)>(SQL)
            .bind(sub)
            .fetch_optional(p)
            .await
            .map_err(db_err))
    }

    async fn use_totp_step(&self, sub: &str, step: i64) -> StoreResult<bool> {
        const SQL: &str =
            "UPDATE totp_credentials SET last_step = $2 WHERE sub = $1 AND last_step < $2";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(step)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(db_err))
    }

    async fn delete_totp(&self, sub: &str) -> StoreResult<()> {
        on_write!(self, |p| sqlx::query(
            "DELETE FROM totp_credentials WHERE sub = $1"
        )
        .bind(sub)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err))
    }

    async fn replace_recovery_codes(
        &self,
        sub: &str,
        digests: &[Vec<u8>],
        now: UnixTime,
    ) -> StoreResult<()> {
        const INSERT: &str =
            "INSERT INTO recovery_codes (sub, code_hash, created_at) VALUES ($1,$2,$3)";
        on_write!(self, |p| async {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM recovery_codes WHERE sub = $1")
                .bind(sub)
                .execute(&mut *tx)
                .await?;
            for d in digests {
                sqlx::query(INSERT)
                    .bind(sub)
                    .bind(d)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await
        .map_err(db_err))
    }

    async fn use_recovery_code(
        &self,
        sub: &str,
        digest: &[u8],
        now: UnixTime,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE recovery_codes SET used_at = $3 \
             WHERE sub = $1 AND code_hash = $2 AND used_at IS NULL";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(digest)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(db_err))
    }

    async fn recovery_codes_left(&self, sub: &str) -> StoreResult<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM recovery_codes WHERE sub = $1 AND used_at IS NULL";
        let (n,) = on!(self, |p| sqlx::query_as::<_, (i64,)>(SQL)
            .bind(sub)
            .fetch_one(p)
            .await
            .map_err(db_err))?;
        Ok(n)
    }
}
