//! The face step of the step-up page (`POST /login/step-up/face?ar=…`). The page's script
//! (`/static/face.js`) shows the camera, takes one frame and sends it here as the request body
//! (`Content-Type: image/jpeg` or `image/png`, at most 2 MiB) with the page's CSRF token in
//! `X-CSRF-Token`. The frame is matched against the register's portrait through the sign-in
//! pipeline (`authn::signin::prove`: throttle → match → record the result → session) and
//! dropped. The answer is JSON for the script: `{"redirect": …}` to go on, or
//! `{"error", "message"}` with the message in the person's language.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::interaction::{self, engine};
use super::login::{query, wait_message};
use super::pages::{self, csrf_ok};
use super::stepup::{here, purpose};
use super::ui::choose_lang;
use super::{AppState, SESSION_COOKIE, form, paths};
use crate::authn::AuthnError;
use crate::authn::biometric::{FaceImage, ImageError, ImageType};
use crate::authn::inventory::Factor;
use crate::authn::signin::{self, Proof, Purpose};
use crate::metrics::METRICS;

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../templates/face.js"),
    )
        .into_response()
}

fn answer(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({"error": code, "message": message}))).into_response()
}

/// The refusal of an image that is not one (before anything is counted or matched).
fn bad_image(s: &AppState, lang: &str, e: ImageError) -> Response {
    let (status, key) = match e {
        ImageError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "face_too_large"),
        ImageError::Empty | ImageError::Type => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "face_bad_image")
        }
    };
    answer(status, "invalid_request", s.ui.t(lang, key))
}

fn refused(s: &AppState, lang: &str, e: AuthnError) -> Response {
    let t = |k: &str| s.ui.t(lang, k);
    match e {
        AuthnError::InvalidCredentials => {
            METRICS.signin("face", "invalid");
            answer(
                StatusCode::UNAUTHORIZED,
                "not_matched",
                t("face_not_matched"),
            )
        }
        AuthnError::FaceUnusable => {
            METRICS.signin("face", "invalid");
            answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unusable",
                t("face_unusable"),
            )
        }
        AuthnError::Throttled(r) => answer(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            wait_message(s, lang, r),
        ),
        AuthnError::Unavailable(_) | AuthnError::Store(_) => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            t("face_service_unavailable"),
        ),
        other => {
            tracing::warn!(error = %other, "face step failed");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                t("error_internal"),
            )
        }
    }
}

pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let ar = query(q).ar.unwrap_or_default();
    let lang = choose_lang(&[], &headers);
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !csrf_ok(&s, &headers, &purpose(&ar), token) {
        return answer(
            StatusCode::FORBIDDEN,
            "invalid_request",
            s.ui.t(lang, "error_csrf"),
        );
    }
    let Some(matcher) = s.services.face.clone() else {
        let msg = s.ui.t(lang, "face_service_unavailable");
        return answer(StatusCode::NOT_FOUND, "not_supported", msg);
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let kind = match ImageType::of(content_type, &body) {
        Ok(k) => k,
        Err(e) => return bad_image(&s, lang, e),
    };
    // Not (or no longer) at a step-up that offers the face: the page says where things stand.
    let again = Json(json!({"redirect": format!("{}?ar={ar}", paths::STEP_UP)}));
    let Ok(h) = here(&s, &headers, &ar).await else {
        return again.into_response();
    };
    if !h.plan.factors.contains(&Factor::Face) {
        return again.into_response();
    }
    let lang = choose_lang(&h.pending.request.ui_locales, &headers);
    let Some(cookie) = form::cookie(&headers, SESSION_COOKIE) else {
        return again.into_response();
    };
    let ip = pages::ip(&s, &headers, peer);
    let cx = pages::signin_context(&s, &headers, &ip, Some(&h.client.client_id));
    let image = FaceImage { bytes: &body, kind };
    let proof = Proof::Face(matcher.as_ref(), image);
    match signin::prove(&cx, &cookie, &h.session, &h.account, proof, Purpose::StepUp).await {
        Ok(up) => {
            METRICS.signin("face", "success");
            let next = engine(&s)
                .advance(&ar, h.pending.clone(), &h.client, Some((&up, &h.account)))
                .await;
            match interaction::location(&ar, &next) {
                Some(url) => Json(json!({"redirect": url})).into_response(),
                None => refused(&s, lang, AuthnError::Unavailable("interaction".into())),
            }
        }
        Err(e) => refused(&s, lang, e),
    }
}
