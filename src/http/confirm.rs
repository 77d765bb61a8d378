//! "Confirm it's you" (`/account/confirm`): before an account change the person proves the
//! password and the account's strongest further factor again (`authn::reauth`). Each proof
//! is throttled like sign-in (same counters: the password's by ID number, codes' by account)
//! and recorded in the session; the change handlers ask [`require_recent`].

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::account::{render, signed_in};
use super::pages::{self, csrf_ok, with_new_cookie};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form};
use crate::audit::{self, Event, actions};
use crate::authn::factors::{self, Channel};
use crate::authn::reauth::{self, Requirement};
use crate::authn::throttle::{self, Refusal};
use crate::authn::{Method, Session, password, session};
use crate::notify::mask_phone;
use crate::oidc::paths;
use crate::otp::{Checked, Codes, OtpError};
use crate::store::{AccountRecord, StoreError};

const CSRF_PURPOSE: &str = "confirm";

#[derive(Deserialize, Default)]
struct ConfirmForm {
    csrf: Option<String>,
    method: Option<String>,
    password: Option<String>,
    code: Option<String>,
}

/// What an account change needs before it is made.
pub(super) enum Gate {
    Open,
    /// Confirm first (the page at [`paths::ACCOUNT_CONFIRM`]).
    Confirm,
    /// The account has nothing to confirm with: only an officer can help.
    Impossible,
}

async fn requirement(
    s: &AppState,
    account: &AccountRecord,
) -> Result<Option<Requirement>, StoreError> {
    let f = reauth::factors_of(s.p.db.as_ref(), account, s.p.webauthn.is_some()).await?;
    Ok(reauth::requirement(&f))
}

pub(super) async fn gate(
    s: &AppState,
    sess: &Session,
    account: &AccountRecord,
) -> Result<Gate, StoreError> {
    Ok(match requirement(s, account).await? {
        None => Gate::Impossible,
        Some(r) if reauth::satisfied(&r, sess, s.p.now()) => Gate::Open,
        Some(_) => Gate::Confirm,
    })
}

/// For the account-change forms: go on, or the response that sends the person to confirm.
pub(super) async fn require_recent(
    s: &AppState,
    headers: &HeaderMap,
    sess: &Session,
    account: &AccountRecord,
) -> Result<(), Response> {
    let lang = choose_lang(&[], headers);
    match gate(s, sess, account).await {
        Ok(Gate::Open) => Ok(()),
        Ok(Gate::Confirm) => Err(see_other(paths::ACCOUNT_CONFIRM)),
        Ok(Gate::Impossible) => {
            Err(s
                .ui
                .error(StatusCode::FORBIDDEN, lang, "error_confirm_impossible"))
        }
        Err(e) => {
            tracing::warn!(error = %e, "re-authentication check failed");
            Err(s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later"))
        }
    }
}

/// The same for the passkey JSON calls: a 403 the page script follows to the confirm page.
pub(super) async fn require_recent_json(
    s: &AppState,
    sess: &Session,
    account: &AccountRecord,
) -> Result<(), Response> {
    let (status, body) = match gate(s, sess, account).await {
        Ok(Gate::Open) => return Ok(()),
        Ok(Gate::Confirm) => (
            StatusCode::FORBIDDEN,
            json!({"error": "reauthentication_required", "error_description": "confirm it is you first",
                   "redirect": paths::ACCOUNT_CONFIRM}),
        ),
        Ok(Gate::Impossible) => (
            StatusCode::FORBIDDEN,
            json!({"error": "reauthentication_impossible", "error_description": "the account has no factor to confirm with"}),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "temporarily_unavailable", "error_description": "try again"}),
        ),
    };
    Err((status, Json(body)).into_response())
}

async fn show(
    s: &AppState,
    headers: &HeaderMap,
    sess: &Session,
    account: &AccountRecord,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&[], headers);
    let req = match requirement(s, account).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return s
                .ui
                .error(StatusCode::FORBIDDEN, lang, "error_confirm_impossible");
        }
        Err(_) => {
            return s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
        }
    };
    let recent: Vec<&str> = sess.proven_since(s.p.now() - reauth::RECENT_SECS).collect();
    let phone = match req.second.contains(&"sms") {
        true => {
            s.p.db
                .person(&account.id_number)
                .await
                .ok()
                .flatten()
                .and_then(|p| p.phone)
        }
        false => None,
    };
    let (token, webauthn_csrf, cookie) = pages::csrf_with_webauthn(s, headers, CSRF_PURPOSE);
    let ctx = json!({"csrf": token, "webauthn_csrf": webauthn_csrf, "error": error, "notice": notice,
                     "password_done": recent.contains(&"pwd"), "minutes": reauth::RECENT_SECS / 60,
                     "passkey": req.second.contains(&"passkey"), "totp": req.second.contains(&"totp"),
                     "recovery": req.second.contains(&"recovery"), "sms": req.second.contains(&"sms"),
                     "phone_masked": phone.as_deref().map(mask_phone)});
    with_new_cookie(s.ui.page(status, "account_confirm.html", lang, ctx), cookie)
}

pub async fn page(State(s): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&s, &headers).await {
        Ok((sess, account)) => {
            show(&s, &headers, &sess, &account, None, None, StatusCode::OK).await
        }
        Err(page) => page,
    }
}

fn parse_method(m: Option<&str>) -> Option<Method> {
    Some(match m? {
        "pwd" => Method::Password,
        "totp" => Method::Totp,
        "recovery" => Method::Recovery,
        "sms" => Method::Sms,
        _ => return None,
    })
}

/// Why a proof was not accepted, as a translation key and a status.
enum Refused {
    Wrong,
    Throttled(Refusal),
    Unavailable,
}

pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: ConfirmForm = form::parse(&body).unwrap_or_default();
    if !csrf_ok(&s, &headers, CSRF_PURPOSE, f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let (sess, account) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let req = match requirement(&s, &account).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return s
                .ui
                .error(StatusCode::FORBIDDEN, lang, "error_confirm_impossible");
        }
        Err(_) => {
            return s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
        }
    };
    let Some(method) = parse_method(f.method.as_deref()).filter(|m| req.accepts(*m)) else {
        let msg = s.ui.t(lang, "error_bad_request");
        return show(
            &s,
            &headers,
            &sess,
            &account,
            Some(msg),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let ip = pages::ip(&s, &headers, peer);
    let given = match method {
        Method::Password => f.password.unwrap_or_default(),
        _ => f.code.unwrap_or_default(),
    };
    match prove(&s, &account, method, &given, &ip).await {
        Ok(()) => {}
        Err(refused) => {
            let (status, msg) = match refused {
                Refused::Wrong => (
                    StatusCode::UNAUTHORIZED,
                    s.ui.t(lang, "error_confirm_wrong"),
                ),
                Refused::Throttled(r) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    s.ui.t(lang, "error_wait_seconds")
                        .replace("{n}", &r.seconds().to_string()),
                ),
                Refused::Unavailable => {
                    return s
                        .ui
                        .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
                }
            };
            return show(&s, &headers, &sess, &account, Some(msg), None, status).await;
        }
    }
    let Some(cookie) = form::cookie(&headers, SESSION_COOKIE) else {
        return see_other(paths::ACCOUNT);
    };
    let now = s.p.now();
    let up = match session::step_up(s.p.eph.as_ref(), &cookie, &sess, method, now).await {
        Ok(up) => up,
        Err(_) => {
            return s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
        }
    };
    if reauth::satisfied(&req, &up, now) {
        let msg =
            s.ui.t(lang, "message_confirmed")
                .replace("{n}", &(reauth::RECENT_SECS / 60).to_string());
        return render(&s, &headers, &account, Some(msg), None, StatusCode::OK).await;
    }
    show(&s, &headers, &up, &account, None, None, StatusCode::OK).await
}

/// Check one proof through the throttle, and record the outcome in the usage history. A
/// counter or history entry that cannot be written refuses the proof.
async fn prove(
    s: &AppState,
    account: &AccountRecord,
    method: Method,
    given: &str,
    ip: &str,
) -> Result<(), Refused> {
    let (eph, db, now) = (s.p.eph.as_ref(), s.p.db.as_ref(), s.p.now());
    let subject = match method {
        Method::Password => format!("pwd:{}", account.id_number),
        _ => format!("2fa:{}", account.sub),
    };
    let ticket = match throttle::reserve(eph, &subject, ip, now).await {
        Ok(Ok(t)) => t,
        Ok(Err(r)) => return Err(Refused::Throttled(r)),
        Err(_) => return Err(Refused::Unavailable),
    };
    let codes = Codes { eph, kek: &s.p.kek };
    let ok = match method {
        Method::Password => {
            Ok(password::matches(given.to_string(), account.password_hash.clone()).await)
        }
        Method::Totp => factors::check_totp(db, &s.p.kek, &account.sub, given, now)
            .await
            .map_err(|_| ()),
        Method::Recovery => factors::use_recovery_code(db, &s.p.kek, &account.sub, given, now)
            .await
            .map_err(|_| ()),
        Method::Sms => match factors::check_code(&codes, Channel::Sms, account, given, now).await {
            Ok(Checked::Accepted) => Ok(true),
            Ok(Checked::LockedOut) => {
                return Err(Refused::Throttled(Refusal::LockedOut(
                    crate::otp::GUESS_WINDOW as i64,
                )));
            }
            Ok(_) => Ok(false),
            Err(_) => Err(()),
        },
        _ => Ok(false),
    };
    let Ok(ok) = ok else {
        return Err(Refused::Unavailable);
    };
    let event = Event {
        actor: if ok {
            account.sub.clone()
        } else {
            "anonymous".into()
        },
        action: if ok {
            actions::REAUTHENTICATED
        } else {
            actions::SIGNIN_FAILED
        },
        subject: Some(account.sub.clone()),
        detail: json!({"method": method.name(), "context": "confirm"}),
        ip: Some(ip.to_string()),
        ..Default::default()
    };
    let settled = match ok {
        true => ticket.succeeded(eph).await.map(|_| ()),
        false => ticket.failed(eph, now).await.map(|_| ()),
    };
    if settled.is_err() || audit::record(db, event, now).await.is_err() {
        return Err(Refused::Unavailable);
    }
    if ok { Ok(()) } else { Err(Refused::Wrong) }
}

/// Send the SMS code an account without a further factor confirms with.
pub async fn send_sms(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: ConfirmForm = form::parse(&body).unwrap_or_default();
    if !csrf_ok(&s, &headers, CSRF_PURPOSE, f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let (sess, account) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let phone = match requirement(&s, &account).await {
        Ok(Some(r)) if r.accepts(Method::Sms) => {
            s.p.db
                .person(&account.id_number)
                .await
                .ok()
                .flatten()
                .and_then(|p| p.phone)
        }
        Ok(_) => None,
        Err(_) => {
            return s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
        }
    };
    let Some(phone) = phone else {
        let msg = s.ui.t(lang, "error_bad_request");
        return show(
            &s,
            &headers,
            &sess,
            &account,
            Some(msg),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let codes = Codes {
        eph: s.p.eph.as_ref(),
        kek: &s.p.kek,
    };
    let ip = pages::ip(&s, &headers, peer);
    let sent = factors::send_code(
        &codes,
        Channel::Sms,
        &account,
        &phone,
        &ip,
        s.p.sms.as_ref(),
        s.p.now(),
    )
    .await;
    let (error, notice, status) = match sent {
        Ok(()) => (None, Some(s.ui.t(lang, "second_sms_sent")), StatusCode::OK),
        Err(OtpError::Wait(n) | OtpError::LimitReached(n)) => (
            Some(
                s.ui.t(lang, "error_wait_seconds")
                    .replace("{n}", &n.to_string()),
            ),
            None,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "confirmation code not sent");
            (
                Some(s.ui.t(lang, "error_try_later")),
                None,
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    };
    show(&s, &headers, &sess, &account, error, notice, status).await
}
