//! Grants (one per authorization or client-credentials issue), their refresh-token families,
//! and consents.

use async_trait::async_trait;

use sqlx::AssertSqlSafe;

use super::rotation::{VIEW_SQL, grant_row, view, view_row};
use super::{SqlStore, db_err, from_json, on, on_write, to_json};
use crate::clock::UnixTime;
use crate::ids::{ClientId, Subject};
use crate::store::{
    Consented, GrantRecord, GrantStore, GrantView, RefreshRef, RefreshUse, StoreResult,
};

/// A grant's columns: the core ones, then `extensions` (migration 0017).
pub(super) type GrantRow = (GrantCore, Option<String>);

pub(super) type GrantCore = (
    String,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

pub(super) const GRANT_COLS: &str = "id, client_id, sub, scope, auth_time, acr, amr, sid, claims, \
     created_at, expires_at, revoked_at, refresh_generation, refresh_issued_at, rp_sub, consented, \
     extensions";

/// The extensions column: what FAPI adds to a grant.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Extensions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_details: Option<serde_json::Value>,
}

fn extensions_of(g: &GrantRecord) -> Option<String> {
    if g.dpop_jkt.is_none() && g.authorization_details.is_none() {
        return None;
    }
    let e = Extensions {
        dpop_jkt: g.dpop_jkt.clone(),
        authorization_details: g
            .authorization_details
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok()),
    };
    serde_json::to_string(&e).ok()
}

pub(super) fn grant((r, ext): GrantRow) -> StoreResult<GrantRecord> {
    let ext: Extensions = match ext {
        Some(e) => serde_json::from_str(&e)
            .map_err(|e| crate::store::StoreError::Corrupt(format!("grants.extensions: {e}")))?,
        None => Extensions::default(),
    };
    Ok(GrantRecord {
        dpop_jkt: ext.dpop_jkt,
        authorization_details: ext.authorization_details.map(|a| a.to_string()),
        id: r.0,
        client_id: ClientId::stored(r.1),
        sub: r.2.map(Subject::stored),
        rp_sub: r.14.map(Subject::stored),
        scope: r.3,
        auth_time: r.4,
        acr: r.5,
        amr: from_json(&r.6)?,
        sid: r.7,
        claims: r.8,
        created_at: r.9,
        expires_at: r.10,
        revoked_at: r.11,
        refresh_generation: r.12,
        refresh_issued_at: r.13,
        consented: r
            .15
            .map(|c| serde_json::from_str::<Consented>(&c))
            .transpose()
            .map_err(|e| crate::store::StoreError::Corrupt(format!("grants.consented: {e}")))?,
    })
}

impl SqlStore {
    /// After a failed spend: an earlier generation of this client's family is a replay
    /// (revoke the family); anything else (unknown, expired, another client's) is merely
    /// invalid.
    async fn classify_unspent(
        &self,
        presented: &RefreshRef,
        client_id: &str,
    ) -> StoreResult<RefreshUse> {
        const SQL: &str = "SELECT refresh_generation FROM grants WHERE id = $1 AND client_id = $2";
        let row = on!(self, |p| sqlx::query_as::<_, (Option<i64>,)>(SQL)
            .bind(&presented.grant_id)
            .bind(client_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(match row {
            Some((Some(current),)) if presented.generation < current => {
                RefreshUse::Reused(presented.grant_id.clone())
            }
            _ => RefreshUse::Unknown,
        })
    }
}

#[async_trait]
impl GrantStore for SqlStore {
    async fn insert_grant(&self, g: &GrantRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO grants (id, client_id, sub, scope, auth_time, acr, amr, sid, \
             claims, created_at, expires_at, revoked_at, refresh_generation, refresh_issued_at, \
             rp_sub, consented, extensions) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(&g.id)
            .bind(g.client_id.as_str())
            .bind(g.sub.as_deref())
            .bind(&g.scope)
            .bind(g.auth_time)
            .bind(&g.acr)
            .bind(to_json(&g.amr))
            .bind(&g.sid)
            .bind(&g.claims)
            .bind(g.created_at)
            .bind(g.expires_at)
            .bind(g.revoked_at)
            .bind(g.refresh_generation)
            .bind(g.refresh_issued_at)
            .bind(g.rp_sub.as_deref())
            .bind(
                g.consented
                    .as_ref()
                    .map(|c| serde_json::to_string(c).unwrap_or_default()),
            )
            .bind(extensions_of(g))
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn grant(&self, id: &str) -> StoreResult<Option<GrantRecord>> {
        let sql = format!("SELECT {GRANT_COLS} FROM grants WHERE id = $1");
        let row = on!(self, |p| {
            let row = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await
                .map_err(db_err)?;
            row.map(|r| grant_row(&r, 0)).transpose().map_err(db_err)
        })?;
        row.map(grant).transpose()
    }

    async fn grant_view(&self, id: &str) -> StoreResult<Option<GrantView>> {
        let row = on!(self, |p| {
            let row = sqlx::query(AssertSqlSafe(VIEW_SQL.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await
                .map_err(db_err)?;
            row.map(|r| view_row(&r, 0)).transpose().map_err(db_err)
        })?;
        row.map(view).transpose()
    }

    async fn revoke_grant(&self, id: &str, now: UnixTime) -> StoreResult<()> {
        const SQL: &str = "UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(id)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn rotate_refresh(
        &self,
        presented: &RefreshRef,
        client_id: &str,
        now: UnixTime,
    ) -> StoreResult<RefreshUse> {
        let row = self.rotations.rotate(presented, client_id, now).await?;
        match row {
            Some(v) => Ok(RefreshUse::Fresh(Box::new(v))),
            None => self.classify_unspent(presented, client_id).await,
        }
    }

    async fn revoke_grants_of(&self, sub: &str, now: UnixTime) -> StoreResult<u64> {
        const SQL: &str = "UPDATE grants SET revoked_at = $2 WHERE sub = $1 AND revoked_at IS NULL";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err))
    }

    async fn revoke_grants_of_client(&self, client_id: &str, now: UnixTime) -> StoreResult<u64> {
        const SQL: &str =
            "UPDATE grants SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(client_id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err))
    }

    async fn live_grants_of(
        &self,
        sub: &str,
        sid: Option<&str>,
        client_id: Option<&str>,
        now: UnixTime,
    ) -> StoreResult<Vec<GrantRecord>> {
        // Values are always bound; only which filters are present changes the statement.
        let mut sql = format!(
            "SELECT {GRANT_COLS} FROM grants \
             WHERE sub = $1 AND revoked_at IS NULL AND expires_at > $2"
        );
        let mut n = 2;
        for (column, value) in [("sid", sid), ("client_id", client_id)] {
            if value.is_some() {
                n += 1;
                sql.push_str(&format!(" AND {column} = ${n}"));
            }
        }
        sql.push_str(" ORDER BY created_at, id");
        let rows = on!(self, |p| {
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str())).bind(sub).bind(now);
            for v in [sid, client_id].into_iter().flatten() {
                q = q.bind(v);
            }
            let rows = q.fetch_all(p).await.map_err(db_err)?;
            rows.iter()
                .map(|r| grant_row(r, 0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)
        })?;
        rows.into_iter().map(grant).collect()
    }
}
