//! Transfer approval with rich authorization requests (RFC 9396 `vn_bank_transfer`): the
//! consent page shows the transfer in words and digits, the SBV Decision 2345 thresholds decide
//! when the biometric step is needed, and the approved details travel in the token and
//! introspection — once.

use serde_json::{Value, json};
use url::Url;

use crate::common::browser::input_value;
use crate::common::fapi::{Bank, face_step_up, make_level2, sms_step_up};
use crate::common::{Browser, Citizen, Landing, Options, TestServer, pkce};

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

/// Push a transfer of `amount` and play the person up to the first page after the password
/// and SMS steps.
async fn start(
    s: &TestServer,
    bank: &Bank,
    b: &Browser,
    who: &Citizen,
    amount: i64,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let uri = bank
        .push(
            &challenge,
            &json!({"authorization_details": transfer(amount)}),
        )
        .await;
    // The request_uri is single-use: one visit, then the forms on the pages it leads to.
    let (at, _, mut page) = b.go(&bank.authorize_url(&uri)).await;
    if page.contains("action=\"/login\"") {
        let form = [
            ("ar", input_value(&page, "ar").unwrap()),
            ("csrf", input_value(&page, "csrf").unwrap()),
            ("id_number", who.id_number.clone()),
            ("password", who.password.clone()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        page = b.post_form(&at, "/login", &form).await.expect_page().1;
    }
    if page.contains("action=\"/login/step-up/sms\"") {
        page = sms_step_up(s, b, &page).await.expect_page().1;
    }
    (verifier, page)
}

/// Past the face step (when asked) and the consent page, to the bank's token response.
async fn approve(s: &TestServer, bank: &Bank, b: &Browser, page: String, verifier: &str) -> Value {
    let mut page = page;
    if page.contains("id=\"face-step\"") {
        page = face_step_up(s, b, &page).await.expect_page().1;
    }
    assert!(page.contains("action=\"/consent\""), "{page}");
    let cb = b
        .approve(&Url::parse(&s.base).unwrap(), &page, &[])
        .await
        .expect_redirect();
    let a = bank.redeem(&cb, verifier).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()
}

fn acr(tokens: &Value) -> String {
    decode_payload(tokens["id_token"].as_str().unwrap())["acr"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_20_million_transfer_forces_the_face_step_and_its_token_carries_the_details() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(722).await;
    make_level2(&s, &who).await;
    let b = Browser::new();
    let (verifier, page) = start(&s, &bank, &b, &who, 20_000_000).await;
    assert!(
        page.contains("id=\"face-step\""),
        "the biometric step: {page}"
    );
    let t = approve(&s, &bank, &b, page, &verifier).await;
    assert!(acr(&t).as_str() >= "urn:vn:eid:loa:3");
    let at = t["access_token"].as_str().unwrap();
    let claims = decode_payload(at);
    assert_eq!(claims["authorization_details"][0]["amount"], 20_000_000);
    assert_eq!(
        claims["authorization_details"][0]["creditor_account"],
        "0071000123456"
    );
    let i = bank.post("/introspect", &[("token", at)]).await.json();
    assert_eq!(i["authorization_details"][0]["amount"], 20_000_000);
}

#[tokio::test]
async fn a_5_million_transfer_does_not_need_the_face_and_a_second_16_million_one_the_same_day_does()
{
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(723).await;
    make_level2(&s, &who).await;
    let b = Browser::new();
    let (verifier, page) = start(&s, &bank, &b, &who, 5_000_000).await;
    assert!(!page.contains("id=\"face-step\""), "{page}");
    let t = approve(&s, &bank, &b, page, &verifier).await;
    assert_eq!(acr(&t), "urn:vn:eid:loa:2");
    let (verifier, page) = start(&s, &bank, &b, &who, 16_000_000).await;
    assert!(page.contains("id=\"face-step\""), "{page}");
    let t = approve(&s, &bank, &b, page, &verifier).await;
    assert!(acr(&t).as_str() >= "urn:vn:eid:loa:3");
}

#[tokio::test]
async fn the_days_total_at_the_bank_decides_as_well_as_the_amount() {
    let s = TestServer::start().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(724).await;
    make_level2(&s, &who).await;
    let b = Browser::new();
    // 9 + 9 = 18 million: each under 10, the day under 20.
    for _ in 0..2 {
        let (verifier, page) = start(&s, &bank, &b, &who, 9_000_000).await;
        assert!(!page.contains("id=\"face-step\""), "{page}");
        approve(&s, &bank, &b, page, &verifier).await;
    }
    // A third 9 million takes the day to 27: the face step.
    let (_, page) = start(&s, &bank, &b, &who, 9_000_000).await;
    assert!(
        page.contains("id=\"face-step\""),
        "over the daily 20 million: {page}"
    );
    // At another bank the day starts afresh.
    let other = Bank::register(&s).await;
    let (_, page) = start(&s, &other, &b, &who, 9_000_000).await;
    assert!(!page.contains("id=\"face-step\""), "{page}");
}

#[tokio::test]
async fn a_refused_face_match_leaves_acr_below_loa3_and_approves_nothing() {
    let id_number = "079190100725";
    let s = TestServer::start_with(Options {
        configure_with: Some(Box::new(move |c| {
            c.face.dev_refuse = vec![id_number.into()]
        })),
        ..Default::default()
    })
    .await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(725).await;
    assert_eq!(who.id_number, id_number);
    make_level2(&s, &who).await;
    let b = Browser::new();
    let (_, page) = start(&s, &bank, &b, &who, 20_000_000).await;
    let refused = face_step_up(&s, &b, &page).await.expect_page();
    assert!(refused.0 >= 400, "{refused:?}");
    let day = eidp::oidc::transfers::day_of(s.provider.now());
    let total = s
        .provider
        .db
        .transfers_total(&who.sub, bank.id(), day)
        .await
        .unwrap();
    assert_eq!(total, 0, "nothing approved");
    // The session is still at loa:2: a small transfer goes through at that level.
    let (verifier, page) = start(&s, &bank, &b, &who, 1_000_000).await;
    let t = approve(&s, &bank, &b, page, &verifier).await;
    assert_eq!(acr(&t), "urn:vn:eid:loa:2");
}
