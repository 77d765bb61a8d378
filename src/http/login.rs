//! The sign-in and consent pages. Each form carries a CSRF token bound to the browser cookie
//! and to the pending request; a session cookie is issued anew at every sign-in.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::authorize::{ar_key, current_session, load_request, proceed, reject, save_request};
use super::respond::{see_other, with_cookies};
use super::ui::choose_lang;
use super::{AppState, BROWSER_COOKIE, SESSION_COOKIE, form};
use crate::authn::{AuthnError, LOA1, password, session};
use crate::oidc::authorize::Rejection;
use crate::oidc::{OAuthError, claims, paths};
use crate::store::ConsentRecord;

#[derive(Deserialize, Default)]
pub struct PageParams {
    ar: Option<String>,
    csrf: Option<String>,
    id_number: Option<String>,
    password: Option<String>,
    decision: Option<String>,
}

/// The browser id CSRF tokens bind to, and the cookie to set when it is new.
fn browser(s: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
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

fn csrf_ok(s: &AppState, headers: &HeaderMap, purpose: &str, token: Option<&str>) -> bool {
    match (form::cookie(headers, BROWSER_COOKIE), token) {
        (Some(b), Some(t)) => s.p.kek.csrf_matches(&b, purpose, t),
        _ => false,
    }
}

fn query(q: Option<String>) -> PageParams {
    form::parse(q.unwrap_or_default().as_bytes()).unwrap_or_default()
}

pub async fn form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    let (req, client) = match load_request(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let lang = choose_lang(&req.ui_locales, &headers);
    let (bid, new_cookie) = browser(&s, &headers);
    let ctx = json!({
        "ar": ar,
        "csrf": s.p.kek.csrf_token(&bid, &format!("login:{ar}")),
        "login_hint": req.login_hint,
        "error": null,
        "client_name": client.name,
    });
    let page = s.ui.page(StatusCode::OK, "login.html", lang, ctx);
    with_cookies(page, &new_cookie.into_iter().collect::<Vec<_>>())
}

pub async fn submit(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: PageParams = form::parse(&body).unwrap_or_default();
    let ar = f.ar.clone().unwrap_or_default();
    if !csrf_ok(&s, &headers, &format!("login:{ar}"), f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let (mut req, client) = match load_request(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let lang = choose_lang(&req.ui_locales, &headers);
    let id_number = f.id_number.unwrap_or_default();
    let outcome = password::sign_in(
        s.p.db.as_ref(),
        id_number.trim(),
        &f.password.unwrap_or_default(),
    )
    .await;
    let m = &crate::metrics::METRICS;
    let account = match outcome {
        Ok(a) => {
            m.signin("pwd", "success");
            a
        }
        Err(e) => {
            m.signin(
                "pwd",
                match e {
                    AuthnError::InvalidCredentials => "invalid",
                    AuthnError::Locked => "locked",
                    _ => "error",
                },
            );
            let key = match e {
                AuthnError::InvalidCredentials => "error_invalid_credentials",
                AuthnError::Locked => "error_account_locked",
                AuthnError::Store(st) => {
                    return reject(&s, &headers, &req.ui_locales, Rejection::Page(st.into()));
                }
                AuthnError::Internal(m) => {
                    tracing::error!(error = %m, "sign-in failed");
                    "error_internal"
                }
            };
            let ctx = json!({
                "ar": ar, "csrf": f.csrf, "login_hint": id_number,
                "error": s.ui.t(lang, key), "client_name": client.name,
            });
            return s.ui.page(StatusCode::UNAUTHORIZED, "login.html", lang, ctx);
        }
    };
    let previous = form::cookie(&headers, SESSION_COOKIE);
    let started = session::start(
        s.p.eph.as_ref(),
        previous.as_deref(),
        &account.sub,
        LOA1,
        vec!["pwd".into()],
        s.p.now(),
        s.p.cfg.lifetimes.session,
    )
    .await;
    let (cookie, _) = match started {
        Ok(x) => x,
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e.into())),
    };
    req.login_done = true;
    if let Err(e) = save_request(&s, &ar, &req).await {
        return reject(&s, &headers, &req.ui_locales, Rejection::Page(e));
    }
    let set = form::set_cookie(
        SESSION_COOKIE,
        &cookie,
        s.p.cfg.lifetimes.session,
        s.p.cfg.issuer_is_https(),
    );
    with_cookies(
        see_other(&format!("{}?ar={ar}", paths::AUTHORIZE_RESUME)),
        &[set],
    )
}

pub async fn consent_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    let (req, client) = match load_request(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let lang = choose_lang(&req.ui_locales, &headers);
    let sess = match current_session(&s, &headers).await {
        Ok(Some(sess)) => sess,
        Ok(None) => return see_other(&format!("{}?ar={ar}", paths::LOGIN)),
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e)),
    };
    let who = async {
        let account = s.p.db.account_by_sub(&sess.sub).await?;
        let account = account.ok_or_else(|| OAuthError::login_required("account gone"))?;
        let person = s.p.db.person(&account.id_number).await?;
        Ok::<_, OAuthError>((account, person))
    }
    .await;
    let (account, person) = match who {
        Ok(x) => x,
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e)),
    };
    let scopes = claims::consent_scopes(&req.scopes, req.claims.as_ref());
    let labels: Vec<String> = claims::consent_label_keys(&scopes)
        .iter()
        .map(|k| s.ui.t(lang, k))
        .collect();
    let (bid, new_cookie) = browser(&s, &headers);
    let ctx = json!({
        "ar": ar,
        "csrf": s.p.kek.csrf_token(&bid, &format!("consent:{ar}")),
        "client_name": client.name,
        "client_kind_label": s.ui.t(lang, &format!("kind_{}", client.kind)),
        "account_level": account.level,
        "claims": labels,
        "person_name": person.map(|p| p.full_name).unwrap_or_default(),
    });
    let page = s.ui.page(StatusCode::OK, "consent.html", lang, ctx);
    with_cookies(page, &new_cookie.into_iter().collect::<Vec<_>>())
}

pub async fn consent_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: PageParams = form::parse(&body).unwrap_or_default();
    let ar = f.ar.clone().unwrap_or_default();
    if !csrf_ok(&s, &headers, &format!("consent:{ar}"), f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let (mut req, client) = match load_request(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let to_client = |error| Rejection::Redirect {
        redirect_uri: req.redirect_uri.clone(),
        error,
        state: req.state.clone(),
    };
    if f.decision.as_deref() != Some("approve") {
        let _ = s.p.eph.delete(&ar_key(&ar)).await;
        let denied = to_client(OAuthError::access_denied("the person declined"));
        return reject(&s, &headers, &req.ui_locales, denied);
    }
    let sess = match current_session(&s, &headers).await {
        Ok(Some(sess)) => sess,
        Ok(None) => return see_other(&format!("{}?ar={ar}", paths::LOGIN)),
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e)),
    };
    let saved = async {
        let mut scopes = claims::consent_scopes(&req.scopes, req.claims.as_ref());
        if let Some(prev) = s.p.db.consent(&sess.sub, &client.client_id).await? {
            scopes.extend(
                prev.scopes
                    .into_iter()
                    .filter(|p| !scopes.contains(p))
                    .collect::<Vec<_>>(),
            );
        }
        let rec = ConsentRecord {
            sub: sess.sub.clone(),
            client_id: client.client_id.clone(),
            scopes,
            granted_at: s.p.now(),
        };
        s.p.db.put_consent(&rec).await?;
        req.consent_done = true;
        save_request(&s, &ar, &req).await
    }
    .await;
    if let Err(e) = saved {
        return reject(&s, &headers, &req.ui_locales, Rejection::Page(e));
    }
    proceed(&s, &headers, &ar, req, &client).await
}
