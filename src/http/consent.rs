//! The consent page: the party, its kind, the purpose, and each claim with the value that
//! would be shared (masked where sensitive); optional claims start unticked. What consent is
//! needed and how it is recorded is the interaction's (`oidc::interaction`, `consent`); what
//! the page shows is `oidc::offer`'s, so the page and the receipt say the same. The page's
//! hash travels with the form: if anything it showed changed meanwhile, the person is shown
//! the new page instead of agreeing to something they did not see.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::interaction::{self, engine};
use super::login::query;
use super::pages::{self, csrf, csrf_ok, with_new_cookie};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, form, paths};
use crate::oidc::clients::purposes;
use crate::oidc::interaction::{Next, Pending};
use crate::oidc::{claims, documents, offer, subject};
use crate::store::{AccountRecord, ClientRecord, ConsentShown};

fn purpose(ar: &str) -> String {
    format!("consent:{ar}")
}

/// What the page shows for this request and person, in `lang`, and the person's name.
async fn shown(
    s: &AppState,
    pending: &Pending,
    client: &ClientRecord,
    account: &AccountRecord,
    lang: &str,
) -> Result<(ConsentShown, String), Response> {
    let person = match s.p.db.person(&account.id_number).await {
        Ok(Some(p)) => p,
        Ok(None) | Err(_) => {
            tracing::warn!(sub = %account.sub, "consent page: register record unreadable");
            return Err(s.ui.try_later(lang));
        }
    };
    let req = &pending.request;
    let rp_sub = subject::for_client(&s.p.kek, client, &account.sub);
    let offered = claims::offered(&req.scopes, req.claims.as_ref());
    let docs = documents::values(s.p.db.as_ref(), &person.id_number, &offered, s.p.now());
    let Ok(documents) = docs.await else {
        tracing::warn!(sub = %account.sub, "consent page: documents unreadable");
        return Err(s.ui.try_later(lang));
    };
    let o = offer::Offering {
        client,
        purpose: purposes::chosen(&client.settings.purposes, req.purpose.as_deref()),
        scopes: &req.scopes,
        claims_param: req.claims.as_ref(),
        rp_sub: rp_sub.as_str(),
        person: &person,
        account,
        documents: &documents,
        lang,
        authorization_details: req.authorization_details.as_ref(),
    };
    Ok((
        offer::shown(&o, &|k| s.ui.t(lang, k)),
        person.full_name.clone(),
    ))
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
    let (Next::Consent { .. }, Some((_, account))) = (&h.next, &h.session) else {
        return h.respond(&s, &headers);
    };
    let lang = choose_lang(&h.pending.request.ui_locales, &headers);
    let (shown, person_name) = match shown(&s, &h.pending, &h.client, account, lang).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let (token, cookie) = csrf(&s, &headers, &purpose(&ar));
    let ctx = json!({
        "ar": ar,
        "csrf": token,
        "shown_hash": offer::hash(&shown),
        "shown": shown,
        "account_level": account.level,
        "person_name": person_name,
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
    let f: HashMap<String, String> = form::parse(&body).unwrap_or_default();
    let field = |k: &str| f.get(k).map(String::as_str);
    let ar = field("ar").unwrap_or_default().to_string();
    if !csrf_ok(&s, &headers, &purpose(&ar), field("csrf")) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let (pending, client) = match interaction::load(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let engine = engine(&s);
    if field("decision") != Some("approve") {
        let next = engine.declined(&ar, &pending).await;
        return interaction::respond(&s, &headers, &ar, &pending, &next);
    }
    let Some((sess, account)) = (match interaction::session(&s, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    }) else {
        return see_other(&format!("{}?ar={ar}", paths::LOGIN));
    };
    let page_lang = choose_lang(&pending.request.ui_locales, &headers);
    let (shown, _) = match shown(&s, &pending, &client, &account, page_lang).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let hash = offer::hash(&shown);
    if field("shown") != Some(hash.as_str()) {
        // What the page said is not what it would say now: show it again.
        return see_other(&format!("{}?ar={ar}", paths::CONSENT));
    }
    let ticked: Vec<String> = f
        .iter()
        .filter(|(k, v)| k.starts_with("share_") && v.as_str() == "on")
        .map(|(k, _)| k["share_".len()..].to_string())
        .collect();
    let scopes = claims::consent_scopes(&pending.request.scopes, pending.request.claims.as_ref());
    let approval = offer::approval(shown, hash, scopes, &ticked);
    let ip = pages::ip(&s, &headers, peer);
    let next = engine
        .consented(
            &ar,
            pending.clone(),
            &client,
            (&sess, &account),
            Some(&ip),
            approval,
        )
        .await;
    interaction::respond(&s, &headers, &ar, &pending, &next)
}
