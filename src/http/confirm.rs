//! "Confirm it's you" (`/account/confirm`): before an account change the person proves the
//! password and the account's strongest further factor again (`authn::reauth`). Each proof
//! goes through the sign-in pipeline (`authn::signin::prove`, throttled like sign-in and
//! recorded); the change handlers ask `account::require_recent`.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::account::{render, requirement, signed_in};
use super::login::wait_message;
use super::pages::{self, csrf_ok, with_new_cookie};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form, paths};
use crate::authn::factors::{self, Channel};
use crate::authn::inventory::Factor;
use crate::authn::reauth::{self, Requirement};
use crate::authn::signin::{self, Proof, Purpose};
use crate::authn::throttle::Refusal;
use crate::authn::{AuthnError, Method, Session};
use crate::notify::mask_phone;
use crate::otp::{Codes, OtpError};
use crate::store::AccountRecord;

const CSRF_PURPOSE: &str = "confirm";

#[derive(Deserialize, Default)]
struct ConfirmForm {
    csrf: Option<String>,
    method: Option<String>,
    password: Option<String>,
    code: Option<String>,
}

async fn show(
    s: &AppState,
    headers: &HeaderMap,
    sess: &Session,
    account: &AccountRecord,
    (error, notice): (Option<String>, Option<String>),
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
            return s.ui.try_later(lang);
        }
    };
    let recent: Vec<&str> = sess.proven_since(s.p.now() - reauth::RECENT_SECS).collect();
    let phone = match req.second.contains(&Factor::Sms) {
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
    let has = |f: Factor| req.second.contains(&f);
    let (token, webauthn_csrf, cookie) = pages::csrf_with_webauthn(s, headers, CSRF_PURPOSE);
    let ctx = json!({"csrf": token, "webauthn_csrf": webauthn_csrf, "error": error, "notice": notice,
                     "password_done": recent.contains(&"pwd"), "minutes": reauth::RECENT_SECS / 60,
                     "passkey": has(Factor::Passkey), "totp": has(Factor::Totp),
                     "recovery": has(Factor::Recovery), "sms": has(Factor::Sms),
                     "phone_masked": phone.as_deref().map(mask_phone)});
    with_new_cookie(s.ui.page(status, "account_confirm.html", lang, ctx), cookie)
}

pub async fn page(State(s): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&s, &headers).await {
        Ok((sess, account)) => {
            show(&s, &headers, &sess, &account, (None, None), StatusCode::OK).await
        }
        Err(page) => page,
    }
}

fn parse_proof<'a>(f: &'a ConfirmForm) -> Option<Proof<'a>> {
    let code = f.code.as_deref().unwrap_or_default();
    Some(match f.method.as_deref()? {
        "pwd" => Proof::Password(f.password.as_deref().unwrap_or_default()),
        "totp" => Proof::Totp(code),
        "recovery" => Proof::Recovery(code),
        "sms" => Proof::Code(Channel::Sms, code),
        _ => return None,
    })
}

/// The requirement, or the page that says it cannot be met.
async fn required(
    s: &AppState,
    lang: &str,
    account: &AccountRecord,
) -> Result<Requirement, Response> {
    match requirement(s, account).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(s
            .ui
            .error(StatusCode::FORBIDDEN, lang, "error_confirm_impossible")),
        Err(_) => Err(s.ui.try_later(lang)),
    }
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
    let req = match required(&s, lang, &account).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let Some(proof) = parse_proof(&f).filter(|p| req.accepts(p.method())) else {
        let msg = s.ui.t(lang, "error_bad_request");
        return show(
            &s,
            &headers,
            &sess,
            &account,
            (Some(msg), None),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let Some(cookie) = form::cookie(&headers, SESSION_COOKIE) else {
        return see_other(paths::ACCOUNT);
    };
    let ip = pages::ip(&s, &headers, peer);
    let cx = pages::signin_context(&s, &headers, &ip, None);
    let up = match signin::prove(&cx, &cookie, &sess, &account, proof, Purpose::Confirm).await {
        Ok(up) => up,
        Err(AuthnError::Store(_)) => {
            return s.ui.try_later(lang);
        }
        Err(e) => {
            let (status, msg) = match e {
                AuthnError::Throttled(r) => {
                    (StatusCode::TOO_MANY_REQUESTS, wait_message(&s, lang, r))
                }
                AuthnError::CodeSpent => {
                    (StatusCode::UNAUTHORIZED, s.ui.t(lang, "error_code_spent"))
                }
                _ => (
                    StatusCode::UNAUTHORIZED,
                    s.ui.t(lang, "error_confirm_wrong"),
                ),
            };
            return show(&s, &headers, &sess, &account, (Some(msg), None), status).await;
        }
    };
    if reauth::satisfied(&req, &up, s.p.now()) {
        let msg =
            s.ui.t(lang, "message_confirmed")
                .replace("{n}", &(reauth::RECENT_SECS / 60).to_string());
        return render(&s, &headers, &account, Some(msg), None, StatusCode::OK).await;
    }
    show(&s, &headers, &up, &account, (None, None), StatusCode::OK).await
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
    let req = match required(&s, lang, &account).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let phone = match req.accepts(Method::Sms) {
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
    let Some(phone) = phone else {
        let msg = s.ui.t(lang, "error_bad_request");
        return show(
            &s,
            &headers,
            &sess,
            &account,
            (Some(msg), None),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let codes = Codes {
        eph: s.p.eph.as_ref(),
        kek: &s.p.kek,
    };
    let ip = pages::ip(&s, &headers, peer);
    let sms = s.services.sms.as_ref();
    let sent =
        factors::send_code(&codes, Channel::Sms, &account, &phone, &ip, sms, s.p.now()).await;
    let (said, status) = match sent {
        Ok(()) => (
            (None, Some(s.ui.t(lang, "stepup_sms_sent"))),
            StatusCode::OK,
        ),
        Err(OtpError::Wait(n) | OtpError::LimitReached(n)) => (
            (Some(wait_message(&s, lang, Refusal::Wait(n))), None),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "confirmation code not sent");
            (
                (Some(s.ui.t(lang, "error_code_not_sent")), None),
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    };
    show(&s, &headers, &sess, &account, said, status).await
}
