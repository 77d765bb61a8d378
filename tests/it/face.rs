//! The face step (the biometric factor): a step-up that needs loa:3 asks for the face, the
//! development matcher answers, and only the result is kept. A refused face leaves the
//! session below loa:3; failed matches are throttled like every factor; without a face
//! matcher nothing reaches loa:3. (The external service: `face_service.rs`; Chromium with a
//! fake camera: `face_browser.rs`.)

use serde_json::{Value, json};
use url::Url;

use crate::common::browser::input_value;
use crate::common::{
    Browser, Citizen, Options, REDIRECT_URI, TestServer, authorize_url, pkce, query_param, redeem,
};
use crate::flow::decode_payload;
use eidp::oidc::clients::NewClient;
use eidp::store::ClientRecord;

/// Carried inside the test image, to look for in everything that is stored.
const MARK: &[u8] = b"EIDP-FACE-PIXELS-7f3a9c";

/// A JPEG as far as its signature goes (the matchers here never decode it).
pub fn jpeg() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    v.extend_from_slice(MARK);
    v.extend([0xFF, 0xD9]);
    v
}

/// A portal that requires loa:3.
pub async fn loa3_client(s: &TestServer) -> (ClientRecord, String) {
    let (c, secret) = s
        .client(NewClient {
            name: "Cổng thuế điện tử".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            min_account_level: Some(1),
            min_acr: Some("urn:vn:eid:loa:3".into()),
            ..Default::default()
        })
        .await;
    (c, secret.unwrap())
}

fn attr(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("{name}=\""))? + name.len() + 2;
    Some(page[at..at + page[at..].find('"')?].to_string())
}

/// Where the face step stands in one browser: the pending request and the page's token.
pub struct AtFace {
    pub b: Browser,
    pub ar: String,
    pub csrf: String,
    pub verifier: String,
}

/// Sign in with the password to `client`; the step-up page offers the face.
pub async fn to_face_step(s: &TestServer, who: &Citizen, client: &ClientRecord) -> AtFace {
    let b = Browser::new();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&s.base, &client.client_id, &challenge, &[]);
    let (_, page) = b
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_page();
    assert!(page.contains("id=\"face-step\""), "{page}");
    assert!(
        page.contains("src=\"/static/face.js\""),
        "the camera script"
    );
    AtFace {
        ar: input_value(&page, "ar").unwrap(),
        csrf: attr(&page, "data-csrf").unwrap(),
        b,
        verifier,
    }
}

/// Send one "camera frame".
pub async fn send_face(
    s: &TestServer,
    at: &AtFace,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let r =
        at.b.http
            .post(s.url(&format!("/login/step-up/face?ar={}", at.ar)))
            .header("content-type", content_type)
            .header("x-csrf-token", &at.csrf)
            .body(body)
            .send()
            .await
            .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Follow the step's `redirect` through consent to the client and redeem the code.
pub async fn finish(
    s: &TestServer,
    at: &AtFace,
    redirect: &str,
    c: &ClientRecord,
    secret: &str,
) -> Value {
    let (url, _, page) = at.b.go(&s.url(redirect)).await;
    let cb = match url.origin() == Url::parse(&s.base).unwrap().origin() {
        true => at.b.approve(&url, &page, &[]).await.expect_redirect(),
        false => url,
    };
    let tokens = redeem(s, &c.client_id, secret, &cb, &at.verifier).await;
    decode_payload(tokens["id_token"].as_str().unwrap())
}

/// The account's latest face match result.
pub async fn latest(s: &TestServer, sub: &str) -> Option<eidp::store::FaceCheck> {
    s.provider.db.latest_face_check(sub).await.unwrap()
}

/// A server whose development matcher refuses the face of `id_number`.
async fn refusing(id_number: &'static str) -> TestServer {
    TestServer::start_with(Options {
        configure_with: Some(Box::new(move |c| {
            c.face.dev_refuse = vec![id_number.into()]
        })),
        ..Default::default()
    })
    .await
}

async fn history(s: &TestServer, sub: &str) -> Vec<eidp::store::AuditRecord> {
    s.provider.db.audit_for_subject(sub, 0, 100).await.unwrap()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_face_step_reaches_loa3_and_only_its_result_is_kept() {
    let s = TestServer::start().await;
    let who = s.citizen(160).await;
    let (c, secret) = loa3_client(&s).await;
    let at = to_face_step(&s, &who, &c).await;
    // What is not an image is refused before anything is counted or matched.
    let mut no_token = AtFace {
        csrf: "x".into(),
        ..to_face_step(&s, &who, &c).await
    };
    no_token.csrf.push('y');
    assert_eq!(send_face(&s, &no_token, "image/jpeg", jpeg()).await.0, 403);
    assert_eq!(
        send_face(&s, &at, "image/gif", b"GIF89a".to_vec()).await.0,
        415
    );
    assert_eq!(
        send_face(&s, &at, "image/png", jpeg()).await.0,
        415,
        "the bytes decide"
    );
    let mut big = jpeg();
    big.resize(2 * 1024 * 1024 + 1, 0);
    assert_eq!(send_face(&s, &at, "image/jpeg", big).await.0, 413);
    assert_eq!(latest(&s, &who.sub).await, None);

    let (status, body) = send_face(&s, &at, "image/jpeg", jpeg()).await;
    assert_eq!(status, 200, "{body}");
    let idt = finish(&s, &at, body["redirect"].as_str().unwrap(), &c, &secret).await;
    assert_eq!(idt["acr"], "urn:vn:eid:loa:3");
    assert_eq!(idt["amr"], json!(["pwd", "face", "mfa"]));

    let check = latest(&s, &who.sub).await.unwrap();
    assert!(check.matched && check.score > 0.9, "{check:?}");
    assert_eq!(check.matcher, "development");
    assert!(check.at <= s.provider.now() && check.at > 0);
    let entries = history(&s, &who.sub).await;
    let step = entries
        .iter()
        .find(|e| e.action == "stepup")
        .expect("audited");
    let detail: Value = serde_json::from_str(&step.detail).unwrap();
    assert_eq!(
        (
            detail["method"].as_str(),
            detail["matched"].as_bool(),
            detail["matcher"].as_str()
        ),
        (Some("face"), Some(true), Some("development"))
    );

    // The image is nowhere: not in the history, not in the database files.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(jpeg());
    let mark = String::from_utf8_lossy(MARK).to_string();
    for e in &entries {
        assert!(
            !e.detail.contains(&mark) && !e.detail.contains(&b64),
            "{e:?}"
        );
    }
    if let Some(path) = s.database_url.strip_prefix("sqlite://") {
        for file in [path.to_string(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(!file.ends_with(".db") || bytes.len() > 4096, "read {file}");
            assert!(!contains(&bytes, MARK), "image bytes in {file}");
            assert!(!contains(&bytes, b64.as_bytes()), "image base64 in {file}");
        }
    }
}

#[tokio::test]
async fn a_refused_face_leaves_the_session_below_loa3() {
    let s = refusing("079190100161").await;
    let who = s.citizen(161).await;
    let (c, _) = loa3_client(&s).await;
    let at = to_face_step(&s, &who, &c).await;
    let (status, body) = send_face(&s, &at, "image/jpeg", jpeg()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("not_matched")),
        "{body}"
    );
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    let check = latest(&s, &who.sub).await.unwrap();
    assert!(
        !check.matched && check.score < 0.5,
        "recorded as not matched: {check:?}"
    );
    let failed = history(&s, &who.sub)
        .await
        .into_iter()
        .find(|e| e.action == "signin_failed")
        .expect("the refusal is in the history");
    assert!(
        failed.detail.contains("\"matched\":false"),
        "{}",
        failed.detail
    );

    // The same browser at a service that needs no more: the session is still password-only.
    let (plain, plain_secret) = s.confidential().await;
    let (verifier, challenge) = pkce();
    let (url, _, page) =
        at.b.go(&authorize_url(&s.base, &plain.client_id, &challenge, &[]))
            .await;
    let cb = at.b.approve(&url, &page, &[]).await.expect_redirect();
    let tokens = redeem(&s, &plain.client_id, &plain_secret, &cb, &verifier).await;
    let idt = decode_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(idt["acr"], "urn:vn:eid:loa:1");
    assert_eq!(idt["amr"], json!(["pwd"]));
}

#[tokio::test]
async fn failed_face_matches_are_throttled_even_in_parallel() {
    let s = refusing("079190100162").await;
    let who = s.citizen(162).await;
    let (c, _) = loa3_client(&s).await;
    let at = std::sync::Arc::new(to_face_step(&s, &who, &c).await);
    let s = std::sync::Arc::new(s);
    let tries: Vec<_> = (0..12)
        .map(|_| {
            let (s, at) = (s.clone(), at.clone());
            tokio::spawn(async move { send_face(&s, &at, "image/jpeg", jpeg()).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    // Three free tries, and at most one delayed try in flight.
    assert!((3..=4).contains(&checked), "{statuses:?}");
    assert_eq!(checked + refused, 12, "{statuses:?}");
    let failures = history(&s, &who.sub)
        .await
        .into_iter()
        .filter(|e| e.action == "signin_failed" && e.detail.contains("\"face\""))
        .count();
    assert_eq!(
        failures, checked,
        "every checked try is in the history, no other"
    );
}

#[tokio::test]
async fn without_a_face_matcher_nothing_reaches_loa3() {
    let s = TestServer::start_with(Options {
        configure: Some(|c| c.face.matcher = Some(eidp::config::FaceMatcherKind::Off)),
        ..Default::default()
    })
    .await;
    let (c, _) = s.confidential().await;
    let claims = r#"{"id_token":{"acr":{"essential":true,"value":"urn:vn:eid:loa:3"}}}"#;
    let url = authorize_url(&s.base, &c.client_id, &pkce().1, &[("claims", claims)]);
    let (back, _, _) = Browser::new().go(&url).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("unmet_authentication_requirements")
    );
}
