//! WebAuthn over HTTP: the JSON endpoints of the ceremonies (called by /static/webauthn.js, or
//! any WebAuthn client) — register a passkey from the account page, sign in with one alone,
//! or use one as a further factor. Calls carry a CSRF token in `X-CSRF-Token`, bound to the
//! browser cookie; errors come with a message in the person's language. Sign-ins go through
//! the sign-in pipeline (`authn::signin`).

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::account;
use super::interaction::{self, engine};
use super::pages::{self, WEBAUTHN_CSRF, csrf_ok};
use super::respond::with_cookies;
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form, paths};
use crate::authn::signin::{self, Proof, Purpose};
use crate::authn::{AuthnError, Session, webauthn};
use crate::crypto::b64url;
use crate::metrics::METRICS;
use crate::store::AccountRecord;

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../templates/webauthn.js"),
    )
        .into_response()
}

/// A JSON error: the code for programs, and a message in the person's language for the page.
fn error(
    s: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    code: &str,
    message_key: &str,
) -> Response {
    let message = s.ui.t(choose_lang(&[], headers), message_key);
    (
        status,
        Json(json!({"error": code, "error_description": message, "message": message})),
    )
        .into_response()
}

fn unavailable(s: &AppState, headers: &HeaderMap) -> Response {
    error(
        s,
        headers,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "error_try_later",
    )
}

fn authn_error(s: &AppState, headers: &HeaderMap, e: AuthnError) -> Response {
    match e {
        AuthnError::InvalidCredentials => error(
            s,
            headers,
            StatusCode::UNAUTHORIZED,
            "invalid_credential",
            "passkey_not_verified",
        ),
        AuthnError::Locked => error(
            s,
            headers,
            StatusCode::FORBIDDEN,
            "account_locked",
            "error_account_locked",
        ),
        AuthnError::Store(_) => unavailable(s, headers),
        other => {
            tracing::warn!(error = %other, "passkey ceremony failed");
            error(
                s,
                headers,
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "error_internal",
            )
        }
    }
}

/// The relying party and the parsed JSON body, after the CSRF header check.
fn prelude<'a, T: DeserializeOwned>(
    s: &'a AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(&'a Webauthn, T), Response> {
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !csrf_ok(s, headers, WEBAUTHN_CSRF, token) {
        return Err(error(
            s,
            headers,
            StatusCode::FORBIDDEN,
            "invalid_request",
            "error_csrf",
        ));
    }
    let wa = s.services.webauthn.as_deref().ok_or_else(|| {
        error(
            s,
            headers,
            StatusCode::NOT_FOUND,
            "not_supported",
            "passkey_not_available",
        )
    })?;
    let parsed = serde_json::from_slice(body).map_err(|_| {
        error(
            s,
            headers,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "error_bad_request",
        )
    })?;
    Ok((wa, parsed))
}

async fn signed_in(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<(Session, AccountRecord), Response> {
    match pages::current_session(s, headers).await {
        Ok(Some(x)) => Ok(x),
        Ok(None) => Err(error(
            s,
            headers,
            StatusCode::UNAUTHORIZED,
            "login_required",
            "error_sign_in_first",
        )),
        Err(_) => Err(unavailable(s, headers)),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn register_start(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (wa, _): (_, Empty) = match prelude(&s, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (sess, account) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // A passkey is the strongest credential: only a recent, full confirmation adds one.
    if let Err(r) = account::require_recent_json(&s, &sess, &account).await {
        return r;
    }
    match webauthn::begin_registration(wa, s.p.db.as_ref(), s.p.eph.as_ref(), &account).await {
        Ok((ceremony, options)) => {
            Json(json!({"ceremony": ceremony, "options": options})).into_response()
        }
        Err(e) => authn_error(&s, &headers, e),
    }
}

#[derive(Deserialize)]
pub struct RegisterFinish {
    ceremony: String,
    name: Option<String>,
    credential: RegisterPublicKeyCredential,
}

pub async fn register_finish(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (wa, b): (_, RegisterFinish) = match prelude(&s, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (sess, account) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = account::require_recent_json(&s, &sess, &account).await {
        return r;
    }
    let name = b.name.unwrap_or_default();
    let now = s.p.now();
    let eph = s.p.eph.as_ref();
    let rec = match webauthn::finish_registration(
        wa,
        eph,
        &account,
        &b.ceremony,
        &b.credential,
        &name,
        now,
    )
    .await
    {
        Ok(rec) => rec,
        Err(e) => return authn_error(&s, &headers, e),
    };
    let ip = pages::ip(&s, &headers, peer);
    match account::manager(&s, &ip).add_passkey(&account, &rec).await {
        Ok(()) => Json(
            json!({"ok": true, "id": b64url(&rec.cred_id), "name": rec.name,
                              "redirect": format!("{}?done=passkey_added", paths::ACCOUNT)}),
        )
        .into_response(),
        Err(_) => unavailable(&s, &headers),
    }
}

pub async fn login_start(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (wa, _): (_, Value) = match prelude(&s, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match webauthn::begin_login(wa, s.p.eph.as_ref()).await {
        Ok((ceremony, options)) => {
            Json(json!({"ceremony": ceremony, "options": options})).into_response()
        }
        Err(e) => authn_error(&s, &headers, e),
    }
}

#[derive(Deserialize)]
pub struct AuthFinish {
    ceremony: String,
    credential: PublicKeyCredential,
    ar: Option<String>,
}

/// Where the page goes after a passkey proof: where the pending request's interaction says
/// (the request is marked signed in first when this was a sign-in), or the account page.
async fn continue_to(
    s: &AppState,
    headers: &HeaderMap,
    ar: Option<&str>,
    signed_in: (&Session, &AccountRecord),
    sign_in: bool,
) -> Response {
    let Some(ar) = ar.filter(|a| !a.is_empty()) else {
        let to = match sign_in {
            true => paths::ACCOUNT.to_string(),
            false => format!("{}?done=confirmed", paths::ACCOUNT),
        };
        return Json(json!({"redirect": to})).into_response();
    };
    let (pending, client) = match engine(s).load(ar).await {
        Ok(x) => x,
        Err(_) => return Json(json!({"redirect": paths::ACCOUNT})).into_response(),
    };
    let engine = engine(s);
    let next = match sign_in {
        true => engine.signed_in(ar, pending, &client, signed_in).await,
        false => engine.advance(ar, pending, &client, Some(signed_in)).await,
    };
    match interaction::location(ar, &next) {
        Some(url) => Json(json!({"redirect": url})).into_response(),
        None => unavailable(s, headers),
    }
}

pub async fn login_finish(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (wa, b): (_, AuthFinish) = match prelude(&s, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (db, eph, now) = (s.p.db.as_ref(), s.p.eph.as_ref(), s.p.now());
    let asserted = match webauthn::finish_login(wa, db, eph, &b.ceremony, &b.credential, now).await
    {
        Ok(a) => a,
        Err(e) => {
            METRICS.signin("webauthn", "invalid");
            return authn_error(&s, &headers, e);
        }
    };
    let ip = pages::ip(&s, &headers, peer);
    let client_id = match b.ar.as_deref() {
        Some(ar) => engine(&s).load(ar).await.ok().map(|(_, c)| c.client_id),
        None => None,
    };
    let cx = pages::signin_context(&s, &headers, &ip, client_id.as_deref());
    let previous = form::cookie(&headers, SESSION_COOKIE);
    let done = match signin::passkey(&cx, previous.as_deref(), asserted).await {
        Ok(done) => done,
        Err(e) => return authn_error(&s, &headers, e),
    };
    METRICS.signin("webauthn", "success");
    let set = form::set_cookie(
        SESSION_COOKIE,
        &done.cookie,
        s.p.cfg.lifetimes.session,
        s.p.cfg.issuer_is_https(),
    );
    let next = continue_to(
        &s,
        &headers,
        b.ar.as_deref(),
        (&done.session, &done.account),
        true,
    )
    .await;
    with_cookies(next, &[set])
}

pub async fn second_start(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (wa, _): (_, Value) = match prelude(&s, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (_, account) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match webauthn::begin_second(wa, s.p.db.as_ref(), s.p.eph.as_ref(), &account.sub).await {
        Ok((ceremony, options)) => {
            Json(json!({"ceremony": ceremony, "options": options})).into_response()
        }
        Err(e) => authn_error(&s, &headers, e),
    }
}

/// A passkey as a further factor: a step-up for a pending request (`ar`), or, on the account
/// site, the confirmation before an account change.
pub async fn second_finish(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (wa, b): (_, AuthFinish) = match prelude(&s, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (sess, account) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (db, eph, now) = (s.p.db.as_ref(), s.p.eph.as_ref(), s.p.now());
    let method =
        match webauthn::finish_second(wa, db, eph, &account.sub, &b.ceremony, &b.credential, now)
            .await
        {
            Ok(m) => m,
            Err(e) => {
                METRICS.signin("webauthn", "invalid");
                return authn_error(&s, &headers, e);
            }
        };
    let Some(cookie) = form::cookie(&headers, SESSION_COOKIE) else {
        return error(
            &s,
            &headers,
            StatusCode::UNAUTHORIZED,
            "login_required",
            "error_sign_in_first",
        );
    };
    let ar = b.ar.as_deref().filter(|a| !a.is_empty());
    let purpose = if ar.is_some() {
        Purpose::StepUp
    } else {
        Purpose::Confirm
    };
    let ip = pages::ip(&s, &headers, peer);
    let client_id = match ar {
        Some(ar) => engine(&s).load(ar).await.ok().map(|(_, c)| c.client_id),
        None => None,
    };
    let cx = pages::signin_context(&s, &headers, &ip, client_id.as_deref());
    let up = match signin::prove(
        &cx,
        &cookie,
        &sess,
        &account,
        Proof::Passkey(method),
        purpose,
    )
    .await
    {
        Ok(up) => up,
        Err(e) => return authn_error(&s, &headers, e),
    };
    METRICS.signin("webauthn", "success");
    continue_to(&s, &headers, ar, (&up, &account), false).await
}
