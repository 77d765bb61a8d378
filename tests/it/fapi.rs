//! FAPI 2.0 Security Profile for banks: pushed (RFC 9126) and signed (RFC 9101) requests,
//! `private_key_jwt`, DPoP-bound tokens (RFC 9449) at the token endpoint, UserInfo,
//! introspection and refresh, and the rules a `fapi2` client is held to.

use serde_json::{Value, json};

use crate::common::fapi::{Bank, make_level2, person};
use crate::common::{Browser, TestServer, pkce, query_param};
use crate::flow::decode_payload;

/// A Level-2 citizen through the whole bank flow (loa:2, SMS step-up): the token response.
async fn bank_tokens(s: &TestServer, bank: &Bank, n: u32) -> Value {
    let who = s.citizen(n).await;
    make_level2(s, &who).await;
    let (verifier, challenge) = pkce();
    let uri = bank.push(&challenge, &json!({})).await;
    let cb = person(s, &Browser::new(), &bank.authorize_url(&uri), &who)
        .await
        .expect_redirect();
    assert_eq!(query_param(&cb, "iss").as_deref(), Some(s.base.as_str()));
    let a = bank.redeem(&cb, &verifier).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()
}

#[tokio::test]
async fn discovery_advertises_par_dpop_rar_and_request_objects() {
    let s = TestServer::start().await;
    let d = crate::common::discovery(&s).await;
    assert_eq!(d["pushed_authorization_request_endpoint"], s.url("/par"));
    assert_eq!(d["require_pushed_authorization_requests"], false);
    assert!(
        d["dpop_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("ES256"))
    );
    assert_eq!(
        d["authorization_details_types_supported"],
        json!(["vn_bank_transfer"])
    );
    assert_eq!(d["request_parameter_supported"], true);
    assert!(
        d["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("kyc"))
    );
}

#[tokio::test]
async fn the_bank_flow_ends_with_dpop_bound_tokens() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let t = bank_tokens(&s, &bank, 700).await;
    assert_eq!(t["token_type"], "DPoP");
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(decode_payload(at)["cnf"]["jkt"], bank.dpop.thumbprint());
    let idt = decode_payload(t["id_token"].as_str().unwrap());
    assert_eq!(idt["acr"], "urn:vn:eid:loa:2");
    // UserInfo with DPoP: the proof, then the answer.
    let a = bank.get("/userinfo", at, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["name"], "Trần Thị Bình");
    // Introspection shows the binding.
    let a = bank.post("/introspect", &[("token", at)]).await;
    assert_eq!(a.json()["cnf"]["jkt"], bank.dpop.thumbprint(), "{}", a.body);
    assert_eq!(a.json()["token_type"], "DPoP");
}

#[tokio::test]
async fn a_bound_token_without_its_proof_a_replayed_proof_or_one_for_another_url_is_refused() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let t = bank_tokens(&s, &bank, 701).await;
    let at = t["access_token"].as_str().unwrap();
    // As a bearer token: refused.
    let r = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // With the DPoP scheme but no proof.
    let r = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .header("Authorization", format!("DPoP {at}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let w = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        w.starts_with("DPoP ") && w.contains("invalid_dpop_proof"),
        "{w}"
    );
    // A good call, then its proof again: a replay.
    bank.get("/userinfo", at, None).await;
    let proof = bank.proof("GET", &s.url("/userinfo"), Some(at));
    assert_eq!(
        bank.get("/userinfo", at, Some(proof.clone())).await.status,
        200
    );
    let a = bank.get("/userinfo", at, Some(proof)).await;
    assert_eq!(a.status, 401);
    assert!(a.www_authenticate.unwrap().contains("invalid_dpop_proof"));
    // A proof made for another URL, or by another key.
    let other = bank.proof("GET", &s.url("/api/kyc/v1/identity"), Some(at));
    let a = bank.get("/userinfo", at, Some(other)).await;
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(a.body.contains("htu"));
    let stranger = crate::common::fapi::EcKey::new("x");
    let mut c = json!({"jti": "j-x", "htm": "GET", "htu": s.url("/userinfo"),
        "iat": s.provider.now(), "ath": crate::common::fapi::ath(at)});
    c["nonce"] = json!(eidp::oidc::dpop::nonce(&s.provider.kek, s.provider.now()));
    let a = bank
        .get("/userinfo", at, Some(stranger.sign("dpop+jwt", true, &c)))
        .await;
    assert_eq!(a.status, 401);
    assert!(a.body.contains("bound"), "{}", a.body);
}

#[tokio::test]
async fn a_fapi2_client_must_push_sign_in_with_its_key_and_send_dpop() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    assert_eq!(bank.client.auth_method, "private_key_jwt");
    // The front channel alone: refused, to the client (its redirect URI is registered).
    let (_, challenge) = pkce();
    let url = crate::common::authorize_url(&s.base, bank.id(), &challenge, &[]);
    let (at, _, _) = Browser::new().go(&url).await;
    assert_eq!(
        query_param(&at, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(
        query_param(&at, "error_description")
            .unwrap()
            .contains("PAR")
    );
    // A bank that wants a shared secret needs a written override.
    let built = eidp::oidc::clients::build(
        &eidp::oidc::clients::NewClient {
            name: "Ngân hàng cũ".into(),
            kind: "bank".into(),
            redirect_uris: vec![crate::common::REDIRECT_URI.into()],
            auth_method: Some("client_secret_basic".into()),
            ..Default::default()
        },
        &s.provider.kek,
        s.provider.now(),
    );
    assert!(built.is_err(), "fapi2 refuses client_secret_basic");
    // The token endpoint without a DPoP proof.
    let r = reqwest::Client::new()
        .post(s.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", eidp::oidc::client_auth::JWT_BEARER),
            ("client_assertion", &bank.assertion()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_dpop_proof");
}

#[tokio::test]
async fn a_request_uri_is_single_use_short_lived_and_the_pushers_own() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let other = Bank::register(&s).await;
    let who = s.citizen(702).await;
    make_level2(&s, &who).await;
    let (_, challenge) = pkce();
    let uri = bank.push(&challenge, &json!({})).await;
    assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    // Another client cannot use it, and the attempt does not spend it for its owner.
    let (_, status, page) = Browser::new().go(&other.authorize_url(&uri)).await;
    assert_eq!(status, 400, "{page}");
    let b = Browser::new();
    let (_, status, _) = b.go(&bank.authorize_url(&uri)).await;
    assert_eq!(status, 200, "the login page");
    let (_, status, _) = Browser::new().go(&bank.authorize_url(&uri)).await;
    assert_eq!(status, 400, "used once");
    let uri = bank.push(&challenge, &json!({})).await;
    s.clock.advance(61);
    let (_, status, _) = Browser::new().go(&bank.authorize_url(&uri)).await;
    assert_eq!(status, 400, "expired after 60 s");
}

#[tokio::test]
async fn pushed_requests_are_checked_when_pushed() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let (_, challenge) = pkce();
    let post = |form: Vec<(&'static str, String)>| {
        let bank = &bank;
        async move {
            let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            bank.post("/par", &f).await
        }
    };
    // A request object signed by a stranger's key.
    let stranger = crate::common::fapi::EcKey::new("bank-1");
    let now = s.provider.now();
    let forged = stranger.sign(
        "oauth-authz-req+jwt",
        false,
        &json!({"iss": bank.id(), "aud": s.base, "exp": now + 60, "response_type": "code"}),
    );
    let a = post(vec![("request", forged)]).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"], "invalid_request_object");
    // For another audience.
    let ro = bank.request_object(&challenge, &json!({"aud": "https://elsewhere"}));
    let a = post(vec![("request", ro)]).await;
    assert_eq!(a.json()["error"], "invalid_request_object", "{}", a.body);
    // PKCE is required.
    let ro = bank.request_object(&challenge, &json!({"code_challenge_method": "plain"}));
    let a = post(vec![("request", ro)]).await;
    assert_eq!(a.json()["error"], "invalid_request", "{}", a.body);
    // A request_uri cannot be pushed.
    let a = post(vec![("request_uri", "urn:x".into())]).await;
    assert_eq!(a.json()["error"], "invalid_request");
    // A bad transfer is refused with its own error.
    let ro = bank.request_object(
        &challenge,
        &json!({"authorization_details": [{"type": "vn_bank_transfer", "amount": -1}]}),
    );
    let a = post(vec![("request", ro)]).await;
    assert_eq!(
        a.json()["error"],
        "invalid_authorization_details",
        "{}",
        a.body
    );
    // Plain parameters (no request object) are accepted too.
    let a = post(vec![
        ("response_type", "code".into()),
        ("redirect_uri", crate::common::REDIRECT_URI.into()),
        ("scope", "openid".into()),
        ("code_challenge", challenge.clone()),
        ("code_challenge_method", "S256".into()),
    ])
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["expires_in"], 60);
}

#[tokio::test]
async fn a_code_bound_at_the_push_is_redeemed_with_that_key_only() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(703).await;
    make_level2(&s, &who).await;
    let (verifier, challenge) = pkce();
    let other = crate::common::fapi::EcKey::new("other");
    // `dpop_jkt` and the push's own proof disagree: refused.
    let ro = bank.request_object(&challenge, &json!({"dpop_jkt": other.thumbprint()}));
    let a = bank.post("/par", &[("request", &ro)]).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"], "invalid_dpop_proof");
    // Pushed without a proof, bound by `dpop_jkt` alone to a key the bank will not use.
    let r = reqwest::Client::new()
        .post(s.url("/par"))
        .form(&[
            ("request", ro.as_str()),
            ("client_assertion_type", eidp::oidc::client_auth::JWT_BEARER),
            ("client_assertion", &bank.assertion()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let uri = r.json::<Value>().await.unwrap()["request_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let cb = person(&s, &Browser::new(), &bank.authorize_url(&uri), &who)
        .await
        .expect_redirect();
    let a = bank.redeem(&cb, &verifier).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"], "invalid_grant", "{}", a.body);
}

#[tokio::test]
async fn a_fapi2_refresh_token_is_bound_not_rotated() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(704).await;
    make_level2(&s, &who).await;
    let (verifier, challenge) = pkce();
    let uri = bank
        .push(
            &challenge,
            &json!({"scope": "openid profile offline_access"}),
        )
        .await;
    let cb = person(&s, &Browser::new(), &bank.authorize_url(&uri), &who)
        .await
        .expect_redirect();
    let t = bank.redeem(&cb, &verifier).await.json();
    let rt = t["refresh_token"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let a = bank
            .post(
                "/token",
                &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.json().get("refresh_token").is_none(), "not rotated");
        assert_eq!(a.json()["token_type"], "DPoP");
    }
}
