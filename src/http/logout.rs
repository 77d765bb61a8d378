//! `/logout` (OIDC RP-Initiated Logout 1.0). With a valid `id_token_hint` for the current
//! person the session ends at once; without one the person is asked first, so a third-party
//! page cannot sign people out at will.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::respond::{see_other, with_cookies};
use super::ui::choose_lang;
use super::{AppState, BROWSER_COOKIE, SESSION_COOKIE, form};
use crate::authn::session;
use crate::oidc::logout::{self, LogoutParams, LogoutTarget};
use crate::oidc::split_spaces;

pub async fn get(State(s): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    handle(&s, &headers, q.unwrap_or_default().as_bytes()).await
}

pub async fn post(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&s, &headers, &body).await
}

async fn handle(s: &AppState, headers: &HeaderMap, raw: &[u8]) -> Response {
    let params: LogoutParams = match form::parse(raw) {
        Ok(p) => p,
        Err(_) => {
            return s.ui.error(
                StatusCode::BAD_REQUEST,
                choose_lang(&[], headers),
                "error_bad_request",
            );
        }
    };
    let lang = choose_lang(&split_spaces(params.ui_locales.as_deref()), headers);
    let target = match logout::validate(&s.p, &params).await {
        Ok(t) => t,
        Err(e) => {
            let key = if e.description.contains("post_logout_redirect_uri") {
                "error_redirect_uri"
            } else {
                "error_bad_request"
            };
            let message = format!("{} ({})", s.ui.t(lang, key), e.description);
            return s.ui.page(
                StatusCode::BAD_REQUEST,
                "error.html",
                lang,
                json!({"title": "", "message": message}),
            );
        }
    };
    let cookie = form::cookie(headers, SESSION_COOKIE);
    let current = match &cookie {
        Some(c) => session::load(s.p.eph.as_ref(), c, s.p.now())
            .await
            .ok()
            .flatten(),
        None => None,
    };
    // Our own confirmation form comes back with a CSRF token.
    if let Some(csrf) = params.csrf.as_deref() {
        let ok = form::cookie(headers, BROWSER_COOKIE)
            .is_some_and(|b| s.p.kek.csrf_matches(&b, "logout", csrf));
        if !ok {
            return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
        }
        if params.decision.as_deref() != Some("logout") {
            return s.ui.page(
                StatusCode::OK,
                "error.html",
                lang,
                json!({"title": "", "message": s.ui.t(lang, "stay_signed_in")}),
            );
        }
        return end(s, cookie.as_deref(), &target, lang).await;
    }
    let hinted_for_current = match (&target.hint, &current) {
        (Some(_), Some(c)) => target.hint_names(&s.p.kek, &c.sub),
        (Some(_), None) => true,
        _ => false,
    };
    if hinted_for_current || current.is_none() {
        return end(s, cookie.as_deref(), &target, lang).await;
    }
    let bid = form::cookie(headers, BROWSER_COOKIE).unwrap_or_default();
    let ctx = json!({
        "csrf": s.p.kek.csrf_token(&bid, "logout"),
        "client_name": target.client.as_ref().map(|c| c.name.clone()),
        "client_id": target.client.as_ref().map(|c| c.client_id.clone()),
        "post_logout_redirect_uri": params.post_logout_redirect_uri,
        "state": params.state,
    });
    s.ui.page(StatusCode::OK, "logout.html", lang, ctx)
}

async fn end(s: &AppState, cookie: Option<&str>, target: &LogoutTarget, lang: &str) -> Response {
    if let Some(c) = cookie
        && let Err(e) = logout::sign_out(&s.p, c).await
    {
        tracing::warn!(error = %e, "could not sign the session out");
        return s.ui.try_later(lang);
    }
    let clear = form::set_cookie(SESSION_COOKIE, "", 0, s.p.cfg.issuer_is_https());
    let resp = match &target.redirect {
        Some(url) => see_other(url),
        None => {
            s.ui.page(StatusCode::OK, "logged_out.html", lang, json!({}))
        }
    };
    with_cookies(resp, &[clear])
}
