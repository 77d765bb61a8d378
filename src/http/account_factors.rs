//! Managing the account's further factors from the account page: add an authenticator app
//! (TOTP, with an `otpauth://` URI and a QR code, confirmed by a first code) or remove it,
//! make ten recovery codes (shown once), rename or remove a passkey (adding one is a WebAuthn
//! ceremony, in `passkeys`). Each change but a rename needs a recent confirmation
//! (`authn::reauth`), is recorded before it is made and told to the holder (`authn::changes`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::account::{notifier, posted, posted_change, render};
use super::pages::{self, csrf, with_new_cookie};
use super::ui::choose_lang;
use crate::authn::changes::{self, Change, Origin};
use crate::authn::{AuthnError, factors};
use crate::crypto::b64url_decode;
use crate::store::{AccountRecord, StoreError};

const PENDING_TTL: u64 = 600;

fn pending_key(sub: &str) -> String {
    format!("totp-pending:{sub}")
}

/// Make `change` through `authn::changes` and show the account page with `message_key`.
async fn change<T>(
    s: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    account: &AccountRecord,
    what: Change,
    message_key: &str,
    make: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, Response> {
    let ip = pages::ip(s, headers, peer);
    let origin = Origin {
        ip: &ip,
        now: s.p.now(),
    };
    let made = changes::apply(s.p.db.as_ref(), &notifier(s), account, what, &origin, make).await;
    let lang = choose_lang(&[], headers);
    match made {
        Ok(v) => Ok(v),
        Err(e) => {
            tracing::warn!(error = %e, message_key, "account change failed");
            Err(s
                .ui
                .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later"))
        }
    }
}

async fn done(
    s: &AppState,
    headers: &HeaderMap,
    account: &AccountRecord,
    message_key: &str,
) -> Response {
    let message = s.ui.t(choose_lang(&[], headers), message_key);
    render(s, headers, account, Some(message), None, StatusCode::OK).await
}

fn base32(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            out.push(A[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(A[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

async fn show_enrolment(
    s: &AppState,
    headers: &HeaderMap,
    account: &AccountRecord,
    secret: &[u8],
    error: Option<String>,
) -> Response {
    let lang = choose_lang(&[], headers);
    let view =
        factors::totp(secret, &account.id_number, "eidp").and_then(|t| factors::enrolment_view(&t));
    let Ok((uri, qr)) = view else {
        return s
            .ui
            .error(StatusCode::INTERNAL_SERVER_ERROR, lang, "error_internal");
    };
    let (token, cookie) = csrf(s, headers, "account");
    let ctx =
        json!({"csrf": token, "qr": qr, "secret": base32(secret), "uri": uri, "error": error});
    let status = if ctx["error"].is_null() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    with_new_cookie(s.ui.page(status, "mfa_totp.html", lang, ctx), cookie)
}

pub async fn totp_start(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (_, _, account) = match posted_change(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    let saved = async {
        let secret = factors::new_totp_secret().map_err(|e| e.to_string())?;
        let sealed =
            factors::seal_totp(&s.p.kek, &account.sub, &secret).map_err(|e| e.to_string())?;
        s.p.eph
            .put(&pending_key(&account.sub), &sealed, PENDING_TTL)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(secret)
    }
    .await;
    match saved {
        Ok(secret) => show_enrolment(&s, &headers, &account, &secret, None).await,
        Err(e) => {
            tracing::warn!(error = %e, "TOTP enrolment could not start");
            s.ui.error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later")
        }
    }
}

pub async fn totp_confirm(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (f, _, account) = match posted_change(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    let sealed = match s.p.eph.get(&pending_key(&account.sub)).await {
        Ok(Some(v)) => v,
        _ => {
            return render(
                &s,
                &headers,
                &account,
                None,
                Some(s.ui.t(lang, "error_session_expired")),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let Ok(secret) = s.p.kek.open(&format!("totp:{}", account.sub), &sealed) else {
        return s
            .ui
            .error(StatusCode::INTERNAL_SERVER_ERROR, lang, "error_internal");
    };
    let now = s.p.now();
    let step = factors::totp(&secret, &account.id_number, "eidp")
        .ok()
        .and_then(|t| t.check(f.code.as_deref().unwrap_or_default().trim(), now as u64));
    let Some(step) = step else {
        return show_enrolment(
            &s,
            &headers,
            &account,
            &secret,
            Some(s.ui.t(lang, "error_code_invalid")),
        )
        .await;
    };
    let saved = async {
        s.p.db.put_totp(&account.sub, &sealed, now).await?;
        // The confirming code is spent too: it cannot sign in a second time.
        s.p.db.use_totp_step(&account.sub, step as i64).await?;
        s.p.eph.delete(&pending_key(&account.sub)).await
    };
    let key = "message_totp_added";
    match change(&s, &headers, peer, &account, Change::TotpAdded, key, saved).await {
        Ok(()) => done(&s, &headers, &account, key).await,
        Err(page) => page,
    }
}

pub async fn totp_remove(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, _, account) = match posted_change(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let removed = s.p.db.delete_totp(&account.sub);
    let key = "message_totp_removed";
    match change(
        &s,
        &headers,
        peer,
        &account,
        Change::TotpRemoved,
        key,
        removed,
    )
    .await
    {
        Ok(()) => done(&s, &headers, &account, key).await,
        Err(page) => page,
    }
}

pub async fn recovery(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, _, account) = match posted_change(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    let made = async {
        factors::new_recovery_codes(s.p.db.as_ref(), &s.p.kek, &account.sub, s.p.now())
            .await
            .map_err(|e| match e {
                AuthnError::Store(e) => e,
                other => StoreError::Other(other.to_string()),
            })
    };
    let what = Change::RecoveryCodesMade;
    match change(&s, &headers, peer, &account, what, "recovery_title", made).await {
        Ok(codes) => s.ui.page(
            StatusCode::OK,
            "mfa_recovery.html",
            lang,
            json!({"codes": codes}),
        ),
        Err(page) => page,
    }
}

fn cred_id(form_value: Option<&str>) -> Option<Vec<u8>> {
    form_value.and_then(b64url_decode)
}

pub async fn rename(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, _, account) = match posted(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    let name: String = f.name.unwrap_or_default().trim().chars().take(60).collect();
    let ok = match cred_id(f.passkey.as_deref()) {
        Some(id) if !name.is_empty() => {
            s.p.db
                .rename_passkey(&account.sub, &id, &name)
                .await
                .unwrap_or(false)
        }
        _ => false,
    };
    let (msg, err) = if ok {
        (Some(s.ui.t(lang, "message_passkey_renamed")), None)
    } else {
        (None, Some(s.ui.t(lang, "error_bad_request")))
    };
    render(
        &s,
        &headers,
        &account,
        msg,
        err,
        if ok {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
    )
    .await
}

pub async fn delete(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (f, _, account) = match posted_change(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    let db = s.p.db.as_ref();
    let found = match cred_id(f.passkey.as_deref()) {
        Some(id) => match db.passkeys_of(&account.sub).await {
            Ok(keys) => keys.into_iter().find(|k| k.cred_id == id),
            Err(_) => {
                return s
                    .ui
                    .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
            }
        },
        None => None,
    };
    let Some(key) = found else {
        let err = s.ui.t(lang, "error_bad_request");
        return render(
            &s,
            &headers,
            &account,
            None,
            Some(err),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let ip = pages::ip(&s, &headers, peer);
    let origin = Origin {
        ip: &ip,
        now: s.p.now(),
    };
    let what = Change::PasskeyRemoved(key.name.clone());
    let removed = db.delete_passkey(&account.sub, &key.cred_id);
    match changes::apply(db, &notifier(&s), &account, what, &origin, removed).await {
        Ok(_) => {
            let msg = s.ui.t(lang, "message_passkey_removed");
            render(&s, &headers, &account, Some(msg), None, StatusCode::OK).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "passkey not removed");
            s.ui.error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later")
        }
    }
}
