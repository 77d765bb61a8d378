//! Where the web layer meets the sign-in interaction (`oidc::interaction`): load a pending
//! request, and turn what the state machine decided ([`Next`]) into a response — a redirect
//! to the page that shows it, to the client, or an error page with a way back.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::pages::{self, Back};
use super::respond::see_other;
use super::ui::choose_lang;
use super::{AppState, paths};
use crate::authn::Session;
use crate::oidc::OAuthError;
use crate::oidc::authorize::{self, PageReason, Rejection};
use crate::oidc::interaction::{Gone, Interaction, Next, Pending};
use crate::store::{AccountRecord, ClientRecord};

/// The interaction engine for this request.
pub fn engine(s: &AppState) -> Interaction<'_> {
    Interaction {
        p: &s.p,
        passkeys: s.services.webauthn.is_some(),
        face: s.services.face.is_some(),
    }
}

/// The pending request `ar` with its client, or the page that says why it cannot go on.
pub async fn load(
    s: &AppState,
    headers: &HeaderMap,
    ar: &str,
) -> Result<(Pending, ClientRecord), Response> {
    let lang = choose_lang(&[], headers);
    match engine(s).load(ar).await {
        Ok(x) => Ok(x),
        Err(Gone::Expired) => Err(pages::error(
            s,
            lang,
            StatusCode::BAD_REQUEST,
            "error_session_expired",
            Back::Account,
        )),
        Err(Gone::UnknownClient) => Err(pages::error(
            s,
            lang,
            StatusCode::BAD_REQUEST,
            "error_unknown_client",
            Back::Account,
        )),
        Err(Gone::DisabledClient) => Err(pages::error(
            s,
            lang,
            StatusCode::BAD_REQUEST,
            "error_disabled_client",
            Back::Account,
        )),
        Err(Gone::Unavailable(e)) => Err(unavailable(s, lang, &e, Back::Account)),
    }
}

/// The browser's honoured session, or the error page when it cannot be read.
pub async fn session(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Session, AccountRecord)>, Response> {
    pages::current_session(s, headers).await.map_err(|e| {
        let lang = choose_lang(&[], headers);
        unavailable(s, lang, &e, Back::Account)
    })
}

/// A pending request where the browser stands: the request, its client, the honoured
/// session, and what the interaction needs now.
pub struct Here {
    pub ar: String,
    pub pending: Pending,
    pub client: ClientRecord,
    pub session: Option<(Session, AccountRecord)>,
    pub next: Next,
}

impl Here {
    /// The response that takes the browser where [`Here::next`] says.
    pub fn respond(&self, s: &AppState, headers: &HeaderMap) -> Response {
        respond(s, headers, &self.ar, &self.pending, &self.next)
    }
}

/// Load the pending request `ar` and the session, and ask the interaction what is next.
pub async fn here(s: &AppState, headers: &HeaderMap, ar: &str) -> Result<Here, Response> {
    let (pending, client) = load(s, headers, ar).await?;
    let current = session(s, headers).await?;
    let signed_in = current.as_ref().map(|(sess, a)| (sess, a));
    let next = engine(s)
        .advance(ar, pending.clone(), &client, signed_in)
        .await;
    Ok(Here {
        ar: ar.to_string(),
        pending,
        client,
        session: current,
        next,
    })
}

/// Where the browser goes for `next`: the page that shows it, or the client.
pub fn location(ar: &str, next: &Next) -> Option<String> {
    Some(match next {
        Next::SignIn => format!("{}?ar={ar}", paths::LOGIN),
        Next::StepUp(_) => format!("{}?ar={ar}", paths::STEP_UP),
        Next::Consent { .. } => format!("{}?ar={ar}", paths::CONSENT),
        Next::ToClient(url) => url.clone(),
        Next::LevelTooLow { .. } | Next::Unavailable(_) => return None,
    })
}

/// Send the browser where `next` says; when the provider could not decide, an error page
/// whose way back tells the client so.
pub fn respond(s: &AppState, headers: &HeaderMap, ar: &str, p: &Pending, next: &Next) -> Response {
    match (location(ar, next), next) {
        (Some(url), _) => see_other(&url),
        (None, Next::Unavailable(e)) => {
            let lang = choose_lang(&p.request.ui_locales, headers);
            unavailable(s, lang, e, back_to_client(s, p))
        }
        (
            None,
            Next::LevelTooLow {
                client_name,
                need,
                have,
                back,
            },
        ) => {
            let lang = choose_lang(&p.request.ui_locales, headers);
            let ctx = serde_json::json!({"client_name": client_name, "need": need,
                                         "have": have, "back": back});
            s.ui.page(StatusCode::FORBIDDEN, "level_too_low.html", lang, ctx)
        }
        (None, _) => see_other(paths::ACCOUNT),
    }
}

/// A way back to the client of a proven request: its redirect URI with
/// `temporarily_unavailable`, so it can tell the person to try again later.
pub fn back_to_client(s: &AppState, p: &Pending) -> Back {
    let e = OAuthError::temporarily_unavailable("the identity provider could not finish now");
    Back::Client(authorize::error_url_for(&s.p, &p.request, &e))
}

fn unavailable(s: &AppState, lang: &str, e: &OAuthError, back: Back) -> Response {
    let (status, key) = match e.error {
        crate::oidc::ErrorCode::ServerError => {
            (StatusCode::INTERNAL_SERVER_ERROR, "error_internal")
        }
        _ => (StatusCode::SERVICE_UNAVAILABLE, "error_try_later"),
    };
    tracing::warn!(error = %e, "interaction could not continue");
    pages::error(s, lang, status, key, back)
}

/// An authorization request that cannot go on: to the client when its redirect URI is
/// proven, else a page that says why, in words (the protocol code apart, for support).
pub fn rejected(s: &AppState, headers: &HeaderMap, locales: &[String], r: Rejection) -> Response {
    if let Some(url) = authorize::error_url(&s.p, &r) {
        return see_other(&url);
    }
    let Rejection::Page(reason, e) = r else {
        return see_other(paths::ACCOUNT);
    };
    let lang = choose_lang(locales, headers);
    let (status, key) = match reason {
        PageReason::UnknownClient => (StatusCode::BAD_REQUEST, "error_unknown_client"),
        PageReason::DisabledClient => (StatusCode::BAD_REQUEST, "error_disabled_client"),
        PageReason::RedirectUri => (StatusCode::BAD_REQUEST, "error_redirect_uri"),
        PageReason::Request => (StatusCode::BAD_REQUEST, "error_bad_request"),
        PageReason::Unavailable => return unavailable(s, lang, &e, Back::Account),
    };
    tracing::info!(error = %e, "authorization request refused on a page");
    pages::error_with_code(s, lang, status, key, Some(&e), Back::Account)
}

/// A page's link that keeps the pending request (enrolment, password recovery): do that,
/// then continue to the client.
pub fn with_ar(path: &str, ar: &str) -> String {
    match ar.is_empty() {
        true => path.to_string(),
        false => format!("{path}?ar={ar}"),
    }
}
