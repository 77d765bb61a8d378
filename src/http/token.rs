//! Token, UserInfo, introspection and revocation endpoints.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::respond::{bearer_error, dpop_error, dpop_nonce, json, no_store, oauth_error};
use super::{AppState, form};
use crate::oidc::client_auth::{self, Presented};
use crate::oidc::grants::{self, TokenParams};
use crate::oidc::{OAuthError, introspect as intro, paths, userinfo as ui};
use crate::store::ClientRecord;

pub async fn token(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let basic = match form::basic_credentials(&headers) {
        Ok(b) => b,
        Err(e) => return oauth_error(&e, true),
    };
    let used_basic = basic.is_some();
    let params: TokenParams = match form::parse(&body) {
        Ok(p) => p,
        Err(e) => return oauth_error(&e, false),
    };
    let proof = match form::dpop(&headers) {
        Ok(p) => p,
        Err(e) => return dpop_nonce(&s, oauth_error(&e, false)),
    };
    let resp = match grants::token(&s.p, &params, basic, proof.as_deref()).await {
        Ok(resp) => json(&resp),
        Err(e) => oauth_error(&e, used_basic),
    };
    match proof {
        Some(_) => dpop_nonce(&s, resp),
        None => resp,
    }
}

pub async fn userinfo_get(State(s): State<AppState>, headers: HeaderMap) -> Response {
    match form::access_token(&headers) {
        Some((t, dpop)) => userinfo(&s, &headers, &t, dpop, "GET").await,
        None => bearer_error(&OAuthError::invalid_token("an access token is required")),
    }
}

#[derive(Deserialize)]
struct BodyToken {
    access_token: Option<String>,
}

/// RFC 6750 §2.2: the token may come in the form body instead of the header (not both).
pub async fn userinfo_post(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let from_body = form::parse::<BodyToken>(&body)
        .ok()
        .and_then(|b| b.access_token);
    match (form::access_token(&headers), from_body) {
        (Some(_), Some(_)) => bearer_error(&OAuthError::invalid_request("send the token once")),
        (Some((t, dpop)), None) => userinfo(&s, &headers, &t, dpop, "POST").await,
        (None, Some(t)) => userinfo(&s, &headers, &t, false, "POST").await,
        (None, None) => bearer_error(&OAuthError::invalid_token("an access token is required")),
    }
}

async fn userinfo(
    s: &AppState,
    headers: &HeaderMap,
    token: &str,
    dpop_scheme: bool,
    htm: &str,
) -> Response {
    let proof = match form::dpop(headers) {
        Ok(p) => p,
        Err(e) => return dpop_error(s, &e),
    };
    let htu = s.p.cfg.url(paths::USERINFO);
    let at = ui::Presented {
        token,
        dpop_scheme,
        proof: proof.as_deref(),
        htm,
        htu: &htu,
    };
    match ui::userinfo(&s.p, &at).await {
        Ok(claims) if dpop_scheme => dpop_nonce(s, json(&claims)),
        Ok(claims) => json(&claims),
        Err(e) if dpop_scheme || proof.is_some() => dpop_error(s, &e),
        Err(e) => bearer_error(&e),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// Authenticate the client of an introspection or revocation request.
async fn client_and_token(
    s: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
) -> Result<(ClientRecord, String), Response> {
    let basic = form::basic_credentials(headers).map_err(|e| oauth_error(&e, true))?;
    let used_basic = basic.is_some();
    let f: TokenForm = form::parse(body).map_err(|e| oauth_error(&e, false))?;
    let presented = Presented {
        basic,
        client_id: f.client_id,
        client_secret: f.client_secret,
        assertion_type: f.client_assertion_type,
        assertion: f.client_assertion,
    };
    let client = client_auth::authenticate(&s.p, &presented, &grants::audiences(&s.p, path))
        .await
        .map_err(|e| oauth_error(&e, used_basic))?;
    let token = f.token.filter(|t| !t.is_empty());
    let token = token
        .ok_or_else(|| oauth_error(&OAuthError::invalid_request("token is missing"), false))?;
    Ok((client, token))
}

pub async fn introspect(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, token) = match client_and_token(&s, &headers, &body, paths::INTROSPECT).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // RFC 7662 §2.1: the endpoint needs client authentication; a public client has none to
    // give, and could otherwise probe any token it finds.
    if crate::oidc::clients::is_public(&client) {
        let e = OAuthError::invalid_client("public clients may not introspect tokens");
        return oauth_error(&e, false);
    }
    match intro::introspect(&s.p, &client, &token).await {
        Ok(v) => json(&v),
        Err(e) => oauth_error(&e, false),
    }
}

pub async fn revoke(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, token) = match client_and_token(&s, &headers, &body, paths::REVOKE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match intro::revoke(&s.p, &client, &token).await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => oauth_error(&e, false),
    }
}
