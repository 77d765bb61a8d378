//! `refresh_token` (RFC 6749 §6) with rotation on every use. Presenting a spent token means
//! it was copied: the whole family (grant) is revoked (RFC 9700 §4.14.2).
//!
//! The hot path is one write: move the family (the grant) one generation on, with the client's
//! ownership and the grant's liveness checked in the same statement, which also returns the
//! grant with its account and register record.
//!
//! A DPoP-bound family (RFC 9449 §5) is refreshed only with a proof by its key, checked before
//! anything is spent; a bound token presented without a proof was copied, and its family is
//! revoked. A `fapi2` client's refresh token is bound, not rotated (FAPI 2.0 §5.3.2.1).

use super::{TokenParams, required};
use crate::identity::usable;
use crate::oidc::clients::profile;
use crate::oidc::tokens::{self, TokenResponse};
use crate::oidc::{OAuthError, Provider, refresh_token, split_spaces};
use crate::store::{ClientRecord, GrantView, RefreshRef, RefreshUse};

fn invalid() -> OAuthError {
    OAuthError::invalid_grant("refresh token is invalid, expired or revoked")
}

pub async fn exchange(
    p: &Provider,
    client: &ClientRecord,
    params: &TokenParams,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let presented = required(&params.refresh_token, "refresh_token")?;
    let presented = refresh_token::parse(&p.kek, presented).ok_or_else(invalid)?;
    let now = p.now();
    let asked = params.scope.as_deref().filter(|s| !s.is_empty());
    if let Some(asked) = asked {
        // A bad scope must not cost the client its token: check before spending it.
        check_scope(p, client, &presented, asked).await?;
    }
    if jkt.is_some() || profile::is_fapi2(client) {
        let view = bound_family(p, client, &presented, jkt).await?;
        if profile::is_fapi2(client) {
            return respond(p, client, view, None, asked, jkt).await;
        }
    }
    let view = match p
        .db
        .rotate_refresh(&presented, &client.client_id, now)
        .await?
    {
        RefreshUse::Fresh(view) if view.grant.dpop_jkt.is_some() && jkt.is_none() => {
            p.db.revoke_grant(&view.grant.id, now).await?;
            tracing::warn!(client_id = %client.client_id, "DPoP-bound refresh token without proof; family revoked");
            return Err(OAuthError::invalid_grant(
                "this refresh token is DPoP-bound; the grant is revoked",
            ));
        }
        RefreshUse::Fresh(view) => *view,
        RefreshUse::Reused(grant_id) => {
            p.db.revoke_grant(&grant_id, now).await?;
            tracing::warn!(client_id = %client.client_id, "refresh token reused; family revoked");
            return Err(OAuthError::invalid_grant(
                "refresh token was already used; the grant is revoked",
            ));
        }
        RefreshUse::Unknown => return Err(invalid()),
    };
    let generation = view
        .grant
        .refresh_generation
        .ok_or_else(|| OAuthError::server_error("a rotated family without a generation"))?;
    let token = refresh_token::mint(&p.kek, &view.grant.id, generation);
    respond(p, client, view, Some(token), asked, jkt).await
}

/// The family the presented token belongs to, live, this client's, at the presented
/// generation and bound to the proof's key — read, not spent.
async fn bound_family(
    p: &Provider,
    client: &ClientRecord,
    presented: &RefreshRef,
    jkt: Option<&str>,
) -> Result<GrantView, OAuthError> {
    let view =
        p.db.grant_view(&presented.grant_id)
            .await?
            .ok_or_else(invalid)?;
    let g = &view.grant;
    let live = g.client_id == client.client_id
        && g.refresh_generation == Some(presented.generation)
        && g.revoked_at.is_none()
        && g.expires_at > p.now();
    if !live {
        return Err(invalid());
    }
    if g.dpop_jkt.as_deref() != jkt {
        return Err(OAuthError::invalid_grant(
            "the DPoP proof's key is not the one this refresh token is bound to",
        ));
    }
    Ok(view)
}

/// Tokens for a refreshed family; `token`: the new refresh token, if it rotated.
async fn respond(
    p: &Provider,
    client: &ClientRecord,
    view: GrantView,
    token: Option<String>,
    asked: Option<&str>,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let now = p.now();
    let mut grant = view.grant;
    let subject = match (&grant.sub, view.account, view.person) {
        (None, _, _) => None,
        (Some(_), Some(a), Some(person)) if usable(&a) => Some((a, person)),
        (Some(_), _, _) => {
            p.db.revoke_grant(&grant.id, now).await?;
            return Err(OAuthError::invalid_grant("the account is locked or gone"));
        }
    };
    if let Some(asked) = asked {
        grant.scope = split_spaces(Some(asked)).join(" ");
    }
    let (ttl, _) = crate::oidc::policy::token_lifetimes(client, &p.cfg.lifetimes);
    let access_token = tokens::access_token(p, &grant, ttl, now)?;
    // OIDC Core §12.2: a new ID token with the same sub, iss, aud and auth_time, no nonce.
    let id_token = if split_spaces(Some(&grant.scope))
        .iter()
        .any(|s| s == "openid")
    {
        let known = subject.as_ref().map(|(a, person)| (a, person));
        let id = tokens::id_token(p, client, &grant, None, &access_token, known, now);
        Some(id.await?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: super::token_type(jkt),
        expires_in: ttl,
        refresh_token: token,
        id_token,
        scope: grant.scope,
        authorization_details: None,
    })
}

/// A narrower scope may be asked for (RFC 6749 §6), never a wider one.
async fn check_scope(
    p: &Provider,
    client: &ClientRecord,
    presented: &RefreshRef,
    asked: &str,
) -> Result<(), OAuthError> {
    let grant = p.db.grant(&presented.grant_id).await?.ok_or_else(invalid)?;
    if grant.client_id != client.client_id {
        return Err(invalid());
    }
    let had = split_spaces(Some(&grant.scope));
    if split_spaces(Some(asked)).iter().all(|s| had.contains(s)) {
        Ok(())
    } else {
        Err(OAuthError::invalid_scope(
            "scope exceeds the original grant",
        ))
    }
}
