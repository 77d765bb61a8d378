//! Passkeys with a software authenticator that signs real assertions (webauthn-authenticator-rs
//! SoftPasskey, user verification on): register from the account page, sign in with the passkey
//! alone, use it for step-up, and refuse a cloned credential whose counter is stale.

use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::common::browser::input_value;
use crate::common::{Browser, Citizen, REDIRECT_URI, TestServer, authorize_url, pkce};
use crate::flow::decode_payload;
use eidp::oidc::clients::NewClient;

fn meta_csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf-webauthn\" content=\"")
        .expect("passkeys are on")
        + 30;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

async fn post_json(
    b: &Browser,
    s: &TestServer,
    path: &str,
    csrf: &str,
    body: Value,
) -> (u16, Value) {
    let r = b
        .http
        .post(s.url(path))
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Sign in to /account with the password, confirm with an SMS code (the account has no
/// further factor yet) and register a passkey; returns its credential id.
async fn register(s: &TestServer, b: &Browser, who: &Citizen, auth: &mut SoftPasskey) -> String {
    let (_, page) = crate::common::account_page(s, b, who).await;
    let wcsrf = meta_csrf(&page);
    let (status, body) = post_json(b, s, "/webauthn/register/start", &wcsrf, json!({})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("reauthentication_required")),
        "a password-only session cannot add a passkey: {body}"
    );
    crate::common::confirm(s, b, who, ("sms", None)).await;
    let (status, start) = post_json(b, s, "/webauthn/register/start", &wcsrf, json!({})).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(
        start["options"]["publicKey"]["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    let ccr: CreationChallengeResponse = serde_json::from_value(start["options"].clone()).unwrap();
    let credential = auth
        .do_registration(Url::parse(&s.base).unwrap(), ccr)
        .expect("soft passkey registers");
    let (status, done) = post_json(
        b,
        s,
        "/webauthn/register/finish",
        &wcsrf,
        json!({"ceremony": start["ceremony"], "name": "Điện thoại", "credential": credential}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let (_, _, page) = b.go(&s.url("/account")).await;
    assert!(page.contains("Điện thoại"), "the passkey is listed by name");
    done["id"].as_str().unwrap().to_string()
}

/// Ask for an assertion; a browser would pick the discoverable credential itself — the soft
/// authenticator cannot, so the test names it.
fn assert_with(
    auth: &mut SoftPasskey,
    s: &TestServer,
    mut options: Value,
    cred_id: Option<&str>,
) -> Value {
    if let Some(id) = cred_id {
        options["publicKey"]["allowCredentials"] = json!([{"type": "public-key", "id": id}]);
    }
    let rcr: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    serde_json::to_value(
        auth.do_authentication(Url::parse(&s.base).unwrap(), rcr)
            .expect("soft passkey signs"),
    )
    .unwrap()
}

async fn passkey_login(
    s: &TestServer,
    b: &Browser,
    url: &str,
    auth: &mut SoftPasskey,
    cred_id: &str,
) -> (u16, Value) {
    let (_, _, page) = b.go(url).await;
    let (ar, wcsrf) = (
        input_value(&page, "ar").unwrap_or_default(),
        meta_csrf(&page),
    );
    let (status, start) = post_json(b, s, "/webauthn/login/start", &wcsrf, json!({})).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(
        start["options"]["mediation"], "conditional",
        "offered for autofill"
    );
    let credential = assert_with(auth, s, start["options"].clone(), Some(cred_id));
    post_json(
        b,
        s,
        "/webauthn/login/finish",
        &wcsrf,
        json!({"ceremony": start["ceremony"], "credential": credential, "ar": ar}),
    )
    .await
}

/// Follow a JSON `redirect` through consent to the client; returns the callback URL.
async fn follow(s: &TestServer, b: &Browser, redirect: &str) -> Url {
    let (at, _, page) = b.go(&s.url(redirect)).await;
    if at.origin() != Url::parse(&s.base).unwrap().origin() {
        return at;
    }
    b.approve(&at, &page, &[]).await.expect_redirect()
}

async fn id_token(
    s: &TestServer,
    client_id: &str,
    secret: &str,
    cb: &Url,
    verifier: &str,
) -> Value {
    let body = crate::common::redeem(s, client_id, secret, cb, verifier).await;
    decode_payload(body["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn passkey_alone_then_step_up_then_cloned_counter_refused() {
    let s = crate::common::start_on_localhost().await;
    let who = s.citizen(120).await;
    let (c, secret) = s.confidential().await;
    let mut auth = SoftPasskey::new(true);
    let cred_id = register(&s, &Browser::new(), &who, &mut auth).await;

    // Sign in with the passkey alone: no ID number typed.
    let b = Browser::new();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[]);
    let (status, done) = passkey_login(&s, &b, &url, &mut auth, &cred_id).await;
    assert_eq!(status, 200, "{done}");
    let cb = follow(&s, &b, done["redirect"].as_str().unwrap()).await;
    let idt = id_token(&s, &c.client_id, &secret, &cb, &verifier).await;
    assert_eq!(idt["sub"], s.sub_at(&c, &who.sub));
    assert_eq!(
        idt["acr"], "urn:vn:eid:loa:2",
        "possession + PIN or biometric, which the provider cannot tell apart"
    );
    assert_eq!(idt["amr"], json!(["hwk", "mfa"]));

    // Step-up: a password session meets a client that needs loa:2; the passkey is offered.
    let (strict, strict_secret) = s
        .client(NewClient {
            name: "Cổng dịch vụ đất đai".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            min_account_level: Some(1),
            min_acr: Some("urn:vn:eid:loa:2".into()),
            ..Default::default()
        })
        .await;
    let strict_secret = strict_secret.unwrap();
    let b2 = Browser::new();
    let (verifier, challenge) = pkce();
    let (_, page) = b2
        .sign_in(
            &authorize_url(&s.base, &strict.client_id, &challenge, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_page();
    assert!(
        page.contains("id=\"passkey-second\""),
        "asked for the passkey"
    );
    assert!(
        !page.contains("id=\"face-step\""),
        "no biometric where loa:2 is enough"
    );
    let (ar, wcsrf) = (input_value(&page, "ar").unwrap(), meta_csrf(&page));
    let (status, start) =
        post_json(&b2, &s, "/webauthn/second/start", &wcsrf, json!({"ar": ar})).await;
    assert_eq!(status, 200, "{start}");
    let credential = assert_with(&mut auth, &s, start["options"].clone(), None);
    let (status, done) = post_json(
        &b2,
        &s,
        "/webauthn/second/finish",
        &wcsrf,
        json!({"ceremony": start["ceremony"], "credential": credential, "ar": ar}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let cb = follow(&s, &b2, done["redirect"].as_str().unwrap()).await;
    let idt = id_token(&s, &strict.client_id, &strict_secret, &cb, &verifier).await;
    assert_eq!(
        idt["acr"], "urn:vn:eid:loa:2",
        "password + passkey: more factors, still no biometric"
    );
    assert_eq!(idt["amr"], json!(["pwd", "hwk", "mfa"]));

    // A clone of the key: the genuine device has counted further than the copy.
    let id = eidp::crypto::b64url_decode(&cred_id).unwrap();
    let rec = s.provider.db.passkey(&id).await.unwrap().unwrap();
    let mut stored: Value = serde_json::from_str(&rec.passkey).unwrap();
    bump_counter(&mut stored, 1000);
    s.provider
        .db
        .touch_passkey(&id, &stored.to_string(), false, s.provider.now())
        .await
        .unwrap();
    let (_, challenge) = pkce();
    let (status, body) = passkey_login(
        &s,
        &Browser::new(),
        &authorize_url(&s.base, &c.client_id, &challenge, &[]),
        &mut auth,
        &cred_id,
    )
    .await;
    assert_eq!(status, 401, "a stale counter is refused: {body}");
    assert!(
        s.provider
            .db
            .passkey(&id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some(),
        "last-used time is kept"
    );
}

fn bump_counter(v: &mut Value, to: u64) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "counter" {
                    *x = json!(to)
                } else {
                    bump_counter(x, to)
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| bump_counter(x, to)),
        _ => {}
    }
}

#[tokio::test]
async fn passkey_endpoints_need_the_csrf_header_and_a_session() {
    let s = crate::common::start_on_localhost().await;
    let b = Browser::new();
    let (status, _) = post_json(&b, &s, "/webauthn/login/start", "forged", json!({})).await;
    assert_eq!(status, 403);
    let (_, _, page) = b.go(&s.url("/account")).await;
    let (status, body) = post_json(
        &b,
        &s,
        "/webauthn/register/start",
        &meta_csrf(&page),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("login_required"))
    );
}
