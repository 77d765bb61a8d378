//! What the people-facing pages share: the browser cookie CSRF tokens bind to, CSRF checks,
//! the session that is still honoured, the caller's address, and error pages with a way back
//! and a reference that matches the log line.

use std::net::SocketAddr;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::respond::with_cookies;
use super::{AppState, BROWSER_COOKIE, SESSION_COOKIE, form, paths};
use crate::authn::signin::Context;
use crate::authn::{Session, session};
use crate::oidc::OAuthError;
use crate::store::AccountRecord;

/// The CSRF purpose of the passkey script's JSON calls (sent in `X-CSRF-Token`).
pub const WEBAUTHN_CSRF: &str = "webauthn";

/// The browser id CSRF tokens bind to, and the cookie to set when it is new.
pub fn browser(s: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(b) = form::cookie(headers, BROWSER_COOKIE) {
        return (b, None);
    }
    let b = crate::crypto::random_id().unwrap_or_default();
    let cookie = form::set_cookie(
        BROWSER_COOKIE,
        &b,
        365 * 24 * 3600,
        s.p.cfg.issuer_is_https(),
    );
    (b, Some(cookie))
}

/// A CSRF token for `purpose`, plus the browser cookie if it had to be created.
pub fn csrf(s: &AppState, headers: &HeaderMap, purpose: &str) -> (String, Option<String>) {
    let (bid, cookie) = browser(s, headers);
    (s.p.kek.csrf_token(&bid, purpose), cookie)
}

/// A page's form token plus, when passkeys are on, the token the passkey script sends — both
/// bound to the same browser id (which may be new in this response).
pub fn csrf_with_webauthn(
    s: &AppState,
    headers: &HeaderMap,
    purpose: &str,
) -> (String, Option<String>, Option<String>) {
    let (bid, cookie) = browser(s, headers);
    let webauthn = s
        .services
        .webauthn
        .as_ref()
        .map(|_| s.p.kek.csrf_token(&bid, WEBAUTHN_CSRF));
    (s.p.kek.csrf_token(&bid, purpose), webauthn, cookie)
}

pub fn csrf_ok(s: &AppState, headers: &HeaderMap, purpose: &str, token: Option<&str>) -> bool {
    match (form::cookie(headers, BROWSER_COOKIE), token) {
        (Some(b), Some(t)) => s.p.kek.csrf_matches(&b, purpose, t),
        _ => false,
    }
}

pub fn with_new_cookie(page: Response, cookie: Option<String>) -> Response {
    with_cookies(page, &cookie.into_iter().collect::<Vec<_>>())
}

pub fn ip(s: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    form::client_ip(headers, peer, &s.p.cfg.trusted_proxies)
}

/// The sign-in pipeline's view of this request: stores, address, browser, client, time.
pub fn signin_context<'a>(
    s: &'a AppState,
    headers: &'a HeaderMap,
    ip: &'a str,
    client_id: Option<&'a str>,
) -> Context<'a> {
    Context {
        db: s.p.db.as_ref(),
        eph: s.p.eph.as_ref(),
        kek: &s.p.kek,
        ip,
        agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        client_id,
        now: s.p.now(),
        session_ttl: s.p.cfg.lifetimes.session,
    }
}

/// The browser's session if it is still honoured: not expired, and its account still usable
/// and not locked (or given a new password) since the session began — the account's session
/// epoch, which ends its sessions on every node (`identity::honours`).
pub async fn current_session(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Session, AccountRecord)>, OAuthError> {
    let Some(cookie) = form::cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(sess) = session::load(s.p.eph.as_ref(), &cookie, s.p.now()).await? else {
        return Ok(None);
    };
    let account = s.p.db.account_by_sub(&sess.sub).await?;
    Ok(account
        .filter(|a| crate::identity::honours(a, sess.epoch))
        .map(|a| (sess, a)))
}

/// Where an error page leads back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Back {
    /// The person's account page (no client to return to).
    Account,
    /// The service the person came from: its redirect URI, with an error it understands.
    Client(String),
}

/// An error page: the message, a way back, and a reference (the request id) that support can
/// find in the log line of this request.
pub fn error(
    s: &AppState,
    lang: &str,
    status: StatusCode,
    message_key: &str,
    back: Back,
) -> Response {
    error_with_code(s, lang, status, message_key, None, back)
}

/// [`error`] that also shows the protocol error code, apart from the sentence, for support.
pub fn error_with_code(
    s: &AppState,
    lang: &str,
    status: StatusCode,
    message_key: &str,
    code: Option<&OAuthError>,
    back: Back,
) -> Response {
    let back = match &back {
        Back::Account => (paths::ACCOUNT, "back_to_account"),
        Back::Client(url) => (url.as_str(), "back_to_service"),
    };
    s.ui.error_page(
        status,
        lang,
        message_key,
        code.map(|e| e.error.as_str()),
        back,
    )
}
