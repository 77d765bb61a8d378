//! The external face matcher (`face.matcher = "http"`) against a small local stub of a
//! biometric verification service: match, refuse, unusable image, down (503 to the page, the
//! try given back), and a wrong shared key (503, logged as a configuration fault).

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use crate::common::{Options, TestServer};
use crate::face::{finish, jpeg, latest, loa3_client, send_face, to_face_step};
use eidp::config::{Config, FaceMatcherKind, Secret};

const KEY: &str = "stub-shared-key";

#[derive(Default)]
struct Stub {
    /// `match`, `refuse`, `unusable` or `down`.
    mode: Mutex<&'static str>,
    /// What the stub was asked: the ID number and the image, decoded.
    asked: Mutex<Vec<(String, Vec<u8>)>>,
    refused_keys: Mutex<usize>,
}

async fn answer(State(st): State<Arc<Stub>>, headers: HeaderMap, Json(q): Json<Value>) -> Response {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(KEY) {
        *st.refused_keys.lock().unwrap() += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let image = base64::engine::general_purpose::STANDARD
        .decode(q["image"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let id = q["id_number"].as_str().unwrap_or_default().to_string();
    st.asked.lock().unwrap().push((id, image));
    let mode = *st.mode.lock().unwrap();
    match mode {
        "match" => {
            Json(json!({"matched": true, "score": 0.91, "matcher": "stub-v1"})).into_response()
        }
        "refuse" => {
            Json(json!({"matched": false, "score": 0.21, "matcher": "stub-v1"})).into_response()
        }
        "unusable" => StatusCode::UNPROCESSABLE_ENTITY.into_response(),
        _ => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The stub on a free port; its URL.
async fn stub(st: Arc<Stub>) -> String {
    let app = axum::Router::new()
        .route("/v1/match", axum::routing::post(answer))
        .with_state(st);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/match", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn eidp_using(url: String, key: &str) -> TestServer {
    let key = key.to_string();
    TestServer::start_with(Options {
        configure_with: Some(Box::new(move |c: &mut Config| {
            c.face.matcher = Some(FaceMatcherKind::Http);
            c.face.url = Some(url);
            c.face.key = Some(Secret(key));
            c.face.timeout_millis = 3000;
        })),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn the_external_matcher_decides_and_its_outages_cost_no_tries() {
    let st = Arc::new(Stub::default());
    let s = eidp_using(stub(st.clone()).await, KEY).await;
    let who = s.citizen(170).await;
    let (c, secret) = loa3_client(&s).await;
    let at = to_face_step(&s, &who, &c).await;
    let set = |m: &'static str| *st.mode.lock().unwrap() = m;

    // Down: a clear 503 each time, and no try is counted (ten in a row would lock out).
    set("down");
    for _ in 0..12 {
        let (status, body) = send_face(&s, &at, "image/jpeg", jpeg()).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    assert_eq!(latest(&s, &who.sub).await, None);

    set("unusable");
    let (status, body) = send_face(&s, &at, "image/jpeg", jpeg()).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("unusable")));

    set("refuse");
    let (status, _) = send_face(&s, &at, "image/jpeg", jpeg()).await;
    assert_eq!(status, 401);
    let check = latest(&s, &who.sub).await.unwrap();
    assert_eq!((check.matched, check.matcher.as_str()), (false, "stub-v1"));

    set("match");
    let (status, body) = send_face(&s, &at, "image/jpeg", jpeg()).await;
    assert_eq!(status, 200, "{body}");
    let check = latest(&s, &who.sub).await.unwrap();
    assert_eq!((check.matched, check.score), (true, 0.91));
    let idt = finish(&s, &at, body["redirect"].as_str().unwrap(), &c, &secret).await;
    assert_eq!(idt["acr"], "urn:vn:eid:loa:3");

    // The service got the ID number and exactly the frame sent.
    let asked = st.asked.lock().unwrap();
    assert!(
        asked
            .iter()
            .all(|(id, img)| *id == who.id_number && *img == jpeg())
    );
    assert_eq!(*st.refused_keys.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_wrong_shared_key_or_no_service_is_a_503() {
    let st = Arc::new(Stub::default());
    *st.mode.lock().unwrap() = "match";
    let s = eidp_using(stub(st.clone()).await, "not-the-key").await;
    let who = s.citizen(171).await;
    let (c, _) = loa3_client(&s).await;
    let at = to_face_step(&s, &who, &c).await;
    let (status, body) = send_face(&s, &at, "image/jpeg", jpeg()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        *st.refused_keys.lock().unwrap(),
        1,
        "the service refused the key"
    );
    assert_eq!(latest(&s, &who.sub).await, None);

    // Nobody listening at the address.
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/match", gone.local_addr().unwrap());
    drop(gone);
    let s = eidp_using(url, KEY).await;
    let who = s.citizen(172).await;
    let (c, _) = loa3_client(&s).await;
    let at = to_face_step(&s, &who, &c).await;
    let (status, body) = send_face(&s, &at, "image/jpeg", jpeg()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}
