//! RFC 9700 (OAuth 2.0 Security Best Current Practice), the items no other test covers, each
//! named after its section; docs/security.md walks the whole document and names the test for
//! every item.

use crate::common::{Browser, REDIRECT_URI, TestServer, authorize_url, pkce, query_param};

/// §4.1 and §2.1: redirect URIs are compared as exact strings; near misses get a page, never
/// a redirect.
#[tokio::test]
async fn rfc9700_4_1_redirect_uris_match_exactly() {
    let s = TestServer::start().await;
    let (c, _) = s.confidential().await;
    let (_, challenge) = pkce();
    let good = authorize_url(&s.base, &c.client_id, &challenge, &[]);
    let encoded = "http%3A%2F%2F127.0.0.1%3A9%2Fcb";
    assert!(good.contains(encoded));
    for variant in [
        "http://127.0.0.1:9/cb/",
        "http://127.0.0.1:9/cb?x=1",
        "http://127.0.0.1:9/cb#x",
        "http://127.0.0.1:9/CB",
        "http://127.0.0.1:90/cb",
        "https://127.0.0.1:9/cb",
        "http://127.0.0.1:9/cb/../cb",
        "http://127.0.0.1.evil.example:9/cb",
        "http://127.0.0.1:9@evil.example/cb",
    ] {
        let url = good.replace(encoded, &crate::flow::urlencode(variant));
        let r = Browser::new().http.get(url).send().await.unwrap();
        assert_eq!(r.status(), 400, "{variant}");
        assert!(
            r.headers().get("location").is_none(),
            "{variant}: no redirect"
        );
    }
}

/// §2.1.1 and §4.8: PKCE is required, and only S256; a request without it, or downgraded to
/// `plain`, goes back to the client as an error.
#[tokio::test]
async fn rfc9700_4_8_pkce_downgrade_is_refused() {
    let s = TestServer::start().await;
    let (c, _) = s.confidential().await;
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[]);
    let cases = [
        url.replace(
            "&code_challenge_method=S256",
            "&code_challenge_method=plain",
        ),
        url.replace("&code_challenge_method=S256", ""),
        url.replace(&format!("&code_challenge={challenge}"), ""),
    ];
    for case in cases {
        let (back, _, _) = Browser::new().go(&case).await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_request"),
            "{case}"
        );
        assert!(query_param(&back, "code").is_none());
    }
}

/// §2.1.2 (implicit and hybrid flows are not used) and §4.17 (no in-browser message flows):
/// only `response_type=code` with `response_mode=query`.
#[tokio::test]
async fn rfc9700_2_1_2_and_4_17_only_the_code_flow_by_query() {
    let s = TestServer::start().await;
    let (c, _) = s.confidential().await;
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[]);
    for rt in ["token", "id_token", "code%20id_token", "code%20token"] {
        let (back, _, _) = Browser::new()
            .go(&url.replace("response_type=code", &format!("response_type={rt}")))
            .await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("unsupported_response_type"),
            "{rt}"
        );
    }
    for mode in ["fragment", "form_post", "web_message"] {
        let (back, _, _) = Browser::new()
            .go(&format!("{url}&response_mode={mode}"))
            .await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_request"),
            "{mode}"
        );
    }
}

/// §4.2, §4.3 and §4.16: pages carry no referrer, are never stored by the browser, and are
/// never framed; redirects after a form post are 303 (§4.12).
#[tokio::test]
async fn rfc9700_4_2_4_3_4_12_4_16_pages_leak_nothing_and_cannot_be_framed() {
    let s = TestServer::start().await;
    let (c, _) = s.confidential().await;
    let (_, challenge) = pkce();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[]);
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 303, "on to the sign-in page");
    let login = r.headers()["location"].to_str().unwrap().to_string();
    let r = http.get(s.url(&login)).send().await.unwrap();
    let h = r.headers();
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    // The authorization request by POST: the answer to a POST is a 303, never a 307 that
    // would re-post the form (with the person's credentials) elsewhere.
    let (_, query) = url.split_once('?').unwrap();
    let r = http
        .post(s.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

/// §4.15: a client's own access token (client credentials) names no person and cannot be
/// used as one at the UserInfo endpoint.
#[tokio::test]
async fn rfc9700_4_15_a_client_cannot_pass_for_a_person() {
    let s = TestServer::start().await;
    let (c, secret) = s.confidential().await;
    let (status, body) = crate::common::token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let at = body["access_token"].as_str().unwrap();
    let r = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(status == 401 || status == 403, "{status}");
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=")
    );
    // Persons' `sub` values and client ids are both random, never chosen by a client.
    let who = s.citizen(320).await;
    assert_ne!(who.sub, c.client_id);
}

/// §4.4 (mix-up): the authorization response names its issuer (RFC 9207), and discovery says
/// so.
#[tokio::test]
async fn rfc9700_4_4_responses_name_their_issuer() {
    let s = TestServer::start().await;
    let who = s.citizen(321).await;
    let (c, _) = s.confidential().await;
    let cb = Browser::new()
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &pkce().1, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    assert_eq!(query_param(&cb, "iss").as_deref(), Some(s.base.as_str()));
    let disco: serde_json::Value = reqwest::get(s.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        disco["authorization_response_iss_parameter_supported"],
        true
    );
    assert!(cb.as_str().starts_with(REDIRECT_URI));
}
