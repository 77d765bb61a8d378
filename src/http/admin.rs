//! The admin API (`/admin/v1/…`): the same operations as `eidp admin …`, for an admin
//! client's access token with the `admin` scope, on behalf of a named officer.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::respond::bearer_error;
use super::{AppState, form, pages};
use crate::identity::IdentityError;
use crate::identity::level2::{self, InPersonCheck, ROLE_ADMIN};
use crate::identity::lifecycle::{self, Actor, LockReason};
use crate::oidc::userinfo::check_access_token;
use crate::oidc::{OAuthError, split_spaces};

#[derive(Deserialize)]
pub struct VerifyBody {
    officer_id: String,
    evidence_ref: String,
    chip_authentic: bool,
    biometric_match: bool,
}

#[derive(Deserialize)]
pub struct LockBody {
    officer_id: String,
    reason: Option<String>,
    note: String,
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

fn identity_error(e: IdentityError) -> Response {
    match e {
        IdentityError::NoAccount => error(StatusCode::NOT_FOUND, "not_found", &e.to_string()),
        IdentityError::Store(crate::store::StoreError::Unavailable(_)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again",
        ),
        IdentityError::Store(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error",
        ),
        other => error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &other.to_string(),
        ),
    }
}

/// The calling admin client, from a live access token carrying the `admin` scope.
async fn admin_client(s: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    let token = form::bearer(headers)
        .ok_or_else(|| bearer_error(&OAuthError::invalid_token("an access token is required")))?;
    let (claims, _) = check_access_token(&s.p, &token)
        .await
        .map_err(|e| bearer_error(&e))?;
    if !split_spaces(Some(&claims.scope))
        .iter()
        .any(|sc| sc == "admin")
    {
        return Err(bearer_error(&OAuthError::insufficient_scope(
            "the admin scope is required",
        )));
    }
    Ok(claims.client_id)
}

async fn officer_with_role(s: &AppState, officer_id: &str, role: &str) -> Result<(), Response> {
    match s.p.db.officer(officer_id).await {
        Ok(Some(o)) if o.roles.iter().any(|r| r == role) => Ok(()),
        Ok(_) => Err(error(
            StatusCode::FORBIDDEN,
            "access_denied",
            &format!("officer {officer_id} lacks the {role} role"),
        )),
        Err(e) => Err(identity_error(e.into())),
    }
}

pub async fn verify(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id_number): Path<String>,
    Json(b): Json<VerifyBody>,
) -> Response {
    if let Err(r) = admin_client(&s, &headers).await {
        return r;
    }
    let check = InPersonCheck {
        officer_id: b.officer_id,
        evidence_ref: b.evidence_ref,
        chip_authentic: b.chip_authentic,
        biometric_match: b.biometric_match,
    };
    let ip = pages::ip(&s, &headers, peer);
    match level2::verify(s.p.db.as_ref(), &id_number, &check, Some(&ip), s.p.now()).await {
        Ok(a) => Json(json!({"id_number": a.id_number, "level": a.level, "state": a.state}))
            .into_response(),
        Err(e) => identity_error(e),
    }
}

pub async fn lock(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id_number): Path<String>,
    Json(b): Json<LockBody>,
) -> Response {
    change(s, peer, headers, id_number, b, true).await
}

pub async fn unlock(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id_number): Path<String>,
    Json(b): Json<LockBody>,
) -> Response {
    change(s, peer, headers, id_number, b, false).await
}

async fn change(
    s: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    id_number: String,
    b: LockBody,
    lock: bool,
) -> Response {
    if let Err(r) = admin_client(&s, &headers).await {
        return r;
    }
    if let Err(r) = officer_with_role(&s, &b.officer_id, ROLE_ADMIN).await {
        return r;
    }
    if b.note.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "note: a written reason is required",
        );
    }
    let ip = pages::ip(&s, &headers, peer);
    let actor_id = format!("officer:{}", b.officer_id);
    let actor = Actor {
        id: &actor_id,
        ip: Some(&ip),
    };
    let db = s.p.db.as_ref();
    let result = async {
        let account = lifecycle::account_by_id_number(db, &id_number).await?;
        if lock {
            let reason = LockReason::parse(b.reason.as_deref().unwrap_or_default())?;
            lifecycle::lock(db, &account, reason, Some(&b.note), &actor, s.p.now()).await?;
        } else {
            lifecycle::unlock(db, &account, &b.note, &actor, s.p.now()).await?;
        }
        lifecycle::account_by_id_number(db, &id_number).await
    }
    .await;
    match result {
        Ok(a) => Json(json!({"id_number": a.id_number, "level": a.level, "state": a.state, "lock_reason": a.lock_reason})).into_response(),
        Err(e) => identity_error(e),
    }
}
