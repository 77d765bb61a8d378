//! The token endpoint's grants (RFC 6749 §4): one file per grant type.

mod client_credentials;
mod code;
mod refresh;

use super::client_auth::{self, Presented};
use super::tokens::TokenResponse;
use super::{OAuthError, Provider, clients, dpop, paths};
use crate::store::ClientRecord;

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

/// Authenticate the client, check its DPoP proof (if any: RFC 9449 §5), then run its grant.
/// `dpop`: the request's one `DPoP` header.
pub async fn token(
    p: &Provider,
    params: &TokenParams,
    basic: Option<(String, String)>,
    dpop: Option<&str>,
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
    let jkt = sender_key(p, &client, dpop).await?;
    let jkt = jkt.as_deref();
    let resp = match grant_type {
        "authorization_code" => code::exchange(p, &client, params, jkt).await,
        "refresh_token" => refresh::exchange(p, &client, params, jkt).await,
        _ => client_credentials::exchange(p, &client, params, jkt).await,
    }?;
    crate::metrics::METRICS.token_issued(grant_type);
    Ok(resp)
}

/// The key the tokens will be bound to: the DPoP proof's, checked for this endpoint. A
/// `fapi2` client must send one (FAPI 2.0 §5.3.2.2: sender-constrained tokens).
async fn sender_key(
    p: &Provider,
    client: &ClientRecord,
    dpop: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    let Some(proof) = dpop else {
        if clients::profile::is_fapi2(client) {
            return Err(OAuthError::invalid_dpop_proof(
                "this client's tokens are DPoP-bound: send a DPoP proof",
            ));
        }
        return Ok(None);
    };
    let htu = p.cfg.url(paths::TOKEN);
    let expect = dpop::Expect {
        htm: "POST",
        htu: &htu,
        access_token: None,
    };
    Ok(Some(dpop::check(p, proof, &expect).await?.jkt))
}

/// `DPoP` when the token is bound to a key, else `Bearer`.
pub fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() { "DPoP" } else { "Bearer" }
}

pub fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
}
