//! The self-service account page: the register record, the usage history, change password,
//! lock my account.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::login::account_login_page;
use super::pages::{self, csrf_ok, with_new_cookie};
use super::respond::with_cookies;
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form};
use crate::audit::{self, actions};
use crate::authn::changes::{self, Change, Notifier, Origin};
use crate::authn::{Session, password, session};
use crate::identity::lifecycle::{self, Actor, LockReason};
use crate::identity::password_policy;
use crate::identity::register::date_of;
use crate::store::AccountRecord;

const HISTORY_ROWS: i64 = 50;

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
}

/// `YYYY-MM-DD HH:MM` in Vietnam time (UTC+7, no daylight saving).
fn local_time(t: i64) -> String {
    let local = t + 7 * 3600;
    let secs = local.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}",
        date_of(local),
        secs / 3600,
        (secs % 3600) / 60
    )
}

pub(super) async fn render(
    s: &AppState,
    headers: &HeaderMap,
    account: &AccountRecord,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&[], headers);
    let t = |k: &str| s.ui.t(lang, k);
    let person =
        s.p.db
            .person(&account.id_number)
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
    let history = audit::history(s.p.db.as_ref(), &account.sub, s.p.now(), HISTORY_ROWS)
        .await
        .unwrap_or_default();
    let mut client_names: HashMap<String, String> = HashMap::new();
    let mut rows = Vec::new();
    for h in history {
        let client = match &h.client_id {
            Some(id) => {
                if !client_names.contains_key(id) {
                    let name =
                        s.p.db
                            .client(id)
                            .await
                            .ok()
                            .flatten()
                            .map(|c| c.name)
                            .unwrap_or_else(|| id.clone());
                    client_names.insert(id.clone(), name);
                }
                client_names.get(id).cloned()
            }
            None => None,
        };
        let detail: Value = serde_json::from_str(&h.detail).unwrap_or_default();
        let action = if h.action == actions::ACCOUNT_CREATED {
            actions::ENROLLED
        } else {
            h.action.as_str()
        };
        rows.push(json!({
            "when": local_time(h.at),
            "what": t(&format!("action_{action}")),
            "client": client,
            "method": detail.get("method").and_then(Value::as_str).map(|m| t(&format!("method_{m}"))),
            "ip": h.ip,
        }));
    }
    let person_json = json!({
        "full_name": person.full_name, "id_number": person.id_number, "birth_date": person.birth_date,
        "sex_label": if person.sex.is_empty() { String::new() } else { t(&format!("sex_{}", person.sex)) },
        "nationality": person.nationality, "birth_place": person.birth_place.as_deref().and_then(crate::identity::id_number::province_name_for),
        "residence": person.residence, "household_id": person.household_id,
        "household_relation": person.household_relation.map(|r| t(&format!("relation_{r}"))),
        "phone": person.phone, "email": person.email,
    });
    let account_json = json!({
        "level": account.level,
        "state_label": t(&format!("state_{}", account.state)),
        "lock_reason_label": account.lock_reason.as_ref().map(|r| t(&format!("lock_reason_{r}"))),
    });
    let totp = s.p.db.totp(&account.sub).await.ok().flatten().is_some();
    let keys: Vec<Value> = s.p.db.passkeys_of(&account.sub).await.unwrap_or_default().iter().map(|k| json!({
        "id": crate::crypto::b64url(&k.cred_id), "name": k.name, "created": local_time(k.created_at),
        "last_used": k.last_used_at.map(local_time), "synced": k.backup_state,
    })).collect();
    let recovery_left = s.p.db.recovery_codes_left(&account.sub).await.unwrap_or(0);
    let (token, webauthn_csrf, cookie) = pages::csrf_with_webauthn(s, headers, "account");
    let ctx = json!({"csrf": token, "message": message, "error": error, "person": person_json,
                     "account": account_json, "history": rows, "history_years": 5,
                     "mfa": {"totp": totp, "recovery_left": recovery_left}, "passkeys": keys,
                     "webauthn_csrf": webauthn_csrf});
    with_new_cookie(s.ui.page(status, "account.html", lang, ctx), cookie)
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
    super::confirm::require_recent(s, headers, &sess, &account).await?;
    Ok((f, sess, account))
}

/// The senders that tell the holder of an account change.
pub(super) fn notifier(s: &AppState) -> Notifier<'_> {
    Notifier {
        sms: s.p.sms.as_ref(),
        email: s.p.email.as_ref(),
    }
}

pub async fn page(State(s): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&s, &headers).await {
        Ok((_, account)) => render(&s, &headers, &account, None, None, StatusCode::OK).await,
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
