//! The front door of `/authorize`: where a request's parameters come from (the query, a
//! pushed request, a signed request object), and the caps every value is held to.

use super::{AuthRequest, AuthorizeParams, Rejection, check_client, check_request};
use crate::oidc::{OAuthError, Provider, par, request_object};
use crate::store::ClientRecord;

/// Validate a request as `/authorize` receives it: the client first, then its parameters —
/// taken from its pushed request (`request_uri`, RFC 9126 §4: only those count), from a
/// signed request object (`request`, RFC 9101), or from the query.
pub async fn validate(
    p: &Provider,
    params: &AuthorizeParams,
) -> Result<(ClientRecord, AuthRequest), Rejection> {
    check_lengths(params)?;
    let client = check_client(p, params).await?;
    let client_id = client.client_id.as_str();
    if let Some(uri) = params.request_uri.as_deref() {
        let pushed = par::take(p, client_id, uri).await?;
        let req = check_request(p, &client, &pushed, true).await?;
        return Ok((client, req));
    }
    let Some(jwt) = params.request.as_deref() else {
        let req = check_request(p, &client, params, false).await?;
        return Ok((client, req));
    };
    let mut inner = request_object::unpack(p, &client, jwt).await?;
    if inner.client_id.as_deref().is_some_and(|c| c != client_id) {
        return Err(OAuthError::invalid_request_object("client_id does not match").into());
    }
    inner.client_id = Some(client_id.to_string());
    let req = check_request(p, &client, &inner, false).await?;
    Ok((client, req))
}

/// Refused on a page, before anything is looked up (an oversized `state` is not echoed back).
/// Each value is capped in characters: a pending request is held until it expires, so an
/// unbounded one is memory anyone could fill. The caps leave room for every honest use (a
/// 64-character nonce is FAPI's test; a signed `id_token_hint` is a few KB).
pub(super) fn check_lengths(p: &AuthorizeParams) -> Result<(), OAuthError> {
    let fields = [
        ("response_type", &p.response_type, 64),
        ("response_mode", &p.response_mode, 32),
        ("client_id", &p.client_id, 256),
        ("redirect_uri", &p.redirect_uri, 2048),
        ("scope", &p.scope, 1024),
        ("state", &p.state, 1024),
        ("nonce", &p.nonce, 1024),
        ("code_challenge", &p.code_challenge, 128),
        ("code_challenge_method", &p.code_challenge_method, 16),
        ("prompt", &p.prompt, 64),
        ("max_age", &p.max_age, 20),
        ("login_hint", &p.login_hint, 256),
        ("ui_locales", &p.ui_locales, 256),
        ("id_token_hint", &p.id_token_hint, 8192),
        ("acr_values", &p.acr_values, 512),
        ("claims", &p.claims, 4096),
        ("display", &p.display, 16),
        ("purpose", &p.purpose, 40),
        ("authorization_details", &p.authorization_details, 8192),
        ("dpop_jkt", &p.dpop_jkt, 64),
    ];
    for (name, v, max) in fields {
        if v.as_deref().is_some_and(|v| v.chars().count() > max) {
            return Err(OAuthError::invalid_request(format!(
                "{name} is longer than {max} characters"
            )));
        }
    }
    Ok(())
}
