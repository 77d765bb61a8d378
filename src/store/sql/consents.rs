//! Consents: the standing consent per person and client, the receipts that are its evidence,
//! and withdrawal (consent, receipts and the client's grants together).

use async_trait::async_trait;

use super::{SqlStore, db_err, from_json, on, on_write, to_json};
use crate::clock::UnixTime;
use crate::ids::{ClientId, Subject};
use crate::store::{ConsentReceipt, ConsentRecord, ConsentStore, StoreError, StoreResult};

type ConsentRow = (
    String,
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);
type ReceiptRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

const RECEIPT_COLS: &str = "id, sub, client_id, shown, shown_hash, granted, given_at, withdrawn_at";

fn receipt(r: ReceiptRow) -> StoreResult<ConsentReceipt> {
    Ok(ConsentReceipt {
        id: r.0,
        sub: Subject::stored(r.1),
        client_id: ClientId::stored(r.2),
        shown: serde_json::from_str(&r.3)
            .map_err(|e| StoreError::Corrupt(format!("consent_receipts.shown: {e}")))?,
        shown_hash: r.4,
        granted: from_json(&r.5)?,
        given_at: r.6,
        withdrawn_at: r.7,
    })
}

#[async_trait]
impl ConsentStore for SqlStore {
    async fn consent(&self, sub: &str, client_id: &str) -> StoreResult<Option<ConsentRecord>> {
        const SQL: &str = "SELECT scopes, granted_at, claims, asked, purpose, receipt_id \
             FROM consents WHERE sub = $1 AND client_id = $2";
        let row = on!(self, |p| sqlx::query_as::<_, ConsentRow>(SQL)
            .bind(sub)
            .bind(client_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(|r| {
            Ok(ConsentRecord {
                sub: Subject::stored(sub.to_string()),
                client_id: ClientId::stored(client_id.to_string()),
                scopes: from_json(&r.0)?,
                granted_at: r.1,
                claims: r.2.as_deref().map(from_json).transpose()?,
                asked: from_json(&r.3)?,
                purpose: r.4,
                receipt_id: r.5,
            })
        })
        .transpose()
    }

    async fn put_consent(&self, c: &ConsentRecord, r: &ConsentReceipt) -> StoreResult<()> {
        const RECEIPT: &str = "INSERT INTO consent_receipts (id, sub, client_id, shown, \
             shown_hash, granted, given_at, withdrawn_at) VALUES ($1,$2,$3,$4,$5,$6,$7,NULL)";
        const CONSENT: &str = "INSERT INTO consents (sub, client_id, scopes, granted_at, claims, \
             asked, purpose, receipt_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) \
             ON CONFLICT (sub, client_id) DO UPDATE SET scopes = excluded.scopes, \
             granted_at = excluded.granted_at, claims = excluded.claims, \
             asked = excluded.asked, purpose = excluded.purpose, receipt_id = excluded.receipt_id";
        let shown = serde_json::to_string(&r.shown)
            .map_err(|e| StoreError::Other(format!("consent receipt: {e}")))?;
        on_write!(self, |p| async {
            let mut tx = p.begin().await?;
            sqlx::query(RECEIPT)
                .bind(&r.id)
                .bind(r.sub.as_str())
                .bind(r.client_id.as_str())
                .bind(&shown)
                .bind(&r.shown_hash)
                .bind(to_json(&r.granted))
                .bind(r.given_at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(CONSENT)
                .bind(c.sub.as_str())
                .bind(c.client_id.as_str())
                .bind(to_json(&c.scopes))
                .bind(c.granted_at)
                .bind(c.claims.as_deref().map(to_json))
                .bind(to_json(&c.asked))
                .bind(&c.purpose)
                .bind(&c.receipt_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        .await
        .map_err(db_err))
    }

    async fn receipts_of(&self, sub: &str) -> StoreResult<Vec<ConsentReceipt>> {
        let sql = format!(
            "SELECT {RECEIPT_COLS} FROM consent_receipts WHERE sub = $1 \
             ORDER BY given_at DESC, id DESC LIMIT 500"
        );
        let rows = on!(self, |p| sqlx::query_as::<_, ReceiptRow>(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(sub)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        rows.into_iter().map(receipt).collect()
    }

    async fn withdraw_consent(
        &self,
        sub: &str,
        client_id: &str,
        now: UnixTime,
    ) -> StoreResult<u64> {
        on_write!(self, |p| async {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM consents WHERE sub = $1 AND client_id = $2")
                .bind(sub)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE consent_receipts SET withdrawn_at = $3 \
                 WHERE sub = $1 AND client_id = $2 AND withdrawn_at IS NULL",
            )
            .bind(sub)
            .bind(client_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let revoked = sqlx::query(
                "UPDATE grants SET revoked_at = $3 \
                 WHERE sub = $1 AND client_id = $2 AND revoked_at IS NULL",
            )
            .bind(sub)
            .bind(client_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(revoked)
        }
        .await
        .map_err(db_err))
    }
}
