//! The consent page: what the client will receive, the account level, approve or deny. What
//! consent is needed and how it is recorded is the interaction's (`oidc::interaction`,
//! `consent`); this page shows it and reports the answer.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::interaction::{self, engine};
use super::login::{PageParams, query};
use super::pages::{self, csrf, csrf_ok, with_new_cookie};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, form, paths};
use crate::oidc::claims;
use crate::oidc::interaction::Next;

fn purpose(ar: &str) -> String {
    format!("consent:{ar}")
}

pub async fn consent_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    let h = match interaction::here(&s, &headers, &ar).await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let (Next::Consent { scopes }, Some((_, account))) = (&h.next, &h.session) else {
        return h.respond(&s, &headers);
    };
    let (pending, client) = (&h.pending, &h.client);
    let lang = choose_lang(&pending.request.ui_locales, &headers);
    let person = match s.p.db.person(&account.id_number).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "consent page: register record unreadable");
            return s.ui.try_later(lang);
        }
    };
    let labels: Vec<String> = claims::consent_label_keys(scopes)
        .iter()
        .map(|k| s.ui.t(lang, k))
        .collect();
    let (token, cookie) = csrf(&s, &headers, &purpose(&ar));
    let ctx = json!({
        "ar": ar,
        "csrf": token,
        "client_name": client.name,
        "client_kind_label": s.ui.t(lang, &format!("kind_{}", client.kind)),
        "account_level": account.level,
        "claims": labels,
        "person_name": person.map(|p| p.full_name).unwrap_or_default(),
    });
    with_new_cookie(s.ui.page(StatusCode::OK, "consent.html", lang, ctx), cookie)
}

pub async fn consent_submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: PageParams = form::parse(&body).unwrap_or_default();
    let ar = f.ar.clone().unwrap_or_default();
    if !csrf_ok(&s, &headers, &purpose(&ar), f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let (pending, client) = match interaction::load(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let engine = engine(&s);
    if f.decision.as_deref() != Some("approve") {
        let next = engine.declined(&ar, &pending).await;
        return interaction::respond(&s, &headers, &ar, &pending, &next);
    }
    let Some((sess, account)) = (match interaction::session(&s, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    }) else {
        return see_other(&format!("{}?ar={ar}", paths::LOGIN));
    };
    let ip = pages::ip(&s, &headers, peer);
    let next = engine
        .consented(&ar, pending.clone(), &client, (&sess, &account), Some(&ip))
        .await;
    interaction::respond(&s, &headers, &ar, &pending, &next)
}
