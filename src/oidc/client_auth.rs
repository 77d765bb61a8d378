//! Client authentication at the token, introspection and revocation endpoints:
//! `client_secret_basic`, `client_secret_post` (RFC 6749 §2.3.1), `private_key_jwt`
//! (OIDC Core §9, RFC 7523) and `none` for public clients (RFC 7636).

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::{OAuthError, Provider, clients};
use crate::crypto::keyset::parse_alg;
use crate::ids::ClientId;
use crate::store::ClientRecord;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest a client assertion may live (`exp` − `iat`, and `exp` from now): a captured
/// assertion is worth little, and the `jti` cache need only outlive this.
pub const MAX_ASSERTION_LIFETIME: i64 = 300;
/// Clock skew allowed on assertion times.
const SKEW: i64 = 60;

pub mod assertion;
/// Algorithms accepted on client assertions.
pub const ASSERTION_ALGS: [&str; 4] = ["ES256", "EdDSA", "PS256", "RS256"];

/// Where documents a client publishes come from (its `jwks_uri`, its
/// `sector_identifier_uri`): the app gives one over HTTP, bounded in time and size.
#[async_trait::async_trait]
pub trait Fetcher: Send + Sync {
    async fn fetch(&self, uri: &str) -> Result<Vec<u8>, String>;
}

/// What the request presented, already decoded by the HTTP layer.
#[derive(Debug, Default, Clone)]
pub struct Presented {
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

pub(crate) fn bad(msg: &str) -> OAuthError {
    OAuthError::invalid_client(msg)
}

/// Authenticate the caller. `audiences` are the values a client assertion may name in `aud`
/// (the issuer and the endpoint URL).
pub async fn authenticate(
    p: &Provider,
    c: &Presented,
    audiences: &[String],
) -> Result<ClientRecord, OAuthError> {
    let methods = [
        c.basic.is_some(),
        c.client_secret.is_some(),
        c.assertion.is_some(),
    ];
    if methods.iter().filter(|m| **m).count() > 1 {
        // RFC 6749 §2.3: a client MUST NOT use more than one authentication method.
        return Err(OAuthError::invalid_request(
            "more than one client authentication method",
        ));
    }
    if let Some((id, secret)) = &c.basic {
        if c.client_id.as_ref().is_some_and(|b| b != id) {
            return Err(OAuthError::invalid_request(
                "client_id does not match the Authorization header",
            ));
        }
        return by_secret(p, id, secret, "client_secret_basic").await;
    }
    if let Some(secret) = &c.client_secret {
        let id = c
            .client_id
            .as_deref()
            .ok_or_else(|| bad("client_id is missing"))?;
        return by_secret(p, id, secret, "client_secret_post").await;
    }
    if let Some(assertion) = &c.assertion {
        if c.assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(bad("client_assertion_type must be jwt-bearer"));
        }
        return by_assertion(p, c.client_id.as_deref(), assertion, audiences).await;
    }
    let id = c
        .client_id
        .as_deref()
        .ok_or_else(|| bad("client authentication is missing"))?;
    let id = ClientId::parse(id).map_err(|_| bad("unknown client"))?;
    let client = p.client(&id).await?.ok_or_else(|| bad("unknown client"))?;
    if !clients::is_public(&client) {
        return Err(bad("this client must authenticate"));
    }
    Ok(client)
}

/// A secret, presented the way the client registered (`token_endpoint_auth_method`): a
/// client registered for Basic may not post its secret in the body, nor the other way round.
async fn by_secret(
    p: &Provider,
    id: &str,
    secret: &str,
    method: &str,
) -> Result<ClientRecord, OAuthError> {
    // Same answer for an unknown client, a wrong secret and a wrong method.
    let Ok(id) = ClientId::parse(id) else {
        return Err(bad("client authentication failed"));
    };
    let client = p.client(&id).await?;
    let ok = client.as_ref().is_some_and(|c| {
        c.auth_method == method
            && c.secret_hash
                .as_ref()
                .is_some_and(|h| p.kek.secret_matches(secret, h))
    });
    match client {
        Some(c) if ok => Ok(c),
        _ => Err(bad("client authentication failed")),
    }
}

async fn by_assertion(
    p: &Provider,
    client_id: Option<&str>,
    assertion: &str,
    audiences: &[String],
) -> Result<ClientRecord, OAuthError> {
    let a = assertion::read(assertion, client_id)?;
    let id =
        ClientId::parse(a.client_id.as_str()).map_err(|_| bad("client authentication failed"))?;
    let client = p
        .client(&id)
        .await?
        .ok_or_else(|| bad("client authentication failed"))?;
    if client.auth_method != "private_key_jwt" {
        return Err(bad("client authentication failed"));
    }
    let keys = client_keys(p, &client).await?;
    let verified = keys
        .keys
        .iter()
        .filter(|k| a.kid.is_none() || k.common.key_id == a.kid)
        .any(|k| signature_ok(k, a.alg, assertion));
    if !verified {
        return Err(bad("client_assertion signature does not verify"));
    }
    let fresh = a.check(p.now(), audiences)?;
    let key = format!("jti:{}:{}", client.client_id, fresh.jti);
    if !p.eph.put_new(&key, b"1", fresh.remember_secs).await? {
        return Err(bad("client_assertion jti was already used"));
    }
    Ok(client)
}

fn signature_ok(jwk: &Jwk, alg: Algorithm, token: &str) -> bool {
    verified_claims(jwk, alg, token).is_some()
}

/// The claims of `token` if `jwk` (of the right algorithm) signed it.
pub(crate) fn verified_claims(jwk: &Jwk, alg: Algorithm, token: &str) -> Option<Value> {
    if jwk
        .common
        .key_algorithm
        .is_some_and(|a| a.to_string() != crate::crypto::keyset::alg_name(alg))
    {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .ok()
        .map(|d| d.claims)
}

/// The client's registered keys: inline, or from `jwks_uri` (cached for five minutes).
pub(crate) async fn client_keys(p: &Provider, client: &ClientRecord) -> Result<JwkSet, OAuthError> {
    if let Some(inline) = &client.jwks {
        return serde_json::from_str(inline).map_err(|_| bad("registered jwks is invalid"));
    }
    let uri = client
        .jwks_uri
        .as_deref()
        .ok_or_else(|| bad("client has no keys"))?;
    let cache_key = format!("jwks:{}", client.client_id);
    if let Some(bytes) = p.eph.get(&cache_key).await?
        && let Ok(set) = serde_json::from_slice::<JwkSet>(&bytes)
    {
        return Ok(set);
    }
    let bytes = p
        .fetcher
        .fetch(uri)
        .await
        .map_err(|_| bad("client jwks_uri cannot be fetched"))?;
    let set: JwkSet =
        serde_json::from_slice(&bytes).map_err(|_| bad("client jwks_uri is not a JWK set"))?;
    p.eph.put(&cache_key, &bytes, 300).await?;
    Ok(set)
}

/// `alg` names a client may register for assertions, for discovery.
pub fn assertion_algs() -> Vec<&'static str> {
    ASSERTION_ALGS
        .iter()
        .copied()
        .filter(|a| parse_alg(a).is_some())
        .collect()
}
