//! OpenID Connect Back-Channel Logout 1.0, end to end: a relying party's back-channel
//! endpoint (a small axum server here) receives logout tokens and checks them as a real one
//! would, against the provider's `/jwks.json`: signature, `iss`, `aud`, `typ`, `events`, the
//! `sub` and `sid` its ID token carried, and no `nonce`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eidp::config::Config;
use eidp::oidc::clients::NewClient;
use eidp::store::{ClientRecord, DeliveryFilter};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::common::{
    self, Browser, Citizen, Options, POST_LOGOUT_URI, REDIRECT_URI, TestServer, authorize_url, pkce,
};
use crate::flow::decode_payload;

/// Quick retries: 1 s, then 2 s; three attempts.
fn fast(cfg: &mut Config) {
    cfg.backchannel.poll_millis = 100;
    cfg.backchannel.backoff_base_secs = 1;
    cfg.backchannel.backoff_cap_secs = 2;
    cfg.backchannel.max_attempts = 3;
}

/// A relying party's back-channel endpoint: answers `failing` (a status) to the first
/// `fail_first` requests, 200 after; passes on each logout token it is sent.
pub struct Rp {
    pub uri: String,
    pub tokens: mpsc::UnboundedReceiver<String>,
    pub hits: Arc<AtomicUsize>,
}

pub async fn rp_on(listener: tokio::net::TcpListener, fail_first: usize, failing: u16) -> Rp {
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let app = axum::Router::new().route(
        "/bcl",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (tx, seen) = (tx.clone(), seen.clone());
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                assert_eq!(
                    headers["content-type"], "application/x-www-form-urlencoded",
                    "§2.5: a form POST"
                );
                let token = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .expect("a logout_token parameter");
                if n < fail_first {
                    return axum::http::StatusCode::from_u16(failing).unwrap();
                }
                let _ = tx.send(token);
                axum::http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Rp {
        uri: format!("http://{addr}/bcl"),
        tokens: rx,
        hits,
    }
}

pub async fn rp(fail_first: usize, failing: u16) -> Rp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    rp_on(listener, fail_first, failing).await
}

pub async fn bcl_client(s: &TestServer, uri: &str) -> (ClientRecord, String) {
    let (c, secret) = s
        .client(NewClient {
            name: "Cổng có đăng xuất".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
            min_account_level: Some(1),
            backchannel_logout_uri: Some(uri.into()),
            backchannel_logout_session_required: true,
            ..Default::default()
        })
        .await;
    (c, secret.unwrap())
}

/// Sign in through `c` in `b`; the raw ID token and its claims.
pub async fn signed_in(
    s: &TestServer,
    b: &Browser,
    who: &Citizen,
    c: &ClientRecord,
    secret: &str,
) -> (String, Value) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[]);
    let cb = b
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_redirect();
    let tokens = common::redeem(s, &c.client_id, secret, &cb, &verifier).await;
    let raw = tokens["id_token"].as_str().unwrap().to_string();
    let claims = decode_payload(&raw);
    (raw, claims)
}

pub async fn next_token(rp: &mut Rp, within_secs: u64) -> String {
    tokio::time::timeout(Duration::from_secs(within_secs), rp.tokens.recv())
        .await
        .expect("a logout token arrives in time")
        .unwrap()
}

/// What a relying party checks (§2.6), against the provider's published keys.
pub async fn verify(s: &TestServer, token: &str, client_id: &str, id_token: &Value) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(s.url("/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in /jwks.json");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[client_id]);
    v.set_issuer(&[s.base.as_str()]);
    v.set_required_spec_claims(&["iss", "aud", "exp", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &v)
        .expect("signature, iss, aud and exp check out")
        .claims;
    let events = claims["events"].as_object().unwrap();
    assert_eq!(
        events.get("http://schemas.openid.net/event/backchannel-logout"),
        Some(&serde_json::json!({}))
    );
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(claims["iat"].is_i64());
    assert!(claims.get("nonce").is_none(), "§2.4: no nonce");
    assert_eq!(claims["sub"], id_token["sub"], "the sub the RP knows");
    assert_eq!(claims["sid"], id_token["sid"], "the session the RP knows");
    claims
}

#[tokio::test]
async fn signing_out_tells_the_relying_party_with_a_token_it_can_verify() {
    let s = TestServer::start_with(Options {
        configure: Some(fast),
        ..Default::default()
    })
    .await;
    let meta = common::discovery(&s).await;
    assert_eq!(meta["backchannel_logout_supported"], true);
    assert_eq!(meta["backchannel_logout_session_supported"], true);
    let mut rp = rp(0, 200).await;
    let who = s.citizen(501).await;
    let (c, secret) = bcl_client(&s, &rp.uri).await;
    let b = Browser::new();
    let (raw, idt) = signed_in(&s, &b, &who, &c, &secret).await;
    assert_ne!(idt["sub"], who.sub.as_str(), "a pairwise sub");
    let hint = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>();
    let (_, status, page) = b.go(&s.url(&format!("/logout?id_token_hint={hint}"))).await;
    assert_eq!(status, 200, "{page}");
    let token = next_token(&mut rp, 10).await;
    verify(&s, &token, &c.client_id, &idt).await;
    assert_eq!(rp.hits.load(Ordering::SeqCst), 1);
    // The outcome is kept just after the answer.
    let mut left = Vec::new();
    for _ in 0..50 {
        left = eidp::backchannel::list(s.provider.db.as_ref(), DeliveryFilter::Undelivered, 10)
            .await
            .unwrap();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "kept as delivered: {left:?}");
}

#[tokio::test]
async fn withdrawing_consent_tells_the_relying_party() {
    let s = TestServer::start_with(Options {
        configure: Some(fast),
        ..Default::default()
    })
    .await;
    let mut rp = rp(0, 200).await;
    let who = s.citizen(505).await;
    let (c, secret) = bcl_client(&s, &rp.uri).await;
    let b = Browser::new();
    let (_, idt) = signed_in(&s, &b, &who, &c, &secret).await;
    let (at, _, account) = b.go(&s.url("/account")).await;
    let csrf = common::browser::input_value(&account, "csrf").unwrap();
    let form = [("csrf", csrf.as_str()), ("client_id", c.client_id.as_str())];
    let (status, page) = b
        .post_form(&at, "/account/consents/withdraw", &form)
        .await
        .expect_page();
    assert_eq!(status, 200, "{page}");
    let token = next_token(&mut rp, 10).await;
    verify(&s, &token, &c.client_id, &idt).await;
}

#[tokio::test]
async fn a_relying_party_that_is_down_at_first_gets_the_token_on_a_retry() {
    let s = TestServer::start_with(Options {
        configure: Some(fast),
        ..Default::default()
    })
    .await;
    let mut rp = rp(1, 503).await;
    let who = s.citizen(502).await;
    let (c, secret) = bcl_client(&s, &rp.uri).await;
    let b = Browser::new();
    let (_, idt) = signed_in(&s, &b, &who, &c, &secret).await;
    // "End this session" on the account page is a sign-out of that session too.
    let (_, _, page) = b.go(&s.url("/account")).await;
    let csrf = crate::common::browser::input_value(&page, "csrf").unwrap();
    let sid = idt["sid"].as_str().unwrap();
    let at = url::Url::parse(&s.base).unwrap();
    let form = [("csrf", csrf.as_str()), ("sid", sid)];
    let (status, page) = b
        .post_form(&at, "/account/sessions/end", &form)
        .await
        .expect_page();
    assert_eq!(status, 200, "{page}");
    let token = next_token(&mut rp, 10).await;
    verify(&s, &token, &c.client_id, &idt).await;
    assert_eq!(rp.hits.load(Ordering::SeqCst), 2, "a 503, then delivered");
}

#[tokio::test]
async fn locking_an_account_and_changing_its_password_tell_every_relying_party() {
    let s = TestServer::start_with(Options {
        configure: Some(fast),
        ..Default::default()
    })
    .await;
    let mut rp = rp(0, 200).await;
    let (c, secret) = bcl_client(&s, &rp.uri).await;
    // A password change: the holder's own, confirmed on the account page.
    let who = s.citizen(503).await;
    let elsewhere = Browser::new();
    let (_, idt) = signed_in(&s, &elsewhere, &who, &c, &secret).await;
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = crate::common::browser::input_value(&page, "csrf").unwrap();
    common::confirm(&s, &b, &who, ("sms", None)).await;
    let pw = "Mật-khẩu-mới-9";
    let (status, page) = crate::security::account_post(
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
    let token = next_token(&mut rp, 10).await;
    verify(&s, &token, &c.client_id, &idt).await;
    // A lock by an officer through the admin API.
    let other = s.citizen(504).await;
    let (_, idt) = signed_in(&s, &Browser::new(), &other, &c, &secret).await;
    let admin = common::officer(&s, "CA-HN-9", "admin", "001190000009").await;
    let r = reqwest::Client::new()
        .post(s.url(&format!("/admin/v1/accounts/{}/lock", other.id_number)))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"reason": "terms_violation", "note": "Quyết định 7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let token = next_token(&mut rp, 10).await;
    verify(&s, &token, &c.client_id, &idt).await;
    // A lock from the command line (another process): this server delivers it.
    let third = s.citizen(505).await;
    let (_, idt) = signed_in(&s, &Browser::new(), &third, &c, &secret).await;
    let (ok, _, err) = s.cli(
        &[
            "admin",
            "accounts",
            "lock",
            "--id-number",
            &third.id_number,
            "--reason",
            "card_revoked",
            "--note",
            "Thẻ bị thu hồi",
            "--actor",
            "ops",
        ],
        None,
    );
    assert!(ok, "{err}");
    let token = next_token(&mut rp, 10).await;
    verify(&s, &token, &c.client_id, &idt).await;
}

/// Two nodes on one PostgreSQL, both running the delivery worker: a sign-out on one reaches
/// the relying party exactly once.
#[tokio::test]
async fn two_nodes_deliver_a_logout_once() {
    let Some(db) = crate::common::services::fresh_postgres().await else {
        return crate::common::services::skip("two_nodes_deliver_a_logout_once");
    };
    let a = TestServer::start_with(Options {
        configure: Some(fast),
        database_url: Some(db.clone()),
        ..Default::default()
    })
    .await;
    // The same database and keys: the second node of the deployment.
    let b = TestServer::start_with(Options {
        configure: Some(fast),
        database_url: Some(db),
        dir: Some(a.dir()),
        ..Default::default()
    })
    .await;
    let mut rp = rp(0, 200).await;
    let who = a.citizen(506).await;
    let (c, secret) = bcl_client(&a, &rp.uri).await;
    let browser = Browser::new();
    let (raw, idt) = signed_in(&a, &browser, &who, &c, &secret).await;
    let hint = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>();
    let (_, status, _) = browser
        .go(&a.url(&format!("/logout?id_token_hint={hint}")))
        .await;
    assert_eq!(status, 200);
    let token = next_token(&mut rp, 10).await;
    // Either node may have signed it (each test node has its own issuer URL; a deployment
    // has one).
    let claims = decode_payload(&token);
    assert_eq!((&claims["sub"], &claims["sid"]), (&idt["sub"], &idt["sid"]));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rp.hits.load(Ordering::SeqCst), 1, "delivered once");
    drop(b);
}
