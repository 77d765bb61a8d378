//! The FAPI 2.0 endpoints: pushed authorization requests (RFC 9126) and the bank KYC
//! assertion (`rp_api::kyc`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::respond::{dpop_error, dpop_nonce, no_store, oauth_error};
use super::{AppState, form};
use crate::oidc::authorize::AuthorizeParams;
use crate::oidc::client_auth::{self, Presented};
use crate::oidc::userinfo as ui;
use crate::oidc::{OAuthError, dpop, grants, par, paths};

#[derive(Deserialize)]
struct ClientAuthForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// `POST /par`: authenticate the client, check its request, answer 201 with a `request_uri`.
pub async fn push(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let resp = pushed(&s, &headers, &body).await;
    match form::dpop(&headers) {
        Ok(Some(_)) => dpop_nonce(&s, resp),
        _ => resp,
    }
}

async fn pushed(s: &AppState, headers: &HeaderMap, body: &[u8]) -> Response {
    let basic = match form::basic_credentials(headers) {
        Ok(b) => b,
        Err(e) => return oauth_error(&e, true),
    };
    let used_basic = basic.is_some();
    let (auth, params): (ClientAuthForm, AuthorizeParams) =
        match form::parse(body).and_then(|a| Ok((a, form::parse(body)?))) {
            Ok(x) => x,
            Err(e) => return oauth_error(&e, false),
        };
    let presented = Presented {
        basic,
        client_id: auth.client_id,
        client_secret: auth.client_secret,
        assertion_type: auth.client_assertion_type,
        assertion: auth.client_assertion,
    };
    let audiences = grants::audiences(&s.p, paths::PAR);
    let client = match client_auth::authenticate(&s.p, &presented, &audiences).await {
        Ok(c) => c,
        Err(e) => return oauth_error(&e, used_basic),
    };
    let jkt = match proof_key(s, headers).await {
        Ok(j) => j,
        Err(e) => return oauth_error(&e, false),
    };
    match par::push(&s.p, &client, params, jkt).await {
        Ok(p) => (StatusCode::CREATED, no_store(), axum::Json(p)).into_response(),
        Err(e) => oauth_error(&e, false),
    }
}

/// A DPoP proof sent with the push binds the code to its key (RFC 9449 §10.1).
async fn proof_key(s: &AppState, headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let Some(proof) = form::dpop(headers)? else {
        return Ok(None);
    };
    let htu = s.p.cfg.url(paths::PAR);
    let expect = dpop::Expect {
        htm: "POST",
        htu: &htu,
        access_token: None,
    };
    Ok(Some(dpop::check(&s.p, &proof, &expect).await?.jkt))
}

/// `GET /api/kyc/v1/identity`: the signed identity assertion, as `application/jwt`.
pub async fn kyc(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some((token, dpop_scheme)) = form::access_token(&headers) else {
        let e = OAuthError::invalid_token("a DPoP-bound access token is required");
        return dpop_error(&s, &e);
    };
    let proof = match form::dpop(&headers) {
        Ok(p) => p,
        Err(e) => return dpop_error(&s, &e),
    };
    let htu = s.p.cfg.url(paths::KYC_IDENTITY);
    let at = ui::Presented {
        token: &token,
        dpop_scheme,
        proof: proof.as_deref(),
        htm: "GET",
        htu: &htu,
    };
    match crate::rp_api::kyc::assertion(&s.p, &at).await {
        Ok(jws) => {
            let mut resp = (StatusCode::OK, no_store(), jws).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwt"),
            );
            dpop_nonce(&s, resp)
        }
        Err(e) => dpop_error(&s, &e),
    }
}
