//! `POST /api/insurance/v1/eligibility`: a hospital's own access token (client credentials,
//! scope `insurance:eligibility`), counted against its per-minute allowance, then the
//! request checked field by field and answered by `rp_api::insurance` — audited before the
//! answer, or 503 when the audit log cannot take it.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::admin::scoped_token;
use super::respond::{bearer_error, no_store, oauth_error};
use super::{AppState, form, pages};
use crate::ids::ClientId;
use crate::oidc::OAuthError;
use crate::oidc::userinfo::revoked_key;
use crate::rp_api::insurance::{self, Caller};
use crate::rp_api::request;

pub const SCOPE: &str = "insurance:eligibility";

/// Hospital tokens already checked in full here, by issuer and digest: an ES256 verification
/// was a fifth of a look-up's CPU, and a hospital presents one token for its ten minutes.
/// Only what cannot change is remembered (signature, type, issuer, scope, no person); what can
/// — expiry, revocation, a disabled client — is checked on every call.
struct Seen {
    client_id: String,
    jti: String,
    exp: i64,
}

const SEEN_MAX: usize = 4096;

static SEEN: std::sync::LazyLock<std::sync::Mutex<HashMap<Vec<u8>, Seen>>> =
    std::sync::LazyLock::new(Default::default);

fn seen_key(s: &AppState, token: &str) -> Vec<u8> {
    crate::crypto::digest(&format!("{}\n{token}", s.p.issuer()))
}

/// A remembered token still good now: its client id.
async fn still_good(s: &AppState, key: &[u8]) -> Result<Option<String>, Response> {
    let (client_id, jti, exp) = {
        let seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(key) {
            Some(t) => (t.client_id.clone(), t.jti.clone(), t.exp),
            None => return Ok(None),
        }
    };
    let invalid = |why: &str| bearer_error(&OAuthError::invalid_token(why));
    if exp <= s.p.now() {
        return Err(invalid("the access token is invalid or expired"));
    }
    let revoked = s.p.eph.get(&revoked_key(&jti)).await;
    let client = match ClientId::parse(&client_id) {
        Ok(id) => s.p.client(&id).await,
        Err(_) => Ok(None),
    };
    match (revoked, client) {
        (Ok(None), Ok(Some(_))) => Ok(Some(client_id)),
        (Ok(Some(_)), _) => Err(invalid("the access token was revoked")),
        (Ok(None), Ok(None)) => Err(invalid("the access token's client is disabled or unknown")),
        (Err(e), _) | (_, Err(e)) => Err(bearer_error(&e.into())),
    }
}

/// The calling hospital's client id, from a live client-credentials token with the scope.
async fn hospital(s: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    if let Some(token) = form::bearer(headers)
        && let Some(client_id) = still_good(s, &seen_key(s, &token)).await?
    {
        return Ok(client_id);
    }
    let claims = scoped_token(s, headers, SCOPE).await?;
    // The hospital answers for the look-up, through its operator: a token issued to a
    // person's sign-in is not the hospital's own.
    if claims.gid.is_some() {
        return Err(bearer_error(&OAuthError::insufficient_scope(
            "use the hospital's own token (client credentials)",
        )));
    }
    if let Some(token) = form::bearer(headers) {
        let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= SEEN_MAX {
            seen.clear();
        }
        let t = Seen {
            client_id: claims.client_id.clone(),
            jti: claims.jti.clone(),
            exp: claims.exp,
        };
        seen.insert(seen_key(s, &token), t);
    }
    Ok(claims.client_id)
}

fn status_json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, no_store(), Json(body)).into_response()
}

pub async fn eligibility(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client_id = match hospital(&s, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = s.p.now();
    let limit = s.p.cfg.insurance_lookups_per_minute;
    match insurance::admit(s.p.eph.as_ref(), &client_id, limit, now).await {
        Ok(Ok(())) => {}
        Ok(Err(wait)) => {
            let mut r = status_json(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": "rate_limited",
                       "error_description": format!("at most {limit} look-ups a minute")}),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        Err(e) => return oauth_error(&e.into(), false),
    }
    let req = match request::parse(&body) {
        Ok(r) => r,
        Err(errors) => {
            let description = format!("{} field(s) are invalid", errors.len());
            return status_json(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": description,
                       "errors": errors}),
            );
        }
    };
    let ip = pages::ip(&s, &headers, peer);
    let by = Caller {
        client_id: &client_id,
        ip: Some(&ip),
    };
    match insurance::look_up(s.p.db.as_ref(), &by, &req, now).await {
        Ok(answer) => status_json(StatusCode::OK, json!(answer)),
        Err(e) => {
            tracing::warn!(error = %e, client = %client_id, "insurance look-up not answered");
            oauth_error(
                &OAuthError::temporarily_unavailable(
                    "the look-up could not be recorded; try again",
                ),
                false,
            )
        }
    }
}
