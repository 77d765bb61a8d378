//! Protocol hardening from issue #13 (findings 9 and 10): response headers and the metrics
//! endpoint, client-assertion lifetimes, PKCE verifiers, introspection by public clients and
//! `id_token_hint`s that are not our ID tokens.

use serde_json::json;

use crate::common::{
    self, Browser, Options, REDIRECT_URI, TestServer, authorize_url, pkce, query_param,
    token_request,
};

#[tokio::test]
async fn every_response_is_nosniff_hsts_on_https_and_metrics_are_not_public() {
    let s = TestServer::start().await;
    for (method, path) in [
        ("GET", "/nowhere"),
        ("GET", "/.well-known/openid-configuration"),
        ("POST", "/token"),
        ("GET", "/login"),
    ] {
        let r = reqwest::Client::new()
            .request(method.parse().unwrap(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "no HSTS on http"
        );
    }
    let r = reqwest::get(s.url("/metrics")).await.unwrap();
    assert_eq!(r.status(), 404, "not served without a token");

    let tls = TestServer::start_with(Options {
        configure: Some(|cfg| {
            cfg.issuer = cfg.issuer.replace("http://", "https://");
            cfg.metrics_token = Some(eidp::config::Secret("scrape-me".into()));
        }),
        ..Default::default()
    })
    .await;
    let r = reqwest::get(tls.url("/jwks.json")).await.unwrap();
    assert!(
        r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let metrics = |token: Option<&'static str>| {
        let url = tls.url("/metrics");
        async move {
            let mut req = reqwest::Client::new().get(url);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(metrics(None).await, 401);
    assert_eq!(metrics(Some("guess")).await, 401);
    assert_eq!(metrics(Some("scrape-me")).await, 200);
}

#[tokio::test]
async fn long_lived_client_assertions_are_refused() {
    let s = TestServer::start().await;
    let (key, jwk) = crate::token_clients::es256_key();
    let (c, _) = s
        .client(eidp::oidc::clients::NewClient {
            name: "Ví điện tử".into(),
            kind: "other".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            auth_method: Some("private_key_jwt".into()),
            jwks: Some(json!({"keys": [jwk]}).to_string()),
            min_account_level: Some(2),
            ..Default::default()
        })
        .await;
    let now = s.provider.now();
    let post = |a: String| {
        let url = s.url("/token");
        async move {
            let f = [
                ("grant_type", "client_credentials".to_string()),
                (
                    "client_assertion_type",
                    eidp::oidc::client_auth::JWT_BEARER.to_string(),
                ),
                ("client_assertion", a),
            ];
            let r = reqwest::Client::new()
                .post(url)
                .form(&f)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    // Issued now, valid for a day: a captured assertion would be a day's access.
    let token_url = s.url("/token");
    let a = crate::token_clients::assertion_at(
        &key,
        &c.client_id,
        &token_url,
        "day",
        now,
        now + 86_400,
    );
    let (status, body) = post(a).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("too long"),
        "{body}"
    );
    // Without `iat`, `exp` alone must be near.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("k1".into());
    let claims = json!({"iss": c.client_id, "sub": c.client_id, "aud": token_url, "jti": "no-iat", "exp": now + 3600});
    let a =
        jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_ec_der(&key)).unwrap();
    assert_eq!(post(a).await.0, 401);
    let a =
        crate::token_clients::assertion(&key, &c.client_id, &s.url("/token"), "minute", now + 60);
    assert_eq!(post(a).await.0, 200);
}

#[tokio::test]
async fn pkce_verifiers_outside_rfc7636_are_refused() {
    let s = TestServer::start().await;
    let who = s.citizen(317).await;
    let (c, secret) = s.confidential().await;
    // 43 characters, one of them outside the unreserved set; its challenge is well formed.
    let verifier = format!("{}!", "a".repeat(42));
    let challenge = eidp::crypto::b64url(
        ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    let cb = Browser::new()
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &challenge, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let code = query_param(&cb, "code").unwrap();
    let (status, body) = token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn public_clients_cannot_introspect_and_hints_must_be_our_id_tokens() {
    let s = TestServer::start().await;
    let who = s.citizen(318).await;
    let (public, _) = s
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
    let b = Browser::new();
    let cb = b
        .sign_in(
            &authorize_url(&s.base, &public.client_id, &challenge, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let code = query_param(&cb, "code").unwrap();
    let (_, tokens) = token_request(
        &s.base,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
            ("client_id", &public.client_id),
        ],
    )
    .await;
    let at = tokens["access_token"].as_str().unwrap();
    let r = reqwest::Client::new()
        .post(s.url("/introspect"))
        .form(&[("token", at), ("client_id", &public.client_id)])
        .send()
        .await
        .unwrap();
    let (status, body) = (
        r.status().as_u16(),
        r.json::<serde_json::Value>().await.unwrap(),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    // An access token is not an ID token, even though we signed it.
    let (_, challenge) = pkce();
    let url = authorize_url(
        &s.base,
        &public.client_id,
        &challenge,
        &[("id_token_hint", at), ("prompt", "none")],
    );
    let (back, _, _) = b.go(&url).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("invalid_request"),
        "{back}"
    );
    // An ID token issued to another client is not a hint for this one.
    let (other, other_secret) = s.confidential().await;
    let theirs = common::code_flow(&s, &who, &other, &other_secret).await;
    let url = authorize_url(
        &s.base,
        &public.client_id,
        &pkce().1,
        &[("id_token_hint", theirs["id_token"].as_str().unwrap())],
    );
    let (back, _, _) = b.go(&url).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("invalid_request")
    );
    // Its own ID token is fine.
    let mine = tokens["id_token"].as_str().unwrap();
    let url = authorize_url(
        &s.base,
        &public.client_id,
        &pkce().1,
        &[("id_token_hint", mine), ("prompt", "none")],
    );
    let (back, _, _) = b.go(&url).await;
    assert!(query_param(&back, "code").is_some(), "{back}");
}
