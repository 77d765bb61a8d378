//! The consent page: what the client will receive, the account level, approve or deny.
//! Consent is recorded per person, client and scope, and in the usage history.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::authorize::{ar_key, load_request, proceed, reject, save_request};
use super::login::{PageParams, query};
use super::pages::{self, csrf, csrf_ok, with_new_cookie};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, form};
use crate::audit::{self, Event, actions};
use crate::oidc::authorize::Rejection;
use crate::oidc::{OAuthError, claims, paths};
use crate::store::ConsentRecord;

pub async fn consent_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    let (req, client) = match load_request(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let lang = choose_lang(&req.ui_locales, &headers);
    let (sess, account) = match pages::current_session(&s, &headers).await {
        Ok(Some(x)) => x,
        Ok(None) => return see_other(&format!("{}?ar={ar}", paths::LOGIN)),
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e)),
    };
    let person = match s.p.db.person(&account.id_number).await {
        Ok(p) => p,
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e.into())),
    };
    let scopes = claims::consent_scopes(&req.scopes, req.claims.as_ref());
    let labels: Vec<String> = claims::consent_label_keys(&scopes)
        .iter()
        .map(|k| s.ui.t(lang, k))
        .collect();
    let (token, cookie) = csrf(&s, &headers, &format!("consent:{ar}"));
    let ctx = json!({
        "ar": ar,
        "csrf": token,
        "client_name": client.name,
        "client_kind_label": s.ui.t(lang, &format!("kind_{}", client.kind)),
        "account_level": account.level,
        "claims": labels,
        "person_name": person.map(|p| p.full_name).unwrap_or_default(),
    });
    let _ = sess;
    with_new_cookie(s.ui.page(StatusCode::OK, "consent.html", lang, ctx), cookie)
}

pub async fn consent_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let f: PageParams = form::parse(&body).unwrap_or_default();
    let ar = f.ar.clone().unwrap_or_default();
    if !csrf_ok(&s, &headers, &format!("consent:{ar}"), f.csrf.as_deref()) {
        return s.ui.error(StatusCode::FORBIDDEN, lang, "error_csrf");
    }
    let (mut req, client) = match load_request(&s, &headers, &ar).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    if f.decision.as_deref() != Some("approve") {
        let _ = s.p.eph.delete(&ar_key(&ar)).await;
        let denied = Rejection::Redirect {
            redirect_uri: req.redirect_uri.clone(),
            error: OAuthError::access_denied("the person declined"),
            state: req.state.clone(),
        };
        return reject(&s, &headers, &req.ui_locales, denied);
    }
    let sess = match pages::current_session(&s, &headers).await {
        Ok(Some((sess, _))) => sess,
        Ok(None) => return see_other(&format!("{}?ar={ar}", paths::LOGIN)),
        Err(e) => return reject(&s, &headers, &req.ui_locales, Rejection::Page(e)),
    };
    let saved = async {
        let asked = claims::consent_scopes(&req.scopes, req.claims.as_ref());
        let mut scopes = asked.clone();
        if let Some(prev) = s.p.db.consent(&sess.sub, &client.client_id).await? {
            scopes.extend(prev.scopes.into_iter().filter(|p| !asked.contains(p)));
        }
        let now = s.p.now();
        let rec = ConsentRecord {
            sub: sess.sub.clone(),
            client_id: client.client_id.clone(),
            scopes,
            granted_at: now,
        };
        s.p.db.put_consent(&rec).await?;
        let event = Event {
            actor: sess.sub.clone(),
            action: actions::CONSENT,
            subject: Some(sess.sub.clone()),
            client_id: Some(client.client_id.clone()),
            detail: json!({"scopes": asked}),
            ip: None,
        };
        audit::record(s.p.db.as_ref(), event, now).await?;
        req.consent_done = true;
        save_request(&s, &ar, &req).await
    }
    .await;
    if let Err(e) = saved {
        return reject(&s, &headers, &req.ui_locales, Rejection::Page(e));
    }
    proceed(&s, &headers, &ar, req, &client).await
}
