//! Signing keys (private parts sealed under the key-encryption key).

use async_trait::async_trait;

use super::{SqlStore, db_err, on, on_write};
use crate::clock::UnixTime;
use crate::store::{KeyRecord, KeyStore, StoreResult};

type KeyRow = (
    String,
    String,
    Vec<u8>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

#[async_trait]
impl KeyStore for SqlStore {
    async fn insert_key(&self, k: &KeyRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO signing_keys (kid, alg, private_sealed, public_jwk, created_at, \
             activate_at, retire_at, remove_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(&k.kid)
            .bind(&k.alg)
            .bind(&k.private_sealed)
            .bind(&k.public_jwk)
            .bind(k.created_at)
            .bind(k.activate_at)
            .bind(k.retire_at)
            .bind(k.remove_at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn keys(&self) -> StoreResult<Vec<KeyRecord>> {
        const SQL: &str = "SELECT kid, alg, private_sealed, public_jwk, created_at, activate_at, \
             retire_at, remove_at FROM signing_keys ORDER BY activate_at, kid";
        let rows = on!(self, |p| sqlx::query_as::<_, KeyRow>(SQL)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows
            .into_iter()
            .map(|r| KeyRecord {
                kid: r.0,
                alg: r.1,
                private_sealed: r.2,
                public_jwk: r.3,
                created_at: r.4,
                activate_at: r.5,
                retire_at: r.6,
                remove_at: r.7,
            })
            .collect())
    }

    async fn set_key_schedule(
        &self,
        kid: &str,
        retire_at: Option<UnixTime>,
        remove_at: Option<UnixTime>,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE signing_keys SET retire_at = $2, remove_at = $3 WHERE kid = $1";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(kid)
            .bind(retire_at)
            .bind(remove_at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn delete_removed_keys(&self, now: UnixTime) -> StoreResult<u64> {
        const SQL: &str =
            "DELETE FROM signing_keys WHERE remove_at IS NOT NULL AND remove_at <= $1";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err))
    }
}
