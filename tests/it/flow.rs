//! The whole authorization-code flow with the `openidconnect` crate as the relying party:
//! discovery → authorize → sign-in → consent → code → token → ID token verified against JWKS →
//! userinfo → refresh → revoke → logout.

use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

use crate::common::{self, Browser, POST_LOGOUT_URI, REDIRECT_URI, TestServer, query_param};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn full_flow_with_openidconnect_relying_party() {
    let s = TestServer::start().await;
    let who = s.citizen(1).await;
    let (client_rec, secret) = s.confidential().await;
    let http = http();

    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(s.base.clone()).unwrap(), &http)
        .await
        .expect("discovery");
    let rp = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(client_rec.client_id.to_string()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = rp
        .authorize_url(
            openidconnect::core::CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("eid".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new();
    let callback = browser
        .sign_in(auth_url.as_str(), &who.id_number, &who.password)
        .await
        .expect_redirect();
    assert!(callback.as_str().starts_with(REDIRECT_URI));
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(s.base.as_str()),
        "RFC 9207 iss"
    );
    let code = query_param(&callback, "code").unwrap();

    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id_token");
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("ID token verifies against JWKS");
    assert_eq!(claims.subject().as_str(), s.sub_at(&client_rec, &who.sub));
    assert_eq!(claims.issuer().as_str(), s.base);
    assert!(claims.auth_time().is_some());
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some("urn:vn:eid:loa:1")
    );
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.as_str().to_string())
        .collect();
    assert_eq!(amr, vec!["pwd"]);
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    // Raw claims: sid, and the e-ID claims under the `eid` scope.
    let raw = decode_payload(&id_token.to_string());
    assert!(raw["sid"].is_string());
    assert_eq!(raw["eid_level"], 1);
    assert_eq!(raw["id_number"], who.id_number);
    let header = decode_header(&id_token.to_string());
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].is_string());

    let info: CoreUserInfoClaims = rp
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("Trần Thị Bình")
    );

    let refresh = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = rp
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let new_refresh = refreshed
        .refresh_token()
        .expect("rotated refresh token")
        .clone();
    assert_ne!(
        new_refresh.secret(),
        refresh.secret(),
        "refresh tokens rotate"
    );
    let new_id = refreshed.id_token().expect("new id token");
    let new_claims = new_id
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(new_claims.subject(), claims.subject());
    assert_eq!(new_claims.issuer(), claims.issuer());
    assert_eq!(new_claims.audiences(), claims.audiences());

    // oauth2's revoke_token() refuses plain-http endpoints, so the RFC 7009 call is made by hand
    // (same request the library would send: client_secret_basic, token, token_type_hint).
    let resp = http
        .post(s.url("/revoke"))
        .basic_auth(&client_rec.client_id, Some(&secret))
        .form(&[
            ("token", new_refresh.secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "revoke");
    let after = rp
        .exchange_refresh_token(&new_refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(after.is_err(), "a revoked refresh token is dead");
    let status = http
        .get(s.url("/userinfo"))
        .bearer_auth(refreshed.access_token().secret())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        status, 401,
        "revoking the refresh token ends the grant's access tokens"
    );

    // RP-initiated logout ends the browser session.
    let logout = format!(
        "{}/logout?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
        s.base,
        id_token,
        urlencode(POST_LOGOUT_URI)
    );
    let (landed, _, _) = browser.go(&logout).await;
    assert_eq!(landed.as_str(), format!("{POST_LOGOUT_URI}?state=bye"));
    let (_, challenge) = common::pkce();
    let silent = common::authorize_url(
        &s.base,
        &client_rec.client_id,
        &challenge,
        &[("prompt", "none")],
    );
    let (back, _, _) = browser.go(&silent).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn decode_payload(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&eidp::crypto::b64url_decode(part).unwrap()).unwrap()
}

pub fn decode_header(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').next().unwrap();
    serde_json::from_slice(&eidp::crypto::b64url_decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn second_authorization_reuses_session_and_consent() {
    let s = TestServer::start().await;
    let who = s.citizen(2).await;
    let (c, secret) = s.confidential().await;
    let b = Browser::new();
    let (_, ch) = common::pkce();
    b.sign_in(
        &common::authorize_url(&s.base, &c.client_id, &ch, &[]),
        &who.id_number,
        &who.password,
    )
    .await
    .expect_redirect();
    // prompt=none now succeeds silently (oidcc-prompt-none-logged-in).
    let (_, ch) = common::pkce();
    let (back, _, _) = b
        .go(&common::authorize_url(
            &s.base,
            &c.client_id,
            &ch,
            &[("prompt", "none")],
        ))
        .await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    let _ = secret;
}
