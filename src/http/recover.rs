//! Password recovery pages (`/recover`): ID number and phone → an SMS code → a new password →
//! signed in, and on to the service the person came from (`ar`) or their account. The rules
//! are `authn::recovery`'s.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::account::notifier;
use super::login::{query, signed_in_after, wait_message};
use super::pages::{self, csrf, csrf_ok, with_new_cookie};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, form, paths};
use crate::authn::AuthnError;
use crate::authn::recovery::{Recovery, RecoveryError};

#[derive(Deserialize, Default)]
struct RecoverForm {
    csrf: Option<String>,
    ar: Option<String>,
    flow: Option<String>,
    id_number: Option<String>,
    phone: Option<String>,
    code: Option<String>,
    password: Option<String>,
    password_confirm: Option<String>,
}

fn recovery<'a>(s: &'a AppState, ip: &'a str) -> Recovery<'a> {
    Recovery {
        db: s.p.db.as_ref(),
        eph: s.p.eph.as_ref(),
        kek: &s.p.kek,
        sms: s.services.sms.as_ref(),
        ip,
        now: s.p.now(),
    }
}

/// One of the three steps: `start` (ID number and phone), `code`, `password`.
struct Step<'a> {
    name: &'a str,
    ar: &'a str,
    flow: &'a str,
    phone_masked: &'a str,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
}

fn show(s: &AppState, headers: &HeaderMap, st: Step<'_>) -> Response {
    let lang = choose_lang(&[], headers);
    let purpose = match st.flow {
        "" => "recover".to_string(),
        f => format!("recover:{f}"),
    };
    let (token, cookie) = csrf(s, headers, &purpose);
    let ctx = json!({"step": st.name, "csrf": token, "ar": st.ar, "flow": st.flow,
                     "phone_masked": st.phone_masked, "error": st.error, "notice": st.notice});
    with_new_cookie(s.ui.page(st.status, "recover.html", lang, ctx), cookie)
}

impl<'a> Step<'a> {
    fn new(name: &'a str, ar: &'a str, flow: &'a str) -> Step<'a> {
        Step {
            name,
            ar,
            flow,
            phone_masked: "",
            error: None,
            notice: None,
            status: StatusCode::OK,
        }
    }

    fn refused(self, (status, msg): (StatusCode, String)) -> Step<'a> {
        Step {
            error: Some(msg),
            status,
            ..self
        }
    }

    fn notice(self, msg: String) -> Step<'a> {
        Step {
            notice: Some(msg),
            ..self
        }
    }
}

fn start_step<'a>(ar: &'a str, error: Option<String>, status: StatusCode) -> Step<'a> {
    Step {
        error,
        status,
        ..Step::new("start", ar, "")
    }
}

/// The message for a refusal on these pages.
fn message(s: &AppState, lang: &str, e: &RecoveryError) -> (StatusCode, String) {
    match e {
        RecoveryError::Invalid("id_number") => {
            (StatusCode::BAD_REQUEST, s.ui.t(lang, "error_id_number"))
        }
        RecoveryError::Invalid("phone") => (StatusCode::BAD_REQUEST, s.ui.t(lang, "error_phone")),
        RecoveryError::Invalid("password_confirm") => (
            StatusCode::BAD_REQUEST,
            s.ui.t(lang, "error_password_mismatch"),
        ),
        RecoveryError::Invalid(_) => (
            StatusCode::BAD_REQUEST,
            s.ui.t(lang, "error_password_policy"),
        ),
        RecoveryError::Expired => (
            StatusCode::BAD_REQUEST,
            s.ui.t(lang, "error_session_expired"),
        ),
        RecoveryError::Authn(AuthnError::Throttled(r)) => {
            (StatusCode::TOO_MANY_REQUESTS, wait_message(s, lang, *r))
        }
        RecoveryError::Authn(AuthnError::CodeSpent) => {
            (StatusCode::BAD_REQUEST, s.ui.t(lang, "error_code_spent"))
        }
        RecoveryError::Authn(AuthnError::InvalidCredentials) => {
            (StatusCode::BAD_REQUEST, s.ui.t(lang, "error_otp_invalid"))
        }
        RecoveryError::Authn(e) => {
            tracing::warn!(error = %e, "password recovery failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                s.ui.t(lang, "error_try_later"),
            )
        }
    }
}

pub async fn start_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    show(&s, &headers, start_step(&ar, None, StatusCode::OK))
}

/// The flow of a posted step, with its CSRF token checked.
fn posted(
    s: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    first: bool,
) -> Result<RecoverForm, Response> {
    let f: RecoverForm = form::parse(body).unwrap_or_default();
    let purpose = match (first, f.flow.as_deref()) {
        (true, _) => "recover".to_string(),
        (false, Some(flow)) if !flow.is_empty() => format!("recover:{flow}"),
        _ => {
            return Err(s.ui.error(
                StatusCode::FORBIDDEN,
                choose_lang(&[], headers),
                "error_csrf",
            ));
        }
    };
    if !csrf_ok(s, headers, &purpose, f.csrf.as_deref()) {
        return Err(s.ui.error(
            StatusCode::FORBIDDEN,
            choose_lang(&[], headers),
            "error_csrf",
        ));
    }
    Ok(f)
}

pub async fn start(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = match posted(&s, &headers, &body, true) {
        Ok(f) => f,
        Err(page) => return page,
    };
    let (ar, lang) = (f.ar.clone().unwrap_or_default(), choose_lang(&[], &headers));
    let ip = pages::ip(&s, &headers, peer);
    let id = f.id_number.unwrap_or_default();
    let phone = f.phone.unwrap_or_default();
    match recovery(&s, &ip).start(id.trim(), &phone).await {
        Ok((flow, masked)) => {
            let notice = s.ui.t(lang, "recover_code_sent");
            let st = Step {
                phone_masked: &masked,
                ..Step::new("code", &ar, &flow)
            };
            show(&s, &headers, st.notice(notice))
        }
        Err(e) => {
            let (status, msg) = message(&s, lang, &e);
            show(&s, &headers, start_step(&ar, Some(msg), status))
        }
    }
}

pub async fn code(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = match posted(&s, &headers, &body, false) {
        Ok(f) => f,
        Err(page) => return page,
    };
    let (ar, flow, lang) = (
        f.ar.clone().unwrap_or_default(),
        f.flow.clone().unwrap_or_default(),
        choose_lang(&[], &headers),
    );
    let ip = pages::ip(&s, &headers, peer);
    let resend = f.code.is_none();
    let r = recovery(&s, &ip);
    let outcome = match resend {
        true => r.resend(&flow).await.map(|_| ()),
        false => r.verify(&flow, f.code.as_deref().unwrap_or_default()).await,
    };
    match outcome {
        Ok(()) if resend => {
            let notice = s.ui.t(lang, "recover_code_sent");
            show(&s, &headers, Step::new("code", &ar, &flow).notice(notice))
        }
        Ok(()) => show(&s, &headers, Step::new("password", &ar, &flow)),
        Err(RecoveryError::Expired) => {
            let msg = s.ui.t(lang, "error_session_expired");
            show(
                &s,
                &headers,
                start_step(&ar, Some(msg), StatusCode::BAD_REQUEST),
            )
        }
        Err(e) => {
            let st = Step::new("code", &ar, &flow).refused(message(&s, lang, &e));
            show(&s, &headers, st)
        }
    }
}

pub async fn password(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = match posted(&s, &headers, &body, false) {
        Ok(f) => f,
        Err(page) => return page,
    };
    let (ar, flow, lang) = (
        f.ar.clone().unwrap_or_default(),
        f.flow.clone().unwrap_or_default(),
        choose_lang(&[], &headers),
    );
    let ip = pages::ip(&s, &headers, peer);
    let (pw, confirm) = (
        f.password.unwrap_or_default(),
        f.password_confirm.unwrap_or_default(),
    );
    let account = match recovery(&s, &ip)
        .finish(&flow, &pw, &confirm, &notifier(&s))
        .await
    {
        Ok(a) => a,
        Err(e @ RecoveryError::Invalid(_)) => {
            let st = Step::new("password", &ar, &flow).refused(message(&s, lang, &e));
            return show(&s, &headers, st);
        }
        Err(e) => {
            let (status, msg) = message(&s, lang, &e);
            return show(&s, &headers, start_step(&ar, Some(msg), status));
        }
    };
    // Signed in with the new password, and on to where the person was going.
    let otherwise = see_other(&format!("{}?done=password_reset", paths::ACCOUNT));
    signed_in_after(&s, &headers, (&ip, &ar), account, "recovery", otherwise).await
}
