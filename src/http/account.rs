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
use crate::authn::changes::{self, Change, Notifier, Origin};
use crate::authn::reauth::{self, Requirement};
use crate::authn::{Session, inventory, password, session};
use crate::identity::lifecycle::{self, Actor, LockReason};
use crate::identity::password_policy;
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
            Err(s.ui.error(
                StatusCode::SERVICE_UNAVAILABLE,
                choose_lang(&[], headers),
                "error_try_later",
            ))
        }
    }
}

/// A posted account form: CSRF checked, and the person still signed in.
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
    let inv = inventory::of(s.p.db.as_ref(), account, s.services.webauthn.is_some()).await?;
    Ok(reauth::requirement(&inv))
}

/// What an account change needs before it is made.
enum Gate {
    Open,
    /// Confirm first (the page at [`paths::ACCOUNT_CONFIRM`]).
    Confirm,
    /// The account has nothing to confirm with: only an officer can help.
    Impossible,
}

async fn gate(s: &AppState, sess: &Session, account: &AccountRecord) -> Result<Gate, StoreError> {
    Ok(match requirement(s, account).await? {
        None => Gate::Impossible,
        Some(r) if reauth::satisfied(&r, sess, s.p.now()) => Gate::Open,
        Some(_) => Gate::Confirm,
    })
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
            Err(s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later"))
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
    let (current, new, confirm) = (
        f.current_password.unwrap_or_default(),
        f.new_password.unwrap_or_default(),
        f.new_password_confirm.unwrap_or_default(),
    );
    let fail = |key: &str| s.ui.t(lang, key);
    let ok = password::matches(current, account.password_hash.clone()).await;
    let problem = if !ok {
        Some(fail("error_current_password"))
    } else if new != confirm {
        Some(fail("error_password_mismatch"))
    } else if password_policy::check(&new).is_err() {
        Some(fail("error_password_policy"))
    } else {
        None
    };
    if let Some(error) = problem {
        return render(
            &s,
            &headers,
            &account,
            None,
            Some(error),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let hash = match password::hash_async(new).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "password not hashed");
            return s
                .ui
                .error(StatusCode::INTERNAL_SERVER_ERROR, lang, "error_internal");
        }
    };
    let now = s.p.now();
    let ip = pages::ip(&s, &headers, peer);
    let origin = Origin { ip: &ip, now };
    let db = s.p.db.as_ref();
    let saved = changes::apply(
        db,
        &notifier(&s),
        &account,
        Change::PasswordChanged,
        &origin,
        async {
            let epoch = db.set_password(&account.sub, &hash, now).await?;
            db.revoke_grants_of(&account.sub, now).await?;
            Ok(epoch)
        },
    )
    .await;
    let epoch = match saved {
        Ok(epoch) => epoch,
        Err(e) => {
            tracing::warn!(error = %e, "password change failed");
            return s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
        }
    };
    // This browser goes on under the new epoch and a new cookie; every other session ended.
    let kept = Session { epoch, ..sess };
    let previous = form::cookie(&headers, SESSION_COOKIE);
    let cookie = match session::reissue(s.p.eph.as_ref(), previous.as_deref(), &kept, now).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "session not renewed after a password change");
            return s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
        }
    };
    let account = AccountRecord {
        session_epoch: epoch,
        password_hash: hash,
        ..account
    };
    let page = render(
        &s,
        &headers,
        &account,
        Some(fail("message_password_changed")),
        None,
        StatusCode::OK,
    )
    .await;
    let secure = s.p.cfg.issuer_is_https();
    with_cookies(
        page,
        &[form::set_cookie(
            SESSION_COOKIE,
            &cookie,
            kept.expires_at - now,
            secure,
        )],
    )
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
        let msg = s.ui.t(lang, "error_field_required");
        return render(
            &s,
            &headers,
            &account,
            None,
            Some(msg),
            StatusCode::BAD_REQUEST,
        )
        .await;
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
        return s
            .ui
            .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
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
    match session::end_sid(s.p.eph.as_ref(), &account.sub, &sid, s.p.now()).await {
        Ok(true) if sid == sess.sid => {
            let clear = form::set_cookie(SESSION_COOKIE, "", 0, s.p.cfg.issuer_is_https());
            let page =
                s.ui.page(StatusCode::OK, "logged_out.html", lang, json!({}));
            with_cookies(page, &[clear])
        }
        Ok(true) => {
            let msg = s.ui.t(lang, "message_session_ended");
            render(&s, &headers, &account, Some(msg), None, StatusCode::OK).await
        }
        Ok(false) => {
            let err = s.ui.t(lang, "error_bad_request");
            render(
                &s,
                &headers,
                &account,
                None,
                Some(err),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(_) => {
            s.ui.error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later")
        }
    }
}
