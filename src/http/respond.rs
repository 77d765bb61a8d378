//! Responders: OAuth JSON errors (RFC 6749 §5.2), Bearer errors (RFC 6750 §3), redirects, and
//! no-store JSON.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::oidc::{ErrorCode, OAuthError};

fn status(e: &OAuthError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST)
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// Token-style error. `basic` marks a failed Basic authentication, which gets a challenge.
pub fn oauth_error(e: &OAuthError, basic: bool) -> Response {
    let mut resp = (
        status(e),
        no_store(),
        axum::Json(Body {
            error: e.error.as_str(),
            error_description: &e.description,
        }),
    )
        .into_response();
    if e.error == ErrorCode::InvalidClient && basic {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"eidp\""),
        );
    }
    if e.error == ErrorCode::TemporarilyUnavailable {
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    resp
}

/// Protected-resource error with a `WWW-Authenticate: Bearer` challenge.
pub fn bearer_error(e: &OAuthError) -> Response {
    let challenge = format!(
        "Bearer realm=\"eidp\", error=\"{}\", error_description=\"{}\"",
        e.error,
        e.description.replace('"', "'")
    );
    let mut resp = oauth_error(e, false);
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// A fresh DPoP nonce on the response (RFC 9449 §8), for the client's next proof.
pub fn dpop_nonce(s: &super::AppState, mut resp: Response) -> Response {
    let nonce = crate::oidc::dpop::nonce(&s.p.kek, s.p.now());
    if let Ok(v) = HeaderValue::from_str(&nonce) {
        resp.headers_mut().insert("dpop-nonce", v);
    }
    resp
}

/// Protected-resource error with a `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1), and a
/// nonce to use.
pub fn dpop_error(s: &super::AppState, e: &OAuthError) -> Response {
    let challenge = format!(
        "DPoP error=\"{}\", error_description=\"{}\", algs=\"{}\"",
        e.error,
        e.description.replace('"', "'"),
        crate::oidc::dpop::ALGS.join(" ")
    );
    let mut resp = oauth_error(e, false);
    if matches!(
        e.error,
        ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce
    ) {
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
    }
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    dpop_nonce(s, resp)
}

pub fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

pub fn json<T: Serialize>(v: &T) -> Response {
    (StatusCode::OK, no_store(), axum::Json(v)).into_response()
}

/// 303 so a form POST is followed by a GET.
pub fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn with_cookies(mut resp: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}
