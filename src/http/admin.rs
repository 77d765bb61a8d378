//! The admin API (`/admin/v1/…`): the same operations as `eidp admin …`, for an officer's own
//! admin client (client credentials, `admin` scope). The acting officer is the one the
//! calling client is bound to — never a field of the request body, which is refused if it
//! names one — and the audit entry names both the officer and the client. Changes and
//! listings need the officer's `admin` role (in-person verification needs only `officer`).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::respond::{bearer_error, no_store};
use super::{AppState, form, pages};
use crate::backchannel;
use crate::identity::IdentityError;
use crate::identity::level2::{self, InPersonCheck, Officer, ROLE_ADMIN};
use crate::identity::lifecycle::{self, Actor, LockReason};
use crate::oidc::tokens::AccessClaims;
use crate::oidc::userinfo::check_access_token;
use crate::oidc::{OAuthError, split_spaces};
use crate::store::{DeliveryFilter, OfficerRecord};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    evidence_ref: String,
    chip_authentic: bool,
    biometric_match: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `undelivered` (the default: pending and failed), `pending` or `failed`.
    state: Option<String>,
    limit: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockBody {
    reason: Option<String>,
    note: String,
}

/// Admin answers are never cached: they carry personal data and decisions.
pub(super) fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, no_store(), Json(body)).into_response()
}

pub(super) fn error(status: StatusCode, code: &str, description: &str) -> Response {
    answer(
        status,
        json!({"error": code, "error_description": description}),
    )
}

pub(super) fn identity_error(e: IdentityError) -> Response {
    match e {
        IdentityError::NoAccount => error(StatusCode::NOT_FOUND, "not_found", &e.to_string()),
        IdentityError::Forbidden(why) => error(StatusCode::FORBIDDEN, "access_denied", &why),
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

/// A JSON body, or a 400 that says what is wrong with it (an `officer_id` is an unknown field:
/// who acts comes from the credential).
pub(super) fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, Response> {
    b.map(|Json(v)| v)
        .map_err(|e| error(StatusCode::BAD_REQUEST, "invalid_request", &e.body_text()))
}

/// The claims of the request's live bearer token, which must carry `scope` (RFC 6750 §3.1:
/// `invalid_token` 401, `insufficient_scope` 403).
pub(super) async fn scoped_token(
    s: &AppState,
    headers: &HeaderMap,
    scope: &str,
) -> Result<AccessClaims, Response> {
    let token = form::bearer(headers)
        .ok_or_else(|| bearer_error(&OAuthError::invalid_token("an access token is required")))?;
    let (claims, _) = check_access_token(&s.p, &token)
        .await
        .map_err(|e| bearer_error(&e))?;
    if !split_spaces(Some(&claims.scope))
        .iter()
        .any(|sc| sc == scope)
    {
        let why = format!("the {scope} scope is required");
        return Err(bearer_error(&OAuthError::insufficient_scope(why)));
    }
    Ok(claims)
}

/// The officer behind the call: a live access token with the `admin` scope, from an admin
/// client bound to an officer who still exists.
pub(super) async fn acting_officer(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<(OfficerRecord, String), Response> {
    let claims = scoped_token(s, headers, "admin").await?;
    let client = s.p.db.client(&claims.client_id).await;
    let officer_id = match client {
        Ok(Some(c)) => c.officer_id,
        Ok(None) => None,
        Err(e) => return Err(identity_error(e.into())),
    };
    let Some(officer_id) = officer_id else {
        return Err(error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "this client is not bound to an officer: use the officer's own credential",
        ));
    };
    match s.p.db.officer(&officer_id).await {
        Ok(Some(o)) => Ok((o, claims.client_id)),
        Ok(None) => Err(error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "the client's officer no longer exists",
        )),
        Err(e) => Err(identity_error(e.into())),
    }
}

pub async fn verify(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id_number): Path<String>,
    b: Result<Json<VerifyBody>, JsonRejection>,
) -> Response {
    let (officer, client_id) = match acting_officer(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let b = match body(b) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let check = InPersonCheck {
        evidence_ref: b.evidence_ref,
        chip_authentic: b.chip_authentic,
        biometric_match: b.biometric_match,
    };
    let ip = pages::ip(&s, &headers, peer);
    let by = Officer {
        record: &officer,
        client_id: Some(&client_id),
        ip: Some(&ip),
    };
    match level2::verify(s.p.db.as_ref(), &id_number, &check, &by, s.p.now()).await {
        Ok(a) => answer(
            StatusCode::OK,
            json!({"id_number": a.id_number, "level": a.level, "state": a.state, "officer_id": officer.officer_id}),
        ),
        Err(e) => identity_error(e),
    }
}

pub async fn lock(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id_number): Path<String>,
    b: Result<Json<LockBody>, JsonRejection>,
) -> Response {
    change(s, peer, headers, id_number, b, true).await
}

pub async fn unlock(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id_number): Path<String>,
    b: Result<Json<LockBody>, JsonRejection>,
) -> Response {
    change(s, peer, headers, id_number, b, false).await
}

async fn change(
    s: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    id_number: String,
    b: Result<Json<LockBody>, JsonRejection>,
    lock: bool,
) -> Response {
    let (officer, client_id) = match acting_officer(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let b = match body(b) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ip = pages::ip(&s, &headers, peer);
    let by = Officer {
        record: &officer,
        client_id: Some(&client_id),
        ip: Some(&ip),
    };
    if !by.has_role(ROLE_ADMIN) {
        return error(
            StatusCode::FORBIDDEN,
            "access_denied",
            &format!("officer {} lacks the {ROLE_ADMIN} role", officer.officer_id),
        );
    }
    if b.note.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "note: a written reason is required",
        );
    }
    let actor_id = by.actor();
    let actor = Actor {
        id: &actor_id,
        client_id: Some(&client_id),
        ip: Some(&ip),
    };
    let db = s.p.db.as_ref();
    let result = async {
        let account = lifecycle::account_by_id_number(db, &id_number).await?;
        if lock {
            let reason = LockReason::parse(b.reason.as_deref().unwrap_or_default())?;
            lifecycle::lock(db, &account, reason, Some(&b.note), &actor, s.p.now()).await?;
        } else {
            // Nobody lifts a lock on their own account.
            by.check_not_own(&account)?;
            lifecycle::unlock(db, &account, &b.note, &actor, s.p.now()).await?;
        }
        lifecycle::account_by_id_number(db, &id_number).await
    }
    .await;
    match result {
        Ok(a) => answer(
            StatusCode::OK,
            json!({"id_number": a.id_number, "level": a.level, "state": a.state, "lock_reason": a.lock_reason}),
        ),
        Err(e) => identity_error(e),
    }
}

/// Back-channel logouts that did not arrive: pending ones (with their next attempt) and
/// given-up ones, for an admin to follow up with the relying party.
/// The acting officer, who must hold the `admin` role for `what`.
pub(super) async fn admin_officer(
    s: &AppState,
    headers: &HeaderMap,
    what: &str,
) -> Result<(OfficerRecord, String), Response> {
    let (officer, client_id) = acting_officer(s, headers).await?;
    if !officer.roles.iter().any(|r| r == ROLE_ADMIN) {
        let why = format!(
            "officer {} lacks the {ROLE_ADMIN} role, which {what} needs",
            officer.officer_id
        );
        return Err(error(StatusCode::FORBIDDEN, "access_denied", &why));
    }
    Ok((officer, client_id))
}

pub async fn backchannel_logouts(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let (officer, client_id) = match acting_officer(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let by = Officer {
        record: &officer,
        client_id: Some(&client_id),
        ip: None,
    };
    if !by.has_role(ROLE_ADMIN) {
        return error(
            StatusCode::FORBIDDEN,
            "access_denied",
            &format!("officer {} lacks the {ROLE_ADMIN} role", officer.officer_id),
        );
    }
    let q: ListQuery = match form::parse(q.unwrap_or_default().as_bytes()) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_request", &e.description),
    };
    let filter = match q.state.as_deref() {
        None | Some("undelivered") => DeliveryFilter::Undelivered,
        Some("pending") => DeliveryFilter::Pending,
        Some("failed") => DeliveryFilter::Failed,
        Some(_) => {
            let why = "state: undelivered, pending or failed";
            return error(StatusCode::BAD_REQUEST, "invalid_request", why);
        }
    };
    let Ok(limit) = q.limit.as_deref().unwrap_or("100").parse::<i64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "limit: a number",
        );
    };
    match backchannel::list(s.p.db.as_ref(), filter, limit).await {
        Ok(rows) => answer(StatusCode::OK, json!({ "deliveries": rows })),
        Err(e) => identity_error(e.into()),
    }
}
