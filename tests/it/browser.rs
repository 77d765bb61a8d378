//! The real-browser passkey test: headless Chromium (Debian's `chromium`) driven by
//! `playwright-core` over CDP with a virtual authenticator (tests/browser/passkey.mjs). Without
//! chromium or the npm package it is skipped locally and fails in CI.

use std::path::Path;
use std::process::Command;

use crate::common::{
    Browser, Citizen, PHONE, REDIRECT_URI, TestServer, authorize_url, pkce, redeem,
    start_on_localhost,
};
use crate::flow::decode_payload;
use eidp::store::ClientRecord;

/// Chromium's path when it and playwright-core are installed; `None` (the test is skipped)
/// when they are not — which fails in CI, where they must be.
pub(crate) fn chromium() -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = Path::new(&chromium).exists()
        && root
            .join("tests/browser/node_modules/playwright-core")
            .exists();
    if ready {
        return Some(chromium);
    }
    let required =
        std::env::var("CI").is_ok() || std::env::var("EIDP_TEST_BROWSER").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "chromium or playwright-core missing: apt-get install chromium; npm ci in tests/browser"
    );
    eprintln!("SKIPPED (browser tests): install chromium and run npm ci in tests/browser");
    None
}

/// Run a script of tests/browser with `env`; its last stdout line, as JSON.
pub(crate) async fn node(script: &str, env: Vec<(&str, String)>) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("node");
    cmd.arg(root.join("tests/browser").join(script));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{script} failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap()
}

/// What a script playing the person and the relying party needs: the issuer, the client,
/// the person's credentials and the browser.
pub(crate) fn rp_env(
    s: &TestServer,
    (c, secret): (&ClientRecord, String),
    who: &Citizen,
    chromium: String,
) -> Vec<(&'static str, String)> {
    vec![
        ("EIDP_ISSUER", s.base.clone()),
        ("EIDP_CLIENT_ID", c.client_id.to_string()),
        ("EIDP_CLIENT_SECRET", secret),
        ("EIDP_REDIRECT_URI", REDIRECT_URI.to_string()),
        ("EIDP_ID_NUMBER", who.id_number.clone()),
        ("EIDP_PASSWORD", who.password.clone()),
        ("CHROMIUM", chromium),
    ]
}

/// A journey from a client's authorization request back to the client; returns the ID token's
/// claims after the code exchange.
async fn journey(
    s: &TestServer,
    name: &str,
    extra: Vec<(&str, String)>,
) -> (serde_json::Value, ClientRecord) {
    let (c, secret) = s.confidential().await;
    let tokens = journey_at(s, name, (&c, &secret), &[], extra).await;
    (decode_payload(tokens["id_token"].as_str().unwrap()), c)
}

/// A journey to `client` with `params` added to its authorization request; the token response.
async fn journey_at(
    s: &TestServer,
    name: &str,
    (c, secret): (&ClientRecord, &str),
    params: &[(&str, &str)],
    extra: Vec<(&str, String)>,
) -> serde_json::Value {
    let chromium = chromium().expect("checked by the caller");
    let (verifier, challenge) = pkce();
    // A `scope` given replaces the usual one (parameters must not repeat).
    let scope = params.iter().find(|(k, _)| *k == "scope").map(|(_, v)| *v);
    let mut params: Vec<_> = params
        .iter()
        .filter(|(k, _)| *k != "scope")
        .copied()
        .collect();
    params.push(("ui_locales", "vi"));
    let mut url = authorize_url(&s.base, &c.client_id, &challenge, &params);
    if let Some(scope) = scope {
        url = url.replace(
            "scope=openid+profile",
            &format!("scope={}", scope.replace(' ', "+")),
        );
    }
    let mut env = vec![
        ("JOURNEY", name.to_string()),
        ("EIDP_AUTHORIZE_URL", url),
        ("EIDP_REDIRECT_URI", REDIRECT_URI.to_string()),
        ("EIDP_OUTBOX", s.outbox_path().display().to_string()),
        ("CHROMIUM", chromium),
    ];
    env.extend(extra);
    let line = node("journeys.mjs", env).await;
    assert_eq!(line["state"], "st-1");
    let cb = url::Url::parse(&format!(
        "{REDIRECT_URI}?code={}",
        line["code"].as_str().unwrap()
    ))
    .unwrap();
    redeem(s, &c.client_id, secret, &cb, &verifier).await
}

/// The consent page in Chromium: optional claims start unticked; the person ticks the birth
/// date, leaves the phone number unticked, and the service gets exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_consents_with_an_optional_claim_left_unticked() {
    if chromium().is_none() {
        return;
    }
    let s = start_on_localhost().await;
    let who = s.citizen(133).await;
    let (portal, secret) = crate::consent::portal_with_purpose(&s).await;
    let claims = r#"{"id_token":{"phone_number":null,"name":null}}"#;
    let params = [("scope", "openid profile phone"), ("claims", claims)];
    let env = vec![
        ("EIDP_ID_NUMBER", who.id_number.clone()),
        ("EIDP_PASSWORD", who.password.clone()),
        ("EIDP_TICK", "birthdate".to_string()),
        ("EIDP_LEAVE", "phone_number".to_string()),
        (
            "EIDP_PURPOSE",
            "Nộp hồ sơ thủ tục hành chính trực tuyến".to_string(),
        ),
    ];
    let tokens = journey_at(&s, "consent", (&portal, &secret), &params, env).await;
    let idt = decode_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(idt["name"], "Trần Thị Bình");
    assert!(idt.get("phone_number").is_none(), "unticked: {idt}");
    let info = crate::common::userinfo(&s, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["birthdate"], "1990-03-08", "{info}");
    assert!(info.get("phone_number").is_none(), "unticked: {info}");
    assert!(info.get("gender").is_none(), "never ticked: {info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_enrols_from_a_services_sign_in_page_and_lands_at_the_service() {
    if chromium().is_none() {
        return;
    }
    let s = start_on_localhost().await;
    let id = "001195012345";
    let person = eidp::store::PersonRecord {
        id_number: id.into(),
        full_name: "Phạm Thu Hà".into(),
        birth_date: "1995-07-21".into(),
        sex: "female".into(),
        nationality: "VN".into(),
        phone: Some("+84912000111".into()),
        ..Default::default()
    };
    s.provider.db.upsert_person(&person).await.unwrap();
    let (claims, c) = journey(
        &s,
        "enrol",
        vec![
            ("EIDP_ID_NUMBER", id.into()),
            ("EIDP_FULL_NAME", "Phạm Thu Hà".into()),
            ("EIDP_BIRTH_DATE", "1995-07-21".into()),
            ("EIDP_PHONE", "+84912000111".into()),
            ("EIDP_PHONE_TYPED", "0912000111".into()),
            ("EIDP_PASSWORD", "Hà-mới-2026!".into()),
        ],
    )
    .await;
    let account = s
        .provider
        .db
        .account_by_id_number(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        claims["sub"],
        s.sub_at(&c, &account.sub),
        "the new account, at the service"
    );
    assert_eq!(claims["acr"], "urn:vn:eid:loa:1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_recovers_a_forgotten_password_and_lands_at_the_service() {
    if chromium().is_none() {
        return;
    }
    let s = start_on_localhost().await;
    let who = s.citizen(131).await;
    // A session elsewhere, begun with the old password: recovery ends it.
    let elsewhere = Browser::new();
    crate::common::account_page(&s, &elsewhere, &who).await;
    let new = "Nhớ-rồi-2026!";
    let (claims, c) = journey(
        &s,
        "recover",
        vec![
            ("EIDP_ID_NUMBER", who.id_number.clone()),
            ("EIDP_PHONE", PHONE.into()),
            ("EIDP_PHONE_TYPED", "0987 654 321".into()),
            ("EIDP_PASSWORD", new.into()),
        ],
    )
    .await;
    assert_eq!(claims["sub"], s.sub_at(&c, &who.sub));
    let (_, _, page) = elsewhere.go(&s.url("/account")).await;
    assert!(
        page.contains("name=\"next\""),
        "the other session has ended"
    );
    let old = crate::common::Citizen {
        password: new.into(),
        ..who
    };
    let (status, _) = crate::common::account_page(&s, &Browser::new(), &old).await;
    assert_eq!(status, 200, "the new password signs in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_registers_a_passkey_and_signs_in_with_it() {
    let Some(chromium) = chromium() else {
        return;
    };
    let s = start_on_localhost().await;
    let who = s.citizen(130).await;
    let (c, secret) = s.confidential().await;
    let mut env = rp_env(&s, (&c, secret), &who, chromium);
    env.extend([
        ("EIDP_OUTBOX", s.outbox_path().display().to_string()),
        ("EIDP_PHONE", PHONE.to_string()),
    ]);
    let line = node("passkey.mjs", env).await;
    eprintln!("browser passkey test: {line}");
    assert_eq!(line["sub"], s.sub_at(&c, &who.sub));
    assert_eq!(
        line["acr"], "urn:vn:eid:loa:2",
        "a passkey: two factors, no biometric shown"
    );
}
