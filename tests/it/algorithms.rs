//! ID tokens in each algorithm a client may register (ES256 default; EdDSA, RS256, PS256),
//! each verified against the key the JWKS publishes under its `kid`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};

use crate::common::{self, REDIRECT_URI, TestServer};
use crate::flow::decode_header;

#[tokio::test]
async fn id_token_algorithms_per_client() {
    let s = TestServer::start().await;
    let who = s.citizen(80).await;
    let jwks: JwkSet = reqwest::get(s.url("/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for alg in ["ES256", "EdDSA", "RS256", "PS256"] {
        let (c, secret) = s
            .client(eidp::oidc::clients::NewClient {
                name: format!("client {alg}"),
                kind: "other".into(),
                redirect_uris: vec![REDIRECT_URI.into()],
                id_token_alg: Some(alg.into()),
                min_account_level: Some(1),
                ..Default::default()
            })
            .await;
        let tokens = common::code_flow(&s, &who, &c, &secret.unwrap()).await;
        let idt = tokens["id_token"].as_str().unwrap();
        let header = decode_header(idt);
        assert_eq!(header["alg"], alg);
        let kid = header["kid"].as_str().unwrap();
        let jwk = jwks
            .find(kid)
            .unwrap_or_else(|| panic!("{alg}: kid {kid} not in JWKS"));
        assert_eq!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Signature)
        );
        let key = DecodingKey::from_jwk(jwk).unwrap();
        let mut v = Validation::new(jsonwebtoken::Algorithm::from_str_alg(alg));
        v.set_audience(&[&c.client_id]);
        v.set_issuer(&[&s.base]);
        let data = jsonwebtoken::decode::<serde_json::Value>(idt, &key, &v)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.claims["sub"], s.sub_at(&c, &who.sub));
    }
}

trait FromAlgName {
    fn from_str_alg(s: &str) -> Self;
}

impl FromAlgName for jsonwebtoken::Algorithm {
    fn from_str_alg(s: &str) -> Self {
        s.parse().unwrap()
    }
}
