//! Discovery, JWKS and operational endpoints.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

pub async fn discovery(State(s): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        s.discovery.clone(),
    )
        .into_response()
}

pub async fn jwks(State(s): State<AppState>) -> Response {
    let body = axum::body::Bytes::from_owner(s.p.keys.current().jwks_json(s.p.now()));
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            // Short: a rotated key must reach relying parties before it signs.
            (header::CACHE_CONTROL, "public, max-age=60"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body,
    )
        .into_response()
}

/// `/metrics` on the main address: only with the configured bearer token. Without one it is
/// not served there at all (operators use `metrics_listen`, an internal address).
pub async fn metrics_with_token(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = &s.p.cfg.metrics_token else {
        return not_found().await.into_response();
    };
    let given = super::form::bearer(&headers).unwrap_or_default();
    if !crate::crypto::constant_time_eq(given.as_bytes(), expected.0.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"eidp-metrics\"")],
            "a metrics token is required",
        )
            .into_response();
    }
    metrics().await
}

pub async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::METRICS.render(),
    )
        .into_response()
}

/// The language switcher: remember the choice (a year) and go back to the page it was made
/// on — only a path on this site, never elsewhere.
pub async fn language(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let q = super::form::parse::<std::collections::HashMap<String, String>>(
        q.unwrap_or_default().as_bytes(),
    )
    .unwrap_or_default();
    let lang = q
        .get("set")
        .and_then(|l| super::ui::LANGS.iter().find(|x| **x == l.as_str()))
        .copied()
        .unwrap_or("vi");
    let next = q
        .get("next")
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .cloned()
        .unwrap_or_else(|| super::paths::ACCOUNT.to_string());
    let cookie = format!(
        "{}={lang}; Path=/; SameSite=Lax; Max-Age={}{}",
        super::ui::LANG_COOKIE,
        365 * 24 * 3600,
        if s.p.cfg.issuer_is_https() {
            "; Secure"
        } else {
            ""
        }
    );
    super::respond::with_cookies(super::respond::see_other(&next), &[cookie])
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(s): State<AppState>) -> Response {
    let db = s.p.db.ping().await;
    let eph = s.p.eph.ping().await;
    match (db, eph) {
        (Ok(()), Ok(())) => (StatusCode::OK, "ready").into_response(),
        (db, eph) => {
            let why = format!(
                "not ready: database {}, ephemeral store {}",
                if db.is_ok() { "ok" } else { "unreachable" },
                if eph.is_ok() { "ok" } else { "unreachable" }
            );
            (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
        }
    }
}

pub async fn index(State(s): State<AppState>) -> String {
    format!(
        "eidp OpenID Connect provider\nissuer: {}\ndiscovery: {}\n",
        s.p.issuer(),
        s.p.cfg.url(crate::oidc::paths::DISCOVERY)
    )
}

pub async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found")
}
