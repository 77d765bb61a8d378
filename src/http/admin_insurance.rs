//! `GET /admin/v1/insurance/lookups?client_id=…[&since=YYYY-MM-DD][&limit=N]`: a hospital's
//! eligibility look-ups for an officer with the `admin` role — operator, purpose, patient,
//! outcome — each flagged when the operator has no matching officer record or when it fell
//! in an hour unusually busy for that hospital (`rp_api::lookups`).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::admin::{admin_officer, answer, error, identity_error};
use super::{AppState, form};
use crate::rp_api::lookups;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupsQuery {
    client_id: Option<String>,
    /// `YYYY-MM-DD` (UTC); the default is a week ago.
    since: Option<String>,
    limit: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = admin_officer(&s, &headers, "listing insurance look-ups").await {
        return r;
    }
    let bad = |why: &str| error(StatusCode::BAD_REQUEST, "invalid_request", why);
    let q: LookupsQuery = match form::parse(q.unwrap_or_default().as_bytes()) {
        Ok(q) => q,
        Err(e) => return bad(&e.description),
    };
    let Some(client_id) = q.client_id.filter(|c| !c.is_empty()) else {
        return bad("client_id: the hospital's client id is required");
    };
    let now = s.p.now();
    let since = match q.since.as_deref() {
        None => now - 7 * 86_400,
        Some(d) => match crate::identity::accounts::day_start(d) {
            Some(t) => t,
            None => return bad("since: a date YYYY-MM-DD"),
        },
    };
    let limit = match q.limit.as_deref().unwrap_or("1000").parse::<i64>() {
        Ok(n) if (1..=10_000).contains(&n) => n,
        _ => return bad("limit: a number 1-10000"),
    };
    match lookups::for_client(s.p.db.as_ref(), &client_id, since, limit, now).await {
        Ok(listing) => answer(StatusCode::OK, json!(listing)),
        Err(e) => identity_error(e.into()),
    }
}
