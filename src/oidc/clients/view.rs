//! What the admin API and CLI show of a client: its registration and policy, never its
//! secret or the secret's hash.

use serde::Serialize;

use super::super::policy;
use crate::clock::UnixTime;
use crate::store::{ClientRecord, Durable, Purpose};

/// A client as an admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub kind: String,
    pub token_endpoint_auth_method: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub min_account_level: i64,
    pub min_acr: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub subject_type: &'static str,
    pub sector: Option<String>,
    pub sector_identifier_uri: Option<String>,
    pub policy_override: Option<String>,
    /// Where the registration goes past its kind's policy (allowed by `policy_override`).
    pub beyond_policy: Vec<String>,
    pub purposes: Vec<Purpose>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    pub jwks_uri: Option<String>,
    /// Public keys only (`private_key_jwt`).
    pub jwks: Option<serde_json::Value>,
    pub id_token_alg: String,
    pub officer_id: Option<String>,
    pub disabled: bool,
    pub disabled_at: Option<UnixTime>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl From<&ClientRecord> for ClientView {
    fn from(c: &ClientRecord) -> Self {
        let s = &c.settings;
        ClientView {
            client_id: c.client_id.to_string(),
            name: c.name.clone(),
            kind: c.kind.as_str().into(),
            token_endpoint_auth_method: c.auth_method.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            grant_types: c.grant_types.clone(),
            scopes: c.scopes.clone(),
            min_account_level: c.min_account_level,
            min_acr: c.min_acr.clone(),
            access_token_ttl: s.access_token_ttl,
            refresh_token_ttl: s.refresh_token_ttl,
            subject_type: s.subject_type.as_str(),
            sector: s.sector.clone(),
            sector_identifier_uri: s.sector_identifier_uri.clone(),
            policy_override: s.policy_override.clone(),
            beyond_policy: policy::beyond(c),
            purposes: s.purposes.clone(),
            backchannel_logout_uri: s.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: s.backchannel_logout_session_required,
            jwks_uri: c.jwks_uri.clone(),
            jwks: c.jwks.as_deref().and_then(|j| serde_json::from_str(j).ok()),
            id_token_alg: c.id_token_alg.clone(),
            officer_id: c.officer_id.clone(),
            disabled: s.disabled_at.is_some(),
            disabled_at: s.disabled_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Every client, oldest first.
pub async fn list(db: &dyn Durable) -> Result<Vec<ClientView>, super::RegisterError> {
    Ok(db.clients().await?.iter().map(ClientView::from).collect())
}

/// One client, or `NotFound`.
pub async fn show(db: &dyn Durable, client_id: &str) -> Result<ClientView, super::RegisterError> {
    match db.client(client_id).await? {
        Some(c) => Ok(ClientView::from(&c)),
        None => Err(super::RegisterError::NotFound),
    }
}
