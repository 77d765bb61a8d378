//! The self-service account page: the register record, the usage history, change password,
//! lock my account.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::login::account_login_page;
use super::pages::{self, csrf_ok};
use super::respond::{see_other, with_cookies};
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form, paths};
use crate::authn::Session;
use crate::authn::changes::Notifier;
use crate::authn::manage::{self, Gate, Manage, ManageError};
use crate::authn::reauth::{self, Requirement};
use crate::identity::lifecycle::{self, Actor, LockReason};
use crate::store::{AccountRecord, StoreError};

#[derive(Deserialize, Default)]
pub struct AccountForm {
    csrf: Option<String>,
    pub(super) code: Option<String>,
    pub(super) name: Option<String>,
    pub(super) passkey: Option<String>,
    pub(super) current_password: Option<String>,
    new_password: Option<String>,
    new_password_confirm: Option<String>,
    confirm: Option<String>,
    pub(super) client_id: Option<String>,
    /// A session to end (its public id).
    sid: Option<String>,
}

/// The account page, with an optional message or error.
pub(super) async fn render(
    s: &AppState,
    headers: &HeaderMap,
    account: &AccountRecord,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    super::account_page::render(s, headers, account, (message, error), status).await
}

pub(super) async fn signed_in(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<(Session, AccountRecord), Response> {
    match pages::current_session(s, headers).await {
        Ok(Some(x)) => Ok(x),
        Ok(None) => Err(account_login_page(s, headers, None, StatusCode::OK)),
        Err(e) => {
            tracing::warn!(error = %e, "account page: session lookup failed");
            Err(s.ui.try_later(choose_lang(&[], headers)))
        }
    }
}

/// A posted account form: CSRF checked, and the person still signed in.
/// The account page again with a 400 and the error `key` says.
pub(super) async fn refused(
    s: &AppState,
    headers: &HeaderMap,
    account: &AccountRecord,
    key: &str,
) -> Response {
    let err = s.ui.t(choose_lang(&[], headers), key);
    render(
        s,
        headers,
        account,
        None,
        Some(err),
        StatusCode::BAD_REQUEST,
    )
    .await
}

pub(super) async fn posted(
    s: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(AccountForm, Session, AccountRecord), Response> {
    let f: AccountForm = form::parse(body).unwrap_or_default();
    if !csrf_ok(s, headers, "account", f.csrf.as_deref()) {
        return Err(s.ui.error(
            StatusCode::FORBIDDEN,
            choose_lang(&[], headers),
            "error_csrf",
        ));
    }
    let (sess, account) = signed_in(s, headers).await?;
    Ok((f, sess, account))
}

/// A posted account *change*: as [`posted`], and the person confirmed it is them within the
/// last minutes (`authn::reauth`); otherwise the response sends them to confirm.
pub(super) async fn posted_change(
    s: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(AccountForm, Session, AccountRecord), Response> {
    let (f, sess, account) = posted(s, headers, body).await?;
    require_recent(s, headers, &sess, &account).await?;
    Ok((f, sess, account))
}

/// The re-authentication the account needs before a change, or `None` when it has nothing to
/// confirm with.
pub(super) async fn requirement(
    s: &AppState,
    account: &AccountRecord,
) -> Result<Option<Requirement>, StoreError> {
    manage::requirement(s.p.db.as_ref(), account, s.services.webauthn.is_some()).await
}

async fn gate(s: &AppState, sess: &Session, account: &AccountRecord) -> Result<Gate, StoreError> {
    let passkeys = s.services.webauthn.is_some();
    manage::gate(s.p.db.as_ref(), passkeys, sess, account, s.p.now()).await
}

/// The account-change service for this request, from `ip`.
pub(super) fn manager<'a>(s: &'a AppState, ip: &'a str) -> Manage<'a> {
    Manage {
        db: s.p.db.as_ref(),
        eph: s.p.eph.as_ref(),
        kek: &s.p.kek,
        notifier: notifier(s),
        ip,
        now: s.p.now(),
    }
}

/// For the account-change forms: go on, or the response that sends the person to confirm.
pub(super) async fn require_recent(
    s: &AppState,
    headers: &HeaderMap,
    sess: &Session,
    account: &AccountRecord,
) -> Result<(), Response> {
    let lang = choose_lang(&[], headers);
    match gate(s, sess, account).await {
        Ok(Gate::Open) => Ok(()),
        Ok(Gate::Confirm) => Err(see_other(paths::ACCOUNT_CONFIRM)),
        Ok(Gate::Impossible) => {
            Err(s
                .ui
                .error(StatusCode::FORBIDDEN, lang, "error_confirm_impossible"))
        }
        Err(e) => {
            tracing::warn!(error = %e, "re-authentication check failed");
            Err(s.ui.try_later(lang))
        }
    }
}

/// The same for the passkey JSON calls: a 403 the page script follows to the confirm page.
pub(super) async fn require_recent_json(
    s: &AppState,
    sess: &Session,
    account: &AccountRecord,
) -> Result<(), Response> {
    let (status, body) = match gate(s, sess, account).await {
        Ok(Gate::Open) => return Ok(()),
        Ok(Gate::Confirm) => (
            StatusCode::FORBIDDEN,
            json!({"error": "reauthentication_required", "error_description": "confirm it is you first",
                   "redirect": paths::ACCOUNT_CONFIRM}),
        ),
        Ok(Gate::Impossible) => (
            StatusCode::FORBIDDEN,
            json!({"error": "reauthentication_impossible", "error_description": "the account has no factor to confirm with"}),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "temporarily_unavailable", "error_description": "try again"}),
        ),
    };
    Err((status, axum::Json(body)).into_response())
}

/// The senders that tell the holder of an account change.
pub(super) fn notifier(s: &AppState) -> Notifier<'_> {
    Notifier {
        sms: s.services.sms.as_ref(),
        email: s.services.email.as_ref(),
    }
}

/// What `?done=` may say on the account page after a change made elsewhere (a passkey
/// ceremony, a confirmation): a fixed list, so no link can put words on the page.
const DONE: [(&str, &str); 4] = [
    ("password_reset", "message_password_reset"),
    ("passkey_added", "message_passkey_added"),
    ("passkey_removed", "message_passkey_removed"),
    ("confirmed", "message_confirmed"),
];

pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let done =
        form::parse::<std::collections::HashMap<String, String>>(q.unwrap_or_default().as_bytes())
            .ok()
            .and_then(|m| m.get("done").cloned());
    let message = DONE
        .iter()
        .find(|(k, _)| Some(*k) == done.as_deref())
        .map(|(_, key)| {
            s.ui.t(lang, key)
                .replace("{n}", &(reauth::RECENT_SECS / 60).to_string())
        });
    match signed_in(&s, &headers).await {
        Ok((_, account)) => render(&s, &headers, &account, message, None, StatusCode::OK).await,
        Err(page) => page,
    }
}

/// A new password: confirmed first, recorded and told to the holder; every other session
/// ends and every grant is revoked (their refresh and access tokens die), while this browser
/// stays signed in under a new cookie.
pub async fn change_password(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let (f, sess, account) = match posted_change(&s, &headers, &body).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let given = (
        f.current_password.unwrap_or_default(),
        f.new_password.unwrap_or_default(),
        f.new_password_confirm.unwrap_or_default(),
    );
    let ip = pages::ip(&s, &headers, peer);
    let previous = form::cookie(&headers, SESSION_COOKIE);
    let changed = manager(&s, &ip)
        .change_password(&sess, previous.as_deref(), &account, given)
        .await;
    let problem = match &changed {
        Err(ManageError::CurrentPassword) => Some("error_current_password"),
        Err(ManageError::PasswordMismatch) => Some("error_password_mismatch"),
        Err(ManageError::PasswordPolicy) => Some("error_password_policy"),
        _ => None,
    };
    if let Some(key) = problem {
        let error = Some(s.ui.t(lang, key));
        return render(&s, &headers, &account, None, error, StatusCode::BAD_REQUEST).await;
    }
    let done = match changed {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(error = %e, "password change failed");
            return s.ui.try_later(lang);
        }
    };
    let message = Some(s.ui.t(lang, "message_password_changed"));
    let page = render(&s, &headers, &done.account, message, None, StatusCode::OK).await;
    let max_age = done.session.expires_at - s.p.now();
    let secure = s.p.cfg.issuer_is_https();
    let cookie = form::set_cookie(SESSION_COOKIE, &done.cookie, max_age, secure);
    with_cookies(page, &[cookie])
}

/// The holder locks their own account at once: sessions and tokens end everywhere.
pub async fn lock(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let (f, _, account) = match posted(&s, &headers, &body).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    if f.confirm.as_deref() != Some("yes") {
        return refused(&s, &headers, &account, "error_field_required").await;
    }
    let ip = pages::ip(&s, &headers, peer);
    let actor = Actor {
        id: &account.sub,
        client_id: None,
        ip: Some(&ip),
    };
    if let Err(e) = lifecycle::lock(
        s.p.db.as_ref(),
        &account,
        LockReason::HolderRequest,
        None,
        &actor,
        s.p.now(),
    )
    .await
    {
        tracing::warn!(error = %e, "self-lock failed");
        return s.ui.try_later(lang);
    }
    if let Some(c) = form::cookie(&headers, SESSION_COOKIE) {
        let _ = crate::authn::session::end(s.p.eph.as_ref(), &c).await;
    }
    let page = s.ui.page(
        StatusCode::OK,
        "account_locked.html",
        lang,
        json!({"reason_label": s.ui.t(lang, "lock_reason_holder_request")}),
    );
    with_cookies(
        page,
        &[form::set_cookie(
            SESSION_COOKIE,
            "",
            0,
            s.p.cfg.issuer_is_https(),
        )],
    )
}

/// End one of the account's sessions (from the list on the account page). Ending this
/// browser's own session signs it out.
pub async fn end_session(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = choose_lang(&[], &headers);
    let (f, sess, account) = match posted(&s, &headers, &body).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let sid = f.sid.unwrap_or_default();
    match manager(&s, "").end_session(&account, &sid).await {
        Ok(()) if sid == sess.sid => {
            let clear = form::set_cookie(SESSION_COOKIE, "", 0, s.p.cfg.issuer_is_https());
            let page =
                s.ui.page(StatusCode::OK, "logged_out.html", lang, json!({}));
            with_cookies(page, &[clear])
        }
        Ok(()) => {
            let msg = s.ui.t(lang, "message_session_ended");
            render(&s, &headers, &account, Some(msg), None, StatusCode::OK).await
        }
        Err(ManageError::NotFound) => refused(&s, &headers, &account, "error_bad_request").await,
        Err(_) => s.ui.try_later(lang),
    }
}
