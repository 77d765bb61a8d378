//! Clients acting for themselves and the endpoints around tokens: client_credentials,
//! private_key_jwt (RFC 7523), introspection (RFC 7662) and access-token revocation (RFC 7009).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::json;

use crate::common::{self, TestServer, token_request};
use crate::flow::{decode_header, decode_payload};

#[tokio::test]
async fn client_credentials_issues_an_rfc9068_access_token() {
    let s = TestServer::start().await;
    let (c, secret) = s.confidential().await;
    let (status, body) = token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &[("grant_type", "client_credentials"), ("scope", "eid")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let at = body["access_token"].as_str().unwrap();
    assert_eq!(decode_header(at)["typ"], "at+jwt");
    let claims = decode_payload(at);
    for k in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
        assert!(claims.get(k).is_some(), "RFC 9068 claim {k}");
    }
    assert_eq!(claims["sub"], c.client_id.as_str());
    let (status, body) = token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &[("grant_type", "password")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

pub fn es256_key() -> (Vec<u8>, serde_json::Value) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let pt = pair.public_key().as_ref();
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": eidp::crypto::b64url(&pt[1..33]), "y": eidp::crypto::b64url(&pt[33..65])});
    (pkcs8.as_ref().to_vec(), jwk)
}

pub fn assertion(key: &[u8], client_id: &str, aud: &str, jti: &str, exp: i64) -> String {
    assertion_at(key, client_id, aud, jti, exp - 60, exp)
}

/// A client assertion issued at `iat`, expiring at `exp`.
pub fn assertion_at(
    key: &[u8],
    client_id: &str,
    aud: &str,
    jti: &str,
    iat: i64,
    exp: i64,
) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some("k1".into());
    let claims =
        json!({"iss": client_id, "sub": client_id, "aud": aud, "jti": jti, "exp": exp, "iat": iat});
    jsonwebtoken::encode(&h, &claims, &EncodingKey::from_ec_der(key)).unwrap()
}

#[tokio::test]
async fn private_key_jwt_authenticates_and_refuses_replays() {
    let s = TestServer::start().await;
    let (key, jwk) = es256_key();
    let (c, _) = s
        .client(eidp::oidc::clients::NewClient {
            name: "Ví điện tử".into(),
            kind: "other".into(),
            redirect_uris: vec![common::REDIRECT_URI.into()],
            auth_method: Some("private_key_jwt".into()),
            jwks: Some(json!({"keys": [jwk]}).to_string()),
            min_account_level: Some(2),
            ..Default::default()
        })
        .await;
    let exp = s.provider.now() + 60;
    let a = assertion(&key, &c.client_id, &s.url("/token"), "jti-1", exp);
    let form = |a: &str| {
        vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            (
                "client_assertion_type".to_string(),
                eidp::oidc::client_auth::JWT_BEARER.to_string(),
            ),
            ("client_assertion".to_string(), a.to_string()),
        ]
    };
    let post = |f: Vec<(String, String)>| {
        let url = s.url("/token");
        async move {
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
    let (status, body) = post(form(&a)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(form(&a)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "jti replay: {body}"
    );
    let wrong_aud = assertion(&key, &c.client_id, "https://elsewhere", "jti-2", exp);
    assert_eq!(post(form(&wrong_aud)).await.0, 401);
    let expired = assertion(&key, &c.client_id, &s.base, "jti-3", s.provider.now() - 1);
    assert_eq!(post(form(&expired)).await.0, 401);
    let (other_key, _) = es256_key();
    let forged = assertion(&other_key, &c.client_id, &s.base, "jti-4", exp);
    assert_eq!(post(form(&forged)).await.0, 401);
    let issuer_aud = assertion(&key, &c.client_id, &s.base, "jti-5", exp);
    assert_eq!(
        post(form(&issuer_aud)).await.0,
        200,
        "the issuer is an accepted audience"
    );
}

async fn introspect(s: &TestServer, id: &str, secret: &str, token: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(s.url("/introspect"))
        .basic_auth(id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn introspection_and_revocation() {
    let s = TestServer::start().await;
    let who = s.citizen(50).await;
    let (c, secret) = s.confidential().await;
    let (other, other_secret) = s.confidential().await;
    let tokens = common::code_flow(&s, &who, &c, &secret).await;
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    let v = introspect(&s, &c.client_id, &secret, at).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["sub"], s.sub_at(&c, &who.sub));
    assert_eq!(v["client_id"], c.client_id.as_str());
    assert_eq!(
        introspect(&s, &c.client_id, &secret, rt).await["token_type"],
        "refresh_token"
    );
    assert_eq!(
        introspect(&s, &other.client_id, &other_secret, at).await,
        json!({"active": false})
    );
    assert_eq!(
        introspect(&s, &c.client_id, &secret, "garbage").await,
        json!({"active": false})
    );
    // Revoke the access token alone: it dies, the refresh token lives.
    let resp = reqwest::Client::new()
        .post(s.url("/revoke"))
        .basic_auth(&c.client_id, Some(&secret))
        .form(&[("token", at), ("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        introspect(&s, &c.client_id, &secret, at).await["active"],
        false
    );
    assert_eq!(
        introspect(&s, &c.client_id, &secret, rt).await["active"],
        true
    );
    let resp = reqwest::Client::new()
        .post(s.url("/introspect"))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "introspection needs client authentication"
    );
}
