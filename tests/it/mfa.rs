//! Second factors and assurance: TOTP (with replay protection), SMS codes (expiry, attempt
//! limit), recovery codes (single use), step-up from loa:1 to loa:2 with the resulting
//! `acr`/`amr`, and brute-force throttling.

use url::Url;

use crate::common::browser::input_value;
use crate::common::{
    Browser, Citizen, Landing, REDIRECT_URI, TestServer, authorize_url, pkce, query_param,
};
use crate::flow::decode_payload;
use eidp::oidc::clients::NewClient;
use eidp::store::ClientRecord;

async fn loa2_client(s: &TestServer) -> (ClientRecord, String) {
    let (c, secret) = s
        .client(NewClient {
            name: "Cổng dịch vụ thuế".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            min_account_level: Some(1),
            min_acr: Some("urn:vn:eid:loa:2".into()),
            ..Default::default()
        })
        .await;
    (c, secret.unwrap())
}

/// Sign in to the account page; returns the page.
async fn account_page(s: &TestServer, b: &Browser, who: &Citizen) -> String {
    crate::common::account_page(s, b, who).await.1
}

fn base32_decode(s: &str) -> Vec<u8> {
    let (mut buf, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.chars() {
        let v = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".find(c).unwrap() as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}

pub fn code_at(secret: &[u8], t: i64) -> String {
    eidp::authn::factors::totp(secret, "x", "eidp")
        .unwrap()
        .generate(t as u64)
        .to_string()
}

/// Enrol TOTP from the account page (confirming first with the password and an SMS code,
/// as an account without a further factor must); returns the secret.
pub async fn enrol_totp(s: &TestServer, b: &Browser, who: &Citizen) -> Vec<u8> {
    let page = account_page(s, b, who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    let (status, page) = crate::common::confirm(s, b, who, ("sms", None)).await;
    assert_eq!(status, 200, "{page}");
    let at = Url::parse(&s.base).unwrap();
    let (status, page) = b
        .post_form(&at, "/account/totp/start", &[("csrf", &csrf)])
        .await
        .expect_page();
    assert_eq!(status, 200);
    assert!(page.contains("data:image/png;base64,"), "a QR code image");
    let secret = page
        .split("<code>")
        .nth(1)
        .and_then(|r| r.split("</code>").next())
        .unwrap();
    let secret = base32_decode(secret);
    let code = code_at(&secret, s.provider.now());
    let (status, page) = b
        .post_form(
            &at,
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await
        .expect_page();
    assert_eq!(status, 200, "{page}");
    secret
}

/// Start an authorization for `client`; the browser signs in with the password if asked and
/// stops at the second-factor page, whose `ar` and `csrf` are returned.
async fn to_second_factor(
    s: &TestServer,
    b: &Browser,
    who: &Citizen,
    client: &ClientRecord,
    challenge: &str,
) -> (String, String) {
    let landing = b
        .sign_in(
            &authorize_url(&s.base, &client.client_id, challenge, &[]),
            &who.id_number,
            &who.password,
        )
        .await;
    let (_, page) = landing.expect_page();
    assert!(
        page.contains("action=\"/login/step-up\""),
        "asked for a second factor: {page}"
    );
    (
        input_value(&page, "ar").unwrap(),
        input_value(&page, "csrf").unwrap(),
    )
}

async fn second(
    b: &Browser,
    s: &TestServer,
    ar: &str,
    csrf: &str,
    method: &str,
    code: &str,
) -> Landing {
    let at = Url::parse(&s.base).unwrap();
    b.post_form(
        &at,
        "/login/step-up",
        &[
            ("ar", ar),
            ("csrf", csrf),
            ("method", method),
            ("code", code),
        ],
    )
    .await
}

/// After the second factor the browser may still meet the consent page.
async fn finish(b: &Browser, s: &TestServer, landing: Landing) -> Url {
    match landing {
        Landing::Redirect(u) => u,
        Landing::Page(_, page) => {
            let at = Url::parse(&s.base).unwrap();
            b.approve(&at, &page, &[]).await.expect_redirect()
        }
    }
}

async fn redeem(
    s: &TestServer,
    c: &ClientRecord,
    secret: &str,
    cb: &Url,
    verifier: &str,
) -> serde_json::Value {
    let body = crate::common::redeem(s, &c.client_id, secret, cb, verifier).await;
    decode_payload(body["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn step_up_with_totp_and_totp_replay_refused() {
    let s = TestServer::start().await;
    let who = s.citizen(100).await;
    let secret = enrol_totp(&s, &Browser::new(), &who).await;
    // A fresh browser signs in with the password (loa:1); a bank needs loa:2.
    let b = Browser::new();
    let (bank, bank_secret) = loa2_client(&s).await;
    let (verifier, challenge) = pkce();
    let (ar, csrf) = to_second_factor(&s, &b, &who, &bank, &challenge).await;
    // The code that confirmed enrolment was spent: it is refused now.
    let spent = code_at(&secret, s.provider.now());
    let (status, _) = second(&b, &s, &ar, &csrf, "totp", &spent)
        .await
        .expect_page();
    assert_eq!(status, 401, "TOTP replay");
    s.clock.advance(30);
    let fresh = code_at(&secret, s.provider.now());
    let cb = finish(&b, &s, second(&b, &s, &ar, &csrf, "totp", &fresh).await).await;
    let idt = redeem(&s, &bank, &bank_secret, &cb, &verifier).await;
    assert_eq!(idt["acr"], "urn:vn:eid:loa:2");
    assert_eq!(idt["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    // The same code again, on a new step-up: refused (accepted once only).
    let b2 = Browser::new();
    let (_, challenge) = pkce();
    let (ar, csrf) = to_second_factor(&s, &b2, &who, &bank, &challenge).await;
    let (status, _) = second(&b2, &s, &ar, &csrf, "totp", &fresh)
        .await
        .expect_page();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn sms_code_expires_and_has_an_attempt_limit() {
    let s = TestServer::start().await;
    let who = s.citizen(101).await;
    let (bank, bank_secret) = loa2_client(&s).await;
    let b = Browser::new();
    let (verifier, challenge) = pkce();
    let (ar, csrf) = to_second_factor(&s, &b, &who, &bank, &challenge).await;
    let at = Url::parse(&s.base).unwrap();
    let phone = "+84987654321";
    b.post_form(&at, "/login/step-up/sms", &[("ar", &ar), ("csrf", &csrf)])
        .await
        .expect_page();
    let code = s.last_sms_code(phone).unwrap();
    s.clock.advance(301);
    let (status, _) = second(&b, &s, &ar, &csrf, "sms", &code).await.expect_page();
    assert_eq!(status, 401, "expired after 5 minutes");
    // A new code; three wrong tries end it, even before the right one.
    b.post_form(&at, "/login/step-up/sms", &[("ar", &ar), ("csrf", &csrf)])
        .await
        .expect_page();
    let code = s.last_sms_code(phone).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for i in 0..3 {
        let (status, _) = second(&b, &s, &ar, &csrf, "sms", wrong).await.expect_page();
        assert!(status == 401 || status == 429, "try {i}: {status}");
        s.clock.advance(61);
    }
    let (status, _) = second(&b, &s, &ar, &csrf, "sms", &code).await.expect_page();
    assert!(
        status == 401 || status == 429,
        "the challenge is spent after three failures"
    );
    // A fresh code works (and the SMS method shows in amr).
    s.clock.advance(900);
    b.post_form(&at, "/login/step-up/sms", &[("ar", &ar), ("csrf", &csrf)])
        .await
        .expect_page();
    let code = s.last_sms_code(phone).unwrap();
    let cb = finish(&b, &s, second(&b, &s, &ar, &csrf, "sms", &code).await).await;
    let idt = redeem(&s, &bank, &bank_secret, &cb, &verifier).await;
    assert_eq!(idt["acr"], "urn:vn:eid:loa:2");
    assert!(
        idt["amr"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("sms"))
    );
}

#[tokio::test]
async fn recovery_codes_are_single_use() {
    let s = TestServer::start().await;
    let who = s.citizen(102).await;
    let b = Browser::new();
    let page = account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    let at = Url::parse(&s.base).unwrap();
    crate::common::confirm(&s, &b, &who, ("sms", None)).await;
    let (_, page) = b
        .post_form(&at, "/account/recovery", &[("csrf", &csrf)])
        .await
        .expect_page();
    // The confirmation took this browser to loa:2; the bank flow starts in a fresh one.
    let b = Browser::new();
    let codes: Vec<String> = page
        .split("<code>")
        .skip(1)
        .filter_map(|r| r.split("</code>").next())
        .map(String::from)
        .collect();
    assert_eq!(codes.len(), 10);
    let (bank, bank_secret) = loa2_client(&s).await;
    let (verifier, challenge) = pkce();
    let (ar, csrf2) = to_second_factor(&s, &b, &who, &bank, &challenge).await;
    let cb = finish(
        &b,
        &s,
        second(&b, &s, &ar, &csrf2, "recovery", &codes[0].to_uppercase()).await,
    )
    .await;
    assert_eq!(
        redeem(&s, &bank, &bank_secret, &cb, &verifier).await["acr"],
        "urn:vn:eid:loa:2"
    );
    let b2 = Browser::new();
    let (_, challenge) = pkce();
    let (ar, csrf3) = to_second_factor(&s, &b2, &who, &bank, &challenge).await;
    let (status, _) = second(&b2, &s, &ar, &csrf3, "recovery", &codes[0])
        .await
        .expect_page();
    assert_eq!(status, 401, "a used recovery code is refused");
    assert_eq!(
        s.provider.db.recovery_codes_left(&who.sub).await.unwrap(),
        9
    );
}

#[tokio::test]
async fn acr_requests_and_limits() {
    let s = TestServer::start().await;
    let who = s.citizen(103).await;
    let (c, _) = s.confidential().await;
    let b = Browser::new();
    // An essential acr claim for loa:4 (face + password + a possession factor): after the
    // password the step-up begins with the face (the development matcher), then a code.
    // With the face step off nothing reaches loa:3 or loa:4: the client hears
    // unmet_authentication_requirements (`face::without_a_face_matcher_nothing_reaches_loa3`).
    let (_, challenge) = pkce();
    let claims = r#"{"id_token":{"acr":{"essential":true,"values":["urn:vn:eid:loa:4"]}}}"#;
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[("claims", claims)]);
    let (_, page) = b
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_page();
    assert!(
        page.contains("id=\"face-step\"") && page.contains("/login/step-up/sms"),
        "the face recommended, a code among the other ways"
    );
    // acr_values asks for loa:2: after the password the person is asked for one more factor.
    let (_, challenge) = pkce();
    let url = authorize_url(
        &s.base,
        &c.client_id,
        &challenge,
        &[("acr_values", "urn:vn:eid:loa:2")],
    );
    let (_, page) = b
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_page();
    assert!(page.contains("action=\"/login/step-up\""));
    // prompt=none with a session below the bank's minimum: login_required.
    let (bank, _) = loa2_client(&s).await;
    let (_, challenge) = pkce();
    let (back, _, _) = b
        .go(&authorize_url(
            &s.base,
            &bank.client_id,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );
    let disco: serde_json::Value = reqwest::get(s.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disco["acr_values_supported"][1], "urn:vn:eid:loa:2");
}

#[tokio::test]
async fn repeated_password_failures_are_throttled_then_locked_out() {
    let s = TestServer::start().await;
    let who = s.citizen(104).await;
    let (c, _) = s.confidential().await;
    let url = |s: &TestServer| authorize_url(&s.base, &c.client_id, &pkce().1, &[]);
    for _ in 0..3 {
        let (status, _) = Browser::new()
            .sign_in(&url(&s), &who.id_number, "Wrong-pass-1")
            .await
            .expect_page();
        assert_eq!(status, 401);
    }
    let (status, _) = Browser::new()
        .sign_in(&url(&s), &who.id_number, &who.password)
        .await
        .expect_page();
    assert_eq!(status, 429, "the right password must wait too");
    // Unknown numbers are throttled the same way (no hint whether an account exists).
    for _ in 0..3 {
        Browser::new()
            .sign_in(&url(&s), "001099999999", "Wrong-pass-1")
            .await
            .expect_page();
    }
    let (status, _) = Browser::new()
        .sign_in(&url(&s), "001099999999", "Wrong-pass-1")
        .await
        .expect_page();
    assert_eq!(status, 429);
    for _ in 0..7 {
        s.clock.advance(61);
        Browser::new()
            .sign_in(&url(&s), &who.id_number, "Wrong-pass-1")
            .await
            .expect_page();
    }
    s.clock.advance(61);
    let (status, _) = Browser::new()
        .sign_in(&url(&s), &who.id_number, &who.password)
        .await
        .expect_page();
    assert_eq!(status, 429, "locked out after ten failures");
    let history = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 100)
        .await
        .unwrap();
    assert!(
        history.iter().any(|h| h.action == "throttled"),
        "the lock-out is audited"
    );
}

#[tokio::test]
async fn email_code_as_second_factor() {
    let s = TestServer::start().await;
    let who = s.citizen(105).await;
    let (bank, bank_secret) = loa2_client(&s).await;
    let b = Browser::new();
    let (verifier, challenge) = pkce();
    let (ar, csrf) = to_second_factor(&s, &b, &who, &bank, &challenge).await;
    let at = Url::parse(&s.base).unwrap();
    let (_, page) = b
        .post_form(&at, "/login/step-up/email", &[("ar", &ar), ("csrf", &csrf)])
        .await
        .expect_page();
    assert!(page.contains("b•••@example.vn"), "the address is masked");
    let code = s
        .last_email_code("binh@example.vn")
        .expect("the e-mail outbox holds the code");
    assert!(
        s.last_sms_code("+84987654321").is_none(),
        "nothing went by SMS"
    );
    let cb = finish(&b, &s, second(&b, &s, &ar, &csrf, "email", &code).await).await;
    let idt = redeem(&s, &bank, &bank_secret, &cb, &verifier).await;
    assert_eq!(idt["acr"], "urn:vn:eid:loa:2");
    assert_eq!(idt["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
}
