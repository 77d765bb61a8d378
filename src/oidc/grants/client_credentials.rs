//! `client_credentials` (RFC 6749 §4.4): a confidential client acting for itself. No person,
//! so no ID token and no refresh token; `sub` is the client.

use super::TokenParams;
use crate::crypto;
use crate::oidc::tokens::{self, TokenResponse};
use crate::oidc::{OAuthError, Provider, clients, split_spaces};
use crate::store::{ClientRecord, GrantRecord};

pub async fn exchange(
    p: &Provider,
    client: &ClientRecord,
    params: &TokenParams,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    if clients::is_public(client) {
        return Err(OAuthError::unauthorized_client(
            "a public client cannot use client_credentials",
        ));
    }
    let asked = split_spaces(params.scope.as_deref());
    // Person scopes mean nothing without a person.
    let scopes = crate::oidc::policy::scopes(client);
    let allowed =
        |s: &String| scopes.contains(s) && !matches!(s.as_str(), "openid" | "offline_access");
    if let Some(bad) = asked.iter().find(|s| !allowed(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "scope {bad:?} is not available to this client here"
        )));
    }
    let now = p.now();
    let (ttl, _) = crate::oidc::policy::token_lifetimes(client, &p.cfg.lifetimes);
    // Not stored: nothing refers back to a client-credentials grant except its token.
    let grant = GrantRecord {
        id: crypto::random_id()?,
        client_id: client.client_id.clone(),
        sub: None,
        rp_sub: None,
        scope: asked.join(" "),
        auth_time: None,
        acr: None,
        amr: Vec::new(),
        sid: None,
        claims: None,
        created_at: now,
        expires_at: now + ttl,
        revoked_at: None,
        refresh_generation: None,
        refresh_issued_at: None,
        consented: None,
        dpop_jkt: jkt.map(String::from),
        authorization_details: None,
    };
    Ok(TokenResponse {
        access_token: tokens::access_token(p, &grant, ttl, now)?,
        token_type: super::token_type(jkt),
        expires_in: ttl,
        refresh_token: None,
        id_token: None,
        scope: grant.scope,
        authorization_details: None,
    })
}
