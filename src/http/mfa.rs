//! Managing second factors from the account page: add an authenticator app (TOTP, with an
//! `otpauth://` URI and a QR code, confirmed by a first code), remove it (password again),
//! and make ten recovery codes (shown once).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::account::{posted, render};
use super::pages::{self, csrf, with_new_cookie};
use super::ui::choose_lang;
use crate::audit::{self, Event, actions};
use crate::authn::{factors, password};
use crate::store::AccountRecord;

const PENDING_TTL: u64 = 600;

fn pending_key(sub: &str) -> String {
    format!("totp-pending:{sub}")
}

/// Record a change to the account's factors and show the account page with `message_key`.
async fn done(
    s: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    account: &AccountRecord,
    action: &'static str,
    message_key: &str,
) -> Response {
    note(s, account, action, pages::ip(s, headers, peer)).await;
    let message = s.ui.t(choose_lang(&[], headers), message_key);
    render(s, headers, account, Some(message), None, StatusCode::OK).await
}

async fn note(s: &AppState, account: &AccountRecord, action: &'static str, ip: String) {
    let e = Event {
        actor: account.sub.clone(),
        action,
        subject: Some(account.sub.clone()),
        ip: Some(ip),
        ..Default::default()
    };
    if let Err(e) = audit::record(s.p.db.as_ref(), e, s.p.now()).await {
        tracing::warn!(error = %e, "audit record failed");
    }
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
    let (_, account) = match posted(&s, &headers, &body).await {
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
    let (f, account) = match posted(&s, &headers, &body).await {
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
    }
    .await;
    if let Err(e) = saved {
        tracing::warn!(error = %e, "TOTP enrolment failed");
        return s
            .ui
            .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
    }
    done(
        &s,
        &headers,
        peer,
        &account,
        actions::TOTP_ENROLLED,
        "message_totp_added",
    )
    .await
}

/// Removing a factor needs the password again (re-authentication).
pub async fn totp_remove(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (f, account) = match posted(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    let given = f.current_password.unwrap_or_default();
    if !password::matches(given, account.password_hash.clone()).await {
        return render(
            &s,
            &headers,
            &account,
            None,
            Some(s.ui.t(lang, "error_current_password")),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    if let Err(e) = s.p.db.delete_totp(&account.sub).await {
        tracing::warn!(error = %e, "TOTP removal failed");
        return s
            .ui
            .error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later");
    }
    done(
        &s,
        &headers,
        peer,
        &account,
        actions::TOTP_REMOVED,
        "message_totp_removed",
    )
    .await
}

pub async fn recovery(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, account) = match posted(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let lang = choose_lang(&[], &headers);
    match factors::new_recovery_codes(s.p.db.as_ref(), &s.p.kek, &account.sub, s.p.now()).await {
        Ok(codes) => {
            note(
                &s,
                &account,
                actions::RECOVERY_CODES,
                pages::ip(&s, &headers, peer),
            )
            .await;
            s.ui.page(
                StatusCode::OK,
                "mfa_recovery.html",
                lang,
                json!({"codes": codes}),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "recovery codes not made");
            s.ui.error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later")
        }
    }
}
