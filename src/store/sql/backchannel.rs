//! The back-channel logout queue (`backchannel_logouts`): queued with the action that signs
//! a person out, claimed by one node at a time, its outcome recorded by that claim only.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{SqlStore, db_err, on, on_write};
use crate::clock::UnixTime;
use crate::ids::{ClientId, Subject};
use crate::store::{DeliveryFilter, DeliveryOutcome, LogoutDelivery, LogoutQueue, StoreResult};

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
);

const COLS: &str = "id, client_id, uri, sub, account_sub, sid, attempts, next_attempt_at, \
     last_error, last_status, delivered_at, failed_at, created_at";

/// Still owed: neither delivered nor given up.
const OWED: &str = "delivered_at IS NULL AND failed_at IS NULL";

fn delivery(r: Row) -> LogoutDelivery {
    LogoutDelivery {
        id: r.0,
        client_id: ClientId::stored(r.1),
        uri: r.2,
        sub: Subject::stored(r.3),
        account_sub: Subject::stored(r.4),
        sid: r.5,
        attempts: r.6,
        next_attempt_at: r.7,
        last_error: r.8,
        last_status: r.9,
        delivered_at: r.10,
        failed_at: r.11,
        created_at: r.12,
    }
}

#[async_trait]
impl LogoutQueue for SqlStore {
    async fn enqueue_logouts(&self, items: &[LogoutDelivery]) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO backchannel_logouts ({COLS}) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
        );
        on_write!(self, |p| async {
            let mut tx = p.begin().await?;
            for d in items {
                sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(&d.id)
                    .bind(d.client_id.as_str())
                    .bind(&d.uri)
                    .bind(d.sub.as_str())
                    .bind(d.account_sub.as_str())
                    .bind(&d.sid)
                    .bind(d.attempts)
                    .bind(d.next_attempt_at)
                    .bind(&d.last_error)
                    .bind(d.last_status)
                    .bind(d.delivered_at)
                    .bind(d.failed_at)
                    .bind(d.created_at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await
        .map_err(db_err))
    }

    async fn claim_logouts(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        claim: &str,
        limit: i64,
    ) -> StoreResult<Vec<LogoutDelivery>> {
        // The outer condition is evaluated again on the row as it is when the UPDATE reaches
        // it: on PostgreSQL a concurrent claim that committed first has moved
        // `next_attempt_at` past `now`, so the row is skipped (READ COMMITTED re-checks the
        // updated row); SQLite runs one writer at a time.
        let sql = format!(
            "UPDATE backchannel_logouts \
             SET attempts = attempts + 1, next_attempt_at = $2, claim = $3 \
             WHERE id IN (SELECT id FROM backchannel_logouts \
                          WHERE {OWED} AND next_attempt_at <= $1 \
                          ORDER BY next_attempt_at LIMIT $4) \
               AND {OWED} AND next_attempt_at <= $5 \
             RETURNING {COLS}"
        );
        let rows = on_write!(self, |p| sqlx::query_as::<_, Row>(AssertSqlSafe(
            sql.as_str()
        ))
        .bind(now)
        .bind(lease_until)
        .bind(claim)
        .bind(limit)
        .bind(now)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(delivery).collect())
    }

    async fn finish_logout(
        &self,
        id: &str,
        claim: &str,
        outcome: &DeliveryOutcome,
        now: UnixTime,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE backchannel_logouts \
             SET delivered_at = $3, failed_at = $4, next_attempt_at = COALESCE($5, next_attempt_at), \
                 last_status = $6, last_error = $7, claim = NULL \
             WHERE id = $1 AND claim = $2";
        let (delivered, failed, next, status, error) = match outcome {
            DeliveryOutcome::Delivered { status } => (Some(now), None, None, Some(*status), None),
            DeliveryOutcome::Retry { at, status, error } => {
                (None, None, Some(*at), *status, Some(error.as_str()))
            }
            DeliveryOutcome::GaveUp { status, error } => {
                (None, Some(now), None, *status, Some(error.as_str()))
            }
        };
        on_write!(self, |p| sqlx::query(SQL)
            .bind(id)
            .bind(claim)
            .bind(delivered)
            .bind(failed)
            .bind(next)
            .bind(status)
            .bind(error)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(db_err))
    }

    async fn logouts(
        &self,
        filter: DeliveryFilter,
        limit: i64,
    ) -> StoreResult<Vec<LogoutDelivery>> {
        let (condition, order) = match filter {
            DeliveryFilter::Pending => (OWED, "next_attempt_at"),
            DeliveryFilter::Failed => ("failed_at IS NOT NULL", "failed_at DESC"),
            DeliveryFilter::Undelivered => ("delivered_at IS NULL", "created_at DESC"),
        };
        let sql = format!(
            "SELECT {COLS} FROM backchannel_logouts WHERE {condition} ORDER BY {order}, id LIMIT $1"
        );
        let rows = on!(self, |p| sqlx::query_as::<_, Row>(AssertSqlSafe(
            sql.as_str()
        ))
        .bind(limit)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(delivery).collect())
    }

    async fn prune_delivered_logouts(&self, before: UnixTime) -> StoreResult<u64> {
        const SQL: &str =
            "DELETE FROM backchannel_logouts WHERE delivered_at IS NOT NULL AND delivered_at < $1";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(before)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err))
    }
}
