//! The sign-in page. It serves an authorization request (`ar`) or the account page
//! (`next=account`). Each form carries a CSRF token bound to the browser cookie and its
//! purpose; a new session cookie is issued at every sign-in.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::authorize::{load_request, reject, save_request};
use super::pages::{self, csrf_ok, with_new_cookie};
use super::respond::{see_other, with_cookies};
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form};
use crate::audit::{self, Event, actions};
use crate::authn::throttle;
use crate::authn::{AuthnError, Method, password, session};
use crate::metrics::METRICS;
use crate::oidc::authorize::{AuthRequest, Rejection};
use crate::oidc::paths;
use crate::store::{AccountRecord, StoreError};

#[derive(Deserialize, Default)]
pub struct PageParams {
    pub ar: Option<String>,
    pub next: Option<String>,
    pub csrf: Option<String>,
    pub id_number: Option<String>,
    pub password: Option<String>,
    pub decision: Option<String>,
}

pub fn query(q: Option<String>) -> PageParams {
    form::parse(q.unwrap_or_default().as_bytes()).unwrap_or_default()
}

fn purpose(ar: &str) -> String {
    if ar.is_empty() {
        "login:account".into()
    } else {
        format!("login:{ar}")
    }
}

/// The sign-in page for the account site (no authorization request).
pub fn account_login_page(
    s: &AppState,
    headers: &HeaderMap,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&[], headers);
    let (token, webauthn_csrf, cookie) = pages::csrf_with_webauthn(s, headers, &purpose(""));
    let ctx = json!({"ar": "", "next": "account", "csrf": token, "login_hint": null, "error": error,
                     "client_name": s.ui.t(lang, "product"), "enrol_link": true, "webauthn_csrf": webauthn_csrf});
    with_new_cookie(s.ui.page(status, "login.html", lang, ctx), cookie)
}

pub async fn form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    if ar.is_empty() {
        return account_login_page(&s, &headers, None, StatusCode::OK);
    }
    let (req, client) = match load_request(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let lang = choose_lang(&req.ui_locales, &headers);
    let (token, webauthn_csrf, cookie) = pages::csrf_with_webauthn(&s, &headers, &purpose(&ar));
    let ctx = json!({"ar": ar, "csrf": token, "login_hint": req.login_hint, "error": null,
                     "client_name": client.name, "enrol_link": true, "webauthn_csrf": webauthn_csrf});
    with_new_cookie(s.ui.page(StatusCode::OK, "login.html", lang, ctx), cookie)
}

/// Record the attempt in the person's usage history (when the ID number has an account).
async fn audit_attempt(
    s: &AppState,
    id_number: &str,
    ok: Option<&AccountRecord>,
    client_id: Option<&str>,
    ip: &str,
) -> Result<(), StoreError> {
    let account = match ok {
        Some(a) => Some(a.clone()),
        None => s.p.db.account_by_id_number(id_number).await?,
    };
    let Some(account) = account else {
        return Ok(());
    };
    let event = Event {
        actor: if ok.is_some() {
            account.sub.clone()
        } else {
            "anonymous".into()
        },
        action: if ok.is_some() {
            actions::SIGNIN
        } else {
            actions::SIGNIN_FAILED
        },
        subject: Some(account.sub.clone()),
        client_id: client_id.map(String::from),
        detail: json!({"method": "pwd"}),
        ip: Some(ip.to_string()),
    };
    audit::record(s.p.db.as_ref(), event, s.p.now())
        .await
        .map(|_| ())
}

/// Repeated failures locked the ID number out for the window: say so in its history.
async fn note_lockout(s: &AppState, id_number: &str, ip: &str) -> Result<(), StoreError> {
    let Some(account) = s.p.db.account_by_id_number(id_number).await? else {
        return Ok(());
    };
    let event = Event {
        actor: "anonymous".into(),
        action: actions::THROTTLED,
        subject: Some(account.sub.clone()),
        client_id: None,
        detail: json!({"method": "pwd", "window_secs": throttle::WINDOW_SECS}),
        ip: Some(ip.to_string()),
    };
    audit::record(s.p.db.as_ref(), event, s.p.now())
        .await
        .map(|_| ())
}

/// The message for a refused sign-in; a locked account is told why (it has proven its
/// password, so this reveals nothing to a stranger).
async fn refusal(s: &AppState, lang: &str, e: &AuthnError, id_number: &str) -> String {
    match e {
        AuthnError::Locked => {
            let reason =
                s.p.db
                    .account_by_id_number(id_number)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|a| a.lock_reason);
            let label = reason
                .map(|r| s.ui.t(lang, &format!("lock_reason_{r}")))
                .unwrap_or_default();
            format!("{} {label}", s.ui.t(lang, "error_account_locked_reason"))
        }
        AuthnError::InvalidCredentials => s.ui.t(lang, "error_invalid_credentials"),
        AuthnError::Throttled(r) => {
            s.ui.t(lang, "error_wait_seconds")
                .replace("{n}", &r.seconds().to_string())
        }
        _ => s.ui.t(lang, "error_internal"),
    }
}

pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f: PageParams = form::parse(&body).unwrap_or_default();
    let ar = f.ar.clone().unwrap_or_default();
    let lang = choose_lang(&[], &headers);
    if !csrf_ok(&s, &headers, &purpose(&ar), f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let pending = if ar.is_empty() {
        None
    } else {
        match load_request(&s, &headers, &ar).await {
            Ok(x) => Some(x),
            Err(page) => return page,
        }
    };
    let locales = pending
        .as_ref()
        .map(|(r, _)| r.ui_locales.clone())
        .unwrap_or_default();
    let lang = choose_lang(&locales, &headers);
    let client_id = pending.as_ref().map(|(_, c)| c.client_id.clone());
    let ip = pages::ip(&s, &headers, peer);
    let id_number = f.id_number.unwrap_or_default().trim().to_string();
    // Counted by what was typed, so unknown numbers are throttled like real ones; counted
    // before the check, so parallel guesses get no more checks than sequential ones.
    let subject = format!("pwd:{id_number}");
    let eph = s.p.eph.as_ref();
    let unavailable = |e: StoreError| reject(&s, &headers, &locales, Rejection::Page(e.into()));
    let ticket = match throttle::reserve(eph, &subject, &ip, s.p.now()).await {
        Ok(t) => t,
        Err(e) => return unavailable(e),
    };
    let outcome = match &ticket {
        Ok(_) => {
            password::sign_in(s.p.db.as_ref(), &id_number, &f.password.unwrap_or_default()).await
        }
        Err(refusal) => Err(AuthnError::Throttled(*refusal)),
    };
    let (account, ticket) = match (outcome, ticket) {
        (Ok(a), Ok(ticket)) => {
            METRICS.signin("pwd", "success");
            (a, ticket)
        }
        (Err(AuthnError::Store(st)), _) => return unavailable(st),
        (Err(e), ticket) => {
            METRICS.signin(
                "pwd",
                match e {
                    AuthnError::Locked => "locked",
                    AuthnError::Throttled(_) => "throttled",
                    _ => "invalid",
                },
            );
            let recorded = match (ticket, &e) {
                (Ok(t), AuthnError::InvalidCredentials) => {
                    failed_attempt(&s, t, &id_number, client_id.as_deref(), &ip).await
                }
                // The right password for a locked account: not a guess to hold against it.
                (Ok(t), _) => t.succeeded(eph).await,
                (Err(_), _) => Ok(()),
            };
            if let Err(st) = recorded {
                return unavailable(st);
            }
            let message = refusal(&s, lang, &e, &id_number).await;
            let client_name = pending
                .as_ref()
                .map(|(_, c)| c.name.clone())
                .unwrap_or_else(|| s.ui.t(lang, "product"));
            let ctx = json!({"ar": ar, "next": f.next, "csrf": f.csrf, "login_hint": id_number, "error": message,
                             "client_name": client_name, "enrol_link": true,
                             "webauthn_csrf": pages::csrf_with_webauthn(&s, &headers, "").1});
            let status = if matches!(e, AuthnError::Throttled(_)) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            return s.ui.page(status, "login.html", lang, ctx);
        }
        (Ok(_), Err(_)) => return unavailable(StoreError::Other("unthrottled sign-in".into())),
    };
    // What a success writes needs nothing of itself, so it goes out together: the audit
    // entry (a durable commit) beside the throttle's reset, the session and the pending
    // request's update. Each is part of the sign-in: if one fails, the session is ended.
    let cleared = ticket.succeeded(eph);
    let audited = audit_attempt(&s, &id_number, Some(&account), client_id.as_deref(), &ip);
    let done = signed_in(&s, &headers, &ar, pending.map(|(req, _)| req), &account);
    match tokio::join!(cleared, audited, done) {
        (Ok(()), Ok(()), Ok((_, page))) => page,
        (_, _, Err(page)) => page,
        (cleared, audited, Ok((cookie, _))) => {
            let _ = session::end(eph, &cookie).await;
            unavailable(
                cleared
                    .and(audited)
                    .err()
                    .unwrap_or(StoreError::Other("sign-in".into())),
            )
        }
    }
}

/// A wrong password: counted (the next try waits), and recorded in the history.
async fn failed_attempt(
    s: &AppState,
    ticket: throttle::Ticket,
    id_number: &str,
    client_id: Option<&str>,
    ip: &str,
) -> Result<(), StoreError> {
    let (counted, audited) = tokio::join!(
        ticket.failed(s.p.eph.as_ref(), s.p.now()),
        audit_attempt(s, id_number, None, client_id, ip)
    );
    audited?;
    if counted? == throttle::LOCKOUT_AFTER {
        note_lockout(s, id_number, ip).await?;
    }
    Ok(())
}

/// Start the session and mark the pending request signed in (together), then go on to
/// finish the request, or to the account page when there is none. Returns the new cookie
/// value with the response.
async fn signed_in(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
    mut req: Option<AuthRequest>,
    account: &AccountRecord,
) -> Result<(String, Response), Response> {
    let previous = form::cookie(headers, SESSION_COOKIE);
    let start = session::start(
        s.p.eph.as_ref(),
        previous.as_deref(),
        account,
        Method::Password,
        s.p.now(),
        s.p.cfg.lifetimes.session,
    );
    if let Some(req) = req.as_mut() {
        req.login_done = true;
    }
    let save = async {
        match &req {
            Some(req) => save_request(s, ar, req).await,
            None => Ok(()),
        }
    };
    let (started, saved) = tokio::join!(start, save);
    let locales = req
        .as_ref()
        .map(|r| r.ui_locales.clone())
        .unwrap_or_default();
    let (cookie, _) =
        started.map_err(|e| reject(s, headers, &locales, Rejection::Page(e.into())))?;
    if let Err(e) = saved {
        let _ = session::end(s.p.eph.as_ref(), &cookie).await;
        return Err(reject(s, headers, &locales, Rejection::Page(e)));
    }
    let set = form::set_cookie(
        SESSION_COOKIE,
        &cookie,
        s.p.cfg.lifetimes.session,
        s.p.cfg.issuer_is_https(),
    );
    let next = match req {
        Some(_) => format!("{}?ar={ar}", paths::AUTHORIZE_RESUME),
        None => paths::ACCOUNT.to_string(),
    };
    Ok((cookie, with_cookies(see_other(&next), &[set])))
}
