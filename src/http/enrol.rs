//! Level-1 self-enrolment pages: declared data → code by SMS → password → signed in. Started
//! from a service's sign-in page, the pending request (`ar`) rides along, and enrolment ends
//! at that service.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pages::{self, csrf, csrf_ok, with_new_cookie};
use super::ui::choose_lang;
use super::{AppState, form};
use crate::identity::enrolment::{Declared, EnrolError, Enrolment};

#[derive(Deserialize, Default)]
pub struct EnrolForm {
    csrf: Option<String>,
    /// The pending authorization request the person came from: enrolment ends there.
    ar: Option<String>,
    flow: Option<String>,
    id_number: Option<String>,
    full_name: Option<String>,
    birth_date: Option<String>,
    phone: Option<String>,
    otp: Option<String>,
    password: Option<String>,
    password_confirm: Option<String>,
}

fn enrolment(s: &AppState) -> Enrolment<'_> {
    Enrolment {
        db: s.p.db.as_ref(),
        eph: s.p.eph.as_ref(),
        kek: &s.p.kek,
        sms: s.services.sms.as_ref(),
    }
}

/// Status and translated message for an enrolment error.
fn message(s: &AppState, lang: &str, e: &EnrolError) -> (StatusCode, String) {
    let t = |k: &str| s.ui.t(lang, k);
    match e {
        EnrolError::Mismatch => (StatusCode::BAD_REQUEST, t("error_register_mismatch")),
        EnrolError::Throttled(n) => (
            StatusCode::TOO_MANY_REQUESTS,
            t("error_wait_seconds").replace("{n}", &n.to_string()),
        ),
        EnrolError::AccountExists => (StatusCode::CONFLICT, t("error_account_exists")),
        EnrolError::OtpInvalid => (StatusCode::BAD_REQUEST, t("error_otp_invalid")),
        EnrolError::OtpExhausted => (StatusCode::TOO_MANY_REQUESTS, t("error_otp_exhausted")),
        EnrolError::Expired => (StatusCode::BAD_REQUEST, t("error_session_expired")),
        EnrolError::Invalid {
            field: "birth_date",
            ..
        } => (StatusCode::BAD_REQUEST, t("error_birth_date")),
        EnrolError::Invalid { field: "phone", .. } => (StatusCode::BAD_REQUEST, t("error_phone")),
        EnrolError::Invalid { field: "cmnd", .. } => {
            (StatusCode::BAD_REQUEST, t("error_cmnd_ambiguous"))
        }
        EnrolError::Invalid {
            field: "password_confirm",
            ..
        } => (StatusCode::BAD_REQUEST, t("error_password_mismatch")),
        EnrolError::Invalid {
            field: "password", ..
        } => (StatusCode::BAD_REQUEST, t("error_password_policy")),
        EnrolError::Invalid { reason, .. } => (StatusCode::BAD_REQUEST, reason.clone()),
        EnrolError::Store(crate::store::StoreError::Unavailable(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, t("error_try_later"))
        }
        other => {
            tracing::error!(error = %other, "enrolment failed");
            (StatusCode::INTERNAL_SERVER_ERROR, t("error_internal"))
        }
    }
}

fn first_page(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
    status: StatusCode,
    error: Option<String>,
    values: Value,
) -> Response {
    let lang = choose_lang(&[], headers);
    let (token, cookie) = csrf(s, headers, "enrol");
    let ctx = json!({"csrf": token, "ar": ar, "error": error, "values": values});
    with_new_cookie(s.ui.page(status, "enrol.html", lang, ctx), cookie)
}

fn otp_page(
    s: &AppState,
    headers: &HeaderMap,
    (ar, flow): (&str, &str),
    masked: &str,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&[], headers);
    let (token, cookie) = csrf(s, headers, &format!("enrol:{flow}"));
    let ctx = json!({"csrf": token, "ar": ar, "flow": flow, "phone_masked": masked, "error": error, "notice": notice,
                     "otp_minutes": crate::otp::CODE_TTL / 60, "otp_tries": crate::otp::TRIES_PER_CODE});
    with_new_cookie(s.ui.page(status, "enrol_otp.html", lang, ctx), cookie)
}

fn password_page(
    s: &AppState,
    headers: &HeaderMap,
    (ar, flow): (&str, &str),
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&[], headers);
    let (token, cookie) = csrf(s, headers, &format!("enrol:{flow}"));
    let ctx = json!({"csrf": token, "ar": ar, "flow": flow, "error": error});
    with_new_cookie(s.ui.page(status, "enrol_password.html", lang, ctx), cookie)
}

pub async fn start_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = super::login::query(q).ar.unwrap_or_default();
    let empty = json!({"id_number": "", "full_name": "", "birth_date": "", "phone": ""});
    first_page(&s, &headers, &ar, StatusCode::OK, None, empty)
}

pub async fn start(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: EnrolForm = form::parse(&body).unwrap_or_default();
    if !csrf_ok(&s, &headers, "enrol", f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let declared = Declared {
        id_number: &v(&f.id_number),
        full_name: &v(&f.full_name),
        birth_date: &v(&f.birth_date),
        phone: &v(&f.phone),
    };
    let ip = pages::ip(&s, &headers, peer);
    let ar = v(&f.ar);
    match enrolment(&s).start(&declared, &ip, s.p.now()).await {
        Ok((flow, masked)) => otp_page(
            &s,
            &headers,
            (&ar, &flow),
            &masked,
            None,
            None,
            StatusCode::OK,
        ),
        Err(e) => {
            let (status, msg) = message(&s, lang, &e);
            let values = json!({"id_number": declared.id_number, "full_name": declared.full_name,
                                "birth_date": declared.birth_date, "phone": declared.phone});
            first_page(&s, &headers, &ar, status, Some(msg), values)
        }
    }
}

/// The flow id of a posted step, with its CSRF token checked.
fn step(s: &AppState, headers: &HeaderMap, f: &EnrolForm) -> Result<String, Response> {
    let flow = f.flow.clone().unwrap_or_default();
    if flow.is_empty() || !csrf_ok(s, headers, &format!("enrol:{flow}"), f.csrf.as_deref()) {
        return Err(s.ui.error(
            StatusCode::FORBIDDEN,
            choose_lang(&[], headers),
            "error_csrf",
        ));
    }
    Ok(flow)
}

fn restart(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
    status: StatusCode,
    msg: String,
) -> Response {
    let empty = json!({"id_number": "", "full_name": "", "birth_date": "", "phone": ""});
    first_page(s, headers, ar, status, Some(msg), empty)
}

pub async fn otp(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: EnrolForm = form::parse(&body).unwrap_or_default();
    let flow = match step(&s, &headers, &f) {
        Ok(flow) => flow,
        Err(page) => return page,
    };
    let ar = f.ar.clone().unwrap_or_default();
    match enrolment(&s)
        .verify_otp(&flow, &f.otp.unwrap_or_default(), s.p.now())
        .await
    {
        Ok(()) => password_page(&s, &headers, (&ar, &flow), None, StatusCode::OK),
        Err(e @ EnrolError::OtpInvalid) => {
            let (status, msg) = message(&s, lang, &e);
            otp_page(&s, &headers, (&ar, &flow), "", Some(msg), None, status)
        }
        Err(e) => {
            let (status, msg) = message(&s, lang, &e);
            restart(&s, &headers, &ar, status, msg)
        }
    }
}

pub async fn resend(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: EnrolForm = form::parse(&body).unwrap_or_default();
    let flow = match step(&s, &headers, &f) {
        Ok(flow) => flow,
        Err(page) => return page,
    };
    let ar = f.ar.clone().unwrap_or_default();
    let ip = pages::ip(&s, &headers, peer);
    match enrolment(&s).resend(&flow, &ip, s.p.now()).await {
        Ok(masked) => {
            let notice = Some(s.ui.t(lang, "otp_resent"));
            otp_page(
                &s,
                &headers,
                (&ar, &flow),
                &masked,
                None,
                notice,
                StatusCode::OK,
            )
        }
        Err(EnrolError::Expired) => {
            let msg = s.ui.t(lang, "error_session_expired");
            restart(&s, &headers, &ar, StatusCode::BAD_REQUEST, msg)
        }
        Err(e) => {
            let (status, msg) = message(&s, lang, &e);
            otp_page(&s, &headers, (&ar, &flow), "", Some(msg), None, status)
        }
    }
}

pub async fn password(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: EnrolForm = form::parse(&body).unwrap_or_default();
    let flow = match step(&s, &headers, &f) {
        Ok(flow) => flow,
        Err(page) => return page,
    };
    let ar = f.ar.clone().unwrap_or_default();
    let ip = pages::ip(&s, &headers, peer);
    let (pw, confirm) = (
        f.password.unwrap_or_default(),
        f.password_confirm.unwrap_or_default(),
    );
    let hashed = {
        let pw = pw.clone();
        crate::authn::hasher::run(move || crate::authn::password::hash(&pw))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    };
    let id_number = match enrolment(&s)
        .finish(&flow, &pw, &confirm, |_| hashed, &ip, s.p.now())
        .await
    {
        Ok(id_number) => id_number,
        Err(e @ EnrolError::Invalid { .. }) => {
            let (status, msg) = message(&s, lang, &e);
            return password_page(&s, &headers, (&ar, &flow), Some(msg), status);
        }
        Err(e) => {
            let (status, msg) = message(&s, lang, &e);
            return restart(&s, &headers, &ar, status, msg);
        }
    };
    signed_in(&s, &headers, &ip, &ar, &id_number).await
}

/// The new account is signed in at once, and goes on to the service it came from (or sees
/// that it is done).
async fn signed_in(
    s: &AppState,
    headers: &HeaderMap,
    ip: &str,
    ar: &str,
    id_number: &str,
) -> Response {
    let lang = choose_lang(&[], headers);
    let account = match s.p.db.account_by_id_number(id_number).await {
        Ok(Some(a)) => a,
        _ => {
            return s.ui.try_later(lang);
        }
    };
    let done = s.ui.page(
        StatusCode::OK,
        "enrol_done.html",
        lang,
        json!({"id_number": id_number}),
    );
    super::login::signed_in_after(s, headers, (ip, ar), account, "enrolment", done).await
}
