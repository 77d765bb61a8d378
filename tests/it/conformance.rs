//! Modules of the OpenID Foundation's Basic OP plan (docs/conformance.md), one test each.

use crate::common::{
    self, Browser, REDIRECT_URI, TestServer, authorize_url, pkce, query_param, token_request,
};
use crate::flow::decode_payload;

async fn setup(
    n: u32,
) -> (
    TestServer,
    common::Citizen,
    eidp::store::ClientRecord,
    String,
) {
    let s = TestServer::start().await;
    let who = s.citizen(n).await;
    let (c, secret) = s.confidential().await;
    (s, who, c, secret)
}

async fn redeem(
    s: &TestServer,
    c: &eidp::store::ClientRecord,
    secret: &str,
    cb: &url::Url,
    verifier: &str,
) -> serde_json::Value {
    common::redeem(s, &c.client_id, secret, cb, verifier).await
}

#[tokio::test]
async fn oidcc_response_type_missing() {
    let (s, _, c, _) = setup(30).await;
    let (_, ch) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &ch, &[]).replace("response_type=code&", "");
    let (back, _, _) = Browser::new().go(&url).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(query_param(&back, "code").is_none());
}

#[tokio::test]
async fn oidcc_prompt_login_and_max_age_1_reauthenticate() {
    let (s, who, c, secret) = setup(31).await;
    let b = Browser::new();
    let (v1, ch1) = pkce();
    let cb = b
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &ch1, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let t1 = decode_payload(
        redeem(&s, &c, &secret, &cb, &v1).await["id_token"]
            .as_str()
            .unwrap(),
    );
    s.clock.advance(2);
    for extra in [("prompt", "login"), ("max_age", "1")] {
        let (v, ch) = pkce();
        let url = authorize_url(&s.base, &c.client_id, &ch, &[extra]);
        let (_, status, page) = b.go(&url).await;
        assert!(
            page.contains("action=\"/login\""),
            "{extra:?} must show the sign-in page ({status})"
        );
        let cb = b
            .sign_in(&url, &who.id_number, &who.password)
            .await
            .expect_redirect();
        let t = decode_payload(
            redeem(&s, &c, &secret, &cb, &v).await["id_token"]
                .as_str()
                .unwrap(),
        );
        assert!(
            t["auth_time"].as_i64() > t1["auth_time"].as_i64(),
            "{extra:?}: new auth_time"
        );
        s.clock.advance(2);
    }
    // max_age=10000: no re-authentication, auth_time still present.
    let (v, ch) = pkce();
    let (back, _, _) = b
        .go(&authorize_url(
            &s.base,
            &c.client_id,
            &ch,
            &[("max_age", "10000")],
        ))
        .await;
    let t = decode_payload(
        redeem(&s, &c, &secret, &back, &v).await["id_token"]
            .as_str()
            .unwrap(),
    );
    assert!(t["auth_time"].is_i64());
}

#[tokio::test]
async fn oidcc_ensure_post_request_and_unknown_parameter_succeed() {
    let (s, who, c, secret) = setup(32).await;
    let b = Browser::new();
    let (v, ch) = pkce();
    let url = authorize_url(
        &s.base,
        &c.client_id,
        &ch,
        &[
            ("extra_param", "x"),
            ("display", "popup"),
            ("ui_locales", "en"),
        ],
    );
    b.sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_redirect();
    let (_, q) = url.split_once('?').unwrap();
    let resp = b
        .http
        .post(s.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(q.replace(&ch, &pkce().1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(
        query_param(&loc, "code").is_some(),
        "POST authorization request with a session: {loc}"
    );
    let _ = (v, secret);
}

#[tokio::test]
async fn oidcc_unsigned_request_objects_and_unknown_request_uris_are_refused() {
    let (s, _, c, _) = setup(33).await;
    // An unsigned (`alg: none`) request object, and a request_uri nobody pushed: the redirect
    // URI inside them is not proven, so a page says so (RFC 9101 §6.3, RFC 9126 §4).
    for (param, value, err) in [
        (
            "request",
            "eyJhbGciOiJub25lIn0.e30.",
            "invalid_request_object",
        ),
        (
            "request_uri",
            "urn:ietf:params:oauth:request_uri:nothing",
            "invalid_request_uri",
        ),
    ] {
        let url = format!(
            "{}/authorize?client_id={}&{param}={value}",
            s.base, c.client_id
        );
        let (back, status, page) = Browser::new().go(&url).await;
        assert_eq!(status, 400, "{back} {page}");
        assert!(page.contains(err), "{param}: {page}");
    }
}

#[tokio::test]
async fn oidcc_claims_essential_and_nonce_optional() {
    let (s, who, c, secret) = setup(34).await;
    let (v, ch) = pkce();
    let claims =
        r#"{"userinfo":{"name":{"essential":true}},"id_token":{"id_number":{"essential":true}}}"#;
    let url = authorize_url(&s.base, &c.client_id, &ch, &[("claims", claims)])
        .replace("scope=openid+profile", "scope=openid")
        .replace("&nonce=n-1", "");
    let cb = Browser::new()
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_redirect();
    let tokens = redeem(&s, &c, &secret, &cb, &v).await;
    let idt = decode_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(idt["id_number"], who.id_number);
    assert!(idt.get("nonce").is_none());
    let info = common::userinfo(&s, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], "Trần Thị Bình");
    assert!(info.get("birthdate").is_none(), "only what was asked for");
}

#[tokio::test]
async fn oidcc_userinfo_get_post_header_post_body() {
    let (s, who, c, secret) = setup(35).await;
    let tokens = common::code_flow(&s, &who, &c, &secret).await;
    let at = tokens["access_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let a: serde_json::Value = http
        .get(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b: serde_json::Value = http
        .post(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c2: serde_json::Value = http
        .post(s.url("/userinfo"))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["sub"], s.sub_at(&c, &who.sub));
    assert_eq!(a, b);
    assert_eq!(a, c2);
    let resp = http.get(s.url("/userinfo")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn oidcc_server_client_secret_post_and_login_hint() {
    let s = TestServer::start().await;
    let who = s.citizen(36).await;
    let (c, secret) = s
        .client(eidp::oidc::clients::NewClient {
            name: "Cổng dịch vụ công".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            auth_method: Some("client_secret_post".into()),
            min_account_level: Some(1),
            ..Default::default()
        })
        .await;
    let secret = secret.unwrap();
    let (v, ch) = pkce();
    let url = authorize_url(
        &s.base,
        &c.client_id,
        &ch,
        &[("login_hint", &who.id_number)],
    );
    let b = Browser::new();
    let (_, _, page) = b.go(&url).await;
    assert!(
        page.contains(&format!("value=\"{}\"", who.id_number)),
        "login_hint pre-fills the ID number"
    );
    let cb = b
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_redirect();
    let code = query_param(&cb, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", v.as_str()),
    ];
    // The client registered client_secret_post: the same secret by Basic is refused (and
    // spends nothing: the code still works by the registered method).
    let (status, body) = token_request(&s.base, Some((&c.client_id, &secret)), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    let mut posted = form.to_vec();
    posted.extend([
        ("client_id", c.client_id.as_str()),
        ("client_secret", secret.as_str()),
    ]);
    let (status, body) = token_request(&s.base, None, &posted).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn oidcc_id_token_hint_of_current_session() {
    let (s, who, c, secret) = setup(37).await;
    let b = Browser::new();
    let (v, ch) = pkce();
    let cb = b
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &ch, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let idt = redeem(&s, &c, &secret, &cb, &v).await["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (v2, ch2) = pkce();
    let (back, _, _) = b
        .go(&authorize_url(
            &s.base,
            &c.client_id,
            &ch2,
            &[("prompt", "none"), ("id_token_hint", &idt)],
        ))
        .await;
    let again = decode_payload(
        redeem(&s, &c, &secret, &back, &v2).await["id_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(again["sub"], s.sub_at(&c, &who.sub));
}

#[tokio::test]
async fn consent_denied_is_access_denied() {
    let (s, who, c, _) = setup(38).await;
    let (_, ch) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &ch, &[]);
    let b = Browser::new();
    let (at, _, page) = b.go(&url).await;
    let ar = common::browser::input_value(&page, "ar").unwrap();
    let csrf = common::browser::input_value(&page, "csrf").unwrap();
    let (_, page) = b
        .post_form(
            &at,
            "/login",
            &[
                ("ar", &ar),
                ("csrf", &csrf),
                ("id_number", &who.id_number),
                ("password", &who.password),
            ],
        )
        .await
        .expect_page();
    let csrf = common::browser::input_value(&page, "csrf").unwrap();
    let back = b
        .post_form(
            &at,
            "/consent",
            &[("ar", &ar), ("csrf", &csrf), ("decision", "deny")],
        )
        .await
        .expect_redirect();
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-1"));
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let (s, who, c, _) = setup(39).await;
    let (_, ch) = pkce();
    let b = Browser::new();
    let (at, _, page) = b.go(&authorize_url(&s.base, &c.client_id, &ch, &[])).await;
    let ar = common::browser::input_value(&page, "ar").unwrap();
    let (status, _) = b
        .post_form(
            &at,
            "/login",
            &[
                ("ar", &ar),
                ("csrf", "forged"),
                ("id_number", &who.id_number),
                ("password", &who.password),
            ],
        )
        .await
        .expect_page();
    assert_eq!(status, 403);
}

#[tokio::test]
async fn logout_rules() {
    let (s, who, c, secret) = setup(40).await;
    let tokens = common::code_flow(&s, &who, &c, &secret).await;
    let idt = tokens["id_token"].as_str().unwrap();
    let b = Browser::new();
    // Unregistered post_logout_redirect_uri: an error page, no redirect.
    let bad = format!(
        "{}/logout?id_token_hint={idt}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fevil",
        s.base
    );
    let resp = b.http.get(bad).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // A modified id_token_hint: error page.
    let resp = b
        .http
        .get(format!("{}/logout?id_token_hint={idt}x", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // No state: the redirect carries none.
    let ok = format!(
        "{}/logout?id_token_hint={idt}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fbye",
        s.base
    );
    let resp = b.http.get(ok).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "http://127.0.0.1:9/bye");
}
