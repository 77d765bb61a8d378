//! The person's consents on the account page: a printable receipt per consent given, and
//! withdrawal. Withdrawing ends the service's refresh and access tokens at once, and its next
//! request asks for consent again (`consent::withdraw`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::account::{posted, refused, render, signed_in};
use super::pages;
use super::ui::{choose_lang, local_date_time};
use crate::consent::{self, Giving};
use crate::ids::ClientId;

/// One receipt of the signed-in person, printable.
pub async fn receipt(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = choose_lang(&[], &headers);
    let (_, account) = match signed_in(&s, &headers).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let receipts = match s.p.db.receipts_of(&account.sub).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "receipt page: receipts unreadable");
            return s.ui.try_later(lang);
        }
    };
    // Only the person's own: another's id reads as unknown.
    let Some(r) = receipts.into_iter().find(|r| r.id == id) else {
        return s
            .ui
            .error(StatusCode::NOT_FOUND, lang, "error_receipt_not_found");
    };
    let is_shared = |claim: &str| {
        claim == "sub" || claim == "offline_access" || r.granted.iter().any(|g| g == claim)
    };
    let shared: Vec<_> = r
        .shown
        .items
        .iter()
        .filter(|i| is_shared(&i.claim))
        .collect();
    let declined: Vec<_> = r
        .shown
        .items
        .iter()
        .filter(|i| !is_shared(&i.claim))
        .collect();
    let ctx = json!({
        "r": {"id": r.id, "shown": r.shown, "shown_hash": r.shown_hash},
        "given": local_date_time(lang, r.given_at),
        "withdrawn": r.withdrawn_at.map(|t| local_date_time(lang, t)),
        "shared": shared, "declined": declined,
    });
    s.ui.page(StatusCode::OK, "consent_receipt.html", lang, ctx)
}

/// Withdraw consent for one service.
pub async fn withdraw(
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
    let Some(client_id) = f.client_id.and_then(|c| ClientId::parse(c).ok()) else {
        return refused(&s, &headers, &account, "error_bad_request").await;
    };
    let ip = pages::ip(&s, &headers, peer);
    let giving = Giving {
        sub: &account.sub,
        client_id: &client_id,
        ip: Some(&ip),
        now: s.p.now(),
    };
    match consent::withdraw(s.p.db.as_ref(), &giving).await {
        Ok(_) => {
            let msg = s.ui.t(lang, "connected_withdrawn");
            render(&s, &headers, &account, Some(msg), None, StatusCode::OK).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "consent withdrawal failed");
            s.ui.try_later(lang)
        }
    }
}
