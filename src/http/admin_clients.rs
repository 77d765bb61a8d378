//! The admin API for relying-party clients (`/admin/v1/clients…`): the same operations as
//! `eidp admin clients …`, for an officer with the `admin` role, through the officer's own
//! admin client (see `admin`). Each handler parses, calls `oidc::clients` (`register`,
//! `view`, `manage`), and answers JSON; a secret appears only in the answer that made it.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::admin::{admin_officer, answer, body, error};
use super::{AppState, pages};
use crate::oidc::clients::manage::{self, ClientUpdate, Desk};
use crate::oidc::clients::{self, NewClient, RegisterError, Registry, view};
use crate::store::{Profile, Purpose, StoreError, SubjectType};

/// A registration, as `eidp admin clients create` takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    kind: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
    token_endpoint_auth_method: Option<String>,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
    grant_types: Option<Vec<String>>,
    id_token_alg: Option<String>,
    scopes: Option<Vec<String>>,
    min_account_level: Option<i64>,
    min_acr: Option<String>,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<i64>,
    subject_type: Option<SubjectType>,
    sector_identifier_uri: Option<String>,
    policy_override: Option<String>,
    #[serde(default)]
    purposes: Vec<Purpose>,
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
    /// `fapi2` or `standard`; a bank's default is `fapi2`.
    profile: Option<Profile>,
}

/// A change: absent fields stay; `null` clears a nullable one. The kind, the way the client
/// authenticates and its grant types are not changed here (register a new client).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    min_account_level: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    min_acr: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    access_token_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    refresh_token_ttl: Option<Option<i64>>,
    purposes: Option<Vec<Purpose>>,
    #[serde(default, deserialize_with = "nullable")]
    backchannel_logout_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    sector_identifier_uri: Option<Option<String>>,
    policy_override: Option<String>,
}

/// Present (even as `null`) is `Some`: `null` clears, absence leaves alone.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: Option<String>,
}

/// Who acts: an officer with the `admin` role, through their own admin client.
struct Caller {
    officer_id: String,
    actor: String,
    via: String,
    ip: String,
}

async fn caller(s: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Result<Caller, Response> {
    let (officer, via) = admin_officer(s, headers, "managing clients").await?;
    Ok(Caller {
        actor: format!("officer:{}", officer.officer_id),
        officer_id: officer.officer_id,
        via,
        ip: pages::ip(s, headers, peer),
    })
}

fn desk<'a>(s: &'a AppState, c: &'a Caller) -> Desk<'a> {
    Desk {
        reg: Registry::of(&s.p, &c.actor),
        eph: s.p.eph.as_ref(),
        cache: Some(&s.p.client_cache),
        officer: Some(&c.officer_id),
        via: Some(&c.via),
        ip: Some(&c.ip),
    }
}

/// Bad input names its field (RFC 7591 §3.2.2 `invalid_client_metadata`); an unknown client
/// is 404; a store that cannot answer, 503.
fn client_error(e: RegisterError) -> Response {
    match e {
        RegisterError::Rule(r) => answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_client_metadata", "field": r.field, "error_description": r.to_string()}),
        ),
        RegisterError::NotFound => error(StatusCode::NOT_FOUND, "not_found", &e.to_string()),
        RegisterError::Conflict => error(StatusCode::CONFLICT, "conflict", &e.to_string()),
        RegisterError::Forbidden(why) => error(StatusCode::FORBIDDEN, "access_denied", &why),
        RegisterError::Store(StoreError::Unavailable(_)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again",
        ),
        RegisterError::Store(e) => {
            tracing::error!(error = %e, "client admin");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            )
        }
    }
}

fn ok(v: serde_json::Value) -> Response {
    answer(StatusCode::OK, v)
}

/// An optional JSON body (`{"reason": …}`); an empty one is none.
fn reason(b: &[u8]) -> Result<Option<String>, Response> {
    if b.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice::<ReasonBody>(b)
        .map(|r| r.reason)
        .map_err(|e| error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()))
}

pub async fn list(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = caller(&s, &headers, peer).await {
        return r;
    }
    match view::list(s.p.db.as_ref()).await {
        Ok(all) => ok(json!({ "clients": all })),
        Err(e) => client_error(e),
    }
}

pub async fn show(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Response {
    if let Err(r) = caller(&s, &headers, peer).await {
        return r;
    }
    match view::show(s.p.db.as_ref(), &client_id).await {
        Ok(c) => ok(json!(c)),
        Err(e) => client_error(e),
    }
}

pub async fn create(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    b: Result<Json<CreateBody>, JsonRejection>,
) -> Response {
    let c = match caller(&s, &headers, peer).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let b = match body(b) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if b.kind == "admin" {
        // An admin client acts for one officer: it is made with the officer
        // (`eidp admin officers create`), never on its own.
        let e = clients::ClientRuleError {
            field: "kind",
            reason: "admin clients are officers' credentials: eidp admin officers create".into(),
        };
        return client_error(e.into());
    }
    let n = NewClient {
        name: b.name,
        kind: b.kind,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        public: b.public,
        auth_method: b.token_endpoint_auth_method,
        jwks: b.jwks.map(|j| j.to_string()),
        jwks_uri: b.jwks_uri,
        grant_types: b.grant_types,
        id_token_alg: b.id_token_alg,
        scopes: b.scopes,
        min_account_level: b.min_account_level,
        min_acr: b.min_acr,
        access_token_ttl: b.access_token_ttl,
        refresh_token_ttl: b.refresh_token_ttl,
        subject_type: b.subject_type,
        sector_identifier_uri: b.sector_identifier_uri,
        verified_sector: None,
        policy_override: b.policy_override,
        officer_id: None,
        purposes: b.purposes,
        backchannel_logout_uri: b.backchannel_logout_uri,
        backchannel_logout_session_required: b.backchannel_logout_session_required,
        profile: b.profile,
    };
    match clients::register(&Registry::of(&s.p, &c.actor), &n).await {
        Ok((rec, secret)) => answer(
            StatusCode::CREATED,
            json!({"client": view::ClientView::from(&rec), "client_secret": secret}),
        ),
        Err(e) => client_error(e),
    }
}

pub async fn update(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    b: Result<Json<UpdateBody>, JsonRejection>,
) -> Response {
    let c = match caller(&s, &headers, peer).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let b = match body(b) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let u = ClientUpdate {
        name: b.name,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        scopes: b.scopes,
        min_account_level: b.min_account_level,
        min_acr: b.min_acr,
        access_token_ttl: b.access_token_ttl,
        refresh_token_ttl: b.refresh_token_ttl,
        purposes: b.purposes,
        backchannel_logout_uri: b.backchannel_logout_uri,
        sector_identifier_uri: b.sector_identifier_uri,
        policy_override: b.policy_override,
    };
    match manage::update(&desk(&s, &c), &client_id, &u).await {
        Ok(v) => ok(json!(v)),
        Err(e) => client_error(e),
    }
}

pub async fn rotate_secret(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Response {
    let c = match caller(&s, &headers, peer).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match manage::rotate_secret(&desk(&s, &c), &client_id).await {
        Ok((v, secret)) => ok(json!({"client": v, "client_secret": secret})),
        Err(e) => client_error(e),
    }
}

pub async fn disable(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    b: Bytes,
) -> Response {
    switch(&s, (&headers, peer), &client_id, &b, false).await
}

pub async fn enable(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    b: Bytes,
) -> Response {
    switch(&s, (&headers, peer), &client_id, &b, true).await
}

/// Disable or enable a client, with the reason the body may give.
async fn switch(
    s: &AppState,
    (headers, peer): (&HeaderMap, SocketAddr),
    client_id: &str,
    b: &[u8],
    on: bool,
) -> Response {
    let c = match caller(s, headers, peer).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let why = match reason(b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let d = desk(s, &c);
    let done = match on {
        true => manage::enable(&d, client_id, why.as_deref())
            .await
            .map(|v| json!({ "client": v })),
        false => manage::disable(&d, client_id, why.as_deref())
            .await
            .map(|(v, revoked)| json!({"client": v, "grants_revoked": revoked})),
    };
    match done {
        Ok(v) => ok(v),
        Err(e) => client_error(e),
    }
}
