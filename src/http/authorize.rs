//! `/authorize` (GET and POST, OIDC Core §3.1.2.1): validate, keep the request, and go where
//! the interaction says. `/authorize/resume?ar=…` continues a pending request from wherever it
//! stands (after enrolment, after a passkey ceremony).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::interaction::{self, engine, rejected};
use super::ui::choose_lang;
use super::{AppState, form, pages};
use crate::oidc::authorize::{self, AuthorizeParams, Rejection};
use crate::oidc::interaction::pending;

pub async fn get(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    start(&s, &headers, peer, q.unwrap_or_default().as_bytes()).await
}

pub async fn post(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    start(&s, &headers, peer, &body).await
}

/// Pending requests are held until they expire: one address may start only so many in a
/// request's lifetime (counted before anything is stored).
async fn within_rate(s: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Result<(), Response> {
    let ip = pages::ip(s, headers, peer);
    let lifetime = s.p.cfg.lifetimes.authorization_request;
    let lang = choose_lang(&[], headers);
    let per_ip = s.p.cfg.authorize_per_ip;
    match pending::admit(s.p.eph.as_ref(), &ip, per_ip, lifetime).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(s.ui.error(
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            "error_too_many_requests",
        )),
        Err(e) => Err(rejected(
            s,
            headers,
            &[],
            Rejection::from(crate::oidc::OAuthError::from(e)),
        )),
    }
}

async fn start(s: &AppState, headers: &HeaderMap, peer: SocketAddr, raw: &[u8]) -> Response {
    let params: AuthorizeParams = match form::parse(raw) {
        Ok(p) => p,
        Err(e) => return rejected(s, headers, &[], e.into()),
    };
    let locales = crate::oidc::split_spaces(params.ui_locales.as_deref());
    let (client, req) = match authorize::validate(&s.p, &params).await {
        Ok(ok) => ok,
        Err(r) => return rejected(s, headers, &locales, r),
    };
    if let Err(page) = within_rate(s, headers, peer).await {
        return page;
    }
    let current = match interaction::session(s, headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let signed_in = current.as_ref().map(|(sess, a)| (sess, a));
    match engine(s).begin(req, &client, signed_in).await {
        (Some(ar), next) => match interaction::location(&ar, &next) {
            Some(url) => super::respond::see_other(&url),
            None => {
                let lang = choose_lang(&locales, headers);
                s.ui.try_later(lang)
            }
        },
        (None, _) => {
            let lang = choose_lang(&locales, headers);
            s.ui.try_later(lang)
        }
    }
}

#[derive(Deserialize)]
pub struct Resume {
    ar: Option<String>,
}

pub async fn resume(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = form::parse::<Resume>(q.unwrap_or_default().as_bytes())
        .ok()
        .and_then(|r| r.ar)
        .unwrap_or_default();
    match interaction::here(&s, &headers, &ar).await {
        Ok(here) => here.respond(&s, &headers),
        Err(page) => page,
    }
}
