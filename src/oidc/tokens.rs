//! Minting tokens: ID tokens (OIDC Core §2) and JWT access tokens (RFC 9068). Refresh tokens
//! are in `refresh_token.rs`.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{OAuthError, Provider, claims, clients, documents, verified_claims};
use crate::clock::UnixTime;
use crate::crypto::{self, jwt};
use crate::store::{AccountRecord, ClientRecord, GrantRecord, PersonRecord};

/// RFC 6749 §5.1 successful response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
    /// The approved rich authorization details (RFC 9396 §7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Value>,
}

/// Confirmation (RFC 7800): the key a token is bound to, by its thumbprint (RFC 9449 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Cnf {
    pub jkt: String,
}

/// Claims of our access tokens. `gid` ties the token to its grant so revoking the grant
/// (logout, replayed code, reused refresh token) kills the token too.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Cnf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Value>,
}

pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// ID tokens carry the plain JWT type; checks compare it case-insensitively.
pub const ID_TOKEN_TYP: &str = "jwt";

/// The `sub` the grant's client knows the person by (pairwise or public); a grant from
/// before pairwise identifiers carries the account's own.
pub fn rp_sub(g: &GrantRecord) -> Option<&str> {
    g.rp_sub.as_deref().or(g.sub.as_deref())
}

/// An access token for the grant, living `ttl` seconds (the client's policy,
/// `policy::token_lifetimes`).
pub fn access_token(
    p: &Provider,
    g: &GrantRecord,
    ttl: i64,
    now: UnixTime,
) -> Result<String, OAuthError> {
    let claims = AccessClaims {
        iss: p.issuer().to_string(),
        // A client-credentials token is about the client itself.
        sub: rp_sub(g).unwrap_or(&g.client_id).to_string(),
        aud: p.issuer().to_string(),
        client_id: g.client_id.to_string(),
        exp: now + ttl,
        iat: now,
        jti: crypto::random_id()?,
        scope: g.scope.clone(),
        auth_time: g.auth_time,
        acr: g.acr.clone(),
        amr: g.amr.clone(),
        // Only grants with a person are stored (and so can be revoked).
        gid: g.sub.as_ref().map(|_| g.id.clone()),
        cnf: g.dpop_jkt.clone().map(|jkt| Cnf { jkt }),
        authorization_details: g
            .authorization_details
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok()),
    };
    Ok(jwt::sign(
        &p.keys.current(),
        jsonwebtoken::Algorithm::ES256,
        ACCESS_TOKEN_TYP,
        &claims,
        now,
    )?)
}

/// The ID token for a grant with a person behind it.
pub async fn id_token(
    p: &Provider,
    client: &ClientRecord,
    g: &GrantRecord,
    nonce: Option<&str>,
    access_token: &str,
    known: Option<(&AccountRecord, &PersonRecord)>,
    now: UnixTime,
) -> Result<String, OAuthError> {
    let sub = rp_sub(g).ok_or_else(|| OAuthError::server_error("grant without subject"))?;
    let alg = clients::id_token_alg(client);
    let mut c = Map::new();
    c.insert("iss".into(), json!(p.issuer()));
    c.insert("sub".into(), json!(sub));
    c.insert("aud".into(), json!(client.client_id));
    c.insert("exp".into(), json!(now + p.cfg.lifetimes.id_token));
    c.insert("iat".into(), json!(now));
    if let Some(t) = g.auth_time {
        c.insert("auth_time".into(), json!(t));
    }
    if let Some(n) = nonce {
        c.insert("nonce".into(), json!(n));
    }
    if let Some(acr) = &g.acr {
        c.insert("acr".into(), json!(acr));
    }
    if !g.amr.is_empty() {
        c.insert("amr".into(), json!(g.amr));
    }
    c.insert("at_hash".into(), json!(jwt::half_hash(alg, access_token)));
    if let Some(sid) = &g.sid {
        c.insert("sid".into(), json!(sid));
    }
    for (k, v) in person_claims(p, g, "id_token", known).await? {
        c.entry(k).or_insert(v);
    }
    Ok(jwt::sign(
        &p.keys.current(),
        alg,
        "JWT",
        &Value::Object(c),
        now,
    )?)
}

/// Person claims released for `target` under this grant, read fresh from the register
/// (`known`: the grant's account and register record when the caller has just read them):
/// only claims the person consented to — `verified_claims` (OIDC4IDA) among them — and each
/// release is in their history (names, not values, and the consent it rests on) before it
/// is handed out.
pub async fn person_claims(
    p: &Provider,
    g: &GrantRecord,
    target: &str,
    known: Option<(&AccountRecord, &PersonRecord)>,
) -> Result<Map<String, Value>, OAuthError> {
    let scopes = super::split_spaces(Some(&g.scope));
    let claims_param = g
        .claims
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok());
    let mut names = claims::released(&scopes, claims_param.as_ref(), target);
    // The identity assertion itself (ID number, account level) also travels in the ID token.
    if target == "id_token" && scopes.iter().any(|s| s == "eid") {
        names.extend(["id_number", "eid_level"]);
    }
    let mut verified = verified_claims::asked(claims_param.as_ref(), target)
        .map(|a| a.claims)
        .unwrap_or_default();
    if let Some(c) = &g.consented {
        let consented = |n: &&str| c.claims.iter().any(|x| x == n);
        names.retain(consented);
        verified.retain(consented);
    }
    let Some(sub) = g.sub.as_deref() else {
        return Ok(Map::new());
    };
    if names.is_empty() && verified.is_empty() {
        return Ok(Map::new());
    }
    let (account, person) = match known.filter(|(a, _)| a.sub == sub) {
        Some((a, p)) => (a.clone(), p.clone()),
        None => {
            let account =
                p.db.account_by_sub(sub)
                    .await?
                    .ok_or_else(|| OAuthError::invalid_grant("account no longer exists"))?;
            let person =
                p.db.person(&account.id_number)
                    .await?
                    .ok_or_else(|| OAuthError::server_error("account without register record"))?;
            (account, person)
        }
    };
    let mut values = claims::values(&person, &account, &names);
    let wanted = [&names[..], &verified[..]].concat();
    let docs = documents::values(p.db.as_ref(), &person.id_number, &wanted, p.now()).await?;
    for (k, v) in docs.iter().filter(|(k, _)| names.contains(&k.as_str())) {
        values.insert(k.clone(), v.clone());
    }
    let mut asserted = Vec::new();
    if !verified.is_empty() && account.level >= 2 {
        let check = p.db.latest_verification(&account.id_number).await?;
        let e = verified_claims::element_with(&person, &account, check.as_ref(), &verified, &docs);
        if let Some(e) = e {
            asserted = verified;
            values.insert("verified_claims".into(), e);
        }
    }
    disclosed(p, g, (sub, target), &values, &asserted).await?;
    Ok(values)
}

/// The person's history records what a service received: claim names, where, the consent.
async fn disclosed(
    p: &Provider,
    g: &GrantRecord,
    (sub, target): (&str, &str),
    values: &Map<String, Value>,
    verified: &[&str],
) -> Result<(), OAuthError> {
    if values.is_empty() {
        return Ok(());
    }
    let detail = json!({
        "to": target,
        "claims": values.keys().filter(|k| *k != "verified_claims").collect::<Vec<_>>(),
        "verified_claims": verified,
    });
    record_disclosure(p, g, sub, detail).await
}

/// A disclosure under grant `g` in the person's history, before it is made: `detail` says
/// what went where, with the grant and the consent it rests on.
pub async fn record_disclosure(
    p: &Provider,
    g: &GrantRecord,
    sub: &str,
    mut detail: Value,
) -> Result<(), OAuthError> {
    detail["grant"] = json!(g.id);
    detail["consent"] = json!(g.consented.as_ref().map(|c| &c.receipt));
    let event = crate::audit::Event {
        actor: format!("client:{}", g.client_id),
        action: crate::audit::actions::DISCLOSURE,
        subject: Some(sub.to_string()),
        client_id: Some(g.client_id.to_string()),
        detail,
        ip: None,
    };
    crate::audit::record(p.db.as_ref(), event, p.now()).await?;
    Ok(())
}
