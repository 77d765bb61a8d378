//! The token endpoint's grants (RFC 6749 §4): one file per grant type.

mod client_credentials;
mod code;
mod refresh;

use super::client_auth::{self, Presented};
use super::tokens::TokenResponse;
use super::{OAuthError, Provider, clients, paths};

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl TokenParams {
    pub fn presented(&self, basic: Option<(String, String)>) -> Presented {
        Presented {
            basic,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            assertion_type: self.client_assertion_type.clone(),
            assertion: self.client_assertion.clone(),
        }
    }
}

/// Audiences a client assertion may name for an endpoint: the issuer or the endpoint URL.
pub fn audiences(p: &Provider, path: &str) -> Vec<String> {
    vec![p.issuer().to_string(), p.cfg.url(path)]
}

/// Authenticate the client, then run its grant.
pub async fn token(
    p: &Provider,
    params: &TokenParams,
    basic: Option<(String, String)>,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = params.grant_type.as_deref().filter(|g| !g.is_empty());
    let grant_type =
        grant_type.ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    if !clients::GRANT_TYPES.contains(&grant_type) {
        return Err(OAuthError::unsupported_grant_type(format!(
            "{grant_type} is not supported"
        )));
    }
    let client =
        client_auth::authenticate(p, &params.presented(basic), &audiences(p, paths::TOKEN)).await?;
    if !clients::allows_grant(&client, grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "client may not use {grant_type}"
        )));
    }
    let resp = match grant_type {
        "authorization_code" => code::exchange(p, &client, params).await,
        "refresh_token" => refresh::exchange(p, &client, params).await,
        _ => client_credentials::exchange(p, &client, params).await,
    }?;
    crate::metrics::METRICS.token_issued(grant_type);
    Ok(resp)
}

pub fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
}
