//! `POST /api/insurance/v1/eligibility`: a hospital's own access token (client credentials,
//! scope `insurance:eligibility`), counted against its per-minute allowance, then the
//! request checked field by field and answered by `rp_api::insurance` — audited before the
//! answer, or 503 when the audit log cannot take it.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::admin::scoped_token;
use super::respond::{bearer_error, no_store, oauth_error};
use super::{AppState, pages};
use crate::oidc::OAuthError;
use crate::rp_api::insurance::{self, Caller};
use crate::rp_api::request;

pub const SCOPE: &str = "insurance:eligibility";

/// The calling hospital's client id, from a live client-credentials token with the scope.
async fn hospital(s: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    let claims = scoped_token(s, headers, SCOPE).await?;
    // The hospital answers for the look-up, through its operator: a token issued to a
    // person's sign-in is not the hospital's own.
    if claims.gid.is_some() {
        return Err(bearer_error(&OAuthError::insufficient_scope(
            "use the hospital's own token (client credentials)",
        )));
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
    let allowance = &s.services.lookups;
    match allowance
        .admit(s.p.eph.as_ref(), &client_id, limit, now)
        .await
    {
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
