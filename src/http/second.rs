//! The second-factor page (`/login/second`): step-up from the session's level to the level the
//! request needs, with a TOTP code, an SMS code or a recovery code. Only the missing factor is
//! asked for; failures are throttled per account.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::authorize::{ar_key, load_request, proceed, reject, save_request};
use super::login::query;
use super::pages::{self, csrf_ok, with_new_cookie};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form};
use crate::audit::{self, Event, actions};
use crate::authn::factors::Channel;
use crate::authn::throttle;
use crate::authn::{AuthnError, LOA2, Method, acr_rank};
use crate::authn::{factors, session};
use crate::metrics::METRICS;
use crate::notify::mask_phone;
use crate::oidc::authorize::{AuthRequest, Rejection, required_rank, wanted_rank};
use crate::oidc::{OAuthError, paths};
use crate::otp::{Checked, Codes, OtpError};
use crate::store::{AccountRecord, ClientRecord, StoreError};

#[derive(Deserialize, Default)]
struct SecondForm {
    ar: Option<String>,
    csrf: Option<String>,
    method: Option<String>,
    code: Option<String>,
}

/// Which second factors this account can use now.
struct Available {
    totp: bool,
    phone: Option<String>,
    email: Option<String>,
    recovery: bool,
    passkey: bool,
}

impl Available {
    fn any(&self) -> bool {
        self.totp || self.phone.is_some() || self.email.is_some() || self.recovery || self.passkey
    }
}

/// The factors that can lift this session to what the request needs: above loa:2 only a
/// passkey helps.
async fn available(
    s: &AppState,
    account: &AccountRecord,
    req: &AuthRequest,
    client: &ClientRecord,
) -> Result<Available, OAuthError> {
    let wanted = if req.stepup_skipped {
        0
    } else {
        wanted_rank(req)
    };
    let codes_help = required_rank(req, client).max(wanted) <= acr_rank(LOA2);
    let passkey = s.p.webauthn.is_some() && !s.p.db.passkeys_of(&account.sub).await?.is_empty();
    let totp = codes_help && s.p.db.totp(&account.sub).await?.is_some();
    let person = match codes_help {
        true => s.p.db.person(&account.id_number).await?,
        false => None,
    };
    let (phone, email) = person.map(|p| (p.phone, p.email)).unwrap_or_default();
    let recovery = codes_help && s.p.db.recovery_codes_left(&account.sub).await? > 0;
    Ok(Available {
        totp,
        phone,
        email,
        recovery,
        passkey,
    })
}

#[allow(clippy::too_many_arguments)]
fn page(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
    client: &ClientRecord,
    a: &Available,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&[], headers);
    let (token, webauthn_csrf, cookie) =
        pages::csrf_with_webauthn(s, headers, &format!("second:{ar}"));
    let ctx = json!({"ar": ar, "csrf": token, "client_name": client.name, "has_totp": a.totp, "has_sms": a.phone.is_some(),
                     "has_passkey": a.passkey, "webauthn_csrf": webauthn_csrf,
                     "has_email": a.email.is_some(), "email_masked": a.email.as_deref().map(mask_email),
                     "phone_masked": a.phone.as_deref().map(mask_phone), "has_recovery": a.recovery, "error": error, "notice": notice});
    with_new_cookie(s.ui.page(status, "second_factor.html", lang, ctx), cookie)
}

/// Nothing to step up with: continue if the level was only asked for, else tell the client.
async fn none_available(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
    mut req: AuthRequest,
    client: &ClientRecord,
) -> Response {
    if required_rank(&req, client) == 0 {
        req.stepup_skipped = true;
        if let Err(e) = save_request(s, ar, &req).await {
            return reject(s, headers, &req.ui_locales, Rejection::Page(e));
        }
        return proceed(s, headers, ar, req, client).await;
    }
    let _ = s.p.eph.delete(&ar_key(ar)).await;
    let error = OAuthError::unmet_authentication_requirements(
        "the account has no second factor for the required level",
    );
    reject(
        s,
        headers,
        &req.ui_locales,
        Rejection::Redirect {
            redirect_uri: req.redirect_uri.clone(),
            error,
            state: req.state.clone(),
        },
    )
}

pub async fn form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    let (req, client) = match load_request(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let account = match pages::current_session(&s, &headers).await {
        Ok(Some((_, a))) => a,
        Ok(None) => return see_other(&format!("{}?ar={ar}", paths::LOGIN)),
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e)),
    };
    match available(&s, &account, &req, &client).await {
        Ok(a) if a.any() => page(&s, &headers, &ar, &client, &a, None, None, StatusCode::OK),
        Ok(_) => none_available(&s, &headers, &ar, req, &client).await,
        Err(e) => reject(&s, &headers, &req.ui_locales, Rejection::Page(e)),
    }
}

pub async fn send_sms(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    send_code(&s, &headers, peer, &body, Channel::Sms).await
}

pub async fn send_email(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    send_code(&s, &headers, peer, &body, Channel::Email).await
}

/// Make a code and send it by SMS to the own-name phone, or by e-mail, as the register holds
/// them, within the send limits every code path shares.
async fn send_code(
    s: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    body: &[u8],
    channel: Channel,
) -> Response {
    let f: SecondForm = form::parse(body).unwrap_or_default();
    let ar = f.ar.unwrap_or_default();
    let lang = choose_lang(&[], headers);
    if !csrf_ok(s, headers, &format!("second:{ar}"), f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let ((req, client), (_, account)) = match context(s, headers, &ar).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let a = match available(s, &account, &req, &client).await {
        Ok(a) => a,
        Err(e) => return reject(s, headers, &[], Rejection::Page(e)),
    };
    let (to, sender, sent_key) = match channel {
        Channel::Sms => (a.phone.clone(), &s.p.sms, "second_sms_sent"),
        Channel::Email => (a.email.clone(), &s.p.email, "second_email_sent"),
    };
    let Some(to) = to else {
        return page(
            s,
            headers,
            &ar,
            &client,
            &a,
            None,
            None,
            StatusCode::BAD_REQUEST,
        );
    };
    let codes = Codes {
        eph: s.p.eph.as_ref(),
        kek: &s.p.kek,
    };
    let ip = pages::ip(s, headers, peer);
    let sent = factors::send_code(
        &codes,
        channel,
        &account,
        &to,
        &ip,
        sender.as_ref(),
        s.p.now(),
    )
    .await;
    let (error, notice) = match sent {
        Ok(()) => (None, Some(s.ui.t(lang, sent_key))),
        Err(OtpError::Wait(n) | OtpError::LimitReached(n)) => (
            Some(
                s.ui.t(lang, "error_wait_seconds")
                    .replace("{n}", &n.to_string()),
            ),
            None,
        ),
        Err(e) => {
            tracing::warn!(error = %e, channel = channel.as_str(), "code not sent");
            (Some(s.ui.t(lang, "error_try_later")), None)
        }
    };
    page(s, headers, &ar, &client, &a, error, notice, StatusCode::OK)
}

type Ctx = (
    (AuthRequest, ClientRecord),
    (crate::authn::Session, AccountRecord),
);

async fn context(s: &AppState, headers: &HeaderMap, ar: &str) -> Result<Ctx, Response> {
    let pending = load_request(s, headers, ar).await?;
    match pages::current_session(s, headers).await {
        Ok(Some(x)) => Ok((pending, x)),
        Ok(None) => Err(see_other(&format!("{}?ar={ar}", paths::LOGIN))),
        Err(e) => Err(reject(
            s,
            headers,
            &pending.0.ui_locales,
            Rejection::Page(e),
        )),
    }
}

pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f: SecondForm = form::parse(&body).unwrap_or_default();
    let ar = f.ar.clone().unwrap_or_default();
    let lang = choose_lang(&[], &headers);
    if !csrf_ok(&s, &headers, &format!("second:{ar}"), f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let ((req, client), (sess, account)) = match context(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let a = match available(&s, &account, &req, &client).await {
        Ok(a) => a,
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e)),
    };
    let ip = pages::ip(&s, &headers, peer);
    let subject = format!("2fa:{}", account.sub);
    let now = s.p.now();
    let fail = |key: &str| Some(s.ui.t(lang, key));
    let show = |error, status| page(&s, &headers, &ar, &client, &a, error, None, status);
    let unavailable =
        |e: StoreError| reject(&s, &headers, &req.ui_locales, Rejection::Page(e.into()));
    let Some(method) = parse_method(f.method.as_deref()) else {
        return show(fail("error_bad_request"), StatusCode::BAD_REQUEST);
    };
    let (db, kek, eph) = (s.p.db.as_ref(), &s.p.kek, s.p.eph.as_ref());
    let ticket = match throttle::reserve(eph, &subject, &ip, now).await {
        Ok(Ok(t)) => t,
        Ok(Err(r)) => {
            let msg =
                s.ui.t(lang, "error_wait_seconds")
                    .replace("{n}", &r.seconds().to_string());
            return show(Some(msg), StatusCode::TOO_MANY_REQUESTS);
        }
        Err(e) => return unavailable(e),
    };
    let code = f.code.unwrap_or_default();
    let codes = Codes { eph, kek };
    let ok = match method {
        Method::Totp => factors::check_totp(db, kek, &account.sub, &code, now).await,
        Method::Recovery => factors::use_recovery_code(db, kek, &account.sub, &code, now)
            .await
            .map_err(Into::into),
        Method::Sms | Method::Email => {
            let ch = if method == Method::Sms {
                Channel::Sms
            } else {
                Channel::Email
            };
            match factors::check_code(&codes, ch, &account, &code, now).await {
                Ok(checked) => Ok(checked == Checked::Accepted),
                Err(e) => Err(AuthnError::Internal(e.to_string())),
            }
        }
        _ => Ok(false),
    };
    let ok = match ok {
        Ok(ok) => ok,
        Err(e) => {
            tracing::warn!(error = %e, "second factor check failed");
            return show(fail("error_try_later"), StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let record = |action, detail| Event {
        actor: account.sub.clone(),
        action,
        subject: Some(account.sub.clone()),
        client_id: Some(client.client_id.clone()),
        detail,
        ip: Some(ip.clone()),
    };
    if !ok {
        METRICS.signin(method.name(), "invalid");
        let recorded = async {
            let n = ticket.failed(eph, now).await?;
            let action = if n == throttle::LOCKOUT_AFTER {
                actions::THROTTLED
            } else {
                actions::SIGNIN_FAILED
            };
            audit::record(db, record(action, json!({"method": method.name()})), now).await
        };
        if let Err(e) = recorded.await {
            return unavailable(e);
        }
        return show(fail("error_code_invalid"), StatusCode::UNAUTHORIZED);
    }
    METRICS.signin(method.name(), "success");
    let Some(cookie) = form::cookie(&headers, SESSION_COOKIE) else {
        return see_other(&format!("{}?ar={ar}", paths::LOGIN));
    };
    let up = session::stepped(&sess, method, now);
    let detail = json!({"method": method.name(), "acr": up.acr});
    // The counter reset and the history entry are part of the step-up: both, or no step-up.
    let recorded = async {
        ticket.succeeded(eph).await?;
        audit::record(db, record(actions::STEPUP, detail), now).await?;
        session::save(eph, &cookie, &up, now).await
    };
    if let Err(e) = recorded.await {
        return unavailable(e);
    }
    proceed(&s, &headers, &ar, req, &client).await
}

fn parse_method(m: Option<&str>) -> Option<Method> {
    Some(match m? {
        "totp" => Method::Totp,
        "sms" => Method::Sms,
        "email" => Method::Email,
        "recovery" => Method::Recovery,
        _ => return None,
    })
}

/// `an.nguyen@example.vn` → `a•••@example.vn`.
fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((user, domain)) => format!("{}•••@{domain}", user.chars().next().unwrap_or('•')),
        None => "•••".into(),
    }
}
