//! Transfer approval with rich authorization requests (RFC 9396 `vn_bank_transfer`): the
//! consent page shows the transfer in words and digits, the SBV Decision 2345 thresholds decide
//! when the biometric step is needed, and the approved details travel in the token and
//! introspection — once.

use serde_json::{Value, json};
use url::Url;

use crate::common::fapi::{Bank, make_level2, sms_step_up};
use crate::common::{Browser, Citizen, Landing, TestServer, pkce};

use crate::flow::decode_payload;

pub fn transfer(amount: i64) -> Value {
    json!([{
        "type": "vn_bank_transfer", "amount": amount, "currency": "VND",
        "creditor_name": "Công ty TNHH Hoa Sen", "creditor_account": "0071000123456",
        "creditor_bank": "970436", "debtor_account": "1903456789012", "reference": "Tiền hàng HĐ 42"
    }])
}

/// Sign in and pass the SMS step-up; the page the browser is on after that.
pub async fn signed_in(s: &TestServer, b: &Browser, url: &str, who: &Citizen) -> Landing {
    let (_, page) = b
        .sign_in(url, &who.id_number, &who.password)
        .await
        .expect_page();
    if !page.contains("action=\"/login/step-up/sms\"") {
        return Landing::Page(200, page);
    }
    sms_step_up(s, b, &page).await
}

#[tokio::test]
async fn a_5_million_transfer_is_approved_without_a_biometric_and_spent_once() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(720).await;
    make_level2(&s, &who).await;
    let (verifier, challenge) = pkce();
    let uri = bank
        .push(
            &challenge,
            &json!({"scope": "openid offline_access", "authorization_details": transfer(5_000_000)}),
        )
        .await;
    let b = Browser::new();
    let (_, page) = signed_in(&s, &b, &bank.authorize_url(&uri), &who)
        .await
        .expect_page();
    assert!(
        page.contains("action=\"/consent\""),
        "no biometric step: {page}"
    );
    assert!(page.contains("5.000.000 VND"), "digits: {page}");
    assert!(page.contains("năm triệu đồng"), "words: {page}");
    assert!(page.contains("Công ty TNHH Hoa Sen") && page.contains("0071000123456"));
    let cb = b
        .approve(&Url::parse(&s.base).unwrap(), &page, &[])
        .await
        .expect_redirect();
    let a = bank.redeem(&cb, &verifier).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let t = a.json();
    assert!(
        t.get("refresh_token").is_none(),
        "a transfer grant is not refreshed"
    );
    let details = &t["authorization_details"][0];
    assert_eq!(details["amount"], 5_000_000);
    assert!(details["approval_id"].is_string());
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(
        decode_payload(at)["authorization_details"][0]["amount"],
        5_000_000
    );
    assert_eq!(
        decode_payload(t["id_token"].as_str().unwrap())["acr"],
        "urn:vn:eid:loa:2"
    );
    // The bank looks once to execute it; a second look finds it spent.
    let first = bank.post("/introspect", &[("token", at)]).await.json();
    assert_eq!(first["active"], true);
    assert_eq!(first["authorization_details"], t["authorization_details"]);
    let again = bank.post("/introspect", &[("token", at)]).await.json();
    assert_eq!(again["active"], false);
}

#[tokio::test]
async fn a_standing_consent_never_approves_a_transfer() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(721).await;
    make_level2(&s, &who).await;
    let b = Browser::new();
    for amount in [1_000_000, 2_000_000] {
        let (_, challenge) = pkce();
        let details = json!({"authorization_details": transfer(amount)});
        let uri = bank.push(&challenge, &details).await;
        let url = bank.authorize_url(&uri);
        // The second time the browser is signed in and has consented to this bank before.
        let page = match amount {
            1_000_000 => signed_in(&s, &b, &url, &who).await.expect_page().1,
            _ => b.go(&url).await.2,
        };
        assert!(
            page.contains("action=\"/consent\""),
            "asked each time: {page}"
        );
        b.approve(&Url::parse(&s.base).unwrap(), &page, &[])
            .await
            .expect_redirect();
    }
}
