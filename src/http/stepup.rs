//! The step-up page (`/login/step-up`): a client needs a stronger sign-in than the session
//! has. The page says why ("the bank requires level 2"), recommends one of the account's
//! factors and keeps the others one click away; codes are sent only when asked for, and each
//! proof goes through the sign-in pipeline (`authn::signin::prove`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::interaction::{self, engine};
use super::login::{query, wait_message};
use super::pages::{self, csrf_ok, with_new_cookie};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form, paths};
use crate::authn::factors::{self, Channel};
use crate::authn::inventory::Factor;
use crate::authn::signin::{self, Proof, Purpose};
use crate::authn::throttle::Refusal;
use crate::authn::{AuthnError, Session};
use crate::metrics::METRICS;
use crate::notify::mask_phone;
use crate::oidc::interaction::{Next, Pending, StepUp};
use crate::otp::{Codes, OtpError};
use crate::store::{AccountRecord, ClientRecord};

#[derive(Deserialize, Default)]
struct StepUpForm {
    ar: Option<String>,
    csrf: Option<String>,
    method: Option<String>,
    code: Option<String>,
}

pub(super) fn purpose(ar: &str) -> String {
    format!("stepup:{ar}")
}

/// `an.nguyen@example.vn` → `a•••@example.vn`.
fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((user, domain)) => format!("{}•••@{domain}", user.chars().next().unwrap_or('•')),
        None => "•••".into(),
    }
}

/// A message on the page: an error, or a notice that something happened (a code was sent).
#[derive(Default)]
struct Said {
    error: Option<String>,
    notice: Option<String>,
    /// The method whose form the message is about (it opens first, its code field focused).
    about: Option<&'static str>,
}

fn render(
    s: &AppState,
    headers: &HeaderMap,
    (ar, p, client): (&str, &Pending, &ClientRecord),
    plan: &StepUp,
    said: Said,
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&p.request.ui_locales, headers);
    let (token, webauthn_csrf, cookie) = pages::csrf_with_webauthn(s, headers, &purpose(ar));
    let inv = &plan.inventory;
    let methods: Vec<Value> = plan
        .factors
        .iter()
        .filter(|f| **f != Factor::Passkey || webauthn_csrf.is_some())
        .map(|f| json!({"name": f.name(), "label": s.ui.t(lang, &format!("stepup_use_{}", f.name()))}))
        .collect();
    // The method first asked about opens first; otherwise the recommended one.
    let first = said.about.or(plan.factors.first().map(|f| f.name()));
    let reason =
        s.ui.t(
            lang,
            if plan.required {
                "stepup_reason_required"
            } else {
                "stepup_reason_asked"
            },
        )
        .replace("{service}", &client.name)
        .replace("{level}", &plan.need.number().to_string());
    let ctx = json!({"ar": ar, "csrf": token, "webauthn_csrf": webauthn_csrf, "client_name": client.name,
                     "reason": reason, "methods": methods, "first": first,
                     "phone_masked": inv.phone.as_deref().map(mask_phone),
                     "email_masked": inv.email.as_deref().map(mask_email),
                     "error": said.error, "notice": said.notice, "focus_code": said.notice.is_some() || said.error.is_some()});
    with_new_cookie(s.ui.page(status, "step_up.html", lang, ctx), cookie)
}

/// The pending request, the browser's session, and what the interaction needs now: the
/// step-up plan, or the response that goes elsewhere.
pub(super) struct Here {
    pub ar: String,
    pub pending: Pending,
    pub client: ClientRecord,
    pub session: Session,
    pub account: AccountRecord,
    pub plan: StepUp,
}

pub(super) async fn here(s: &AppState, headers: &HeaderMap, ar: &str) -> Result<Here, Response> {
    let h = interaction::here(s, headers, ar).await?;
    let (Next::StepUp(plan), Some((session, account))) = (&h.next, &h.session) else {
        return Err(h.respond(s, headers));
    };
    Ok(Here {
        ar: h.ar.clone(),
        pending: h.pending.clone(),
        client: h.client.clone(),
        session: session.clone(),
        account: account.clone(),
        plan: plan.clone(),
    })
}

pub async fn form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    match here(&s, &headers, &ar).await {
        Ok(h) => render(
            &s,
            &headers,
            (&h.ar, &h.pending, &h.client),
            &h.plan,
            Said::default(),
            StatusCode::OK,
        ),
        Err(page) => page,
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

/// Send a code by SMS to the own-name phone, or by e-mail, as the register holds them, within
/// the limits every code path shares. Only after it went does the page say so.
async fn send_code(
    s: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    body: &[u8],
    ch: Channel,
) -> Response {
    let f: StepUpForm = form::parse(body).unwrap_or_default();
    let ar = f.ar.unwrap_or_default();
    if !csrf_ok(s, headers, &purpose(&ar), f.csrf.as_deref()) {
        return s.ui.error(
            StatusCode::FORBIDDEN,
            choose_lang(&[], headers),
            "error_csrf",
        );
    }
    let h = match here(s, headers, &ar).await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let lang = choose_lang(&h.pending.request.ui_locales, headers);
    let (to, sender, sent_key, factor) = match ch {
        Channel::Sms => (
            h.plan.inventory.phone.clone(),
            &s.services.sms,
            "stepup_sms_sent",
            Factor::Sms,
        ),
        Channel::Email => (
            h.plan.inventory.email.clone(),
            &s.services.email,
            "stepup_email_sent",
            Factor::Email,
        ),
    };
    let here_ = (h.ar.as_str(), &h.pending, &h.client);
    let Some(to) = to.filter(|_| h.plan.factors.contains(&factor)) else {
        let said = Said {
            error: Some(s.ui.t(lang, "error_bad_request")),
            ..Default::default()
        };
        return render(s, headers, here_, &h.plan, said, StatusCode::BAD_REQUEST);
    };
    let codes = Codes {
        eph: s.p.eph.as_ref(),
        kek: &s.p.kek,
    };
    let ip = pages::ip(s, headers, peer);
    let sent =
        factors::send_code(&codes, ch, &h.account, &to, &ip, sender.as_ref(), s.p.now()).await;
    let about = Some(factor.name());
    let (said, status) = match sent {
        Ok(()) => (
            Said {
                notice: Some(s.ui.t(lang, sent_key)),
                about,
                ..Default::default()
            },
            StatusCode::OK,
        ),
        Err(OtpError::Wait(n)) | Err(OtpError::LimitReached(n)) => {
            let msg = wait_message(s, lang, Refusal::Wait(n));
            (
                Said {
                    error: Some(msg),
                    about,
                    ..Default::default()
                },
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, channel = ch.as_str(), "step-up code not sent");
            let msg = s.ui.t(lang, "error_code_not_sent");
            (
                Said {
                    error: Some(msg),
                    about,
                    ..Default::default()
                },
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    };
    render(s, headers, here_, &h.plan, said, status)
}

fn parse_proof<'a>(method: Option<&str>, code: &'a str) -> Option<Proof<'a>> {
    Some(match method? {
        "totp" => Proof::Totp(code),
        "sms" => Proof::Code(Channel::Sms, code),
        "email" => Proof::Code(Channel::Email, code),
        "recovery" => Proof::Recovery(code),
        _ => return None,
    })
}

pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f: StepUpForm = form::parse(&body).unwrap_or_default();
    let ar = f.ar.clone().unwrap_or_default();
    if !csrf_ok(&s, &headers, &purpose(&ar), f.csrf.as_deref()) {
        return s.ui.error(
            StatusCode::FORBIDDEN,
            choose_lang(&[], &headers),
            "error_csrf",
        );
    }
    let h = match here(&s, &headers, &ar).await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let lang = choose_lang(&h.pending.request.ui_locales, &headers);
    let here_ = (h.ar.as_str(), &h.pending, &h.client);
    let code = f.code.unwrap_or_default();
    let proof = parse_proof(f.method.as_deref(), &code).filter(|p| {
        p.method()
            .factor()
            .is_some_and(|f| h.plan.factors.contains(&f))
    });
    let Some(proof) = proof else {
        let said = Said {
            error: Some(s.ui.t(lang, "error_bad_request")),
            ..Default::default()
        };
        return render(&s, &headers, here_, &h.plan, said, StatusCode::BAD_REQUEST);
    };
    let method = proof.method();
    let about = method.factor().map(|f| f.name());
    let Some(cookie) = form::cookie(&headers, SESSION_COOKIE) else {
        return see_other(&format!("{}?ar={ar}", paths::LOGIN));
    };
    let ip = pages::ip(&s, &headers, peer);
    let cx = pages::signin_context(&s, &headers, &ip, Some(&h.client.client_id));
    match signin::prove(&cx, &cookie, &h.session, &h.account, proof, Purpose::StepUp).await {
        Ok(up) => {
            METRICS.signin(method.name(), "success");
            let next = engine(&s)
                .advance(&ar, h.pending.clone(), &h.client, Some((&up, &h.account)))
                .await;
            interaction::respond(&s, &headers, &ar, &h.pending, &next)
        }
        Err(AuthnError::Store(e)) => {
            tracing::warn!(error = %e, "step-up could not be recorded");
            s.ui.try_later(lang)
        }
        Err(e) => {
            METRICS.signin(method.name(), "invalid");
            let (key_or_msg, status) = match &e {
                AuthnError::Throttled(r) => {
                    (wait_message(&s, lang, *r), StatusCode::TOO_MANY_REQUESTS)
                }
                AuthnError::CodeSpent => {
                    (s.ui.t(lang, "error_code_spent"), StatusCode::UNAUTHORIZED)
                }
                _ => (s.ui.t(lang, "error_code_invalid"), StatusCode::UNAUTHORIZED),
            };
            let said = Said {
                error: Some(key_or_msg),
                about,
                ..Default::default()
            };
            render(&s, &headers, here_, &h.plan, said, status)
        }
    }
}
