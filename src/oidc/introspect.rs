//! Token introspection (RFC 7662) and revocation (RFC 7009). A client learns about and
//! revokes only tokens issued to it; for anything else introspection says `active: false`.

use serde_json::{Value, json};

use super::userinfo::{check_access_token, revoked_key};
use super::{OAuthError, Provider, refresh_token};
use crate::store::ClientRecord;

pub async fn introspect(
    p: &Provider,
    client: &ClientRecord,
    token: &str,
) -> Result<Value, OAuthError> {
    let inactive = json!({ "active": false });
    if let Ok((c, _)) = check_access_token(p, token).await {
        if c.client_id != client.client_id {
            return Ok(inactive);
        }
        // A transfer's token answers once: the bank executes the transfer when it hears it
        // is active, and a second look (a replayed execution) finds it spent.
        if !super::transfers::spend(p, c.authorization_details.as_ref()).await? {
            return Ok(inactive);
        }
        let mut v = json!({
            "active": true, "scope": c.scope, "client_id": c.client_id, "sub": c.sub,
            "exp": c.exp, "iat": c.iat, "iss": c.iss, "aud": c.aud, "jti": c.jti,
            "token_type": if c.cnf.is_some() { "DPoP" } else { "Bearer" },
        });
        if let Some(cnf) = &c.cnf {
            v["cnf"] = json!({ "jkt": cnf.jkt });
        }
        if let Some(d) = &c.authorization_details {
            v["authorization_details"] = d.clone();
        }
        if let Some(t) = c.auth_time {
            v["auth_time"] = json!(t);
        }
        if let Some(acr) = c.acr {
            v["acr"] = json!(acr);
        }
        return Ok(v);
    }
    let now = p.now();
    let Some(r) = refresh_token::parse(&p.kek, token) else {
        return Ok(inactive);
    };
    let Some(g) = p.db.grant(&r.grant_id).await? else {
        return Ok(inactive);
    };
    // Only the family's current generation is live; earlier ones are spent.
    let live =
        g.refresh_generation == Some(r.generation) && g.expires_at > now && g.revoked_at.is_none();
    if !live || g.client_id != client.client_id {
        return Ok(inactive);
    }
    Ok(json!({
        "active": true, "scope": g.scope, "client_id": g.client_id, "sub": super::tokens::rp_sub(&g),
        "exp": g.expires_at, "iat": g.refresh_issued_at, "iss": p.issuer(),
        "token_type": "refresh_token",
    }))
}

/// RFC 7009 §2.2: the answer is 200 whether or not the token was known.
pub async fn revoke(p: &Provider, client: &ClientRecord, token: &str) -> Result<(), OAuthError> {
    let now = p.now();
    // A spent generation still names its family: revoking it ends the grant too.
    if let Some(r) = refresh_token::parse(&p.kek, token) {
        if let Some(g) = p.db.grant(&r.grant_id).await?
            && g.client_id == client.client_id
        {
            // Revoking a refresh token ends its grant, and with it the grant's access tokens.
            p.db.revoke_grant(&g.id, now).await?;
        }
        return Ok(());
    }
    if let Ok((c, _)) = check_access_token(p, token).await
        && c.client_id == client.client_id
    {
        let ttl = (c.exp - now).max(1) as u64;
        p.eph.put(&revoked_key(&c.jti), b"1", ttl).await?;
    }
    Ok(())
}
