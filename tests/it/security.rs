//! The security findings of issue #13, each replayed as the attacker would and seen refused:
//! a weak sign-in minting a strong factor, officers acting as each other, a password change
//! that left other sessions alive, security records that failed open, missing headers, and
//! the client-authentication and PKCE details.

use std::sync::Arc;

use async_trait::async_trait;
use eidp::store::memory::MemoryStore;
use eidp::store::{Ephemeral, StoreError, StoreResult};
use serde_json::json;
use url::Url;

use crate::common::browser::input_value;
use crate::common::{
    self, Browser, Citizen, Options, REDIRECT_URI, TestServer, authorize_url, pkce, query_param,
    token_request,
};

fn base(s: &TestServer) -> Url {
    Url::parse(&s.base).unwrap()
}

/// Post an account form; the status and the page it lands on.
async fn account_post(
    s: &TestServer,
    b: &Browser,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    b.post_form(&base(s), path, form).await.expect_page()
}

fn is_confirm_page(page: &str) -> bool {
    page.contains("action=\"/account/confirm\"")
}

#[tokio::test]
async fn a_password_alone_cannot_add_remove_or_replace_a_factor() {
    let s = TestServer::start().await;
    let who = s.citizen(310).await;
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    let pw = "Mật-khẩu-mới-9";
    for (path, extra) in [
        ("/account/totp/start", vec![]),
        ("/account/totp/confirm", vec![("code", "123456")]),
        ("/account/recovery", vec![]),
        ("/account/totp/remove", vec![]),
        ("/account/passkeys/delete", vec![("passkey", "AAAA")]),
        (
            "/account/password",
            vec![
                ("current_password", who.password.as_str()),
                ("new_password", pw),
                ("new_password_confirm", pw),
            ],
        ),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(extra);
        let (status, page) = account_post(&s, &b, path, &form).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            is_confirm_page(&page),
            "{path} sends the person to confirm first"
        );
        assert!(
            !page.contains("data:image/png") && !page.contains("<code>"),
            "{path}: nothing handed out"
        );
    }
    let db = &s.provider.db;
    assert!(db.totp(&who.sub).await.unwrap().is_none());
    assert_eq!(db.recovery_codes_left(&who.sub).await.unwrap(), 0);
    assert!(eidp::authn::password::verify(
        &who.password,
        &db.account_by_sub(&who.sub)
            .await
            .unwrap()
            .unwrap()
            .password_hash
    ));
    // The password again is not enough: the account's further proof is the phone on record.
    let (_, _, page) = b.go(&s.url("/account/confirm")).await;
    let ccsrf = input_value(&page, "csrf").unwrap();
    account_post(
        &s,
        &b,
        "/account/confirm",
        &[
            ("csrf", &ccsrf),
            ("method", "pwd"),
            ("password", &who.password),
        ],
    )
    .await;
    let (status, page) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert!(
        status == 200 && is_confirm_page(&page),
        "password alone: still not"
    );
    // With the SMS code as well, the first factor may be added; the holder is told.
    let (status, page) = common::confirm(&s, &b, &who, ("sms", None)).await;
    assert_eq!(status, 200, "{page}");
    let (_, page) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert_eq!(page.matches("<code>").count(), 10, "ten recovery codes");
    let outbox = std::fs::read_to_string(s.outbox_path()).unwrap();
    assert!(
        outbox.contains("ma khoi phuc moi"),
        "an SMS notice: {outbox}"
    );
    let mail = s.last_email_line("binh@example.vn").unwrap();
    assert!(mail.contains("recovery codes"), "an e-mail notice: {mail}");
    let actions: Vec<String> = db
        .audit_for_subject(&who.sub, 0, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"reauthenticated".to_string())
            && actions.contains(&"recovery_codes".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn only_the_accounts_strongest_factor_confirms_and_only_for_five_minutes() {
    let s = TestServer::start().await;
    let who = s.citizen(311).await;
    let totp = crate::mfa::enrol_totp(&s, &Browser::new(), &who).await;
    // A thief with the password, in a new browser: SMS (weaker than the app) is not offered
    // and not accepted.
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    let (_, _, page) = b.go(&s.url("/account/confirm")).await;
    assert!(
        !page.contains("/account/confirm/sms"),
        "no SMS route while an app exists"
    );
    let ccsrf = input_value(&page, "csrf").unwrap();
    let (status, _) = account_post(
        &s,
        &b,
        "/account/confirm",
        &[("csrf", &ccsrf), ("method", "sms"), ("code", "123456")],
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = account_post(&s, &b, "/account/confirm/sms", &[("csrf", &ccsrf)]).await;
    assert_eq!(status, 400, "and no code is sent");
    // The app itself confirms.
    s.clock.advance(30);
    let code = crate::mfa::code_at(&totp, s.provider.now());
    let (status, page) = common::confirm(&s, &b, &who, ("totp", Some(&code))).await;
    assert_eq!(status, 200, "{page}");
    let (_, page) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert!(page.contains("<code>"), "confirmed: allowed");
    // Five minutes on, the confirmation has lapsed.
    s.clock.advance(eidp::authn::reauth::RECENT_SECS + 1);
    let (_, page) = account_post(&s, &b, "/account/totp/remove", &[("csrf", &csrf)]).await;
    assert!(is_confirm_page(&page));
    assert!(s.provider.db.totp(&who.sub).await.unwrap().is_some());
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_and_grant() {
    let s = TestServer::start().await;
    let who = s.citizen(312).await;
    let (c, secret) = s.confidential().await;
    // Elsewhere (say, the thief's browser): a session and a relying party's tokens.
    let elsewhere = Browser::new();
    let (verifier, challenge) = pkce();
    let cb = elsewhere
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &challenge, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let tokens = common::redeem(&s, &c.client_id, &secret, &cb, &verifier).await;
    // Here: the holder confirms and changes the password.
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    common::confirm(&s, &b, &who, ("sms", None)).await;
    let pw = "Mật-khẩu-mới-9";
    let (status, page) = account_post(
        &s,
        &b,
        "/account/password",
        &[
            ("csrf", &csrf),
            ("current_password", &who.password),
            ("new_password", pw),
            ("new_password_confirm", pw),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let (_, _, page) = b.go(&s.url("/account")).await;
    assert!(
        !page.contains("name=\"next\""),
        "this browser stays signed in"
    );
    let (_, _, page) = elsewhere.go(&s.url("/account")).await;
    assert!(
        page.contains("name=\"next\""),
        "the other session has ended"
    );
    let rt = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let at = tokens["access_token"].as_str().unwrap();
    let r = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let moved = Citizen {
        password: pw.into(),
        ..who
    };
    common::code_flow(&s, &moved, &c, &secret).await;
}

async fn admin_post(
    s: &TestServer,
    path: &str,
    body: serde_json::Value,
    token: &str,
) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(s.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn officers_cannot_act_as_each_other_or_on_their_own_account() {
    let s = TestServer::start().await;
    let who = s.citizen(313).await;
    let colleague = s.citizen(314).await;
    let officer = common::officer(&s, "CA-7", "officer", &colleague.id_number).await;
    let _boss = common::officer(&s, "AD-7", "admin", "001085000007").await;
    let path = format!("/admin/v1/accounts/{}/verify", who.id_number);
    // Naming another officer in the body is refused outright.
    let forged = json!({"officer_id": "AD-7", "evidence_ref": "HS-1", "chip_authentic": true, "biometric_match": true});
    let (status, v) = admin_post(&s, &path, forged, &officer).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("officer_id"),
        "{v}"
    );
    // An admin client bound to no officer acts for nobody.
    let (generic, secret) = s
        .client(eidp::oidc::clients::NewClient {
            name: "Cổng quản trị".into(),
            kind: "admin".into(),
            min_account_level: 1,
            ..Default::default()
        })
        .await;
    let (_, tok) = token_request(
        &s.base,
        Some((&generic.client_id, &secret.unwrap())),
        &[("grant_type", "client_credentials"), ("scope", "admin")],
    )
    .await;
    let body = json!({"evidence_ref": "HS-1", "chip_authentic": true, "biometric_match": true});
    let (status, _) = admin_post(
        &s,
        &path,
        body.clone(),
        tok["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    // The officer's own account: refused.
    let own = format!("/admin/v1/accounts/{}/verify", colleague.id_number);
    let (status, v) = admin_post(&s, &own, body.clone(), &officer).await;
    assert_eq!(status, 403, "{v}");
    assert_eq!(
        s.provider
            .db
            .account_by_sub(&colleague.sub)
            .await
            .unwrap()
            .unwrap()
            .level,
        1
    );
    // Someone else's: allowed, and the history names the officer and the client.
    let (status, _) = admin_post(&s, &path, body, &officer).await;
    assert_eq!(status, 200);
    let entry = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 5)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "level2")
        .unwrap();
    assert_eq!(entry.actor, "officer:CA-7");
    let client = s
        .provider
        .db
        .client(entry.client_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.officer_id.as_deref(), Some("CA-7"));
    // The CLI keeps the same rule.
    let (ok, _, err) = s.cli(
        &[
            "admin",
            "accounts",
            "verify",
            "--id-number",
            &colleague.id_number,
            "--officer",
            "CA-7",
            "--evidence",
            "X",
        ],
        None,
    );
    assert!(!ok && err.contains("own account"), "{err}");
}

/// An ephemeral store where writes of some keys fail: counters (`incr_by`) whose key starts
/// with `incr`, plain writes (`put`) whose key starts with `put`; everything else works.
struct Failing {
    inner: MemoryStore,
    incr: &'static str,
    put: &'static str,
}

impl Failing {
    fn new(incr: &'static str, put: &'static str) -> Arc<Failing> {
        Arc::new(Failing {
            inner: MemoryStore::new(),
            incr,
            put,
        })
    }
}

fn down() -> StoreError {
    StoreError::Unavailable("counter store down".into())
}

#[async_trait]
impl Ephemeral for Failing {
    async fn put(&self, k: &str, v: &[u8], t: u64) -> StoreResult<()> {
        if !self.put.is_empty() && k.starts_with(self.put) {
            return Err(down());
        }
        self.inner.put(k, v, t).await
    }
    async fn put_new(&self, k: &str, v: &[u8], t: u64) -> StoreResult<bool> {
        self.inner.put_new(k, v, t).await
    }
    async fn get(&self, k: &str) -> StoreResult<Option<Vec<u8>>> {
        self.inner.get(k).await
    }
    async fn take(&self, k: &str) -> StoreResult<Option<Vec<u8>>> {
        self.inner.take(k).await
    }
    async fn delete(&self, k: &str) -> StoreResult<()> {
        self.inner.delete(k).await
    }
    async fn incr_by(&self, k: &str, d: i64, t: u64) -> StoreResult<i64> {
        if !self.incr.is_empty() && k.starts_with(self.incr) {
            return Err(down());
        }
        self.inner.incr_by(k, d, t).await
    }
    async fn set_add(&self, k: &str, m: &str, t: u64) -> StoreResult<()> {
        self.inner.set_add(k, m, t).await
    }
    async fn set_members(&self, k: &str) -> StoreResult<Vec<String>> {
        self.inner.set_members(k).await
    }
    async fn set_remove(&self, k: &str, m: &str) -> StoreResult<()> {
        self.inner.set_remove(k, m).await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
}

async fn sign_in_status(
    s: &TestServer,
    b: &Browser,
    client_id: &str,
    who: &Citizen,
    password: &str,
) -> u16 {
    let url = authorize_url(&s.base, client_id, &pkce().1, &[]);
    match b.sign_in(&url, &who.id_number, password).await {
        common::Landing::Page(status, _) => status,
        common::Landing::Redirect(_) => 302,
    }
}

#[tokio::test]
async fn a_throttle_that_cannot_count_refuses_the_sign_in() {
    let s = TestServer::start_with(Options {
        ephemeral: Some(Failing::new("fail", "")),
        ..Default::default()
    })
    .await;
    let who = s.citizen(315).await;
    let (c, _) = s.confidential().await;
    for pw in ["Wrong-pass-1", who.password.as_str()] {
        let b = Browser::new();
        assert_eq!(
            sign_in_status(&s, &b, &c.client_id, &who, pw).await,
            503,
            "{pw}"
        );
        let (_, _, page) = b.go(&s.url("/account")).await;
        assert!(page.contains("name=\"next\""), "no session");
    }
    // The wait after a failure is a security record too: when it cannot be written, the
    // failure is not answered as a plain "wrong password" that costs nothing.
    let s = TestServer::start_with(Options {
        ephemeral: Some(Failing::new("", "wait:")),
        ..Default::default()
    })
    .await;
    let who = s.citizen(315).await;
    let (c, _) = s.confidential().await;
    let free = eidp::authn::throttle::FREE_TRIES;
    for i in 1..=free {
        let status = sign_in_status(&s, &Browser::new(), &c.client_id, &who, "Wrong-pass-1").await;
        assert_eq!(status, if i < free { 401 } else { 503 }, "try {i}");
    }
}

#[tokio::test]
async fn a_history_that_cannot_be_written_refuses_the_action() {
    let s = TestServer::start().await;
    let who = s.citizen(316).await;
    let (c, _) = s.confidential().await;
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    common::confirm(&s, &b, &who, ("sms", None)).await;
    let pool = sqlx::SqlitePool::connect(&s.database_url).await.unwrap();
    sqlx::query("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        .execute(&pool)
        .await
        .unwrap();
    // Sign-in: refused, no session.
    let fresh = Browser::new();
    assert_eq!(
        sign_in_status(&s, &fresh, &c.client_id, &who, &who.password).await,
        503
    );
    let (_, _, page) = fresh.go(&s.url("/account")).await;
    assert!(page.contains("name=\"next\""), "no session");
    // A wrong password: refused as unavailable, not as a plain failure nobody recorded.
    assert_eq!(
        sign_in_status(&s, &Browser::new(), &c.client_id, &who, "Wrong-pass-1").await,
        503
    );
    // An account change: not made.
    let (status, page) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert_eq!(status, 503, "{page}");
    assert_eq!(
        s.provider.db.recovery_codes_left(&who.sub).await.unwrap(),
        0
    );
    sqlx::query("DROP TRIGGER audit_down")
        .execute(&pool)
        .await
        .unwrap();
    let (status, _) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert_eq!(status, 200, "works again once the history can be written");
}

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
            name: "Ngân hàng".into(),
            kind: "bank".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            auth_method: Some("private_key_jwt".into()),
            jwks: Some(json!({"keys": [jwk]}).to_string()),
            min_account_level: 2,
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
            min_account_level: 1,
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
