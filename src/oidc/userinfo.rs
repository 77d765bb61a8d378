//! Access-token checks shared by the protected endpoints, and UserInfo (OIDC Core §5.3).

use serde_json::{Map, Value, json};

use super::tokens::{ACCESS_TOKEN_TYP, AccessClaims, person_claims};
use super::{OAuthError, Provider, split_spaces};
use crate::crypto::jwt;
use crate::store::GrantView;

pub fn revoked_key(jti: &str) -> String {
    format!("revoked:{jti}")
}

/// A live access token issued here: signature, `typ`, issuer, expiry, not revoked, and its
/// grant (if any) not revoked.
pub async fn check_access_token(
    p: &Provider,
    token: &str,
) -> Result<(AccessClaims, Option<GrantView>), OAuthError> {
    let now = p.now();
    let expect = jwt::Expect {
        issuer: p.issuer(),
        typ: Some(ACCESS_TOKEN_TYP),
        check_exp: true,
    };
    let claims: AccessClaims = jwt::verify(&p.keys.current(), token, &expect, now)
        .map_err(|_| OAuthError::invalid_token("the access token is invalid or expired"))?;
    if p.eph.get(&revoked_key(&claims.jti)).await?.is_some() {
        return Err(OAuthError::invalid_token("the access token was revoked"));
    }
    // A disabled client's tokens die with it, also those without a grant (client
    // credentials) — RFC 6750 §3.1: invalid_token.
    let client = crate::ids::ClientId::parse(claims.client_id.as_str()).ok();
    let live = match &client {
        Some(id) => p.client(id).await?.is_some(),
        None => false,
    };
    if !live {
        return Err(OAuthError::invalid_token(
            "the access token's client is disabled or unknown",
        ));
    }
    let grant = match &claims.gid {
        Some(gid) => {
            // The grant with its account and register record: userinfo needs all three.
            match p.db.grant_view(gid).await? {
                Some(v) if v.grant.revoked_at.is_none() => Some(v),
                _ => return Err(OAuthError::invalid_token("the access token was revoked")),
            }
        }
        None => None,
    };
    Ok((claims, grant))
}

pub async fn userinfo(p: &Provider, token: &str) -> Result<Map<String, Value>, OAuthError> {
    let (claims, grant) = check_access_token(p, token).await?;
    if !split_spaces(Some(&claims.scope))
        .iter()
        .any(|s| s == "openid")
    {
        return Err(OAuthError::insufficient_scope(
            "the access token lacks the openid scope",
        ));
    }
    let view = grant.ok_or_else(|| OAuthError::invalid_token("the access token has no person"))?;
    let mut grant = view.grant;
    // A narrowed refresh may have issued this token with fewer scopes than the grant.
    grant.scope = claims.scope.clone();
    let mut out = Map::new();
    out.insert("sub".into(), json!(claims.sub));
    for (k, v) in person_claims(
        p,
        &grant,
        "userinfo",
        view.account.as_ref().zip(view.person.as_ref()),
    )
    .await?
    {
        out.insert(k, v);
    }
    Ok(out)
}
