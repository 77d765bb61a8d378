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
use super::account::{manager, posted, posted_change, render};
use super::pages::{self, csrf, with_new_cookie};
use super::ui::choose_lang;
use crate::authn::manage::{ManageError, PendingTotp};
use crate::crypto::b64url_decode;
use crate::store::AccountRecord;

/// The account page after a change, with `message_key`; or the error page when the change
/// could not be made.
async fn after(
    s: &AppState,
    headers: &HeaderMap,
    account: &AccountRecord,
    made: Result<(), ManageError>,
    message_key: &str,
) -> Response {
    let lang = choose_lang(&[], headers);
    match made {
        Ok(()) => {
            let message = s.ui.t(lang, message_key);
            render(s, headers, account, Some(message), None, StatusCode::OK).await
        }
        Err(ManageError::NotFound) => {
            let err = s.ui.t(lang, "error_bad_request");
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
        Err(e) => {
            tracing::warn!(error = %e, message_key, "account change failed");
            s.ui.try_later(lang)
        }
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

fn show_enrolment(
    s: &AppState,
    headers: &HeaderMap,
    totp: &PendingTotp,
    error: Option<String>,
) -> Response {
    let lang = choose_lang(&[], headers);
    let (token, cookie) = csrf(s, headers, "account");
    let ctx = json!({"csrf": token, "qr": totp.qr, "secret": base32(&totp.secret),
                     "uri": totp.uri, "error": error});
    let status = if ctx["error"].is_null() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    with_new_cookie(s.ui.page(status, "factor_totp.html", lang, ctx), cookie)
}

pub async fn totp_start(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, _, account) = match posted_change(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let ip = pages::ip(&s, &headers, peer);
    match manager(&s, &ip).totp_start(&account).await {
        Ok(totp) => show_enrolment(&s, &headers, &totp, None),
        Err(e) => {
            tracing::warn!(error = %e, "TOTP enrolment could not start");
            let lang = choose_lang(&[], &headers);
            s.ui.try_later(lang)
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
    let ip = pages::ip(&s, &headers, peer);
    let m = manager(&s, &ip);
    let code = f.code.unwrap_or_default();
    match m.totp_confirm(&account, &code).await {
        Err(ManageError::WrongCode) => match m.totp_pending(&account).await {
            Ok(totp) => {
                let err = Some(s.ui.t(lang, "error_code_invalid"));
                show_enrolment(&s, &headers, &totp, err)
            }
            Err(e) => after(&s, &headers, &account, Err(e), "message_totp_added").await,
        },
        Err(ManageError::Expired) => {
            let err = Some(s.ui.t(lang, "error_session_expired"));
            render(&s, &headers, &account, None, err, StatusCode::BAD_REQUEST).await
        }
        made => after(&s, &headers, &account, made, "message_totp_added").await,
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
    let ip = pages::ip(&s, &headers, peer);
    let made = manager(&s, &ip).totp_remove(&account).await;
    after(&s, &headers, &account, made, "message_totp_removed").await
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
    let ip = pages::ip(&s, &headers, peer);
    match manager(&s, &ip).recovery_codes(&account).await {
        Ok(codes) => {
            let lang = choose_lang(&[], &headers);
            let ctx = json!({"codes": codes});
            s.ui.page(StatusCode::OK, "factor_recovery.html", lang, ctx)
        }
        Err(e) => after(&s, &headers, &account, Err(e), "recovery_title").await,
    }
}

fn cred_id(form_value: Option<&str>) -> Option<Vec<u8>> {
    form_value.and_then(b64url_decode)
}

pub async fn rename(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (f, _, account) = match posted(&s, &headers, &body).await {
        Ok(x) => x,
        Err(p) => return p,
    };
    let ip = pages::ip(&s, &headers, peer);
    let made = match cred_id(f.passkey.as_deref()) {
        Some(id) => {
            let name = f.name.unwrap_or_default();
            manager(&s, &ip).rename_passkey(&account, &id, &name).await
        }
        None => Err(ManageError::NotFound),
    };
    after(&s, &headers, &account, made, "message_passkey_renamed").await
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
    let ip = pages::ip(&s, &headers, peer);
    let made = match cred_id(f.passkey.as_deref()) {
        Some(id) => manager(&s, &ip).remove_passkey(&account, &id).await,
        None => Err(ManageError::NotFound),
    };
    after(&s, &headers, &account, made, "message_passkey_removed").await
}
