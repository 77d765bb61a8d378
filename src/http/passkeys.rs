//! WebAuthn over HTTP: JSON endpoints for the ceremonies (called by /static/webauthn.js, or by
//! any WebAuthn client), and the passkey list on the account page. JSON calls carry a CSRF
//! token in `X-CSRF-Token`, bound to the browser cookie.

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

use super::account::{notifier, posted, posted_change, render};
use super::authorize::{load_request, save_request};
use super::confirm::require_recent_json;
use super::pages::{self, csrf_ok};
use super::respond::with_cookies;
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form};
use crate::audit::{self, Event, actions};
use crate::authn::changes::{self, Change, Origin};
use crate::authn::{AuthnError, session, webauthn};
use crate::crypto::{b64url, b64url_decode};
use crate::metrics::METRICS;
use crate::oidc::paths;
use crate::store::AccountRecord;

pub const CSRF_PURPOSE: &str = "webauthn";

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

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

fn authn_error(e: AuthnError) -> Response {
    match e {
        AuthnError::InvalidCredentials => error(
            StatusCode::UNAUTHORIZED,
            "invalid_credential",
            "the passkey could not be verified",
        ),
        AuthnError::Locked => error(
            StatusCode::FORBIDDEN,
            "account_locked",
            "the account is locked",
        ),
        AuthnError::Store(crate::store::StoreError::Unavailable(_)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again",
        ),
        other => {
            tracing::warn!(error = %other, "passkey ceremony failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
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
    if !csrf_ok(s, headers, CSRF_PURPOSE, token) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "missing or wrong X-CSRF-Token",
        ));
    }
    let wa = s.p.webauthn.as_deref().ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "not_supported",
            "passkeys are not available on this issuer",
        )
    })?;
    let parsed = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("malformed JSON: {e}"),
        )
    })?;
    Ok((wa, parsed))
}

async fn signed_in(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<(crate::authn::Session, AccountRecord), Response> {
    match pages::current_session(s, headers).await {
        Ok(Some(x)) => Ok(x),
        Ok(None) => Err(error(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "sign in first",
        )),
        Err(_) => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again",
        )),
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
    if let Err(r) = require_recent_json(&s, &sess, &account).await {
        return r;
    }
    match webauthn::begin_registration(wa, s.p.db.as_ref(), s.p.eph.as_ref(), &account).await {
        Ok((ceremony, options)) => {
            Json(json!({"ceremony": ceremony, "options": options})).into_response()
        }
        Err(e) => authn_error(e),
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
    if let Err(r) = require_recent_json(&s, &sess, &account).await {
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
        Err(e) => return authn_error(e),
    };
    let ip = pages::ip(&s, &headers, peer);
    let origin = Origin { ip: &ip, now };
    let what = Change::PasskeyAdded(rec.name.clone());
    let db = s.p.db.as_ref();
    match changes::apply(
        db,
        &notifier(&s),
        &account,
        what,
        &origin,
        db.insert_passkey(&rec),
    )
    .await
    {
        Ok(()) => {
            Json(json!({"ok": true, "id": b64url(&rec.cred_id), "name": rec.name})).into_response()
        }
        Err(e) => authn_error(e.into()),
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
        Err(e) => authn_error(e),
    }
}

#[derive(Deserialize)]
pub struct AuthFinish {
    ceremony: String,
    credential: PublicKeyCredential,
    ar: Option<String>,
}

/// Where the browser goes after a passkey ceremony: back into the authorization, or the account.
async fn continue_to(
    s: &AppState,
    headers: &HeaderMap,
    ar: Option<&str>,
    login: bool,
) -> Result<String, Response> {
    let Some(ar) = ar.filter(|a| !a.is_empty()) else {
        return Ok(paths::ACCOUNT.into());
    };
    let (mut req, _) = load_request(s, headers, ar).await?;
    if login {
        req.login_done = true;
        save_request(s, ar, &req).await.map_err(|_| {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "try again",
            )
        })?;
    }
    Ok(format!("{}?ar={ar}", paths::AUTHORIZE_RESUME))
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
    let now = s.p.now();
    let asserted = match webauthn::finish_login(
        wa,
        s.p.db.as_ref(),
        s.p.eph.as_ref(),
        &b.ceremony,
        &b.credential,
        now,
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            METRICS.signin("webauthn", "invalid");
            return authn_error(e);
        }
    };
    METRICS.signin("webauthn", "success");
    let event = Event {
        actor: asserted.account.sub.clone(),
        action: actions::SIGNIN,
        subject: Some(asserted.account.sub.clone()),
        detail: json!({"method": "passkey"}),
        ip: Some(pages::ip(&s, &headers, peer)),
        ..Default::default()
    };
    // The usage history is part of the sign-in: no entry, no session.
    if let Err(e) = audit::record(s.p.db.as_ref(), event, now).await {
        return authn_error(e.into());
    }
    let previous = form::cookie(&headers, SESSION_COOKIE);
    let started = session::start(
        s.p.eph.as_ref(),
        previous.as_deref(),
        &asserted.account,
        asserted.method,
        now,
        s.p.cfg.lifetimes.session,
    )
    .await;
    let Ok((cookie, _)) = started else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again",
        );
    };
    let redirect = match continue_to(&s, &headers, b.ar.as_deref(), true).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let set = form::set_cookie(
        SESSION_COOKIE,
        &cookie,
        s.p.cfg.lifetimes.session,
        s.p.cfg.issuer_is_https(),
    );
    with_cookies(Json(json!({"redirect": redirect})).into_response(), &[set])
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
        Err(e) => authn_error(e),
    }
}

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
    let now = s.p.now();
    let method = match webauthn::finish_second(
        wa,
        s.p.db.as_ref(),
        s.p.eph.as_ref(),
        &account.sub,
        &b.ceremony,
        &b.credential,
        now,
    )
    .await
    {
        Ok(m) => m,
        Err(e) => {
            METRICS.signin("webauthn", "invalid");
            return authn_error(e);
        }
    };
    METRICS.signin("webauthn", "success");
    let Some(cookie) = form::cookie(&headers, SESSION_COOKIE) else {
        return error(StatusCode::UNAUTHORIZED, "login_required", "sign in first");
    };
    let up = session::stepped(&sess, method, now);
    let event = Event {
        actor: account.sub.clone(),
        action: actions::STEPUP,
        subject: Some(account.sub.clone()),
        detail: json!({"method": "passkey", "acr": up.acr}),
        ip: Some(pages::ip(&s, &headers, peer)),
        ..Default::default()
    };
    // Recorded first: a step-up the history cannot hold does not happen.
    if let Err(e) = audit::record(s.p.db.as_ref(), event, now).await {
        return authn_error(e.into());
    }
    if session::save(s.p.eph.as_ref(), &cookie, &up, now)
        .await
        .is_err()
    {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again",
        );
    }
    match continue_to(&s, &headers, b.ar.as_deref(), false).await {
        Ok(redirect) => Json(json!({"redirect": redirect})).into_response(),
        Err(r) => r,
    }
}

fn cred_id(form_value: Option<&str>) -> Option<Vec<u8>> {
    form_value.and_then(b64url_decode)
}

pub async fn rename(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, _, account) = match posted(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    let name: String = f.name.unwrap_or_default().trim().chars().take(60).collect();
    let ok = match cred_id(f.passkey.as_deref()) {
        Some(id) if !name.is_empty() => {
            s.p.db
                .rename_passkey(&account.sub, &id, &name)
                .await
                .unwrap_or(false)
        }
        _ => false,
    };
    let (msg, err) = if ok {
        (Some(s.ui.t(lang, "message_passkey_renamed")), None)
    } else {
        (None, Some(s.ui.t(lang, "error_bad_request")))
    };
    render(
        &s,
        &headers,
        &account,
        msg,
        err,
        if ok {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
    )
    .await
}

pub async fn delete(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (f, _, account) = match posted_change(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    let db = s.p.db.as_ref();
    let found = match cred_id(f.passkey.as_deref()) {
        Some(id) => match db.passkeys_of(&account.sub).await {
            Ok(keys) => keys.into_iter().find(|k| k.cred_id == id),
            Err(_) => {
                return s
                    .ui
                    .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
            }
        },
        None => None,
    };
    let Some(key) = found else {
        let err = s.ui.t(lang, "error_bad_request");
        return render(
            &s,
            &headers,
            &account,
            None,
            Some(err),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let ip = pages::ip(&s, &headers, peer);
    let origin = Origin {
        ip: &ip,
        now: s.p.now(),
    };
    let what = Change::PasskeyRemoved(key.name.clone());
    let removed = db.delete_passkey(&account.sub, &key.cred_id);
    match changes::apply(db, &notifier(&s), &account, what, &origin, removed).await {
        Ok(_) => {
            let msg = s.ui.t(lang, "message_passkey_removed");
            render(&s, &headers, &account, Some(msg), None, StatusCode::OK).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "passkey not removed");
            s.ui.error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later")
        }
    }
}
