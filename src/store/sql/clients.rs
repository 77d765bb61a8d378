//! Registered relying parties.

use async_trait::async_trait;

use super::{SqlStore, db_err, from_json, on, on_write, to_json};
use crate::clock::UnixTime;
use crate::ids::ClientId;
use crate::store::{
    ClientKind, ClientRecord, ClientSettings, ClientStore, StoreError, StoreResult,
};

fn settings_json(s: &ClientSettings) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "{}".into())
}

/// A `clients` row. More columns than sqlx reads into a tuple, so it is read by name.
struct ClientRow {
    client_id: String,
    name: String,
    kind: String,
    secret_hash: Option<Vec<u8>>,
    auth_method: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    scopes: String,
    jwks: Option<String>,
    jwks_uri: Option<String>,
    id_token_alg: String,
    min_account_level: i64,
    min_acr: Option<String>,
    officer_id: Option<String>,
    settings: String,
    created_at: i64,
    updated_at: i64,
}

macro_rules! client_row_from {
    ($row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for ClientRow {
            fn from_row(r: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok(ClientRow {
                    client_id: r.try_get("client_id")?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    secret_hash: r.try_get("secret_hash")?,
                    auth_method: r.try_get("auth_method")?,
                    redirect_uris: r.try_get("redirect_uris")?,
                    post_logout_redirect_uris: r.try_get("post_logout_redirect_uris")?,
                    grant_types: r.try_get("grant_types")?,
                    scopes: r.try_get("scopes")?,
                    jwks: r.try_get("jwks")?,
                    jwks_uri: r.try_get("jwks_uri")?,
                    id_token_alg: r.try_get("id_token_alg")?,
                    min_account_level: r.try_get("min_account_level")?,
                    min_acr: r.try_get("min_acr")?,
                    officer_id: r.try_get("officer_id")?,
                    settings: r.try_get("settings")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                })
            }
        }
    };
}
client_row_from!(sqlx::sqlite::SqliteRow);
client_row_from!(sqlx::postgres::PgRow);

const COLS: &str = "client_id, name, kind, secret_hash, auth_method, redirect_uris, \
     post_logout_redirect_uris, grant_types, scopes, jwks, jwks_uri, id_token_alg, \
     min_account_level, min_acr, officer_id, settings, created_at, updated_at";

fn client(r: ClientRow) -> StoreResult<ClientRecord> {
    let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("client {what}: {e}"));
    Ok(ClientRecord {
        client_id: ClientId::stored(r.client_id),
        name: r.name,
        kind: ClientKind::parse(&r.kind).ok_or_else(|| corrupt("kind", r.kind.clone()))?,
        secret_hash: r.secret_hash,
        auth_method: r.auth_method,
        redirect_uris: from_json(&r.redirect_uris)?,
        post_logout_redirect_uris: from_json(&r.post_logout_redirect_uris)?,
        grant_types: from_json(&r.grant_types)?,
        scopes: from_json(&r.scopes)?,
        jwks: r.jwks,
        jwks_uri: r.jwks_uri,
        id_token_alg: r.id_token_alg,
        min_account_level: r.min_account_level,
        min_acr: r.min_acr,
        officer_id: r.officer_id,
        settings: serde_json::from_str(&r.settings)
            .map_err(|e| corrupt("settings", e.to_string()))?,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

impl SqlStore {
    async fn client_where(&self, column: &str, value: &str) -> StoreResult<Option<ClientRecord>> {
        let sql =
            format!("SELECT {COLS} FROM clients WHERE {column} = $1 ORDER BY created_at LIMIT 1");
        let row = on!(self, |p| sqlx::query_as::<_, ClientRow>(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(value)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        row.map(client).transpose()
    }
}

#[async_trait]
impl ClientStore for SqlStore {
    async fn insert_client(&self, c: &ClientRecord) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO clients ({COLS}) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)"
        );
        on_write!(self, |p| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(c.client_id.as_str())
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(&c.secret_hash)
            .bind(&c.auth_method)
            .bind(to_json(&c.redirect_uris))
            .bind(to_json(&c.post_logout_redirect_uris))
            .bind(to_json(&c.grant_types))
            .bind(to_json(&c.scopes))
            .bind(&c.jwks)
            .bind(&c.jwks_uri)
            .bind(&c.id_token_alg)
            .bind(c.min_account_level)
            .bind(&c.min_acr)
            .bind(&c.officer_id)
            .bind(settings_json(&c.settings))
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>> {
        self.client_where("client_id", client_id).await
    }

    async fn client_by_name(&self, name: &str) -> StoreResult<Option<ClientRecord>> {
        self.client_where("name", name).await
    }

    async fn clients(&self) -> StoreResult<Vec<ClientRecord>> {
        let sql = format!("SELECT {COLS} FROM clients ORDER BY created_at, client_id");
        let rows = on!(self, |p| sqlx::query_as::<_, ClientRow>(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        rows.into_iter().map(client).collect()
    }

    async fn update_client(
        &self,
        c: &ClientRecord,
        expected_updated_at: UnixTime,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE clients SET name = $2, secret_hash = $3, auth_method = $4, \
             redirect_uris = $5, post_logout_redirect_uris = $6, grant_types = $7, scopes = $8, \
             jwks = $9, jwks_uri = $10, id_token_alg = $11, min_account_level = $12, \
             min_acr = $13, officer_id = $14, settings = $15, updated_at = $16 \
             WHERE client_id = $1 AND updated_at = $17";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(c.client_id.as_str())
            .bind(&c.name)
            .bind(&c.secret_hash)
            .bind(&c.auth_method)
            .bind(to_json(&c.redirect_uris))
            .bind(to_json(&c.post_logout_redirect_uris))
            .bind(to_json(&c.grant_types))
            .bind(to_json(&c.scopes))
            .bind(&c.jwks)
            .bind(&c.jwks_uri)
            .bind(&c.id_token_alg)
            .bind(c.min_account_level)
            .bind(&c.min_acr)
            .bind(&c.officer_id)
            .bind(settings_json(&c.settings))
            .bind(c.updated_at)
            .bind(expected_updated_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(db_err))
    }
}
