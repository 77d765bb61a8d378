//! Each way a token request or authorization can go wrong, with the exact OAuth error.

use crate::common::{
    self, Browser, REDIRECT_URI, TestServer, authorize_url, pkce, query_param, token_request,
};
use crate::flow::decode_payload;

/// Sign in and return (code, verifier) without redeeming.
async fn fresh_code(s: &TestServer, client_id: &str, n: u32) -> (String, String) {
    let who = s.citizen(n).await;
    let (verifier, challenge) = pkce();
    let b = Browser::new();
    let cb = b
        .sign_in(
            &authorize_url(&s.base, client_id, &challenge, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    (query_param(&cb, "code").unwrap(), verifier)
}

fn code_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ]
}

#[tokio::test]
async fn wrong_pkce_verifier_is_invalid_grant() {
    let s = TestServer::start().await;
    let (c, secret) = s.confidential().await;
    let (code, _) = fresh_code(&s, &c.client_id, 10).await;
    let (wrong, _) = pkce();
    let (status, body) = token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &code_form(&code, &wrong),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn replayed_code_fails_and_revokes_what_it_issued() {
    let s = TestServer::start().await;
    let (c, secret) = s.confidential().await;
    let (code, verifier) = fresh_code(&s, &c.client_id, 11).await;
    let basic = Some((c.client_id.as_str(), secret.as_str()));
    let (status, first) = token_request(&s.base, basic, &code_form(&code, &verifier)).await;
    assert_eq!(status, 200);
    let (status, body) = token_request(&s.base, basic, &code_form(&code, &verifier)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let access = first["access_token"].as_str().unwrap();
    let resp = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "the first redemption's access token is revoked"
    );
    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, body) = token_request(
        &s.base,
        basic,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn mismatched_redirect_uri_at_token_is_invalid_grant() {
    let s = TestServer::start().await;
    let (c, secret) = s.confidential().await;
    let (code, verifier) = fresh_code(&s, &c.client_id, 12).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "http://127.0.0.1:9/other"),
        ("code_verifier", &verifier),
    ];
    let (status, body) = token_request(&s.base, Some((&c.client_id, &secret)), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn unregistered_redirect_uri_at_authorize_shows_a_page_and_never_redirects() {
    let s = TestServer::start().await;
    let (c, _) = s.confidential().await;
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[]).replace("%2Fcb", "%2Fevil");
    let resp = Browser::new().http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("invalid_request"),
        "the code, for support: {page}"
    );
    assert!(
        page.contains("chưa được đăng ký"),
        "and in words: the return address is not registered"
    );
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let s = TestServer::start().await;
    let (c, secret) = s.confidential().await;
    let (code, verifier) = fresh_code(&s, &c.client_id, 13).await;
    s.clock.advance(61);
    let (status, body) = token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &code_form(&code, &verifier),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn unknown_client_is_invalid_client() {
    let s = TestServer::start().await;
    let (status, body) =
        token_request(&s.base, Some(("nobody", "secret")), &code_form("x", "y")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    let (_, challenge) = pkce();
    let resp = Browser::new()
        .http
        .get(authorize_url(&s.base, "nobody", &challenge, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        400,
        "unknown client at authorize: a page, no redirect"
    );
    assert!(resp.headers().get("location").is_none());
}

#[tokio::test]
async fn bad_client_secret_is_invalid_client_with_challenge() {
    let s = TestServer::start().await;
    let (c, _) = s.confidential().await;
    let http = reqwest::Client::new();
    let resp = http
        .post(s.url("/token"))
        .basic_auth(&c.client_id, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn tampered_id_token_signature_is_refused() {
    use openidconnect::core::{CoreClient, CoreIdToken, CoreProviderMetadata};
    use openidconnect::{ClientId, IssuerUrl, Nonce};
    let s = TestServer::start().await;
    let who = s.citizen(14).await;
    let (c, secret) = s.confidential().await;
    let tokens = common::code_flow(&s, &who, &c, &secret).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(s.base.clone()).unwrap(), &http)
        .await
        .unwrap();
    let rp = CoreClient::from_provider_metadata(meta, ClientId::new(c.client_id.to_string()), None);
    let good: CoreIdToken = id_token.parse().unwrap();
    assert!(
        good.claims(&rp.id_token_verifier(), &Nonce::new("n-1".into()))
            .is_ok()
    );
    // Flip one byte of the signature.
    let (head, sig) = id_token.rsplit_once('.').unwrap();
    let mut raw = eidp::crypto::b64url_decode(sig).unwrap();
    raw[5] ^= 0x01;
    let forged: CoreIdToken = format!("{head}.{}", eidp::crypto::b64url(&raw))
        .parse()
        .unwrap();
    assert!(
        forged
            .claims(&rp.id_token_verifier(), &Nonce::new("n-1".into()))
            .is_err()
    );
    // And a payload swap under the original signature.
    let mut parts: Vec<&str> = id_token.split('.').collect();
    let mut payload = decode_payload(id_token);
    payload["sub"] = serde_json::json!("someone-else");
    let swapped = eidp::crypto::b64url(payload.to_string().as_bytes());
    parts[1] = &swapped;
    let forged: CoreIdToken = parts.join(".").parse().unwrap();
    assert!(
        forged
            .claims(&rp.id_token_verifier(), &Nonce::new("n-1".into()))
            .is_err()
    );
}

#[tokio::test]
async fn reused_refresh_token_revokes_the_family() {
    let s = TestServer::start().await;
    let who = s.citizen(15).await;
    let (c, secret) = s.confidential().await;
    let basic = Some((c.client_id.as_str(), secret.as_str()));
    let first = common::code_flow(&s, &who, &c, &secret).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let (status, second) = token_request(
        &s.base,
        basic,
        &[("grant_type", "refresh_token"), ("refresh_token", r1)],
    )
    .await;
    assert_eq!(status, 200);
    let r2 = second["refresh_token"].as_str().unwrap();
    // An attacker replays the spent r1.
    let (status, body) = token_request(
        &s.base,
        basic,
        &[("grant_type", "refresh_token"), ("refresh_token", r1)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // The legitimate successor is dead too: the whole family was revoked.
    let (status, body) = token_request(
        &s.base,
        basic,
        &[("grant_type", "refresh_token"), ("refresh_token", r2)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let access = second["access_token"].as_str().unwrap();
    let resp = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn prompt_none_without_session_is_login_required() {
    let s = TestServer::start().await;
    let (c, _) = s.confidential().await;
    let (_, challenge) = pkce();
    let (back, _, _) = Browser::new()
        .go(&authorize_url(
            &s.base,
            &c.client_id,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert!(back.as_str().starts_with(REDIRECT_URI));
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-1"));
    assert_eq!(query_param(&back, "iss").as_deref(), Some(s.base.as_str()));
}

#[tokio::test]
async fn wrong_password_is_refused_without_saying_which_part() {
    let s = TestServer::start().await;
    let who = s.citizen(16).await;
    let (c, _) = s.confidential().await;
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[]);
    let (s1, wrong_pw) = Browser::new()
        .sign_in(&url, &who.id_number, "Wrong-pass1!")
        .await
        .expect_page();
    let (s2, unknown) = Browser::new()
        .sign_in(&url, "001090999999", "Wrong-pass1!")
        .await
        .expect_page();
    assert_eq!((s1, s2), (401, 401));
    let msg = |b: &str| {
        b.split("role=\"alert\"")
            .nth(1)
            .map(|r| r[..r.find("</").unwrap_or(0)].to_string())
    };
    assert_eq!(
        msg(&wrong_pw),
        msg(&unknown),
        "same message for unknown ID and wrong password"
    );
}

#[tokio::test]
async fn code_from_a_public_client_needs_no_secret_but_pkce() {
    let s = TestServer::start().await;
    let who = s.citizen(17).await;
    let (c, _) = s
        .client(eidp::oidc::clients::NewClient {
            name: "App".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            public: true,
            min_account_level: Some(1),
            ..Default::default()
        })
        .await;
    let (verifier, challenge) = pkce();
    let cb = Browser::new()
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &challenge, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let code = query_param(&cb, "code").unwrap();
    let mut form = code_form(&code, &verifier);
    form.push(("client_id", &c.client_id));
    let (status, body) = token_request(&s.base, None, &form).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = token_request(
        &s.base,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
}
