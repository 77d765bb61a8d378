//! Registered relying parties.

use async_trait::async_trait;

use super::{SqlStore, db_err, from_json, on, on_write, to_json};
use crate::ids::ClientId;
use crate::store::{ClientRecord, ClientStore, StoreResult};

type ClientRow = (
    String,
    String,
    String,
    Option<Vec<u8>>,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
);

const COLS: &str = "client_id, name, kind, secret_hash, auth_method, redirect_uris, \
     post_logout_redirect_uris, grant_types, scopes, jwks, jwks_uri, id_token_alg, \
     min_account_level, min_acr, officer_id, created_at";

fn client(r: ClientRow) -> StoreResult<ClientRecord> {
    Ok(ClientRecord {
        client_id: ClientId::stored(r.0),
        name: r.1,
        kind: r.2,
        secret_hash: r.3,
        auth_method: r.4,
        redirect_uris: from_json(&r.5)?,
        post_logout_redirect_uris: from_json(&r.6)?,
        grant_types: from_json(&r.7)?,
        scopes: from_json(&r.8)?,
        jwks: r.9,
        jwks_uri: r.10,
        id_token_alg: r.11,
        min_account_level: r.12,
        min_acr: r.13,
        officer_id: r.14,
        created_at: r.15,
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
            "INSERT INTO clients ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)"
        );
        on_write!(self, |p| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(c.client_id.as_str())
            .bind(&c.name)
            .bind(&c.kind)
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
            .bind(c.created_at)
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
}
