//! Approved bank transfers (migration 0017). The day's total and the new row are one
//! transaction; on PostgreSQL an advisory lock on (person, bank) keeps two approvals from
//! both reading the old total, on SQLite the single writer does.

use async_trait::async_trait;

use super::{Pool, SqlStore, db_err, on, on_write};
use crate::clock::UnixTime;
use crate::store::{StoreResult, TransferApproval, TransferStore};

const TOTAL: &str = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transfer_approvals \
     WHERE sub = $1 AND client_id = $2 AND day = $3";
const INSERT: &str = "INSERT INTO transfer_approvals \
     (id, sub, client_id, day, amount, grant_id, approved_at) VALUES ($1,$2,$3,$4,$5,$6,$7)";

#[async_trait]
impl TransferStore for SqlStore {
    async fn transfers_total(&self, sub: &str, client_id: &str, day: i64) -> StoreResult<i64> {
        on!(self, |p| sqlx::query_as::<_, (i64,)>(TOTAL)
            .bind(sub)
            .bind(client_id)
            .bind(day)
            .fetch_one(p)
            .await
            .map(|r| r.0)
            .map_err(db_err))
    }

    async fn approve_transfer(&self, t: &TransferApproval, cap: Option<i64>) -> StoreResult<bool> {
        let lock = format!("{}\n{}", t.sub, t.client_id);
        on_write!(self, |p| async {
            let mut tx = p.begin().await?;
            if matches!(self.pool, Pool::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 17))")
                    .bind(&lock)
                    .execute(&mut *tx)
                    .await?;
            }
            let (total,): (i64,) = sqlx::query_as(TOTAL)
                .bind(&t.sub)
                .bind(&t.client_id)
                .bind(t.day)
                .fetch_one(&mut *tx)
                .await?;
            if cap.is_some_and(|c| total.saturating_add(t.amount) > c) {
                return Ok(false);
            }
            sqlx::query(INSERT)
                .bind(&t.id)
                .bind(&t.sub)
                .bind(&t.client_id)
                .bind(t.day)
                .bind(t.amount)
                .bind(&t.grant_id)
                .bind(t.approved_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|_| true)
        }
        .await
        .map_err(db_err))
    }

    async fn use_transfer(&self, id: &str, now: UnixTime) -> StoreResult<bool> {
        const SQL: &str =
            "UPDATE transfer_approvals SET used_at = $2 WHERE id = $1 AND used_at IS NULL";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(db_err))
    }
}
