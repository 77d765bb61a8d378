//! `/authorize` (GET and POST, OIDC Core §3.1.2.1) and `/authorize/resume`, where the browser
//! returns after each interaction (sign-in, consent) until a code is issued.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, form};
use crate::authn::Session;
use crate::oidc::authorize::{self, AuthRequest, AuthorizeParams, Next, Rejection};
use crate::oidc::{OAuthError, paths};
use crate::store::{AccountRecord, ClientRecord, typed};

pub fn ar_key(ar: &str) -> String {
    format!("ar:{ar}")
}

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
    let ip = super::pages::ip(s, headers, peer);
    let ttl = s.p.cfg.lifetimes.authorization_request.max(1) as u64;
    let lang = choose_lang(&[], headers);
    match s.p.eph.incr(&format!("ar-ip:{ip}"), ttl).await {
        Ok(n) if n <= s.p.cfg.authorize_per_ip => Ok(()),
        Ok(_) => Err(s.ui.error(
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            "error_too_many_requests",
        )),
        Err(e) => Err(reject(s, headers, &[], Rejection::Page(e.into()))),
    }
}

async fn start(s: &AppState, headers: &HeaderMap, peer: SocketAddr, raw: &[u8]) -> Response {
    let params: AuthorizeParams = match form::parse(raw) {
        Ok(p) => p,
        Err(e) => return reject(s, headers, &[], Rejection::Page(e)),
    };
    let locales = crate::oidc::split_spaces(params.ui_locales.as_deref());
    let (client, req) = match authorize::validate(&s.p, &params).await {
        Ok(ok) => ok,
        Err(r) => return reject(s, headers, &locales, r),
    };
    if let Err(page) = within_rate(s, headers, peer).await {
        return page;
    }
    let ar = match crate::crypto::random_id() {
        Ok(ar) => ar,
        Err(e) => return reject(s, headers, &locales, Rejection::Page(e.into())),
    };
    if let Err(e) = save_request(s, &ar, &req).await {
        return reject(s, headers, &locales, Rejection::Page(e));
    }
    proceed(s, headers, &ar, req, &client).await
}

pub async fn save_request(s: &AppState, ar: &str, req: &AuthRequest) -> Result<(), OAuthError> {
    let ttl = s.p.cfg.lifetimes.authorization_request as u64;
    Ok(typed::put(s.p.eph.as_ref(), &ar_key(ar), req, ttl).await?)
}

/// The pending request and its client, or the page to show when it is gone.
pub async fn load_request(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
) -> Result<(AuthRequest, ClientRecord), Response> {
    let lang = choose_lang(&[], headers);
    let req: Option<AuthRequest> = match typed::get(s.p.eph.as_ref(), &ar_key(ar)).await {
        Ok(r) => r,
        Err(e) => return Err(reject(s, headers, &[], Rejection::Page(e.into()))),
    };
    let Some(req) = req else {
        return Err(s
            .ui
            .error(StatusCode::BAD_REQUEST, lang, "error_session_expired"));
    };
    // Through the provider's short client cache, as the token endpoint: the pages of one
    // sign-in would otherwise read the client three times.
    match s.p.client(&req.client_id).await {
        Ok(Some(c)) => Ok((req, c)),
        Ok(None) => Err(s
            .ui
            .error(StatusCode::BAD_REQUEST, lang, "error_unknown_client")),
        Err(e) => Err(reject(
            s,
            headers,
            &req.ui_locales,
            Rejection::Page(e.into()),
        )),
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
        .and_then(|r| r.ar);
    let Some(ar) = ar else {
        return s.ui.error(
            StatusCode::BAD_REQUEST,
            choose_lang(&[], &headers),
            "error_session_expired",
        );
    };
    match load_request(&s, &headers, &ar).await {
        Ok((req, client)) => proceed(&s, &headers, &ar, req, &client).await,
        Err(page) => page,
    }
}

/// Route the browser to the next interaction, or finish with a code.
pub async fn proceed(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
    req: AuthRequest,
    client: &ClientRecord,
) -> Response {
    let to_client = |error: OAuthError| Rejection::Redirect {
        redirect_uri: req.redirect_uri.clone(),
        error,
        state: req.state.clone(),
    };
    let outcome = async {
        let current = super::pages::current_session(s, headers).await?;
        let consent = match &current {
            Some((sess, _)) => s.p.db.consent(&sess.sub, &client.client_id).await?,
            None => None,
        };
        let session = current.as_ref().map(|(sess, _)| sess);
        let next = authorize::decide(&req, client, session, consent.as_ref(), s.p.now())?;
        Ok::<_, OAuthError>((next, current))
    }
    .await;
    match outcome {
        Ok((Next::Login, _)) => see_other(&format!("{}?ar={ar}", paths::LOGIN)),
        Ok((Next::Consent, _)) => see_other(&format!("{}?ar={ar}", paths::CONSENT)),
        Ok((Next::StepUp(_), _)) => see_other(&format!("{}?ar={ar}", paths::LOGIN_SECOND)),
        Ok((Next::Issue, Some((sess, account)))) => {
            // The pending request is spent either way: drop it while the code is issued.
            let (issue, key) = (finish(s, &req, client, &sess, &account), ar_key(ar));
            match tokio::join!(issue, s.p.eph.delete(&key)).0 {
                Ok(url) => see_other(&url),
                Err(e) => reject(s, headers, &req.ui_locales, to_client(e)),
            }
        }
        Ok((Next::Issue, None)) => see_other(&format!("{}?ar={ar}", paths::LOGIN)),
        Err(e) if e.error == "temporarily_unavailable" || e.error == "server_error" => {
            reject(s, headers, &req.ui_locales, Rejection::Page(e))
        }
        Err(e) => {
            let _ = s.p.eph.delete(&ar_key(ar)).await;
            reject(s, headers, &req.ui_locales, to_client(e))
        }
    }
}

/// Account rules at the moment of issue: proofed to the client's minimum (the session is
/// only honoured while the account is active).
async fn finish(
    s: &AppState,
    req: &AuthRequest,
    client: &ClientRecord,
    sess: &Session,
    account: &AccountRecord,
) -> Result<String, OAuthError> {
    if account.level < client.min_account_level {
        return Err(OAuthError::access_denied(format!(
            "this service requires a Level-{} e-ID account",
            client.min_account_level
        )));
    }
    authorize::issue_code(&s.p, req, sess).await
}

/// A page when the client cannot be trusted with a redirect; otherwise back to the client.
pub fn reject(s: &AppState, headers: &HeaderMap, locales: &[String], r: Rejection) -> Response {
    if let Some(url) = authorize::error_url(&s.p, &r) {
        return see_other(&url);
    }
    let Rejection::Page(e) = r else {
        return see_other("/");
    };
    let lang = choose_lang(locales, headers);
    let (status, key) = match e.error {
        "invalid_client" => (StatusCode::BAD_REQUEST, "error_unknown_client"),
        "temporarily_unavailable" => (StatusCode::SERVICE_UNAVAILABLE, "error_try_later"),
        "server_error" => (StatusCode::INTERNAL_SERVER_ERROR, "error_internal"),
        _ if e.description.contains("redirect_uri") => {
            (StatusCode::BAD_REQUEST, "error_redirect_uri")
        }
        _ => (StatusCode::BAD_REQUEST, "error_bad_request"),
    };
    let message = format!("{} ({}: {})", s.ui.t(lang, key), e.error, e.description);
    let title = s.ui.t(lang, "error_bad_request_title");
    s.ui.page(
        status,
        "error.html",
        lang,
        serde_json::json!({ "title": title, "message": message }),
    )
}
