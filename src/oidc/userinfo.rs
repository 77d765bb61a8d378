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
    let keys = p.keys.current();
    let claims: AccessClaims = match p.access_cache.get(&keys, token, now) {
        Some(c) => c,
        None => {
            let c: AccessClaims = jwt::verify(&keys, token, &expect, now)
                .map_err(|_| OAuthError::invalid_token("the access token is invalid or expired"))?;
            p.access_cache.put(token, &c, now);
            c
        }
    };
    // The revocation mark and the client's announced version in one round trip.
    let revoked = revoked_key(&claims.jti);
    let announce = crate::oidc::clients::cache::announce_key(&claims.client_id);
    let marks = p.eph.get_many(&[&revoked, &announce]).await?;
    let [revoked_mark, announced] = <[_; 2]>::try_from(marks).map_err(|_| {
        crate::store::StoreError::Other(
            "the ephemeral store answered the wrong number of keys".into(),
        )
    })?;
    if revoked_mark.is_some() {
        return Err(OAuthError::invalid_token("the access token was revoked"));
    }
    // A disabled client's tokens die with it, also those without a grant (client
    // credentials) — RFC 6750 §3.1: invalid_token.
    let client = crate::ids::ClientId::parse(claims.client_id.as_str()).ok();
    let live = match &client {
        Some(id) => p.client_announced(id, announced).await?.is_some(),
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

/// How a protected resource received an access token: the request it came with, and its
/// DPoP proof if the `DPoP` scheme was used (RFC 9449 §7).
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    pub token: &'a str,
    /// `Authorization: DPoP` (else `Bearer`).
    pub dpop_scheme: bool,
    pub proof: Option<&'a str>,
    pub htm: &'a str,
    pub htu: &'a str,
}

/// A live access token presented the way it must be: a DPoP-bound one (`cnf.jkt`) only with
/// the `DPoP` scheme and a fresh proof by its key over this request and this token; an
/// unbound one only as a bearer token.
pub async fn check_presented(
    p: &Provider,
    at: &Presented<'_>,
) -> Result<(AccessClaims, Option<GrantView>), OAuthError> {
    let (claims, grant) = check_access_token(p, at.token).await?;
    match (&claims.cnf, at.dpop_scheme) {
        (None, false) => {}
        (None, true) => {
            return Err(OAuthError::invalid_token(
                "this access token is not DPoP-bound; present it as a Bearer token",
            ));
        }
        (Some(_), false) => {
            return Err(OAuthError::invalid_token(
                "this access token is DPoP-bound; present it with the DPoP scheme and a proof",
            ));
        }
        (Some(cnf), true) => {
            let proof = at
                .proof
                .ok_or_else(|| OAuthError::invalid_dpop_proof("a DPoP proof is required"))?;
            let expect = super::dpop::Expect {
                htm: at.htm,
                htu: at.htu,
                access_token: Some(at.token),
            };
            if super::dpop::check(p, proof, &expect).await?.jkt != cnf.jkt {
                return Err(OAuthError::invalid_dpop_proof(
                    "the DPoP proof's key is not the one the token is bound to",
                ));
            }
        }
    }
    Ok((claims, grant))
}

pub async fn userinfo(p: &Provider, at: &Presented<'_>) -> Result<Map<String, Value>, OAuthError> {
    let (claims, grant) = check_presented(p, at).await?;
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
