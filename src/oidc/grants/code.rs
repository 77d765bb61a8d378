//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6). A code is taken atomically from the
//! ephemeral store, so it is redeemed at most once even across nodes; a replay revokes what
//! the first redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.2.4).

use super::{TokenParams, required};
use crate::crypto::{self, digest_hex};
use crate::oidc::authorize::{CodeGrant, code_key};
use crate::oidc::tokens::{self, TokenResponse};
use crate::oidc::{OAuthError, Provider, clients, refresh_token};
use crate::store::{ClientRecord, GrantRecord, typed};

fn used_key(code: &str) -> String {
    format!("codeused:{}", digest_hex(code))
}

pub async fn exchange(
    p: &Provider,
    client: &ClientRecord,
    params: &TokenParams,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let code = required(&params.code, "code")?;
    let now = p.now();
    let Some(g) = typed::take::<CodeGrant>(p.eph.as_ref(), &code_key(code)).await? else {
        if let Some(grant_id) = p.eph.get(&used_key(code)).await? {
            let grant_id = String::from_utf8_lossy(&grant_id).to_string();
            p.db.revoke_grant(&grant_id, now).await?;
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; grant revoked");
            return Err(OAuthError::invalid_grant(
                "authorization code was already used",
            ));
        }
        return Err(OAuthError::invalid_grant(
            "authorization code is invalid or expired",
        ));
    };
    if g.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "authorization code was issued to another client",
        ));
    }
    if g.expires_at <= now {
        return Err(OAuthError::invalid_grant("authorization code expired"));
    }
    if params.redirect_uri.as_deref() != Some(g.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = required(&params.code_verifier, "code_verifier")?;
    // RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"
    // (all ASCII, so the byte length is the length in characters).
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if !(43..=128).contains(&verifier.len())
        || !verifier.bytes().all(unreserved)
        || !crypto::pkce_s256_matches(verifier, &g.code_challenge)
    {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match code_challenge",
        ));
    }
    // RFC 9449 §10: a code bound to a key at the request is redeemed with that key only.
    if g.dpop_jkt.is_some() && g.dpop_jkt.as_deref() != jkt {
        return Err(OAuthError::invalid_grant(
            "the DPoP proof's key is not the one the request was bound to",
        ));
    }
    // A transfer's grant approves that one transfer: nothing to refresh.
    let refreshable =
        clients::allows_grant(client, "refresh_token") && g.authorization_details.is_none();
    let (ttl, refresh_ttl) = crate::oidc::policy::token_lifetimes(client, &p.cfg.lifetimes);
    let grant = GrantRecord {
        id: crypto::random_id()?,
        client_id: client.client_id.clone(),
        sub: Some(g.sub.clone()),
        rp_sub: Some(super::super::subject::for_client(&p.kek, client, &g.sub)),
        scope: g.scopes.join(" "),
        auth_time: Some(g.auth_time),
        acr: Some(g.acr.as_str().to_string()),
        amr: g.amr.clone(),
        sid: Some(g.sid.clone()),
        claims: g.claims.as_ref().map(|c| c.to_string()),
        created_at: now,
        // The grant is the refresh-token family: its tokens live as long as it does.
        expires_at: now + refresh_ttl,
        revoked_at: None,
        refresh_generation: refreshable.then_some(0),
        refresh_issued_at: refreshable.then_some(now),
        consented: g.consented.clone(),
        dpop_jkt: jkt.map(String::from),
        authorization_details: g.authorization_details.as_ref().map(|a| a.to_string()),
    };
    p.db.insert_grant(&grant).await?;
    // Remember the redemption long enough to catch replays (RFC 6749 §10.5).
    p.eph.put(&used_key(code), grant.id.as_bytes(), 600).await?;
    let refresh_token = refreshable.then(|| refresh_token::mint(&p.kek, &grant.id, 0));
    let access_token = tokens::access_token(p, &grant, ttl, now)?;
    let id_token = tokens::id_token(
        p,
        client,
        &grant,
        g.nonce.as_deref(),
        &access_token,
        None,
        now,
    )
    .await?;
    // The usage history: what this service received about the person, and when.
    let event = crate::audit::Event {
        actor: format!("client:{}", client.client_id),
        action: crate::audit::actions::TOKEN,
        subject: Some(g.sub.to_string()),
        client_id: Some(client.client_id.to_string()),
        detail: serde_json::json!({"scope": grant.scope, "acr": g.acr}),
        ip: None,
    };
    crate::audit::record(p.db.as_ref(), event, now).await?;
    Ok(TokenResponse {
        access_token,
        token_type: super::token_type(jkt),
        expires_in: ttl,
        refresh_token,
        id_token: Some(id_token),
        scope: grant.scope,
        authorization_details: g.authorization_details,
    })
}
