//! Issuing the authorization code (RFC 6749 §4.1.2): what the code stands for is stored under
//! its digest, briefly, and the client gets `code`, `state` and `iss`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AuthRequest, response_url};
use crate::authn::Session;
use crate::clock::UnixTime;
use crate::crypto;
use crate::ids::{ClientId, Subject};
use crate::oidc::clients::profile::FAPI_CODE_LIFETIME;
use crate::oidc::{OAuthError, Provider};
use crate::store::{Consented, typed};

/// Authorization code contents, stored under the code's digest until redeemed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub sub: Subject,
    pub sid: String,
    pub auth_time: UnixTime,
    pub acr: crate::authn::Acr,
    pub amr: Vec<String>,
    pub claims: Option<Value>,
    /// The consent the code's disclosures rest on.
    #[serde(default)]
    pub consented: Option<Consented>,
    /// The DPoP key the request bound the code to (RFC 9449 §10).
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    /// The approved rich authorization details (RFC 9396).
    #[serde(default)]
    pub authorization_details: Option<Value>,
    pub expires_at: UnixTime,
}

pub fn code_key(code: &str) -> String {
    format!("code:{}", crypto::digest_hex(code))
}

/// Issue a code and return the client's redirect URL with `code`, `state` and `iss`.
pub async fn issue_code(
    p: &Provider,
    req: &AuthRequest,
    s: &Session,
    consented: Option<Consented>,
) -> Result<String, OAuthError> {
    let code = crypto::random_token()?;
    let ttl = match req.fapi {
        true => p.cfg.lifetimes.authorization_code.min(FAPI_CODE_LIFETIME),
        false => p.cfg.lifetimes.authorization_code,
    };
    let grant = CodeGrant {
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: req.code_challenge.clone(),
        scopes: req.scopes.clone(),
        nonce: req.nonce.clone(),
        sub: s.sub.clone(),
        sid: s.sid.clone(),
        auth_time: s.auth_time,
        acr: s.acr,
        amr: s.amr.clone(),
        claims: req.claims.clone(),
        consented,
        dpop_jkt: req.dpop_jkt.clone(),
        authorization_details: req.authorization_details.clone(),
        expires_at: p.now() + ttl,
    };
    // The entry outlives `expires_at` a little so an expired code is told apart from a
    // made-up one in logs; validity is decided by `expires_at`.
    typed::put(p.eph.as_ref(), &code_key(&code), &grant, (ttl + 60) as u64).await?;
    Ok(response_url(
        &req.redirect_uri,
        &[("code", &code)],
        req.state.as_deref(),
        p.issuer(),
    ))
}
