//! Per-request plumbing: a request id (taken from `X-Request-Id` when sane, else new), an
//! access-log line without query strings (they carry codes and personal data), metrics, and
//! the headers every response carries.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics::METRICS;

const REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    /// This request's id, for pages that show it as a reference (the same id as in its log
    /// lines), and where a GET of this page goes (for the language switcher's way back).
    static CURRENT: (String, String);
}

/// The id of the request being served, if any.
pub fn request_id() -> Option<String> {
    CURRENT.try_with(|c| c.0.clone()).ok()
}

/// The path (and, for a GET, the query) of the page being served.
pub fn request_page() -> Option<String> {
    CURRENT.try_with(|c| c.1.clone()).ok()
}

fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A random prefix per process and a counter: unique across nodes without a call into the
/// kernel's random source on every request.
fn new_request_id() -> String {
    static PREFIX: LazyLock<String> = LazyLock::new(|| {
        crate::crypto::random_id()
            .unwrap_or_default()
            .chars()
            .take(8)
            .collect()
    });
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}-{:x}", *PREFIX, NEXT.fetch_add(1, Ordering::Relaxed))
}

pub async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(String::from)
        .unwrap_or_else(new_request_id);
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", |p| p.as_str());
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id, %method, route = %route);
    // A GET's query comes along (the page keeps its `ar`), unless it is long: a page never
    // echoes an oversized parameter back.
    let with_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let page = match method == axum::http::Method::GET && with_query.len() <= 512 {
        true => with_query.to_string(),
        false => req.uri().path().to_string(),
    };
    let mut resp = CURRENT
        .scope((id.clone(), page), next.run(req).instrument(span.clone()))
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    METRICS.request(route, status, elapsed);
    span.in_scope(|| tracing::info!(status, latency_ms = elapsed * 1000.0, "served"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// On every response, whatever produced it: `X-Content-Type-Options: nosniff` (a JSON or
/// text body is never run as script or style), and on an https issuer HSTS (RFC 6797), so a
/// browser that once reached eidp never again talks to it in the clear. The state is
/// whether the issuer is https.
pub async fn security_headers(
    axum::extract::State(hsts): axum::extract::State<bool>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if hsts {
        h.insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    resp
}
