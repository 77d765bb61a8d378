//! `refresh_token` (RFC 6749 §6) with rotation on every use. Presenting a spent token means
//! it was copied: the whole family (grant) is revoked (RFC 9700 §4.14.2).

use super::{TokenParams, required};
use crate::crypto;
use crate::identity::STATE_ACTIVE;
use crate::oidc::tokens::{self, TokenResponse};
use crate::oidc::{OAuthError, Provider, split_spaces};
use crate::store::{ClientRecord, RefreshUse};

pub async fn exchange(
    p: &Provider,
    client: &ClientRecord,
    params: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    let presented = required(&params.refresh_token, "refresh_token")?;
    let hash = crypto::digest(presented);
    let now = p.now();
    let invalid = || OAuthError::invalid_grant("refresh token is invalid, expired or revoked");
    // Ownership first, so another client cannot burn this client's token.
    let record = p.db.refresh(&hash).await?.ok_or_else(invalid)?;
    let grant = p.db.grant(&record.grant_id).await?.ok_or_else(invalid)?;
    if grant.client_id != client.client_id {
        return Err(invalid());
    }
    if grant.revoked_at.is_some() || grant.expires_at <= now {
        return Err(invalid());
    }
    let scope = match params.scope.as_deref().filter(|s| !s.is_empty()) {
        None => grant.scope.clone(),
        Some(asked) => {
            let had = split_spaces(Some(&grant.scope));
            let asked = split_spaces(Some(asked));
            if !asked.iter().all(|s| had.contains(s)) {
                return Err(OAuthError::invalid_scope(
                    "scope exceeds the original grant",
                ));
            }
            asked.join(" ")
        }
    };
    if let Some(sub) = grant.sub.as_deref() {
        let active =
            p.db.account_by_sub(sub)
                .await?
                .is_some_and(|a| a.state == STATE_ACTIVE);
        if !active {
            p.db.revoke_grant(&grant.id, now).await?;
            return Err(OAuthError::invalid_grant("the account is locked or gone"));
        }
    }
    let (new_token, new_rec) = tokens::new_refresh(p, &grant.id, now, grant.expires_at)?;
    let grant = match p.db.rotate_refresh(&hash, &new_rec, now).await? {
        RefreshUse::Fresh(g) => *g,
        RefreshUse::Reused(grant_id) => {
            p.db.revoke_grant(&grant_id, now).await?;
            tracing::warn!(client_id = %client.client_id, "refresh token reused; family revoked");
            return Err(OAuthError::invalid_grant(
                "refresh token was already used; the grant is revoked",
            ));
        }
        RefreshUse::Unknown => return Err(invalid()),
    };
    let mut narrowed = grant.clone();
    narrowed.scope = scope;
    let access_token = tokens::access_token(p, &narrowed, now)?;
    // OIDC Core §12.2: a new ID token with the same sub, iss, aud and auth_time, no nonce.
    let id_token = if split_spaces(Some(&narrowed.scope))
        .iter()
        .any(|s| s == "openid")
    {
        Some(tokens::id_token(p, client, &narrowed, None, &access_token, now).await?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: p.cfg.lifetimes.access_token,
        refresh_token: Some(new_token),
        id_token,
        scope: narrowed.scope,
    })
}
