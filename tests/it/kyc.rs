//! The bank KYC identity assertion: the full bank flow (PAR + signed request object +
//! private_key_jwt + DPoP + the face step) ends with an assertion whose signature verifies
//! against the JWKS; the same token without its proof, with a replayed proof, with a proof for
//! another URL, below loa:3 or for a Level-1 account is refused with the right challenge.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::common::fapi::{Answer, Bank, make_level2, person};
use crate::common::{Browser, Citizen, TestServer, pkce};
use crate::flow::decode_payload;

const KYC: &str = "/api/kyc/v1/identity";
const LOA3: &str = "urn:vn:eid:loa:3";

/// A Level-2 citizen through the bank flow, asking for `acr` (the face step for loa:3); the
/// access token.
async fn kyc_token(s: &TestServer, bank: &Bank, who: &Citizen, acr: &str) -> String {
    let (verifier, challenge) = pkce();
    let uri = bank.push(&challenge, &json!({"acr_values": acr})).await;
    let cb = person(s, &Browser::new(), &bank.authorize_url(&uri), who)
        .await
        .expect_redirect();
    let a = bank.redeem(&cb, &verifier).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["access_token"].as_str().unwrap().to_string()
}

/// Verify `jws` with the provider's published keys.
async fn verify(s: &TestServer, jws: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(s.url("/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(jws).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[decode_payload(jws)["aud"].as_str().unwrap()]);
    v.set_issuer(&[s.base.as_str()]);
    jsonwebtoken::decode::<Value>(jws, &key, &v).unwrap().claims
}

fn challenge(a: &Answer) -> String {
    a.www_authenticate.clone().unwrap_or_default()
}

#[tokio::test]
async fn the_full_bank_flow_ends_with_a_kyc_assertion_that_verifies_against_the_jwks() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(730).await;
    make_level2(&s, &who).await;
    let at = kyc_token(&s, &bank, &who, LOA3).await;
    let a = bank.get(KYC, &at, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let c = verify(&s, &a.body).await;
    assert_eq!(
        decode_payload(&a.body)["typ"],
        Value::Null,
        "claims, not header"
    );
    assert_eq!(c["aud"], bank.id());
    assert_eq!(c["sub"], s.sub_at(&bank.client, &who.sub), "pairwise");
    assert_eq!(c["id_number"], who.id_number.as_str());
    assert_eq!(c["name"], "Trần Thị Bình");
    assert_eq!(
        (c["birthdate"].as_str(), c["gender"].as_str()),
        (Some("1990-03-08"), Some("female"))
    );
    assert_eq!(c["nationality"], "VN");
    assert_eq!(c["eid_level"], 2);
    assert!(c["acr"].as_str().unwrap() >= LOA3, "{c}");
    assert!(c["amr"].as_array().unwrap().contains(&json!("face")));
    assert_eq!(c["biometric"]["matched"], true);
    assert!(c["biometric"]["at"].as_i64().is_some());
    assert_eq!(
        c["verified_claims"]["verification"]["trust_framework"],
        "vn_eid"
    );
    assert!(c["txn"].is_string() && c["exp"].as_i64() > c["iat"].as_i64());
    // The person's history names the bank, the transaction and what went.
    let history = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 200)
        .await
        .unwrap();
    let entry = history
        .iter()
        .find(|e| e.detail.contains("kyc_assertion"))
        .expect("the KYC disclosure is in the history");
    assert!(entry.detail.contains(c["txn"].as_str().unwrap()));
}

#[tokio::test]
async fn without_its_proof_with_a_replayed_proof_or_for_another_url_the_token_is_refused() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(731).await;
    make_level2(&s, &who).await;
    let at = kyc_token(&s, &bank, &who, LOA3).await;
    let r = reqwest::Client::new()
        .get(s.url(KYC))
        .header("Authorization", format!("DPoP {at}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let w = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        w.starts_with("DPoP ") && w.contains("error=\"invalid_dpop_proof\""),
        "{w}"
    );
    let r = reqwest::Client::new()
        .get(s.url(KYC))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a bound token as a bearer token");
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // A good call (it also learns the nonce), then the same proof again.
    assert_eq!(bank.get(KYC, &at, None).await.status, 200);
    let proof = bank.proof("GET", &s.url(KYC), Some(&at));
    assert_eq!(bank.get(KYC, &at, Some(proof.clone())).await.status, 200);
    let replay = bank.get(KYC, &at, Some(proof)).await;
    assert_eq!(replay.status, 401);
    assert!(
        challenge(&replay).contains("invalid_dpop_proof"),
        "{replay:?}"
    );
    let elsewhere = bank.proof("GET", &s.url("/userinfo"), Some(&at));
    let a = bank.get(KYC, &at, Some(elsewhere)).await;
    assert_eq!(a.status, 401);
    assert!(challenge(&a).contains("invalid_dpop_proof") && a.body.contains("htu"));
    let posted = bank.proof("POST", &s.url(KYC), Some(&at));
    assert_eq!(bank.get(KYC, &at, Some(posted)).await.status, 401, "htm");
}

#[tokio::test]
async fn below_loa3_or_for_a_level_1_account_the_assertion_is_refused() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(732).await;
    make_level2(&s, &who).await;
    // Password + SMS: loa:2, no biometric.
    let at = kyc_token(&s, &bank, &who, "urn:vn:eid:loa:2").await;
    assert_eq!(decode_payload(&at)["acr"], "urn:vn:eid:loa:2");
    let a = bank.get(KYC, &at, None).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(
        challenge(&a).contains("insufficient_user_authentication"),
        "{a:?}"
    );
    // A loa:3 token whose account is back at Level 1 (its Level-2 status withdrawn). (A
    // minute on, so the SMS step may send another code.)
    s.clock.advance(61);
    let at = kyc_token(&s, &bank, &who, LOA3).await;
    s.provider
        .db
        .set_level(&who.sub, 1, s.provider.now())
        .await
        .unwrap();
    let a = bank.get(KYC, &at, None).await;
    assert_eq!(a.status, 403);
    assert!(a.body.contains("Level-2"), "{}", a.body);
    // A Level-1 account never gets a bank token at all: the bank's floor is Level 2.
    let l1 = s.citizen(733).await;
    let (_, challenge) = pkce();
    let uri = bank.push(&challenge, &json!({})).await;
    let (_, page) = person(&s, &Browser::new(), &bank.authorize_url(&uri), &l1)
        .await
        .expect_page();
    assert!(page.contains("Level 2") || page.contains("mức 2"), "{page}");
}

#[tokio::test]
async fn an_assertion_the_history_cannot_hold_is_not_made() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(734).await;
    make_level2(&s, &who).await;
    let at = kyc_token(&s, &bank, &who, LOA3).await;
    let pool = sqlx::SqlitePool::connect(&s.database_url).await.unwrap();
    sqlx::query("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        .execute(&pool)
        .await
        .unwrap();
    let a = bank.get(KYC, &at, None).await;
    assert!(a.status >= 500, "{a:?}");
    assert!(
        !a.body.contains("eyJ") && !a.body.contains(&who.id_number),
        "nothing released"
    );
    sqlx::query("DROP TRIGGER audit_down")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        bank.get(KYC, &at, None).await.status,
        200,
        "made once it can be recorded"
    );
}
