//! What the people-facing pages share: the browser cookie CSRF tokens bind to, CSRF checks,
//! the session that is still honoured, and the caller's address.

use std::net::SocketAddr;

use axum::http::HeaderMap;
use axum::response::Response;

use super::respond::with_cookies;
use super::{AppState, BROWSER_COOKIE, SESSION_COOKIE, form};
use crate::authn::{Session, session};
use crate::identity::STATE_ACTIVE;
use crate::oidc::OAuthError;
use crate::store::AccountRecord;

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
    let webauthn =
        s.p.webauthn
            .as_ref()
            .map(|_| s.p.kek.csrf_token(&bid, super::passkeys::CSRF_PURPOSE));
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

/// The browser's session if it is still honoured: not expired, and its account active and
/// not locked since the session began (a lock bumps the account's session epoch, which
/// ends its sessions on every node).
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
        .filter(|a| a.state == STATE_ACTIVE && sess.epoch == a.session_epoch)
        .map(|a| (sess, a)))
}
