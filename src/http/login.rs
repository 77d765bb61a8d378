//! The sign-in page. It serves a pending authorization request (`ar`) or the account site
//! (`next=account`). The form carries a CSRF token bound to the browser cookie and the
//! request; the password goes through the sign-in pipeline (`authn::signin`), and a new
//! session cookie is issued at every sign-in.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::interaction::{self, engine};
use super::pages::{self, csrf_ok, with_new_cookie};
use super::respond::{see_other, with_cookies};
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form, paths};
use crate::authn::AuthnError;
use crate::authn::signin;
use crate::authn::throttle::Refusal;
use crate::metrics::METRICS;
use crate::oidc::interaction::{Next, Pending};
use crate::store::{AccountRecord, ClientRecord};

#[derive(Deserialize, Default)]
pub struct PageParams {
    pub ar: Option<String>,
    pub csrf: Option<String>,
    pub id_number: Option<String>,
    pub password: Option<String>,
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

/// What the sign-in page shows besides the form.
struct View<'a> {
    ar: &'a str,
    service: Option<&'a ClientRecord>,
    login_hint: Option<&'a str>,
    error: Option<String>,
    status: StatusCode,
}

fn page(s: &AppState, headers: &HeaderMap, lang: &str, v: View<'_>) -> Response {
    let (token, webauthn_csrf, cookie) = pages::csrf_with_webauthn(s, headers, &purpose(v.ar));
    let client_name = v
        .service
        .map(|c| c.name.clone())
        .unwrap_or_else(|| s.ui.t(lang, "product"));
    let next = v.service.is_none().then_some("account");
    let ctx = json!({"ar": v.ar, "next": next, "csrf": token, "login_hint": v.login_hint,
                     "error": v.error, "client_name": client_name,
                     "enrol_link": interaction::with_ar(paths::ENROL, v.ar),
                     "recover_link": interaction::with_ar(paths::RECOVER, v.ar),
                     "webauthn_csrf": webauthn_csrf});
    with_new_cookie(s.ui.page(v.status, "login.html", lang, ctx), cookie)
}

/// The sign-in page of the account site (no authorization request).
pub fn account_login_page(
    s: &AppState,
    headers: &HeaderMap,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&[], headers);
    let v = View {
        ar: "",
        service: None,
        login_hint: None,
        error,
        status,
    };
    page(s, headers, lang, v)
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
    let h = match interaction::here(&s, &headers, &ar).await {
        Ok(h) => h,
        Err(page) => return page,
    };
    if h.next != Next::SignIn {
        return h.respond(&s, &headers);
    }
    let (pending, client) = (&h.pending, &h.client);
    let lang = choose_lang(&pending.request.ui_locales, &headers);
    let v = View {
        ar: &ar,
        service: Some(client),
        login_hint: pending.request.login_hint.as_deref(),
        error: None,
        status: StatusCode::OK,
    };
    page(&s, &headers, lang, v)
}

/// The message for a refused sign-in; a locked account is told why and what to do (it has
/// proven its password, so this reveals nothing to a stranger).
async fn refusal(s: &AppState, lang: &str, e: &AuthnError, id_number: &str) -> String {
    match e {
        AuthnError::Locked => {
            let id = crate::identity::cmnd::resolve(s.p.db.as_ref(), id_number).await;
            let id = id.ok().and_then(Result::ok).unwrap_or_default();
            let reason =
                s.p.db
                    .account_by_id_number(&id)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|a| a.lock_reason);
            let label = reason
                .map(|r| s.ui.t(lang, &format!("lock_reason_{r}")))
                .unwrap_or_default();
            format!(
                "{} {label}. {}",
                s.ui.t(lang, "error_account_locked_reason"),
                s.ui.t(lang, "locked_what_to_do")
            )
        }
        AuthnError::InvalidCredentials => s.ui.t(lang, "error_invalid_credentials"),
        AuthnError::AmbiguousCmnd => s.ui.t(lang, "error_cmnd_ambiguous"),
        AuthnError::Throttled(r) => wait_message(s, lang, *r),
        _ => s.ui.t(lang, "error_internal"),
    }
}

/// "Try again in 2 minutes", or, locked out for the window, what to do meanwhile.
pub fn wait_message(s: &AppState, lang: &str, r: Refusal) -> String {
    let secs = r.seconds().max(1);
    let when = match secs {
        s_ if s_ < 60 => s.ui.t(lang, "in_seconds").replace("{n}", &s_.to_string()),
        s_ => {
            s.ui.t(lang, "in_minutes")
                .replace("{n}", &((s_ + 59) / 60).to_string())
        }
    };
    let text = s.ui.t(lang, "error_wait_until").replace("{when}", &when);
    match r {
        Refusal::Wait(_) => text,
        Refusal::LockedOut(_) => format!("{text} {}", s.ui.t(lang, "locked_out_what_to_do")),
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
    let pending = match ar.is_empty() {
        true => None,
        false => match interaction::load(&s, &headers, &ar).await {
            Ok(x) => Some(x),
            Err(page) => return page,
        },
    };
    let lang = choose_lang(
        pending
            .as_ref()
            .map_or(&[][..], |(p, _)| &p.request.ui_locales),
        &headers,
    );
    let ip = pages::ip(&s, &headers, peer);
    let id_number = f.id_number.unwrap_or_default().trim().to_string();
    let client_id = pending.as_ref().map(|(_, c)| c.client_id.as_str());
    let cx = pages::signin_context(&s, &headers, &ip, client_id);
    let previous = form::cookie(&headers, SESSION_COOKIE);
    let given = f.password.unwrap_or_default();
    let signed = signin::password(&cx, previous.as_deref(), &id_number, &given).await;
    let done = match signed {
        Ok(done) => {
            METRICS.signin("pwd", "success");
            done
        }
        Err(AuthnError::Store(e)) => {
            tracing::warn!(error = %e, "sign-in could not be recorded");
            return s.ui.try_later(lang);
        }
        Err(e) => {
            let outcome = match e {
                AuthnError::Locked => "locked",
                AuthnError::Throttled(_) => "throttled",
                _ => "invalid",
            };
            METRICS.signin("pwd", outcome);
            let status = match e {
                AuthnError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
                AuthnError::AmbiguousCmnd => StatusCode::BAD_REQUEST,
                AuthnError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNAUTHORIZED,
            };
            let v = View {
                ar: &ar,
                service: pending.as_ref().map(|(_, c)| c),
                login_hint: Some(&id_number),
                error: Some(refusal(&s, lang, &e, &id_number).await),
                status,
            };
            return page(&s, &headers, lang, v);
        }
    };
    let set = form::set_cookie(
        SESSION_COOKIE,
        &done.cookie,
        s.p.cfg.lifetimes.session,
        s.p.cfg.issuer_is_https(),
    );
    let page = match pending {
        Some((p, client)) => {
            continue_request(
                &s,
                &headers,
                &ar,
                p,
                &client,
                (&done.session, &done.account),
            )
            .await
        }
        None => see_other(paths::ACCOUNT),
    };
    with_cookies(page, &[set])
}

/// After a sign-in for a pending request: mark it and go where the interaction says.
pub async fn continue_request(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
    p: Pending,
    client: &ClientRecord,
    signed_in: (&crate::authn::Session, &AccountRecord),
) -> Response {
    let next = engine(s).signed_in(ar, p.clone(), client, signed_in).await;
    interaction::respond(s, headers, ar, &p, &next)
}

/// A flow of its own (enrolment, password recovery) has just proven the person: sign them in
/// (recorded like any sign-in), and go on to the service they came from (`ar`), or to
/// `otherwise` when they came from none.
pub async fn signed_in_after(
    s: &AppState,
    headers: &HeaderMap,
    (ip, ar): (&str, &str),
    account: AccountRecord,
    flow: &'static str,
    otherwise: Response,
) -> Response {
    let lang = choose_lang(&[], headers);
    let cx = pages::signin_context(s, headers, ip, None);
    let previous = form::cookie(headers, SESSION_COOKIE);
    let done = match signin::after(&cx, previous.as_deref(), account, flow).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, flow, "could not sign in after the flow");
            return s.ui.try_later(lang);
        }
    };
    let set = form::set_cookie(
        SESSION_COOKIE,
        &done.cookie,
        s.p.cfg.lifetimes.session,
        s.p.cfg.issuer_is_https(),
    );
    let page = match engine(s).load(ar).await {
        Ok((p, client)) if !ar.is_empty() => {
            let signed_in = (&done.session, &done.account);
            continue_request(s, headers, ar, p, &client, signed_in).await
        }
        _ => otherwise,
    };
    with_cookies(page, &[set])
}
